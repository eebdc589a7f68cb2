package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/internal/webtest"
)

// The installer end-to-end tests drive the binary against Debian's nginx and
// apache2, each started by the test on free loopback ports with its own
// server root, and a Pebble whose http-01 validation dials the server's port.

// web is one test's server (nginx or apache2), Pebble and tree.
type web struct {
	*tree
	kind       string
	root       string
	http, tls  string // loopback addresses of the two ports
	flags      []string
	test       func() error
	sitesFile  func(name string) string // the file of a site ("a.test", "wild")
	unaffected []string                 // files a run must leave alone
}

func newNginxWeb(t *testing.T, sites func(*webtest.Nginx) map[string]string) (*web, *webtest.Nginx) {
	t.Helper()
	s := webtest.StartNginx(t, sites)
	p := pebbletest.Start(t, pebbletest.Options{HTTPPort: s.HTTPPort})
	w := &web{tree: newTree(t, p), kind: "nginx", root: s.Root, http: s.HTTP(), tls: s.HTTPS(), test: s.Test,
		flags:      []string{"--nginx-server-root", s.Root, "--nginx-ctl", s.Bin, "--http-01-port", strconv.Itoa(s.HTTPPort), "--https-port", strconv.Itoa(s.HTTPSPort)},
		sitesFile:  func(n string) string { return filepath.Join(s.Root, "sites-enabled", n) },
		unaffected: []string{filepath.Join(s.Root, "nginx.conf"), filepath.Join(s.Root, "conf.d/default.conf")}}
	return w, s
}

func newApacheWeb(t *testing.T, sites []webtest.Site) (*web, *webtest.Apache) {
	t.Helper()
	s := webtest.StartApache(t, sites)
	p := pebbletest.Start(t, pebbletest.Options{HTTPPort: s.HTTPPort})
	w := &web{tree: newTree(t, p), kind: "apache", root: s.Root, http: s.HTTP(), tls: s.HTTPS(), test: s.Test,
		flags: []string{"--apache-server-root", s.Root, "--apache-ctl", "/usr/sbin/apache2ctl", "--apache-enmod", "/usr/sbin/a2enmod",
			"--apache-dismod", "/usr/sbin/a2dismod", "--apache-logs-root", s.Run, "--http-01-port", strconv.Itoa(s.HTTPPort), "--https-port", strconv.Itoa(s.HTTPSPort)},
		sitesFile: func(n string) string {
			return filepath.Join(s.Root, "sites-available", strings.TrimSuffix(n, ".test")+".conf")
		},
		unaffected: []string{filepath.Join(s.Root, "apache2.conf"), filepath.Join(s.Root, "sites-available/000-default.conf")}}
	w.env = append(w.env, s.Env...)
	return w, s
}

// issue is the flags of a first issuance against the test's Pebble.
func (w *web) issue(verb string, extra ...string) []string {
	args := []string{verb, "--" + w.kind, "-n", "--agree-tos", "-m", "e2e@example.com", "--server", w.s.DirectoryURL}
	return append(append(args, w.flags...), extra...)
}

// served waits until the server presents want for SNI name.
func (w *web) served(name string, want *x509.Certificate) {
	w.t.Helper()
	webtest.WaitServed(w.t, w.tls, name, want)
}

// noChallenge checks that nothing of the http-01 challenge is left.
func (w *web) noChallenge() {
	w.t.Helper()
	for p, c := range webtest.Snapshot(w.t, w.root) {
		if strings.Contains(c, "acme-challenge") || strings.Contains(p, "le_http_01") {
			w.t.Errorf("challenge configuration left in %s:\n%s", p, c)
		}
	}
	left, _ := filepath.Glob(filepath.Join(w.config, "le_http_01*"))
	if tmp, _ := os.ReadDir(filepath.Join(w.work, "temp_checkpoint")); len(left)+len(tmp) > 0 {
		w.t.Errorf("challenge files left: %v, temp checkpoint %v", left, tmp)
	}
}

// checkRedirectHSTS: http answers 301 to https on the TLS port, https sends HSTS.
func (w *web) checkRedirectHSTS(name string) {
	w.t.Helper()
	resp, _, err := webtest.Get("http", w.http, name, "/path?q=1")
	if err != nil {
		w.t.Fatal(err)
	}
	_, port, _ := strings.Cut(w.tls, ":")
	if want := "https://" + name + ":" + port + "/path?q=1"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		w.t.Errorf("http %s → %d %q, want 301 %q", name, resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, _, err = webtest.Get("https", w.tls, name, "/")
	if err != nil {
		w.t.Fatal(err)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		w.t.Errorf("https %s: Strict-Transport-Security = %q, want max-age=31536000", name, got)
	}
}

// runAndRenew is Must-show 1 (nginx) and 3 (apache): run issues for two
// names and installs them into exactly their blocks with --hsts and the
// default redirect; renew --force-renewal makes the server serve the new
// certificate by itself; no challenge configuration is left.
func runAndRenew(t *testing.T, w *web) {
	before := webtest.Snapshot(t, w.root)
	start := time.Now()
	r := w.mustRun(w.issue("run", "-d", "a.test", "-d", "x.wild.test", "--hsts")...)
	t.Logf("run --%s: %s", w.kind, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(r.stdout, "Congratulations! You have successfully enabled HTTPS on https://a.test and https://x.wild.test") {
		t.Errorf("run output:\n%s", r)
	}
	after := webtest.Snapshot(t, w.root)
	for _, f := range w.unaffected {
		if after[f] != before[f] {
			t.Errorf("%s was edited:\n%s", f, after[f])
		}
	}
	full := filepath.Join(w.config, "live/a.test/fullchain.pem")
	for _, site := range []string{"a.test", "wild"} {
		text := after[w.sitesFile(site)]
		if w.kind == "apache" {
			text = after[strings.TrimSuffix(w.sitesFile(site), ".conf")+"-le-ssl.conf"]
		}
		if !strings.Contains(text, full) {
			t.Errorf("%s: the certificate is not installed:\n%s", site, text)
		}
	}
	if err := w.test(); err != nil {
		t.Fatal(err)
	}
	cert := readCert(t, filepath.Join(w.config, "live/a.test/cert.pem"))
	w.served("a.test", cert)
	w.served("x.wild.test", cert)
	w.checkRedirectHSTS("a.test")
	w.noChallenge()
	conf := readFile(t, filepath.Join(w.config, "renewal/a.test.conf"))
	for _, want := range []string{"authenticator = " + w.kind, "installer = " + w.kind, w.kind + "_server_root = " + w.root, "http01_port = "} {
		if !strings.Contains(conf, want) {
			t.Errorf("renewal conf lacks %q:\n%s", want, conf)
		}
	}
	if out := w.mustRun("certificates").stdout; !strings.Contains(out, "    Installer: "+w.kind+"\n") {
		t.Errorf("certificates does not show the installer:\n%s", out)
	}

	installed := webtest.Snapshot(t, w.root)
	start = time.Now()
	r = w.mustRun("renew", "--force-renewal", "-n", "--no-random-sleep-on-renew")
	t.Logf("renew (%s): %s", w.kind, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(r.stdout, "Reloading "+w.kind+" server after certificate renewal") {
		t.Errorf("renew did not reload %s:\n%s", w.kind, r)
	}
	renewed := readCert(t, filepath.Join(w.config, "live/a.test/cert.pem"))
	if renewed.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Fatal("renew --force-renewal kept the certificate")
	}
	w.served("a.test", renewed)
	w.served("x.wild.test", renewed)
	webtest.SameFiles(t, installed, webtest.Snapshot(t, w.root))
	w.noChallenge()
}

func TestE2ENginxRunRenew(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, _ := newNginxWeb(t, webtest.NginxSites)
	runAndRenew(t, w)
}

func TestE2EApacheRunRenew(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, _ := newApacheWeb(t, webtest.ApacheSites)
	runAndRenew(t, w)
}

// brokenEdits is Must-show 2 (nginx) and 3 (apache): an edit that cannot be
// made is refused or rolled back — a second block claiming the name, a TLS
// options file the server rejects, a file this process may not write — each
// with a one-line error naming the file, the server's files byte for byte as
// before, and the server still serving.
func brokenEdits(t *testing.T, w *web, dup, dupFile, optionsFile, body string) {
	w.mustRun(w.issue("certonly", "-d", "a.test")...) // the lineage (authenticated through the server)
	check := func(what string, r result, before map[string]string, want ...string) {
		t.Helper()
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1:\n%s", what, r.code, r)
		}
		for _, s := range want {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, s, r.stderr)
			}
		}
		webtest.SameFiles(t, before, webtest.Snapshot(t, w.root))
		mustServe(t, w.http, "a.test", body)
	}
	install := append([]string{"install", "--cert-name", "a.test", "--" + w.kind, "-n"}, w.flags...)

	webtest.WriteFiles(t, filepath.Dir(dupFile), map[string]string{filepath.Base(dupFile): dup})
	before := webtest.Snapshot(t, w.root)
	check("a second block claiming a.test", w.run(install...), before, "a.test", "also claimed by", w.sitesFile("a.test"), dupFile)
	if err := os.Remove(dupFile); err != nil {
		t.Fatal(err)
	}

	webtest.WriteFiles(t, w.config, map[string]string{filepath.Base(optionsFile): "NoSuchDirective on;\n"})
	before = webtest.Snapshot(t, w.root)
	check("a TLS options file the server rejects", w.run(install...), before, "NoSuchDirective", "restored")
	if cps, _ := os.ReadDir(filepath.Join(w.work, "backups")); len(cps) != 0 {
		t.Errorf("a failed install left %d checkpoints", len(cps))
	}
	if err := os.Remove(optionsFile); err != nil {
		t.Fatal(err)
	}

	// Root writes anything: the check runs without CAP_DAC_OVERRIDE (setpriv),
	// as root still, so only the mode of the site file stops it.
	site := w.sitesFile("a.test")
	if err := os.Chmod(site, 0o444); err != nil {
		t.Fatal(err)
	}
	before = webtest.Snapshot(t, w.root)
	full := append(append([]string{"--bounding-set", "-dac_override,-dac_read_search", w.bin}, install...),
		"--config-dir", w.config, "--work-dir", w.work, "--logs-dir", w.logs)
	check("a site file that may not be written", w.exec("setpriv", full...), before, site+": not writable")
	if err := os.Chmod(site, 0o644); err != nil {
		t.Fatal(err)
	}
	enhanceAndRollback(t, w, install, body)
}

// enhanceAndRollback is Must-show 5 through the verbs an operator uses after
// the fact: install --no-redirect leaves plain HTTP serving the site;
// enhance --redirect --hsts makes it answer 301 to https and send HSTS
// (checked with HTTP requests); rollback --checkpoints 2 undoes the two
// enhancements (one checkpoint each, as certbot): the files byte for byte
// as after the install and HTTP serving the site again.
func enhanceAndRollback(t *testing.T, w *web, install []string, body string) {
	w.mustRun(append(install, "--no-redirect")...)
	cert := readCert(t, filepath.Join(w.config, "live/a.test/cert.pem"))
	w.served("a.test", cert)
	mustServe(t, w.http, "a.test", body)
	installed := webtest.Snapshot(t, w.root)
	w.mustRun(append([]string{"enhance", "--cert-name", "a.test", "--" + w.kind, "-n", "--redirect", "--hsts"}, w.flags...)...)
	w.checkRedirectHSTS("a.test")
	w.mustRun(append([]string{"rollback", "--" + w.kind, "-n", "--checkpoints", "2"}, w.flags...)...)
	webtest.SameFiles(t, installed, webtest.Snapshot(t, w.root))
	mustServe(t, w.http, "a.test", body)
	w.served("a.test", cert)
}

func TestE2ENginxBrokenEditRolledBack(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, s := newNginxWeb(t, webtest.NginxSites)
	dup := fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n    server_name a.test;\n}\n", s.HTTPPort)
	brokenEdits(t, w, dup, filepath.Join(s.Root, "sites-enabled/dup"), filepath.Join(w.config, "options-ssl-nginx.conf"), "a site\n")
}

func TestE2EApacheBrokenEditRolledBack(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, s := newApacheWeb(t, webtest.ApacheSites)
	dup := fmt.Sprintf("<VirtualHost 127.0.0.1:%d>\n\tServerName a.test\n</VirtualHost>\n", s.HTTPPort)
	brokenEdits(t, w, dup, filepath.Join(s.Root, "sites-enabled/dup.conf"), filepath.Join(w.config, "options-ssl-apache.conf"), "a site\n")
}

// mustServe waits until http://addr/ with Host host answers body.
func mustServe(t *testing.T, addr, host, body string) {
	t.Helper()
	var last string
	for range 100 {
		resp, b, err := webtest.Get("http", addr, host, "/")
		if err == nil && resp.StatusCode == 200 && b == body {
			return
		}
		last = fmt.Sprintf("%v %q", err, b)
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("http %s (Host %s) does not serve %q: %s", addr, host, body, last)
}

// certbotCmd runs Debian's certbot on the test's tree and server.
func (w *web) certbot(args ...string) string {
	w.t.Helper()
	if _, err := exec.LookPath("certbot"); err != nil {
		w.t.Fatalf("certbot is required (Debian packages certbot, python3-certbot-nginx): %v", err)
	}
	ctx, cancel := context.WithTimeout(w.t.Context(), 3*time.Minute)
	defer cancel()
	all := append([]string{"--config-dir", w.config, "--work-dir", w.work, "--logs-dir", w.logs, "-n"}, args...)
	cmd := exec.CommandContext(ctx, "certbot", all...)
	cmd.Env = append(append(os.Environ(), w.env...), "REQUESTS_CA_BUNDLE="+w.s.CABundle)
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("certbot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tlsSites is the nginx layout with a.test also on the TLS port (a
// snakeoil certificate), so certbot adds no listener on all addresses.
func tlsSites(t *testing.T) func(*webtest.Nginx) map[string]string {
	return func(s *webtest.Nginx) map[string]string {
		snake, _ := webtest.Lineage(t, filepath.Join(s.Dir, "snakeoil"), "snakeoil", "a.test")
		files := webtest.NginxSites(s)
		files["sites-enabled/a.test"] = fmt.Sprintf(`server {
	# exact name, plain and TLS
	listen 127.0.0.1:%d;
	listen 127.0.0.1:%d ssl;
	server_name a.test;
	ssl_certificate %s;
	ssl_certificate_key %s;

	location / {
		return 200 "a site\n";
	}
}
`, s.HTTPPort, s.HTTPSPort, snake.Fullchain, snake.Key)
		return files
	}
}

// TestE2ECertbotNginxInterop is Must-show 4: certbot --nginx issues and
// installs, acmectl renew --force-renewal on certbot's tree makes nginx serve
// the new certificate; and the reverse: certbot renew --force-renewal on what
// acmectl run --nginx installed makes nginx serve certbot's certificate.
func TestE2ECertbotNginxInterop(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, s := newNginxWeb(t, tlsSites(t))
	nginxOpts := []string{"--nginx-server-root", s.Root, "--nginx-ctl", s.Bin, "--http-01-port", strconv.Itoa(s.HTTPPort), "--https-port", strconv.Itoa(s.HTTPSPort)}

	// certbot made it, acmectl renews it.
	w.certbot(append([]string{"--nginx", "--server", w.s.DirectoryURL, "--agree-tos", "--register-unsafely-without-email", "-d", "a.test", "--cert-name", "theirs"}, nginxOpts...)...)
	theirs := readCert(t, filepath.Join(w.config, "live/theirs/cert.pem"))
	w.served("a.test", theirs)
	byCertbot := webtest.Snapshot(t, w.root)
	r := w.mustRun("renew", "--cert-name", "theirs", "--force-renewal", "-n", "--no-random-sleep-on-renew")
	ours := readCert(t, filepath.Join(w.config, "live/theirs/cert.pem"))
	if ours.SerialNumber.Cmp(theirs.SerialNumber) == 0 {
		t.Fatalf("acmectl renew kept certbot's certificate:\n%s", r)
	}
	w.served("a.test", ours)
	webtest.SameFiles(t, byCertbot, webtest.Snapshot(t, w.root)) // renewed in place: nothing to re-install
	w.noChallenge()

	// acmectl made it, certbot renews it.
	w.mustRun(w.issue("run", "-d", "www.a.test", "--cert-name", "mine", "--no-redirect")...)
	mine := readCert(t, filepath.Join(w.config, "live/mine/cert.pem"))
	w.served("www.a.test", mine)
	w.certbot("renew", "--cert-name", "mine", "--force-renewal", "--no-random-sleep-on-renew")
	again := readCert(t, filepath.Join(w.config, "live/mine/cert.pem"))
	if again.SerialNumber.Cmp(mine.SerialNumber) == 0 {
		t.Fatal("certbot renew kept acmectl's certificate")
	}
	w.served("www.a.test", again)
	if err := w.test(); err != nil {
		t.Fatal(err)
	}
}

// TestE2ECertbotSymlinkNginx: "certbot --nginx" through the certbot symlink,
// verbatim — the rest comes from cli.ini as on a real host — on a terminal
// (the names question, the terms and the e-mail are asked) and with -n.
func TestE2ECertbotSymlinkNginx(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, _ := newNginxWeb(t, webtest.NginxSites)
	symlinkRuns(t, w, []string{"--nginx"}, "1\ny\ne2e@example.com\n",
		"Which names would you like to activate HTTPS for?", "1: a.test", "2: www.a.test")
}

// TestE2ECertbotSymlinkApache: "certbot --apache -d a.test" verbatim through
// the symlink, on a terminal (terms and e-mail asked) and with -n.
func TestE2ECertbotSymlinkApache(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, _ := newApacheWeb(t, webtest.ApacheSites)
	symlinkRuns(t, w, []string{"--apache", "-d", "a.test"}, "y\ne2e@example.com\n")
}

// symlinkRuns runs certbot (the symlink) with args on a terminal that
// answers answers, then "certbot --<kind> -d x.wild.test -n"; the server's
// options and the test's directories come from cli.ini.
func symlinkRuns(t *testing.T, w *web, args []string, answers string, asked ...string) {
	var ini strings.Builder
	fmt.Fprintf(&ini, "server = %s\nca-bundle = %s\nconfig-dir = %s\nwork-dir = %s\nlogs-dir = %s\n", w.s.DirectoryURL, w.s.CABundle, w.config, w.work, w.logs)
	for i := 0; i+1 < len(w.flags); i += 2 {
		fmt.Fprintf(&ini, "%s = %s\n", strings.TrimPrefix(w.flags[i], "--"), w.flags[i+1])
	}
	webtest.WriteFiles(t, filepath.Join(filepath.Dir(w.config), "xdg", "letsencrypt"), map[string]string{"cli.ini": ini.String()})
	link := filepath.Join(t.TempDir(), "certbot")
	if err := os.Symlink(w.bin, link); err != nil {
		t.Fatal(err)
	}
	// A terminal: script(1) gives the command a pty and feeds it the answers.
	cmd := exec.Command("script", "-qec", link+" "+strings.Join(args, " "), "/dev/null")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader(answers)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("certbot %s on a terminal: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, want := range append(asked, "Terms of Service", "Enter email address", "Congratulations! You have successfully enabled HTTPS on https://a.test") {
		if !strings.Contains(string(out), want) {
			t.Errorf("interactive run lacks %q:\n%s", want, out)
		}
	}
	w.served("a.test", readCert(t, filepath.Join(w.config, "live/a.test/cert.pem")))

	r := w.exec(link, "--"+w.kind, "-d", "x.wild.test", "-n")
	if r.code != 0 || !strings.Contains(r.stdout, "Congratulations! You have successfully enabled HTTPS on https://x.wild.test") {
		t.Fatalf("certbot --%s -d x.wild.test -n: %s", w.kind, r)
	}
	w.served("x.wild.test", readCert(t, filepath.Join(w.config, "live/x.wild.test/cert.pem")))
	w.noChallenge()
}

// TestE2ENginxRenewReinstalls: renew installs the certificate again where the
// configuration lost it — and when the one reload of the run then fails
// (the TLS options file nginx rejects), it rolls back what that run changed
// and nginx serves as before; with the options file repaired the next renew
// re-installs and nginx serves the new certificate.
func TestE2ENginxRenewReinstalls(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, s := newNginxWeb(t, webtest.NginxSites)
	original := webtest.Snapshot(t, w.root)
	w.mustRun(w.issue("run", "-d", "a.test")...)
	// The operator puts the original site back: the TLS directives are gone.
	site := w.sitesFile("a.test")
	webtest.WriteFiles(t, filepath.Dir(site), map[string]string{filepath.Base(site): original[site]})
	options := filepath.Join(w.config, "options-ssl-nginx.conf")
	webtest.WriteFiles(t, w.config, map[string]string{filepath.Base(options): "NoSuchDirective on;\n"})
	stripped := webtest.Snapshot(t, w.root)
	if err := exec.Command(s.Bin, "-p", s.Root, "-c", filepath.Join(s.Root, "nginx.conf"), "-s", "reload").Run(); err != nil {
		t.Fatal(err)
	}
	mustServe(t, w.http, "a.test", "a site\n")

	r := w.run("renew", "--force-renewal", "-n", "--no-random-sleep-on-renew")
	if r.code == 0 || !strings.Contains(r.stderr, "NoSuchDirective") || !strings.Contains(r.stderr, "rolled back") ||
		!strings.Contains(r.stderr, "the certificates were renewed, but the installer failed") {
		t.Errorf("renew with a rejected options file: %s", r)
	}
	webtest.SameFiles(t, stripped, webtest.Snapshot(t, w.root))
	mustServe(t, w.http, "a.test", "a site\n")

	if err := os.Remove(options); err != nil { // Prepare installs certbot's file again
		t.Fatal(err)
	}
	w.mustRun("renew", "--force-renewal", "-n", "--no-random-sleep-on-renew")
	w.served("a.test", readCert(t, filepath.Join(w.config, "live/a.test/cert.pem")))
	if text := readFile(t, site); !strings.Contains(text, filepath.Join(w.config, "live/a.test/fullchain.pem")) {
		t.Errorf("renew did not install the certificate again:\n%s", text)
	}
}

// TestE2ENginxInterruptedChallenge: Ctrl-C while the CA holds the challenge
// (a proxy delays the answer to it) leaves nothing of the challenge: the
// configuration is byte for byte as before, nginx reloaded and serving, and
// the command fails.
func TestE2ENginxInterruptedChallenge(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w, _ := newNginxWeb(t, webtest.NginxSites)
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(w.s.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"), filepath.Join(mod, "test/certs/localhost/key.pem"), w.s.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Inject(faultproxy.Fault{Step: faultproxy.Challenge, Method: "POST", Kind: faultproxy.Delay, Delay: 2 * time.Minute})
	before := webtest.Snapshot(t, w.root)

	args := append(w.issue("run", "-d", "a.test"), "--config-dir", w.config, "--work-dir", w.work, "--logs-dir", w.logs, "--ca-bundle", w.s.CABundle)
	args[slices.Index(args, w.s.DirectoryURL)] = p.DirectoryURL
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(os.Environ(), w.env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The challenge is configured and answered locally just before it is
	// accepted at the CA, where the proxy holds it.
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(w.logs, "letsencrypt.log"))
		if strings.Contains(string(b), "nginx answers the challenge") {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the challenge was never configured:\n%s\n%s", out.String(), b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(readFile(t, filepath.Join(w.root, "nginx.conf")), "le_http_01_cert_challenge.conf") {
		t.Errorf("the challenge is not configured while the CA validates")
	}
	_ = cmd.Process.Signal(os.Interrupt)
	sig := time.Now()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("acmectl did not stop after SIGINT:\n%s", out.String())
	}
	t.Logf("stopped %s after SIGINT: %v", time.Since(sig).Round(time.Millisecond), err)
	if err == nil {
		t.Errorf("an interrupted run succeeded:\n%s", out.String())
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, w.root))
	w.noChallenge()
	mustServe(t, w.http, "a.test", "a site\n")
}

// TestE2ERunNeedsInstallerAsCertbot: run (and no verb) with an authenticator
// that installs nothing and no installer fails as Debian's certbot 2.1 does
// (plugins/selection.py, the same in 5.x): exit 1, "you probably want to use
// the "certonly" command", before any request to the CA.
func TestE2ERunNeedsInstallerAsCertbot(t *testing.T) {
	skipShort(t)
	t.Parallel()
	tr := newTree(t, nil)
	for _, args := range [][]string{
		{"-n", "--standalone", "-d", "a.example.com"},
		{"run", "-n", "--webroot", "-w", t.TempDir(), "-d", "a.example.com"},
		{"run", "-n", "-a", "manual", "-d", "a.example.com"},
	} {
		full := append(args, "--agree-tos", "-m", "e2e@example.com", "--server", "http://127.0.0.1:1/dir")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		d := t.TempDir()
		cmd := exec.CommandContext(ctx, "certbot", append(full, "--config-dir", d+"/c", "--work-dir", d+"/w", "--logs-dir", d+"/l")...)
		out, err := cmd.CombinedOutput()
		cancel()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("certbot is required (Debian's certbot): %v", err)
		}
		const want = `you probably want to use the "certonly" command`
		if code != 1 || !strings.Contains(string(out), want) {
			t.Fatalf("certbot %s: exit %d, want 1 and %q:\n%s", strings.Join(args, " "), code, want, out)
		}
		r := tr.run(full...)
		if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("acmectl %s: exit %d, want 1 and one line with %q:\n%s", strings.Join(args, " "), r.code, want, r)
		}
	}
}
