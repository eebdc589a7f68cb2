// Package pebbletest builds the Pebble test CA and pebble-challtestsrv pinned in
// go.mod, starts them on free loopback ports for one test, and stops them when the
// test ends. It is test support only: nothing outside _test.go files and test
// helpers imports it.
//
// Pebble's TLS certificate (test/certs/localhost, valid for 127.0.0.1) is trusted
// through an explicit pool built from pebble.minica.pem; nothing here skips TLS
// verification. The logs of both processes are printed when the test fails.
package pebbletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/testport"
	"github.com/miekg/dns"
)

const (
	pebblePkg    = "github.com/letsencrypt/pebble/v2/cmd/pebble"
	challsrvPkg  = "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv"
	pebbleModule = "github.com/letsencrypt/pebble/v2"
	// challtestsrvModule is Pebble's challenge test server library.
	challtestsrvModule = "github.com/letsencrypt/challtestsrv"
)

// Profile is one entry of Pebble's "profiles" config.
type Profile struct {
	Description    string `json:"description"`
	ValidityPeriod uint64 `json:"validityPeriod"` // seconds
}

// Options choose how one Pebble is configured. The zero value starts an open
// (no EAB) Pebble with PEBBLE_VA_NOSLEEP=1, -strict, and challtestsrv as its DNS.
type Options struct {
	// LogFile, when set, receives both processes' logs instead of memory (a
	// long benchmark would otherwise hold every line Pebble printed).
	LogFile string
	// EAB maps key IDs to base64url HMAC keys. Non-empty makes EAB required.
	EAB map[string]string
	// Env adds environment variables for Pebble (PEBBLE_WFE_NONCEREJECT=50, ...).
	// PEBBLE_WFE_NONCEREJECT defaults to 0 and PEBBLE_AUTHZREUSE to 0 unless set here.
	Env []string
	// HTTPPort and TLSPort are the ports Pebble's VA dials for http-01 and
	// tls-alpn-01. Zero picks a free loopback port.
	HTTPPort, TLSPort int
	// DNSServer, when set ("127.0.0.1:5353"), is the resolver Pebble validates
	// through, and challtestsrv is not started.
	DNSServer string
	// RetryAfterAuthz and RetryAfterOrder set Pebble's retryAfter config (seconds).
	RetryAfterAuthz, RetryAfterOrder int
	// Profiles replaces Pebble's default profile set.
	Profiles map[string]Profile
	// NoStrict drops -strict.
	NoStrict bool
	// DefaultIPv6 makes challtestsrv answer AAAA queries with this address
	// (e.g. "::1"); empty means no AAAA answers, so the VA dials IPv4.
	DefaultIPv6 string
	// OCSPResponderURL is put in every certificate Pebble issues (Pebble has
	// no responder of its own; see OCSPResponder).
	OCSPResponderURL string
}

// Server is one running Pebble (and challtestsrv unless Options.DNSServer was set).
type Server struct {
	DirectoryURL  string
	ManagementURL string
	// Roots trusts Pebble's HTTPS listener (not the certificates Pebble issues).
	Roots *x509.CertPool
	// CABundle is a PEM file holding the same root, for --ca-bundle / REQUESTS_CA_BUNDLE.
	CABundle string
	// HTTPPort and TLSPort are where Pebble's VA connects for http-01 and tls-alpn-01.
	HTTPPort, TLSPort int
	// DNSAddr is the resolver Pebble uses; ChallSrvURL is challtestsrv's
	// management API ("" when Options.DNSServer was given).
	DNSAddr     string
	ChallSrvURL string
	// EAB is a copy of the configured key map.
	EAB map[string]string

	mu       sync.Mutex
	logs     bytes.Buffer
	logFile  *os.File
	procs    []*exec.Cmd
	stop     func()
	stopOnce sync.Once
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// patches are one-line fixes to the pinned test peers. The build copies
// both modules out of the module cache, patches the copies and builds
// against them with a temporary go.mod (-modfile: our go.mod plus replace
// lines), so versions stay the pinned ones and the module cache is left
// untouched. Each patch must match exactly once: a new pinned version fails
// the build until its patch is reviewed.
var patches = []struct {
	module, file, old, new string
}{
	// Pebble v2.10.3 reuses a valid authorization when rand.Intn(100) >
	// PEBBLE_AUTHZREUSE is false, so "0" still reused one order in 100: a
	// test expecting a challenge then saw none (wfe.go, NewOrder).
	{pebbleModule, "wfe/wfe.go",
		"rand.Intn(100) > wfe.authzReusePercent",
		"rand.Intn(100) >= wfe.authzReusePercent"},
	// challtestsrv's TCP DNS server closes a connection whose query it has
	// not read within 1 s; Pebble's VA resolves over TCP, so on a loaded
	// machine a validation failed with "resolving URL ...: EOF". 30 s is
	// beyond Pebble's own 2 s read timeout, which then decides.
	{challtestsrvModule, "dns.go",
		"Net:          \"tcp\",\n\t\tReadTimeout:  time.Second,",
		"Net:          \"tcp\",\n\t\tReadTimeout:  30 * time.Second,"},
}

// patchVersion names the build of the patched binaries (bump it when the
// patches change, so that a cached older build is not used).
const patchVersion = "p1"

// patchedModfile copies the patched modules into dir and returns the
// go.mod to build with (-modfile).
func patchedModfile(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	mod, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
	if err != nil {
		return "", err
	}
	copied := map[string]string{}
	for _, p := range patches {
		dst := copied[p.module]
		if dst == "" {
			src, err := moduleDir(p.module)
			if err != nil {
				return "", err
			}
			dst = filepath.Join(dir, strings.ReplaceAll(p.module, "/", "_"))
			if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
				return "", fmt.Errorf("copy %s: %w", p.module, err)
			}
			copied[p.module] = dst
			mod = fmt.Appendf(mod, "\nreplace %s => %s\n", p.module, dst)
		}
		path := filepath.Join(dst, p.file)
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		if n := strings.Count(string(b), p.old); n != 1 {
			return "", fmt.Errorf("patch %s/%s: %q found %d times, want once (pinned version changed?)", p.module, p.file, p.old, n)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), p.old, p.new, 1)), 0o644); err != nil {
			return "", err
		}
	}
	modfile := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return "", err
	}
	return modfile, os.WriteFile(modfile, mod, 0o644)
}

// Binaries builds pebble and pebble-challtestsrv (patched) once per
// test binary and returns the directory holding them. A build failure is
// returned, never a skip.
func Binaries() (string, error) {
	buildOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", pebbleModule).Output()
		if err != nil {
			buildErr = fmt.Errorf("locate %s (is it in go.mod?): %w", pebbleModule, err)
			return
		}
		version := strings.TrimSpace(string(out))
		dir := filepath.Join(os.TempDir(), "acmectl-pebbletest-"+version+"-"+patchVersion)
		if _, err := os.Stat(filepath.Join(dir, "pebble-challtestsrv")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "pebble")); err == nil {
				binDir = dir
				return
			}
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			buildErr = err
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "acmectl-pebbletest-build-")
		if err != nil {
			buildErr = err
			return
		}
		src, err := os.MkdirTemp(filepath.Dir(dir), "acmectl-pebbletest-src-")
		if err != nil {
			os.RemoveAll(tmp)
			buildErr = err
			return
		}
		defer os.RemoveAll(src)
		modfile, err := patchedModfile(src)
		if err != nil {
			os.RemoveAll(tmp)
			buildErr = fmt.Errorf("patch pebble: %w", err)
			return
		}
		cmd := exec.Command("go", "build", "-modfile", modfile, "-o", tmp+string(filepath.Separator), pebblePkg, challsrvPkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(tmp)
			buildErr = fmt.Errorf("build pebble: %v\n%s", err, b)
			return
		}
		// Another test binary may have won the race; either copy is the same build.
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			if _, statErr := os.Stat(filepath.Join(dir, "pebble")); statErr != nil {
				buildErr = fmt.Errorf("install pebble binaries: %w", err)
				return
			}
		}
		binDir = dir
	})
	return binDir, buildErr
}

// ModuleDir returns the pinned Pebble module's source directory (for its test certs).
// It asks the go command once per test binary: every Launch needs it.
func ModuleDir() (string, error) {
	pebbleDirOnce.Do(func() { pebbleDir, pebbleDirErr = moduleDir(pebbleModule) })
	return pebbleDir, pebbleDirErr
}

var (
	pebbleDirOnce sync.Once
	pebbleDir     string
	pebbleDirErr  error
)

// moduleDir is the source directory of module (at the version go.mod's build
// list has), downloaded first when the module cache lacks it: on a fresh
// machine `go list -m -f {{.Dir}}` prints nothing for a module that no
// build has fetched yet.
func moduleDir(module string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s%s", err, bytes.TrimSpace(out), bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("locate %s: go mod download: %w", module, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("locate %s: go mod download: %w", module, err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("locate %s: go mod download gave no directory (%s)", module, m.Error)
	}
	return m.Dir, nil
}

// FreePort returns a TCP port on 127.0.0.1 for a server another process
// starts (see internal/testport: no other test process is given it).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	return p
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago and is
// also free for TCP (DNS servers listen on both).
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	p, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) { return testport.TCP() }

func freeUDPPort() (int, error) { return testport.UDP() }

// Start builds (once) and starts Pebble, and challtestsrv unless opts.DNSServer is
// set, registering their shutdown with t.Cleanup. It fails the test on any error
// and prints both processes' logs if the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Launch(opts, t.TempDir())
	if err != nil {
		t.Fatalf("pebbletest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("pebbletest logs (%s):\n%s", s.DirectoryURL, s.Logs())
		}
	})
	return s
}

// Launch is Start for callers that are not tests (benchmarks, the demo): dir
// holds the generated config; the caller must call Stop.
func Launch(opts Options, dir string) (*Server, error) {
	// The DNS port is chosen free, then bound by challtestsrv: another
	// process starting at the same moment can take it in between (tests run
	// packages in parallel). Such a server is detected and started again.
	for attempt := 1; ; attempt++ {
		s, err := launchOnce(opts, dir)
		if errors.Is(err, errNotOurDNS) && attempt < 3 {
			continue
		}
		return s, err
	}
}

var errNotOurDNS = errors.New("the DNS port answers, but not from our challtestsrv")

// portPicker hands out distinct free loopback ports; the first error sticks.
type portPicker struct {
	used map[int]bool
	err  error
}

func (pp *portPicker) distinct(free func() (int, error)) (int, error) {
	for range 20 {
		p, err := free()
		if err != nil || !pp.used[p] {
			pp.used[p] = true
			return p, err
		}
	}
	return 0, errors.New("no distinct free port")
}

func (pp *portPicker) next() int {
	if pp.err != nil {
		return 0
	}
	var p int
	p, pp.err = pp.distinct(freePort)
	return p
}

// trustRoots loads the root of Pebble's HTTPS listener into s.Roots and
// writes it to dir for --ca-bundle.
func (s *Server) trustRoots(mod, dir string) error {
	rootPEM, err := os.ReadFile(filepath.Join(mod, "test/certs/pebble.minica.pem"))
	if err != nil {
		return err
	}
	s.Roots = x509.NewCertPool()
	if !s.Roots.AppendCertsFromPEM(rootPEM) {
		return errors.New("pebble.minica.pem holds no certificate")
	}
	s.CABundle = filepath.Join(dir, "pebble-tls-root.pem")
	return os.WriteFile(s.CABundle, rootPEM, 0o644)
}

// pebbleConfig is Pebble's JSON configuration for this launch.
func pebbleConfig(opts Options, s *Server, listen, mgmt int, mod string) map[string]any {
	cfg := map[string]any{
		"listenAddress":           fmt.Sprintf("127.0.0.1:%d", listen),
		"managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmt),
		"certificate":             filepath.Join(mod, "test/certs/localhost/cert.pem"),
		"privateKey":              filepath.Join(mod, "test/certs/localhost/key.pem"),
		"httpPort":                s.HTTPPort,
		"tlsPort":                 s.TLSPort,
		"ocspResponderURL":        opts.OCSPResponderURL,
		"retryAfter":              map[string]int{"authz": opts.RetryAfterAuthz, "order": opts.RetryAfterOrder},
	}
	if len(opts.EAB) > 0 {
		cfg["externalAccountBindingRequired"] = true
		cfg["externalAccountMACKeys"] = opts.EAB
	}
	if len(opts.Profiles) > 0 {
		cfg["profiles"] = opts.Profiles
	}
	return cfg
}

func launchOnce(opts Options, dir string) (_ *Server, retErr error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	mod, err := ModuleDir()
	if err != nil {
		return nil, err
	}
	s := &Server{EAB: opts.EAB}
	if opts.LogFile != "" {
		if s.logFile, err = os.OpenFile(opts.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
			return nil, err
		}
		defer func() {
			if retErr != nil {
				s.logFile.Close()
			}
		}()
	}
	// Each probe listener is closed before the next is opened, so the kernel
	// may hand out a number twice: every port of one launch is distinct.
	pp := &portPicker{used: map[int]bool{opts.HTTPPort: true, opts.TLSPort: true}}
	s.HTTPPort, s.TLSPort = opts.HTTPPort, opts.TLSPort
	if s.HTTPPort == 0 {
		s.HTTPPort = pp.next()
	}
	if s.TLSPort == 0 {
		s.TLSPort = pp.next()
	}
	listen, mgmt := pp.next(), pp.next()
	if pp.err != nil {
		return nil, pp.err
	}
	s.DirectoryURL = fmt.Sprintf("https://127.0.0.1:%d/dir", listen)
	s.ManagementURL = fmt.Sprintf("https://127.0.0.1:%d", mgmt)

	if err := s.trustRoots(mod, dir); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.stop = func() {
		cancel()
		for _, p := range s.procs {
			_ = p.Wait()
		}
	}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, s.Logs())
	}

	if opts.DNSServer != "" {
		s.DNSAddr = opts.DNSServer
	} else {
		dnsPort, err := pp.distinct(freeUDPPort)
		if err != nil {
			return fail(err)
		}
		csMgmt := pp.next()
		if pp.err != nil {
			return fail(pp.err)
		}
		s.DNSAddr = fmt.Sprintf("127.0.0.1:%d", dnsPort)
		s.ChallSrvURL = fmt.Sprintf("http://127.0.0.1:%d", csMgmt)
		cs := exec.CommandContext(ctx, filepath.Join(bin, "pebble-challtestsrv"),
			"-management", fmt.Sprintf("127.0.0.1:%d", csMgmt),
			"-dnsserver", s.DNSAddr,
			"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
			"-defaultIPv4", "127.0.0.1", "-defaultIPv6", opts.DefaultIPv6)
		cs.Stdout, cs.Stderr = s.logWriter("challtestsrv"), s.logWriter("challtestsrv")
		if err := cs.Start(); err != nil {
			return fail(fmt.Errorf("start challtestsrv: %w", err))
		}
		s.procs = append(s.procs, cs)
	}

	cfg := pebbleConfig(opts, s, listen, mgmt, mod)
	b, _ := json.MarshalIndent(map[string]any{"pebble": cfg}, "", "  ")
	cfgPath := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return fail(err)
	}
	args := []string{"-config", cfgPath, "-dnsserver", s.DNSAddr}
	if !opts.NoStrict {
		args = append(args, "-strict")
	}
	p := exec.CommandContext(ctx, filepath.Join(bin, "pebble"), args...)
	p.Dir = mod
	env := append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	p.Env = append(env, opts.Env...)
	p.Stdout, p.Stderr = s.logWriter("pebble"), s.logWriter("pebble")
	if err := p.Start(); err != nil {
		return fail(fmt.Errorf("start pebble: %w", err))
	}
	s.procs = append(s.procs, p)

	hc := s.HTTPClient()
	// A bound, not a wait (the loop ends as soon as both answer): Pebble and
	// challtestsrv start in well under a second on a quiet machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ping(hc, s.DirectoryURL)
		if err == nil && s.ChallSrvURL != "" {
			err = ping(http.DefaultClient, s.ChallSrvURL+"/dns-request-history?host=x")
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("pebble did not come up at %s: %w", s.DirectoryURL, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.ChallSrvURL != "" {
		if err := s.checkOwnDNS(); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// checkOwnDNS asks the DNS port, over TCP (as Pebble's VA does) and UDP, for
// a name only our challtestsrv knows.
func (s *Server) checkOwnDNS() error {
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	probe := fmt.Sprintf("probe-%x.pebbletest.", rb)
	if err := s.ChallSrvErr("add-a", map[string]any{"host": probe, "addresses": []string{"127.0.0.42"}}); err != nil {
		return err
	}
	defer s.ChallSrvErr("clear-a", map[string]any{"host": probe})
	for _, network := range []string{"tcp", "udp"} {
		m := new(dns.Msg)
		m.SetQuestion(probe, dns.TypeA)
		c := &dns.Client{Net: network, Timeout: 3 * time.Second}
		r, _, err := c.Exchange(m, s.DNSAddr)
		if err != nil {
			return fmt.Errorf("%w (%s %s: %v)", errNotOurDNS, network, s.DNSAddr, err)
		}
		ok := false
		for _, rr := range r.Answer {
			if a, isA := rr.(*dns.A); isA && a.A.String() == "127.0.0.42" {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%w (%s %s)", errNotOurDNS, network, s.DNSAddr)
		}
	}
	return nil
}

// Stop ends Pebble and challtestsrv and waits for them.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
		s.mu.Lock()
		if s.logFile != nil {
			s.logFile.Close()
		}
		s.mu.Unlock()
	})
}

func ping(hc *http.Client, url string) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// HTTPClient returns a client that trusts Pebble's HTTPS listener, with timeouts.
// It keeps up to 64 idle connections to Pebble: with net/http's default of 2,
// a caller with more requests in flight (the fault proxy forwarding a
// client's 8 concurrent renewal-info requests) closed and redialled a
// connection for most of them, and Pebble spent three quarters of its CPU on
// TLS handshakes (an RSA signature each) that a CA's clients do not cause.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:       &tls.Config{RootCAs: s.Roots},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   64,
		},
	}
}

// Logs returns what Pebble and challtestsrv have printed so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logFile != nil {
		return "(in " + s.logFile.Name() + ")\n"
	}
	return s.logs.String()
}

type prefixWriter struct {
	s      *Server
	prefix string
}

func (w prefixWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		if w.s.logFile != nil {
			w.s.logFile.WriteString(w.prefix + line)
			continue
		}
		w.s.logs.WriteString(w.prefix + line)
	}
	return len(p), nil
}

func (s *Server) logWriter(name string) io.Writer { return prefixWriter{s, "[" + name + "] "} }

// IssuerRoot returns the PEM of Pebble's issuing root N (0 for the default chain),
// to verify the certificates it issues.
func (s *Server) IssuerRoot(t testing.TB, n int) []byte {
	t.Helper()
	return s.mgmtGet(t, fmt.Sprintf("/roots/%d", n))
}

// CertStatus returns Pebble's status document for a serial (hex), e.g. to check revocation.
func (s *Server) CertStatus(t testing.TB, serialHex string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(s.mgmtGet(t, "/cert-status-by-serial/"+serialHex), &m); err != nil {
		t.Fatalf("pebbletest: cert status: %v", err)
	}
	return m
}

func (s *Server) mgmtGet(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.ManagementURL + path)
	if err != nil {
		t.Fatalf("pebbletest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pebbletest: GET %s: %d %v %s", path, resp.StatusCode, err, b)
	}
	return b
}

// SetRenewalInfo makes Pebble answer renewalInfo for certPEM with ariJSON verbatim.
func (s *Server) SetRenewalInfo(t testing.TB, certPEM []byte, ariJSON string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"Certificate": string(certPEM), "ARIResponse": ariJSON})
	resp, err := s.HTTPClient().Post(s.ManagementURL+"/set-renewal-info/", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("pebbletest: set-renewal-info: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("pebbletest: set-renewal-info: %d %s", resp.StatusCode, b)
	}
}

// ChallSrv posts one command to challtestsrv's management API, e.g.
// ChallSrv(t, "set-txt", map[string]string{"host": "_acme-challenge.a.example.", "value": v}).
func (s *Server) ChallSrv(t testing.TB, command string, body any) {
	t.Helper()
	if err := s.ChallSrvErr(command, body); err != nil {
		t.Fatalf("pebbletest: %v", err)
	}
}

// ChallSrvErr is ChallSrv for callers that are not tests (hooks, goroutines).
func (s *Server) ChallSrvErr(command string, body any) error {
	if s.ChallSrvURL == "" {
		return errors.New("challtestsrv is not running (Options.DNSServer was set)")
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.ChallSrvURL+"/"+command, "application/json", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("challtestsrv %s: %w", command, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		rb, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("challtestsrv %s: %d %s", command, resp.StatusCode, rb)
	}
	return nil
}
