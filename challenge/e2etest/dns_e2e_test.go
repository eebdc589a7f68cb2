package e2etest_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/challenge/hook"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

const (
	testZone    = "acmectl.test."
	tsigKeyName = "acmectl-test."
)

// knotServer is Debian's knotd serving testdata/dns/acmectl.test.zone on a
// loopback port with RFC 2136 updates allowed for a TSIG key. One runs per test
// binary (started by the first DNS test, stopped by TestMain).
type knotServer struct {
	Addr   string // 127.0.0.1:port
	Port   int
	Secret string // base64 TSIG secret (hmac-sha256)
	cmd    *exec.Cmd
	done   chan error
	dir    string
	out    syncBuffer
}

var (
	knotOnce sync.Once
	knot     *knotServer
	knotErr  error
)

func startKnot(t *testing.T) *knotServer {
	t.Helper()
	knotOnce.Do(func() { knot, knotErr = launchKnot(t) })
	if knotErr != nil {
		t.Fatalf("knot: %v", knotErr)
	}
	return knot
}

func stopKnot() {
	if knot == nil {
		return
	}
	_ = knot.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-knot.done:
	case <-time.After(5 * time.Second):
		_ = knot.cmd.Process.Kill()
		<-knot.done
	}
	os.RemoveAll(knot.dir)
}

func launchKnot(t *testing.T) (*knotServer, error) {
	bin, err := exec.LookPath("knotd")
	if err != nil {
		bin = "/usr/sbin/knotd"
		if _, statErr := os.Stat(bin); statErr != nil {
			return nil, fmt.Errorf("knotd not installed (apt-get install -y knot knot-dnsutils): %w", err)
		}
	}
	if _, err := exec.LookPath("knsupdate"); err != nil {
		return nil, fmt.Errorf("knsupdate not installed (apt-get install -y knot-dnsutils): %w", err)
	}
	dir, err := os.MkdirTemp("", "acmectl-knot-")
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	k := &knotServer{Port: pebbletest.FreeUDPPort(t), Secret: base64.StdEncoding.EncodeToString(secret), dir: dir, done: make(chan error, 1)}
	k.Addr = "127.0.0.1:" + strconv.Itoa(k.Port)
	tmpl, err := template.ParseFiles(repoFile(t, "testdata/dns/knot.conf.tmpl"))
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "knot.conf"))
	if err != nil {
		return nil, err
	}
	err = tmpl.Execute(f, map[string]any{"Dir": dir, "Port": k.Port, "KeyName": tsigKeyName, "Secret": k.Secret, "Zone": testZone})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	zone, err := os.ReadFile(repoFile(t, "testdata/dns/acmectl.test.zone"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "acmectl.test.zone"), zone, 0o644); err != nil {
		return nil, err
	}
	k.cmd = exec.Command(bin, "-c", filepath.Join(dir, "knot.conf"))
	k.cmd.Stdout, k.cmd.Stderr = &k.out, &k.out
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start knotd: %w", err)
	}
	go func() { k.done <- k.cmd.Wait() }()
	// Bounded by time, not by tries: a loaded machine starts knotd slowly.
	deadline := time.Now().Add(60 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion(testZone, dns.TypeSOA)
		r, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, k.Addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return k, nil
		}
		select {
		case err := <-k.done:
			return nil, fmt.Errorf("knotd exited: %v\n%s", err, k.out.String())
		default:
		}
		if time.Now().After(deadline) {
			stopKnot()
			return nil, fmt.Errorf("knotd not answering on %s: %v\n%s", k.Addr, err, k.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// txt returns the TXT values knot holds for fqdn.
func (k *knotServer) txt(t *testing.T, fqdn string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(fqdn), dns.TypeTXT)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, k.Addr)
	if err != nil {
		t.Fatalf("query TXT %s: %v", fqdn, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if v, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(v.Txt, ""))
		}
	}
	return out
}

// noTXT fails when knot still holds a challenge record for any of the names.
func (k *knotServer) noTXT(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		base, _ := dns01.SplitWildcard(n)
		if v := k.txt(t, "_acme-challenge."+base); len(v) > 0 {
			t.Errorf("TXT _acme-challenge.%s left behind: %q", base, v)
		}
	}
}

// tsig is the knsupdate -y argument.
func (k *knotServer) tsig() string { return "hmac-sha256:" + tsigKeyName + ":" + k.Secret }

// setScriptEnv exports what testdata/hooks scripts need to reach knot.
func (k *knotServer) setScriptEnv(t *testing.T) {
	t.Setenv("ACMECTL_DNS_SERVER", "127.0.0.1 "+strconv.Itoa(k.Port))
	t.Setenv("ACMECTL_DNS_ZONE", testZone)
	t.Setenv("ACMECTL_TSIG", k.tsig())
}

func (k *knotServer) dnsOptions() dns01.Options {
	return dns01.Options{
		Resolvers: []string{k.Addr}, NameserverPort: k.Port,
		PropagationTimeout: 10 * time.Second, PollInterval: 100 * time.Millisecond, DNSTimeout: 2 * time.Second,
	}
}

// The DNS tests share knot and lego's process-wide resolver settings: they do
// not run in parallel with each other.

func TestE2EDNS01RFC2136(t *testing.T) {
	skipShort(t)
	k := startKnot(t)
	s := pebbletest.Start(t, pebbletest.Options{DNSServer: k.Addr})
	c := newClient(t, s)

	// certbot's dns_rfc2136_credentials file, mode 0600.
	creds := filepath.Join(t.TempDir(), "rfc2136.ini")
	body := fmt.Sprintf("# certbot-dns-rfc2136 style\ndns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %d\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n", k.Port, tsigKeyName, k.Secret)
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"RFC2136_NAMESERVER", "RFC2136_TSIG_KEY", "RFC2136_TSIG_SECRET", "RFC2136_TSIG_ALGORITHM"} {
		t.Setenv(v, "") // restored after the test; New exports the file's values
	}
	// rfc2136 is sequential (it replaces the TXT set): acme solves its
	// authorizations one after another, pausing lego's interval (60 s by
	// default, so a caching resolver at the CA forgets the previous value)
	// between two. Pebble asks knot directly, so 1 s is enough here.
	t.Setenv("RFC2136_SEQUENCE_INTERVAL", "1")
	opts := k.dnsOptions()
	opts.CredentialsFile = creds
	sol, err := dns01.New("rfc2136", opts)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"rfc.acmectl.test", "*.wild.acmectl.test"}
	mustObtain(t, s, c, names, map[string]acme.Solver{"dns-01": sol}, "dns-01")
	k.noTXT(t, names...)

	t.Run("world-readable credentials refused", func(t *testing.T) {
		if err := os.Chmod(creds, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := dns01.New("rfc2136", opts)
		wantErr(t, err, creds, "chmod 600 "+creds)
	})

	t.Run("base and wildcard in one order", func(t *testing.T) {
		// lego's rfc2136 replaces the TXT set, so both cannot be live at once:
		// acme solves them one after the other (the solver would refuse a
		// second live record), and no record is left behind.
		names := []string{"both.acmectl.test", "*.both.acmectl.test"}
		mustObtain(t, s, c, names, map[string]acme.Solver{"dns-01": sol}, "dns-01")
		k.noTXT(t, names...)
	})
}

func TestE2EDNS01Exec(t *testing.T) {
	skipShort(t)
	k := startKnot(t)
	s := pebbletest.Start(t, pebbletest.Options{DNSServer: k.Addr})
	c := newClient(t, s)
	k.setScriptEnv(t)
	t.Setenv("EXEC_PATH", repoFile(t, "testdata/hooks/lego-exec.sh"))
	t.Setenv("EXEC_MODE", "")
	t.Setenv("EXEC_SEQUENCE_INTERVAL", "1") // sequential like rfc2136; see there
	t.Setenv("ACMECTL_EXEC_CORRUPT", "")
	sol, err := dns01.New("exec", k.dnsOptions())
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"exec.acmectl.test", "*.exec.acmectl.test"}
	mustObtain(t, s, c, names, map[string]acme.Solver{"dns-01": sol}, "dns-01")
	k.noTXT(t, names...)

	t.Run("propagation times out, record removed", func(t *testing.T) {
		t.Setenv("ACMECTL_EXEC_CORRUPT", "1") // the script publishes a wrong value
		opts := k.dnsOptions()
		opts.PropagationTimeout = 700 * time.Millisecond
		sol, err := dns01.New("exec", opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = obtain(t, c, []string{"bad.acmectl.test"}, map[string]acme.Solver{"dns-01": sol}, "dns-01")
		wantErr(t, err, "_acme-challenge.bad.acmectl.test.", "not on every authoritative server", "ns1.acmectl.test.")
		k.noTXT(t, "bad.acmectl.test")
	})
}

// hookLog reads testdata/hooks/certbot-hook.sh's run log.
func hookLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hook log: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// checkHookRuns checks one auth run per name with CERTBOT_REMAINING_CHALLENGES
// counting down to 0, followed by one cleanup run per name.
func checkHookRuns(t *testing.T, lines []string, names []string) {
	t.Helper()
	n := len(names)
	if len(lines) != 2*n {
		t.Fatalf("hook runs %q, want %d auth then %d cleanup", lines, n, n)
	}
	var got []string
	for i, l := range lines {
		f := strings.Fields(l)
		phase := "auth"
		if i >= n {
			phase = "cleanup"
		}
		if len(f) != 3 || f[0] != phase {
			t.Errorf("run %d = %q, want phase %s", i, l, phase)
			continue
		}
		if i < n && f[2] != strconv.Itoa(n-1-i) {
			t.Errorf("auth run %d CERTBOT_REMAINING_CHALLENGES = %s, want %d", i, f[2], n-1-i)
		}
		if i < n {
			got = append(got, f[1])
		}
	}
	var want []string
	for _, nm := range names {
		base, _ := dns01.SplitWildcard(nm)
		want = append(want, base)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("auth hook ran for %v, want %v", got, want)
	}
}

func TestE2EManualHookDNS01(t *testing.T) {
	skipShort(t)
	k := startKnot(t)
	s := pebbletest.Start(t, pebbletest.Options{DNSServer: k.Addr})
	c := newClient(t, s)
	k.setScriptEnv(t)
	script := repoFile(t, "testdata/hooks/certbot-hook.sh")
	logFile := filepath.Join(t.TempDir(), "hook.log")
	t.Setenv("ACMECTL_HOOK_LOG", logFile)
	names := []string{"hook.acmectl.test", "*.hook.acmectl.test", "hook2.acmectl.test"}
	t.Setenv("ACMECTL_EXPECT_ALL_DOMAINS", "hook.acmectl.test,hook.acmectl.test,hook2.acmectl.test")
	h := hook.NewDNS01(script+" dns-01 auth", script+" dns-01 cleanup")
	h.Timeout = 20 * time.Second
	mustObtain(t, s, c, names, map[string]acme.Solver{"dns-01": h}, "dns-01")
	checkHookRuns(t, hookLog(t, logFile), names)
	k.noTXT(t, names...)
}

func TestE2EManualHookHTTP01(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)
	// The operator's web server: a plain file server on the port the VA dials.
	webroot := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.HTTPPort))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(webroot)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	script := repoFile(t, "testdata/hooks/certbot-hook.sh")
	logFile := filepath.Join(t.TempDir(), "hook.log")
	names := []string{"a.hook.test", "b.hook.test", "127.0.0.1"}
	h := hook.NewHTTP01(script+" http-01 auth", script+" http-01 cleanup")
	// The hook's environment is set on the Hook, not the process: this test runs in parallel.
	h.Env = append(os.Environ(), "ACMECTL_WEBROOT="+webroot, "ACMECTL_HOOK_LOG="+logFile,
		"ACMECTL_EXPECT_ALL_DOMAINS="+strings.Join(names, ","))
	h.Timeout = 20 * time.Second
	mustObtain(t, s, c, names, map[string]acme.Solver{"http-01": h})
	checkHookRuns(t, hookLog(t, logFile), names)
	entries, _ := os.ReadDir(filepath.Join(webroot, ".well-known", "acme-challenge"))
	if len(entries) != 0 {
		t.Errorf("%d challenge files left by the cleanup hook", len(entries))
	}

	t.Run("auth hook exits 1", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "cleanup-ran")
		h := hook.NewHTTP01(`echo "cannot reach the web server config" >&2; exit 1`, "touch "+marker)
		_, err := obtain(t, c, []string{"fail.hook.test"}, map[string]acme.Solver{"http-01": h})
		wantErr(t, err, "manual-auth-hook for fail.hook.test", "exited with status 1", "cannot reach the web server config")
		if _, statErr := os.Stat(marker); statErr != nil {
			t.Error("cleanup hook did not run after the failing auth hook")
		}
	})

	t.Run("auth hook times out", func(t *testing.T) {
		h := hook.NewHTTP01("sleep 30", "")
		h.Timeout = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: identifiers([]string{"slow.hook.test"}), CSR: csrFor(t, []string{"slow.hook.test"}), Solvers: map[string]acme.Solver{"http-01": h}})
		wantErr(t, err, "timed out after 300ms")
	})
}
