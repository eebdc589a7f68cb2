package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/acmectlbin"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/schedule"
)

// The end-to-end tests drive the built binary against a Pebble of their own,
// each in its own temp dirs, as an operator would.

const testEABKid = "kid-1"
const testEABKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

// acmectlBin is the binary the end-to-end tests of every package share
// (internal/acmectlbin: built once per state of the source).
func acmectlBin(t *testing.T) string {
	t.Helper()
	bin, err := acmectlbin.Path()
	if err != nil {
		t.Fatalf("build acmectl: %v", err)
	}
	return bin
}

// tree is one test's config/work/logs dirs plus the Pebble it talks to.
type tree struct {
	t      *testing.T
	s      *pebbletest.Server
	bin    string
	config string
	work   string
	logs   string
	env    []string
}

func newTree(t *testing.T, s *pebbletest.Server) *tree {
	t.Helper()
	d := t.TempDir()
	tr := &tree{t: t, s: s, bin: acmectlBin(t),
		config: filepath.Join(d, "config"), work: filepath.Join(d, "work"), logs: filepath.Join(d, "logs")}
	tr.env = []string{"XDG_CONFIG_HOME=" + filepath.Join(d, "xdg"), envSystemConfig + "=", "HOME=" + d}
	return tr
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run executes the binary with the tree's dirs and the Pebble trust appended.
func (tr *tree) run(args ...string) result {
	return tr.runBin(tr.bin, args...)
}

func (tr *tree) runBin(bin string, args ...string) result {
	tr.t.Helper()
	full := append([]string{}, args...)
	full = append(full, "--config-dir", tr.config, "--work-dir", tr.work, "--logs-dir", tr.logs)
	if tr.s != nil {
		full = append(full, "--ca-bundle", tr.s.CABundle)
	}
	return tr.exec(bin, full...)
}

func (tr *tree) exec(bin string, args ...string) result {
	tr.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), tr.env...), "GORACE=halt_on_error=1")
	cmd.Stdin = nil
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			tr.t.Fatalf("run %s: %v", bin, err)
		}
		code = ee.ExitCode()
	}
	return result{so.String(), se.String(), code}
}

func (tr *tree) mustRun(args ...string) result {
	tr.t.Helper()
	r := tr.run(args...)
	if r.code != 0 {
		tr.t.Fatalf("acmectl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// standalone returns the flags for http-01 on the Pebble's port.
func (tr *tree) standalone() []string {
	return []string{"--standalone", "--http-01-port", fmt.Sprint(tr.s.HTTPPort), "--http-01-address", "127.0.0.1"}
}

func (tr *tree) certonly(name string, domains []string, extra ...string) result {
	tr.t.Helper()
	args := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", tr.s.DirectoryURL, "--cert-name", name}
	for _, d := range domains {
		args = append(args, "-d", d)
	}
	args = append(args, tr.standalone()...)
	args = append(args, extra...)
	return tr.run(args...)
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := pemutil.ParsePrivateKey(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

func keyMatchesCert(k crypto.Signer, c *x509.Certificate) bool {
	switch p := k.Public().(type) {
	case *ecdsa.PublicKey:
		return p.Equal(c.PublicKey)
	case *rsa.PublicKey:
		return p.Equal(c.PublicKey)
	}
	return false
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
}

// TestE2EProductNotesFlow runs the exact command of the product notes against
// an EAB-required Pebble, then certificates, renew and delete.
func TestE2EProductNotesFlow(t *testing.T) {
	skipShort(t)
	t.Parallel()
	// The same flow as acmectl and through a "certbot" symlink.
	for _, name := range []string{"acmectl", "certbot"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := pebbletest.Start(t, pebbletest.Options{EAB: map[string]string{testEABKid: testEABKey}})
			tr := newTree(t, s)
			if name == "certbot" {
				link := filepath.Join(t.TempDir(), "certbot")
				if err := os.Symlink(tr.bin, link); err != nil {
					t.Fatal(err)
				}
				tr.bin = link
			}
			productNotesFlow(t, s, tr)
		})
	}
}

func productNotesFlow(t *testing.T, s *pebbletest.Server, tr *tree) {

	r := tr.run("certonly", "--standalone", "--non-interactive", "--agree-tos", "--email", "ops@example.com",
		"--server", s.DirectoryURL, "--eab-kid", testEABKid, "--eab-hmac-key", testEABKey,
		"--domain", "www.example.com", "--cert-name", "web",
		"--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1")
	if r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	live := filepath.Join(tr.config, "live", "web")
	cert := readCert(t, filepath.Join(live, "fullchain.pem"))
	key := readKey(t, filepath.Join(live, "privkey.pem"))
	if !keyMatchesCert(key, cert) {
		t.Fatal("privkey.pem does not match fullchain.pem")
	}
	if _, ok := key.(*ecdsa.PrivateKey); !ok {
		t.Errorf("default key type = %T, want ECDSA", key)
	}
	if got := cert.DNSNames; len(got) != 1 || got[0] != "www.example.com" {
		t.Errorf("DNSNames = %v", got)
	}
	for _, want := range []string{"Successfully received certificate.", "Certificate is saved at: " + filepath.Join(live, "fullchain.pem"),
		"Key is saved at:         " + filepath.Join(live, "privkey.pem"), "This certificate expires on " + cert.NotAfter.UTC().Format("2006-01-02")} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("certonly output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, testEABKey) {
		t.Error("the EAB HMAC key was printed")
	}
	logb, _ := os.ReadFile(filepath.Join(tr.logs, "letsencrypt.log"))
	if len(logb) == 0 || strings.Contains(string(logb), testEABKey) {
		t.Errorf("log file empty (%d bytes) or holds the EAB key", len(logb))
	}
	conf, err := os.ReadFile(filepath.Join(tr.config, "renewal", "web.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server = " + s.DirectoryURL, "authenticator = standalone", "key_type = ecdsa"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("renewal conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(string(conf), testEABKey) {
		t.Error("the EAB key was saved in the renewal conf")
	}

	r = tr.mustRun("certificates")
	for _, want := range []string{"Certificate Name: web", "Identifiers: www.example.com", "Key Type: ECDSA", "(VALID: ",
		"Certificate Path: " + filepath.Join(live, "fullchain.pem"), "Private Key Path: " + filepath.Join(live, "privkey.pem"),
		fmt.Sprintf("Serial Number: %x", cert.SerialNumber)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("certificates output lacks %q:\n%s", want, r.stdout)
		}
	}

	// Not due: nothing renews, exit 0.
	r = tr.mustRun("renew", "--no-random-sleep-on-renew")
	if !strings.Contains(r.stdout, "not due for renewal") || !strings.Contains(r.stdout, "No renewals were attempted.") {
		t.Errorf("renew output:\n%s", r)
	}
	if c := readCert(t, filepath.Join(live, "cert.pem")); c.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Error("renew replaced a certificate that was not due")
	}
	// Forced: renews through the saved account (no EAB on the command line).
	r = tr.mustRun("renew", "--force-renewal", "--no-random-sleep-on-renew")
	if !strings.Contains(r.stdout, "Congratulations, all renewals succeeded") {
		t.Errorf("renew --force-renewal output:\n%s", r)
	}
	c2 := readCert(t, filepath.Join(live, "cert.pem"))
	if c2.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Error("forced renew did not replace the certificate")
	}
	if !keyMatchesCert(readKey(t, filepath.Join(live, "privkey.pem")), c2) {
		t.Error("key does not match the renewed certificate")
	}
	if _, err := os.Stat(filepath.Join(tr.config, "archive", "web", "cert2.pem")); err != nil {
		t.Errorf("archive version 2: %v", err)
	}
	// The run's outcome is left for `acmectl schedule status`.
	if last, err := schedule.ReadLastRun(tr.work); err != nil || last == nil || !last.OK || last.Version == "" || len(last.Renewed) != 1 || last.Renewed[0] != "web" {
		t.Errorf("last-run status = %+v, %v; want ok with web renewed", last, err)
	}

	r = tr.mustRun("delete", "--cert-name", "web", "-n")
	if !strings.Contains(r.stdout, "Deleted all files relating to certificate web.") {
		t.Errorf("delete output: %s", r)
	}
	for _, p := range []string{live, filepath.Join(tr.config, "archive", "web"), filepath.Join(tr.config, "renewal", "web.conf")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after delete (%v)", p, err)
		}
	}
	r = tr.mustRun("certificates")
	if !strings.Contains(r.stdout, "No certificates found.") {
		t.Errorf("certificates after delete: %s", r)
	}
}

// TestE2EEABFromFileAndEnv: the HMAC key from --eab-hmac-key-file and from
// ACMECTL_EAB_HMAC_KEY; no EAB at all fails naming the flags, writing nothing.
func TestE2EEABFromFileAndEnv(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{EAB: map[string]string{testEABKid: testEABKey, "kid-2": testEABKey}})

	tr := newTree(t, s)
	r := tr.certonly("noeab", []string{"noeab.example.com"})
	if r.code == 0 || !strings.Contains(r.stderr, "--eab-kid") || strings.Count(strings.TrimSpace(r.stderr), "Error:") != 1 {
		t.Errorf("certonly without EAB: want a one-line error naming --eab-kid: %s", r)
	}
	if _, err := os.Stat(filepath.Join(tr.config, "accounts")); !os.IsNotExist(err) {
		t.Errorf("accounts/ written after a failed registration (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(tr.config, "live", "noeab")); !os.IsNotExist(err) {
		t.Errorf("live/noeab written after a failure")
	}

	keyFile := filepath.Join(t.TempDir(), "eab.key")
	if err := os.WriteFile(keyFile, []byte(testEABKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = tr.certonly("fromfile", []string{"file.example.com"}, "--eab-kid", testEABKid, "--eab-hmac-key-file", keyFile)
	if r.code != 0 {
		t.Fatalf("certonly --eab-hmac-key-file: %s", r)
	}

	tr2 := newTree(t, s)
	tr2.env = append(tr2.env, envEABHMACKey+"="+testEABKey)
	r = tr2.certonly("fromenv", []string{"env.example.com"}, "--eab-kid", "kid-2")
	if r.code != 0 {
		t.Fatalf("certonly with %s: %s", envEABHMACKey, r)
	}
}

// TestE2ECertbotSymlink: invoked through a "certbot" symlink, with flags
// before the command as certbot allows, and a cli.ini.
func TestE2ECertbotSymlink(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	link := filepath.Join(t.TempDir(), "certbot")
	if err := os.Symlink(tr.bin, link); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(t.TempDir(), "cli.ini")
	if err := os.WriteFile(ini, []byte("# operator's defaults\nemail = ini@example.com\nagree-tos = true\nkey-type = rsa\nrsa-key-size = 2048\nserver = "+s.DirectoryURL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tr.runBin(link, append([]string{"-n", "-c", ini, "certonly", "-d", "sym.example.com"}, tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certbot certonly: %s", r)
	}
	key := readKey(t, filepath.Join(tr.config, "live", "sym.example.com", "privkey.pem"))
	if _, ok := key.(*rsa.PrivateKey); !ok {
		t.Errorf("key-type = rsa from cli.ini not applied: %T", key)
	}
	r = tr.runBin(link, "certificates")
	if r.code != 0 || !strings.Contains(r.stdout, "Certificate Name: sym.example.com") || !strings.Contains(r.stdout, "Key Type: RSA") {
		t.Errorf("certbot certificates: %s", r)
	}
	r = tr.runBin(link, "renew", "--force-renewal", "--no-random-sleep-on-renew", "-q")
	if r.code != 0 {
		t.Errorf("certbot renew: %s", r)
	}
	// The command line wins over cli.ini.
	r = tr.runBin(link, append([]string{"certonly", "-n", "-c", ini, "--key-type", "ecdsa", "-d", "sym2.example.com"}, tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certbot certonly --key-type ecdsa: %s", r)
	}
	if _, ok := readKey(t, filepath.Join(tr.config, "live", "sym2.example.com", "privkey.pem")).(*ecdsa.PrivateKey); !ok {
		t.Error("--key-type on the command line did not win over cli.ini")
	}
	r = tr.exec(link, "--version")
	if r.code != 0 || !strings.Contains(r.stdout, acmectlbin.Version) {
		t.Errorf("certbot --version: %s", r)
	}
}

// TestE2EBadInput: each bad invocation prints one "Error:" line, exits
// non-zero and writes nothing into the config dir.
func TestE2EBadInput(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	unreadable := filepath.Join(t.TempDir(), "locked")
	if err := os.MkdirAll(unreadable, 0o000); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		want     string
		rootSkip bool
	}{
		{"unknown flag", []string{"certonly", "--no-such-flag"}, 2, "no-such-flag", false},
		{"unknown command", []string{"obtain-everything"}, 2, "obtain-everything", false},
		{"malformed domain", []string{"certonly", "-d", "exa mple..com", "--standalone"}, 2, "exa mple..com", false},
		{"wildcard in middle", []string{"certonly", "-d", "a.*.example.com", "--standalone"}, 2, "wildcard", false},
		{"ip as domain", []string{"certonly", "-d", "192.0.2.1", "--standalone"}, 2, "--ip-address", false},
		{"single label", []string{"certonly", "-d", "localhost", "--standalone"}, 2, "fully qualified", false},
		// certbot 2.1: the same text, exit 1 (a PluginSelectionError, not argparse's).
		{"two authenticators", []string{"certonly", "-d", "a.example.com", "--standalone", "--webroot", "-w", "/tmp"}, 1, "Too many flags setting configurators/installers/authenticators 'standalone' -> 'webroot'", false},
		{"staging and server", []string{"certonly", "-d", "a.example.com", "--standalone", "--staging", "--server", "https://acme.example/dir"}, 2, "--staging", false},
		{"kid without key", []string{"certonly", "-d", "a.example.com", "--standalone", "--eab-kid", "k"}, 2, "--eab-hmac-key", false},
		{"bad key type", []string{"certonly", "-d", "a.example.com", "--standalone", "--key-type", "dsa"}, 2, "--key-type", false},
		{"bad server alias", []string{"certonly", "-d", "a.example.com", "--standalone", "--server", "lets-encrypt"}, 2, "alias", false},
		{"no domains -n", []string{"certonly", "-n", "--standalone"}, 2, "--domain", false},
		{"no authenticator -n", []string{"certonly", "-n", "-d", "a.example.com"}, 2, "--standalone", false},
		{"renew with -d", []string{"renew", "-d", "a.example.com"}, 2, "certonly", false},
		{"delete without name -n", []string{"delete", "-n"}, 2, "--cert-name", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, s)
			r := tr.run(tc.args...)
			if r.code != tc.code {
				t.Errorf("exit = %d, want %d\n%s", r.code, tc.code, r)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "Error: ") || !strings.Contains(last, tc.want) || strings.Count(r.stderr, "Error:") != 1 {
				t.Errorf("stderr should end with one 'Error: ...%s...' line:\n%s", tc.want, r.stderr)
			}
			for _, sub := range []string{"accounts", "live", "archive", "renewal"} {
				if _, err := os.Stat(filepath.Join(tr.config, sub)); err == nil {
					t.Errorf("%s/ was written", sub)
				}
			}
		})
	}
	t.Run("unreadable config dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root reads a 0000 directory; use a file in its place instead.
			f := filepath.Join(t.TempDir(), "file")
			os.WriteFile(f, nil, 0o644)
			unreadable = f
		}
		tr := newTree(t, s)
		tr.config = unreadable
		r := tr.certonly("x", []string{"x.example.com"})
		if r.code == 0 || strings.Count(r.stderr, "Error:") != 1 || !strings.Contains(r.stderr, "--config-dir") {
			t.Errorf("want one error line naming --config-dir: %s", r)
		}
	})
}

// TestE2ERenewMany: 50 lineages, some due (renew_before_expiry), one whose
// CA is gone; exactly the due ones renew, hooks see the right environment,
// post runs once, the broken one fails without stopping the others.
func TestE2ERenewMany(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	// A web server in the test answers http-01 from a webroot, so lineages
	// can be created and renewed concurrently.
	webroot := t.TempDir()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.HTTPPort))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(webroot))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	webrootCertonly := func(name string, extra ...string) result {
		args := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL,
			"--cert-name", name, "--webroot", "-w", webroot, "-d", name + ".example.com"}
		return tr.run(append(args, extra...)...)
	}
	// One account first, so parallel certonly runs do not each register.
	tr.mustRun("register", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL)
	const n = 50
	var due []string
	for i := range n {
		if i%5 == 0 {
			due = append(due, fmt.Sprintf("site%02d", i))
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	errs := make(chan string, n)
	for i := range n {
		name := fmt.Sprintf("site%02d", i)
		var extra []string
		if slices.Contains(due, name) {
			// Due: renew when fewer than 10 years are left.
			extra = []string{"--renew-before-expiry", "3650 days"}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if r := webrootCertonly(name, extra...); r.code != 0 {
				errs <- fmt.Sprintf("certonly %s: %s", name, r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// One lineage that is due but whose CA is unreachable.
	if r := webrootCertonly("broken", "--renew-before-expiry", "3650 days"); r.code != 0 {
		t.Fatalf("certonly broken: %s", r)
	}
	confPath := filepath.Join(tr.config, "renewal", "broken.conf")
	b, _ := os.ReadFile(confPath)
	bad := strings.ReplaceAll(string(b), s.DirectoryURL, "https://127.0.0.1:1/dir")
	if err := os.WriteFile(confPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}

	before := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("site%02d", i)
		before[name] = readCert(t, filepath.Join(tr.config, "live", name, "cert.pem")).SerialNumber.String()
	}
	hookDir := t.TempDir()
	deployLog := filepath.Join(hookDir, "deploy.log")
	postLog := filepath.Join(hookDir, "post.log")
	preLog := filepath.Join(hookDir, "pre.log")
	dirHook := filepath.Join(tr.config, "renewal-hooks", "deploy")
	os.MkdirAll(dirHook, 0o755)
	os.WriteFile(filepath.Join(dirHook, "10-record"), []byte("#!/bin/sh\necho \"dir $RENEWED_LINEAGE\" >> "+deployLog+"\n"), 0o755)
	os.WriteFile(filepath.Join(dirHook, "20-ignored~"), []byte("#!/bin/sh\necho backup >> "+deployLog+"\n"), 0o755)

	r := tr.run("renew", "--no-random-sleep-on-renew", "--parallel", "4",
		"--pre-hook", "echo pre >> "+preLog,
		"--deploy-hook", `echo "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >> `+deployLog,
		"--post-hook", `echo "renewed=$RENEWED_DOMAINS failed=$FAILED_DOMAINS" >> `+postLog)
	if r.code == 0 {
		t.Errorf("renew with a failing lineage exited 0:\n%s", r)
	}
	if !strings.Contains(r.stderr, "1 renew failure(s), 0 parse failure(s)") {
		t.Errorf("no failure summary:\n%s", r)
	}
	renewed := 0
	for i := range n {
		name := fmt.Sprintf("site%02d", i)
		now := readCert(t, filepath.Join(tr.config, "live", name, "cert.pem")).SerialNumber.String()
		isDue := slices.Contains(due, name)
		if (now != before[name]) != isDue {
			t.Errorf("%s: renewed=%v, due=%v", name, now != before[name], isDue)
		}
		if now != before[name] {
			renewed++
		}
	}
	if renewed != len(due) {
		t.Errorf("renewed %d, want %d", renewed, len(due))
	}
	dl, _ := os.ReadFile(deployLog)
	for _, name := range due {
		want := filepath.Join(tr.config, "live", name) + "|" + name + ".example.com"
		if !strings.Contains(string(dl), want+"\n") {
			t.Errorf("deploy hook log lacks %q", want)
		}
		if !strings.Contains(string(dl), "dir "+filepath.Join(tr.config, "live", name)+"\n") {
			t.Errorf("deploy directory hook did not run for %s", name)
		}
	}
	if strings.Contains(string(dl), "backup") {
		t.Error("a hook ending in ~ ran")
	}
	if strings.Contains(string(dl), "broken") {
		t.Error("deploy hook ran for the failed lineage")
	}
	pl, _ := os.ReadFile(postLog)
	if strings.Count(string(pl), "\n") != 1 || !strings.Contains(string(pl), "failed=broken.example.com") ||
		!strings.Contains(string(pl), "site00.example.com") {
		t.Errorf("post hook log = %q, want one line with renewed and failed domains", pl)
	}
	if pre, _ := os.ReadFile(preLog); string(pre) != "pre\n" {
		t.Errorf("pre hook log = %q, want one run", pre)
	}
	if !strings.Contains(r.stdout, "The following renewals failed:") || !strings.Contains(r.stdout, filepath.Join("live", "broken", "fullchain.pem")+" (failure)") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	// One account client for the whole run: the directory is fetched once for
	// ARI and once for the account, and nonces are reused between renewals
	// (one HEAD per renewal running at once at most), not 2 requests more
	// per renewal.
	lg, err := os.ReadFile(filepath.Join(tr.logs, "letsencrypt.log"))
	if err != nil {
		t.Fatal(err)
	}
	var dirGets, heads int
	for _, line := range strings.Split(string(lg), "\n") {
		if !strings.Contains(line, "acme request") {
			continue
		}
		if strings.Contains(line, "method=GET") && strings.Contains(line, "url="+s.DirectoryURL+" ") {
			dirGets++
		}
		if strings.Contains(line, "method=HEAD") {
			heads++
		}
	}
	t.Logf("dirGets %d heads %d", dirGets, heads)
	if dirGets > 2 || heads > 4 || dirGets == 0 {
		t.Errorf("renew of %d lineages at one CA: %d directory GETs (want 1-2), %d newNonce HEADs (want at most 4)", len(due), dirGets, heads)
	}
}

// TestE2EDryRunAndJSON: --dry-run uses the lineage's CA and saves nothing;
// certificates --json lists the lineage.
func TestE2EDryRunAndJSON(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	if r := tr.certonly("dry", []string{"dry.example.com", "www.dry.example.com"}); r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	ents := func() int {
		e, _ := os.ReadDir(filepath.Join(tr.config, "archive", "dry"))
		return len(e)
	}
	n := ents()
	r := tr.mustRun("renew", "--dry-run", "--no-random-sleep-on-renew")
	if !strings.Contains(r.stdout, "all simulated renewals succeeded") {
		t.Errorf("renew --dry-run: %s", r)
	}
	if ents() != n {
		t.Error("--dry-run wrote into archive/")
	}
	r = tr.mustRun("certificates", "--json")
	var list []manager.CertificateInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("certificates --json: %v\n%s", err, r.stdout)
	}
	if len(list) != 1 || list[0].Name != "dry" || len(list[0].Identifiers) != 2 || !list[0].Valid || list[0].Server != s.DirectoryURL {
		t.Errorf("certificates --json = %+v", list)
	}
	r = tr.mustRun("certificates", "-d", "nomatch.example.com")
	if !strings.Contains(r.stdout, "No certificates found.") {
		t.Errorf("filter -d: %s", r)
	}
}

// TestE2EAccountsAndRevoke: register, show_account, update_account (e-mail
// and --rollover-key), revoke --cert-name --delete-after-revoke, unregister.
func TestE2EAccountsAndRevoke(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	srv := []string{"--server", s.DirectoryURL, "-n"}
	tr.mustRun(append([]string{"register", "--agree-tos", "-m", "a@example.com"}, srv...)...)
	r := tr.mustRun(append([]string{"show_account"}, srv...)...)
	if !strings.Contains(r.stdout, "Account Thumbprint:") || !strings.Contains(r.stdout, "a@example.com") {
		t.Errorf("show_account: %s", r)
	}
	tr.mustRun(append([]string{"update_account", "-m", "b@example.com"}, srv...)...)
	r = tr.mustRun(append([]string{"show_account"}, srv...)...)
	if !strings.Contains(r.stdout, "b@example.com") {
		t.Errorf("after update_account: %s", r)
	}
	if r := tr.certonly("rev", []string{"rev.example.com"}); r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	r = tr.mustRun(append([]string{"update_account", "--rollover-key"}, srv...)...)
	if !strings.Contains(r.stdout, "rolled over") {
		t.Errorf("rollover: %s", r)
	}
	// The lineage follows the new account id.
	tr.mustRun("renew", "--cert-name", "rev", "--force-renewal", "--no-random-sleep-on-renew")
	serial := fmt.Sprintf("%x", readCert(t, filepath.Join(tr.config, "live", "rev", "cert.pem")).SerialNumber)
	tr.mustRun("revoke", "--cert-name", "rev", "--reason", "superseded", "--delete-after-revoke", "-n")
	if st := s.CertStatus(t, serial); fmt.Sprint(st["Status"]) != "Revoked" {
		t.Errorf("pebble status after revoke = %v", st)
	}
	if _, err := os.Stat(filepath.Join(tr.config, "live", "rev")); !os.IsNotExist(err) {
		t.Error("lineage not deleted after --delete-after-revoke")
	}
	tr.mustRun(append([]string{"unregister"}, srv...)...)
	r = tr.run(append([]string{"show_account"}, srv...)...)
	if r.code == 0 {
		t.Errorf("show_account after unregister: %s", r)
	}
}

// TestE2EReconfigureAndKeep: certonly twice keeps a lineage that is not due;
// reconfigure saves new hooks only after a test issuance; --reuse-key.
func TestE2EReconfigureAndKeep(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	if r := tr.certonly("re", []string{"re.example.com"}, "--reuse-key"); r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	k1 := readKey(t, filepath.Join(tr.config, "live", "re", "privkey.pem"))
	r := tr.certonly("re", []string{"re.example.com"})
	if r.code != 0 || !strings.Contains(r.stdout, "not yet due") {
		t.Errorf("second certonly should keep the certificate: %s", r)
	}
	// Adding a name: -n without --expand names the flag; --expand keeps the
	// lineage; --duplicate makes a second one.
	r = tr.run(append(append([]string{"certonly", "-n", "--server", s.DirectoryURL}, tr.standalone()...), "-d", "re.example.com", "-d", "www.re.example.com")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--expand") {
		t.Errorf("adding a name without --expand: %s", r)
	}
	r = tr.run(append(append([]string{"certonly", "-n", "--server", s.DirectoryURL, "--expand", "--reuse-key"}, tr.standalone()...), "-d", "re.example.com", "-d", "www.re.example.com")...)
	if r.code != 0 {
		t.Fatalf("--expand: %s", r)
	}
	if c := readCert(t, filepath.Join(tr.config, "live", "re", "cert.pem")); !manager.SameSet(c.DNSNames, []string{"re.example.com", "www.re.example.com"}) {
		t.Errorf("expanded names = %v", c.DNSNames)
	}
	if k := readKey(t, filepath.Join(tr.config, "live", "re", "privkey.pem")); !k1.Public().(*ecdsa.PublicKey).Equal(k.Public()) {
		t.Error("--expand --reuse-key: the key changed")
	}
	r = tr.run(append(append([]string{"certonly", "-n", "--server", s.DirectoryURL, "--duplicate"}, tr.standalone()...), "-d", "re.example.com", "-d", "www.re.example.com")...)
	if r.code != 0 {
		t.Fatalf("--duplicate: %s", r)
	}
	if _, err := os.Stat(filepath.Join(tr.config, "live", "re.example.com", "fullchain.pem")); err != nil {
		t.Errorf("--duplicate did not create a new lineage: %v", err)
	}
	r = tr.mustRun("reconfigure", "--cert-name", "re", "--deploy-hook", "true", "-n")
	if !strings.Contains(r.stdout, "Successfully updated configuration.") {
		t.Errorf("reconfigure: %s", r)
	}
	conf, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "re.conf"))
	if !strings.Contains(string(conf), "renew_hook = true") {
		t.Errorf("reconfigure did not save the deploy hook:\n%s", conf)
	}
	// A reconfigure that cannot work changes nothing.
	r = tr.run("reconfigure", "--cert-name", "re", "--http-01-port", fmt.Sprint(pebbletest.FreePort(t)), "-n")
	if r.code == 0 {
		t.Errorf("reconfigure to a port Pebble does not dial succeeded: %s", r)
	}
	conf2, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "re.conf"))
	if string(conf2) != string(conf) {
		t.Errorf("failed reconfigure changed the conf:\n%s", conf2)
	}
	tr.mustRun("renew", "--force-renewal", "--no-random-sleep-on-renew", "-q")
	k2 := readKey(t, filepath.Join(tr.config, "live", "re", "privkey.pem"))
	if !k1.Public().(*ecdsa.PublicKey).Equal(k2.Public()) {
		t.Error("--reuse-key: the key changed on renewal")
	}
}

// TestE2ERenewARI: Pebble's renewal window decides. A lineage whose window
// is in the past renews (sending replaces); one whose window is in the future
// does not; ari_retry_after is saved from the Retry-After.
func TestE2ERenewARI(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	for _, name := range []string{"past", "future"} {
		if r := tr.certonly(name, []string{name + ".example.com"}); r.code != 0 {
			t.Fatalf("certonly %s: %s", name, r)
		}
	}
	now := time.Now().UTC()
	win := func(start, end time.Time) string {
		return fmt.Sprintf(`{"suggestedWindow":{"start":%q,"end":%q}}`, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	pem := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(tr.config, "live", name, "cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	s.SetRenewalInfo(t, pem("past"), win(now.Add(-2*time.Hour), now.Add(-time.Hour)))
	s.SetRenewalInfo(t, pem("future"), win(now.Add(40*24*time.Hour), now.Add(41*24*time.Hour)))
	before := map[string]string{"past": string(pem("past")), "future": string(pem("future"))}
	r := tr.mustRun("renew", "--no-random-sleep-on-renew")
	if string(pem("past")) == before["past"] {
		t.Errorf("lineage with a past ARI window was not renewed:\n%s", r)
	}
	if string(pem("future")) != before["future"] {
		t.Errorf("lineage with a future ARI window was renewed:\n%s", r)
	}
	// the retry time of the lineage not renewed is saved with its
	// certificate's serial, in one file for the run (not in its conf)
	saved, _ := os.ReadFile(filepath.Join(tr.config, ".acmectl", "ari-retry"))
	serial := readCert(t, filepath.Join(tr.config, "live", "future", "cert.pem")).SerialNumber.Text(16)
	if !strings.Contains(string(saved), "\nfuture\t"+serial+"\t") {
		t.Errorf("ari_retry_after of future not saved in .acmectl/ari-retry:\n%s", saved)
	}
	// A second run inside the retry-after period does not ask again (the
	// CA's window for future has moved into the past meanwhile: asked, it
	// would renew) and still skips; without --no-random-sleep-on-renew it
	// does not sleep either, since nothing is due (stdin is not a terminal
	// here).
	s.SetRenewalInfo(t, pem("future"), win(now.Add(-2*time.Hour), now.Add(-time.Hour)))
	t0 := time.Now()
	r = tr.mustRun("renew")
	if d := time.Since(t0); d > 30*time.Second {
		t.Errorf("renew with nothing due took %v (slept?)", d)
	}
	if string(pem("future")) != before["future"] || !strings.Contains(r.stdout, "(skipped)") {
		t.Errorf("second renew: %s", r)
	}
}

// TestE2EDNSAndManual: dns-01 through lego's exec provider and through
// --manual hooks (both publishing TXT records in challtestsrv), including a
// wildcard; renew reuses the saved DNS options.
func TestE2EDNSAndManual(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	dir := t.TempDir()
	execScript := filepath.Join(dir, "update-dns.sh")
	// lego exec: $1 present|cleanup, $2 fqdn, $3 value.
	if err := os.WriteFile(execScript, []byte(`#!/bin/sh
case "$1" in
present) curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" `+s.ChallSrvURL+`/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"$2\"}" `+s.ChallSrvURL+`/clear-txt ;;
esac
`), 0o755); err != nil {
		t.Fatal(err)
	}
	tr.env = append(tr.env, "EXEC_PATH="+execScript, "EXEC_SEQUENCE_INTERVAL=1") // exec is sequential: 1 s between authorizations instead of 60
	base := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL}
	r := tr.run(append(base, "--dns", "exec", "--dns-propagation-seconds", "1", "-d", "*.wild.example.com", "-d", "wild.example.com", "--cert-name", "wild")...)
	if r.code != 0 {
		t.Fatalf("certonly --dns exec: %s", r)
	}
	c := readCert(t, filepath.Join(tr.config, "live", "wild", "cert.pem"))
	if !manager.SameSet(c.DNSNames, []string{"*.wild.example.com", "wild.example.com"}) {
		t.Errorf("DNSNames = %v", c.DNSNames)
	}
	conf, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "wild.conf"))
	if !strings.Contains(string(conf), "authenticator = dns-exec") || !strings.Contains(string(conf), "dns_exec_propagation_seconds = 1") {
		t.Errorf("renewal conf:\n%s", conf)
	}
	tr.mustRun("renew", "--cert-name", "wild", "--force-renewal", "--no-random-sleep-on-renew")

	auth := filepath.Join(dir, "auth.sh")
	if err := os.WriteFile(auth, []byte(`#!/bin/sh
test -n "$CERTBOT_DOMAIN" && test -n "$CERTBOT_VALIDATION" && test -n "$CERTBOT_ALL_DOMAINS" || exit 3
curl -sf -d "{\"host\":\"_acme-challenge.$CERTBOT_DOMAIN.\",\"value\":\"$CERTBOT_VALIDATION\"}" `+s.ChallSrvURL+`/set-txt
echo published
`), 0o755); err != nil {
		t.Fatal(err)
	}
	r = tr.run(append(base, "--manual", "--preferred-challenges", "dns", "--manual-auth-hook", auth, "-d", "manual.example.com")...)
	if r.code != 0 {
		t.Fatalf("certonly --manual: %s", r)
	}
	conf, _ = os.ReadFile(filepath.Join(tr.config, "renewal", "manual.example.com.conf"))
	if !strings.Contains(string(conf), "manual_auth_hook = "+auth) || !strings.Contains(string(conf), "pref_challs = dns-01") {
		t.Errorf("renewal conf:\n%s", conf)
	}
	tr.mustRun("renew", "--cert-name", "manual.example.com", "--force-renewal", "--no-random-sleep-on-renew")
}

// TestE2EChallengesProfilesCSR: tls-alpn-01, an IP identifier, --csr,
// --must-staple, and a short-lived --required-profile that makes the lineage
// due by the half-lifetime rule.
func TestE2EChallengesProfilesCSR(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{Profiles: map[string]pebbletest.Profile{
		"default":    {Description: "90 days", ValidityPeriod: 90 * 24 * 3600},
		"shortlived": {Description: "4 seconds", ValidityPeriod: 4},
	}})
	tr := newTree(t, s)
	base := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL}

	// Pebble picks a profile at random when none is asked for.
	dflt := []string{"--required-profile", "default"}
	r := tr.run(append(base, "--required-profile", "default", "--tls-alpn", "--tls-alpn-01-port", fmt.Sprint(s.TLSPort), "--tls-alpn-01-address", "127.0.0.1",
		"-d", "alpn.example.com", "--must-staple")...)
	if r.code != 0 {
		t.Fatalf("certonly --tls-alpn: %s", r)
	}
	c := readCert(t, filepath.Join(tr.config, "live", "alpn.example.com", "cert.pem"))
	staple := false
	for _, ext := range c.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}) {
			staple = true
		}
	}
	if !staple {
		t.Error("--must-staple: no TLS Feature extension in the certificate")
	}

	r = tr.run(append(append(append(base, dflt...), "--ip-address", "127.0.0.1", "--cert-name", "ip"), tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certonly --ip-address: %s", r)
	}
	if c := readCert(t, filepath.Join(tr.config, "live", "ip", "cert.pem")); len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "127.0.0.1" {
		t.Errorf("IP SANs = %v", c.IPAddresses)
	}

	// --csr: the key stays with the operator; files land where asked.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"csr.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	csrFile := filepath.Join(out, "req.pem")
	os.WriteFile(csrFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), 0o644)
	r = tr.run(append(append(append(base, dflt...), "--csr", csrFile, "--cert-path", filepath.Join(out, "c.pem"),
		"--chain-path", filepath.Join(out, "ch.pem"), "--fullchain-path", filepath.Join(out, "fc.pem")), tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certonly --csr: %s", r)
	}
	if c := readCert(t, filepath.Join(out, "fc.pem")); !keyMatchesCert(key, c) {
		t.Error("--csr certificate does not match the CSR key")
	}
	if _, err := os.Stat(filepath.Join(tr.config, "live", "csr.example.com")); !os.IsNotExist(err) {
		t.Error("--csr created a lineage")
	}

	// Short-lived profile: Pebble's ARI window for it spans its whole 4 s
	// life, so once it has expired it is due whatever point was picked.
	r = tr.run(append(append(base, "-d", "short.example.com", "--required-profile", "shortlived"), tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certonly --required-profile: %s", r)
	}
	conf, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "short.example.com.conf"))
	if !strings.Contains(string(conf), "required_profile = shortlived") {
		t.Errorf("profile not saved:\n%s", conf)
	}
	first := readCert(t, filepath.Join(tr.config, "live", "short.example.com", "cert.pem"))
	ipSerial := readCert(t, filepath.Join(tr.config, "live", "ip", "cert.pem")).SerialNumber
	// The tls-alpn lineage renews through its saved port and address.
	tr.mustRun("renew", "--cert-name", "alpn.example.com", "--force-renewal", "--no-random-sleep-on-renew")
	time.Sleep(time.Until(first.NotAfter.Add(1500 * time.Millisecond)))
	r = tr.mustRun("renew", "--no-random-sleep-on-renew", "-vv")
	if c := readCert(t, filepath.Join(tr.config, "live", "ip", "cert.pem")); c.SerialNumber.Cmp(ipSerial) != 0 {
		t.Errorf("the 90-day ip lineage was renewed:\n%s", r)
	}
	second := readCert(t, filepath.Join(tr.config, "live", "short.example.com", "cert.pem"))
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Errorf("expired short-lived lineage was not renewed:\n%s", r)
	}
	// --allow-subset-of-names: a name the CA cannot validate is dropped.
	s.ChallSrv(t, "add-a", map[string]any{"host": "unreachable.example.com.", "addresses": []string{"127.0.0.2"}})
	r = tr.run(append(append(append(base, dflt...), "-d", "reach.example.com", "-d", "unreachable.example.com", "--allow-subset-of-names"), tr.standalone()...)...)
	if r.code != 0 {
		t.Fatalf("certonly --allow-subset-of-names: %s", r)
	}
	if c := readCert(t, filepath.Join(tr.config, "live", "reach.example.com", "cert.pem")); !manager.SameSet(c.DNSNames, []string{"reach.example.com"}) {
		t.Errorf("subset certificate names = %v", c.DNSNames)
	}
	// Unknown required profile: a clear error.
	r = tr.run(append(append(base, "-d", "noprof.example.com", "--required-profile", "nope"), tr.standalone()...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("unknown profile: %s", r)
	}
}

// TestE2EPreferredChain: --preferred-chain picks the alternate chain whose
// topmost certificate is issued by the named CA, is saved in the renewal conf
// and holds on renewal; an unknown name keeps the default chain.
func TestE2EPreferredChain(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{Env: []string{"PEBBLE_ALTERNATE_ROOTS=1"}})
	tr := newTree(t, s)
	block, _ := pem.Decode(s.IssuerRoot(t, 1))
	if block == nil {
		t.Fatal("no alternate root")
	}
	alt, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	want := alt.Subject.CommonName
	topIssuer := func(name string) string {
		b, err := os.ReadFile(filepath.Join(tr.config, "live", name, "chain.pem"))
		if err != nil {
			t.Fatal(err)
		}
		var last *x509.Certificate
		for rest := b; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			if last, err = x509.ParseCertificate(blk.Bytes); err != nil {
				t.Fatal(err)
			}
		}
		if last == nil {
			t.Fatalf("%s: empty chain.pem", name)
		}
		return last.Issuer.CommonName
	}
	base := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL}
	tr.mustRun(append(append(base, "-d", "alt.example.com", "--preferred-chain", want), tr.standalone()...)...)
	if got := topIssuer("alt.example.com"); got != want {
		t.Errorf("--preferred-chain %q: chain ends under %q", want, got)
	}
	conf, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "alt.example.com.conf"))
	if !strings.Contains(string(conf), "preferred_chain = "+want) {
		t.Errorf("renewal conf lacks preferred_chain:\n%s", conf)
	}
	tr.mustRun("renew", "--cert-name", "alt.example.com", "--force-renewal", "--no-random-sleep-on-renew")
	if got := topIssuer("alt.example.com"); got != want {
		t.Errorf("after renew: chain ends under %q, want %q", got, want)
	}
	tr.mustRun(append(append(base, "-d", "dflt.example.com", "--preferred-chain", "No Such Root CA"), tr.standalone()...)...)
	if got := topIssuer("dflt.example.com"); got == want {
		t.Errorf("an unknown preference picked the alternate chain")
	}
}
