package nginx

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/internal/webtest"
)

// withTLSBlock turns a.test into a block that also listens with TLS on the
// loopback https port (a snakeoil certificate), so neither certbot nor we add
// a listener on all addresses in these tests.
func withTLSBlock(t *testing.T, s *testServer) {
	t.Helper()
	snake, _ := webtest.Lineage(t, filepath.Join(filepath.Dir(s.root), "snakeoil"), "snakeoil", "a.test")
	site := fmt.Sprintf(`server {
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
`, s.httpPort, s.httpsPort, snake.Fullchain, snake.Key)
	if err := os.WriteFile(filepath.Join(s.root, "sites-enabled/a.test"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	n := s.installer()
	if err := n.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustBody(t, "https", s.https(), "a.test", "/", 200, "a site\n")
}

func certbot(t *testing.T, s *testServer, caBundle string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	all := append([]string{"--config-dir", s.configDir, "--work-dir", s.workDir, "--logs-dir", filepath.Join(filepath.Dir(s.root), "logs"), "-n",
		"--nginx-server-root", s.root, "--nginx-ctl", s.bin}, args...) // certbot sleeps 1 s after a reload (--nginx-sleep-seconds); 0 races Pebble
	cmd := exec.CommandContext(ctx, "certbot", all...)
	cmd.Env = os.Environ()
	if caBundle != "" {
		cmd.Env = append(cmd.Env, "REQUESTS_CA_BUNDLE="+caBundle)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("certbot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestCertbotNginxInterop: Debian's certbot --nginx issues from Pebble and
// installs with --hsts (splitting the block); our installer reads that
// configuration, replaces the certificate in place, and rolls back both its own
// checkpoint and certbot's to the original bytes.
func TestCertbotNginxInterop(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot is required (Debian packages certbot, python3-certbot-nginx): %v", err)
	}
	s := startNginx(t)
	withTLSBlock(t, s)
	original := webtest.Snapshot(t, s.root)
	p := pebbletest.Start(t, pebbletest.Options{HTTPPort: s.httpPort})

	certbot(t, s, p.CABundle, "--nginx", "--server", p.DirectoryURL, "--agree-tos", "--register-unsafely-without-email",
		"--http-01-port", strconv.Itoa(s.httpPort), "--https-port", strconv.Itoa(s.httpsPort), "-d", "a.test", "--hsts")
	theirs := webtest.LeafFromFile(t, filepath.Join(s.configDir, "live/a.test/cert.pem"))
	webtest.WaitServed(t, s.https(), "a.test", theirs)
	byCertbot := webtest.Snapshot(t, s.root)
	if site := byCertbot[filepath.Join(s.root, "sites-enabled/a.test")]; !strings.Contains(site, "add_header Strict-Transport-Security") {
		t.Fatalf("certbot did not add HSTS:\n%s", site)
	}

	// certbot checkpoints "Deployed ACME Certificate", "Add enhancement
	// Strict-Transport-Security" and, as -n answers yes to the redirect
	// question, "Add enhancement redirect" (a no-op here: nothing on port 80).
	cps, _ := (&installer.Reverter{WorkDir: s.workDir}).Checkpoints()
	if len(cps) != 3 || cps[2].Title != "Deployed ACME Certificate" {
		t.Fatalf("certbot's checkpoints as we read them: %+v", cps)
	}
	n := s.installer()
	if err := n.Prepare(t.Context()); err != nil {
		t.Fatalf("our installer on certbot's configuration: %v", err)
	}
	defer n.Close()
	vs := n.Tree().VHosts()
	if len(vs) != 4 { // default, wild, certbot's plain copy, the TLS block
		t.Errorf("read %d server blocks from certbot's configuration, want 4", len(vs))
	}
	ours, leaf := webtest.Lineage(t, filepath.Join(filepath.Dir(s.root), "ours"), "a.test", "a.test")
	if _, err := installer.Install(t.Context(), n, []string{"a.test"}, ours, installer.InstallOptions{Enhancements: []installer.Enhancement{installer.HSTS}}, true); err != nil {
		t.Fatal(err)
	}
	webtest.WaitServed(t, s.https(), "a.test", leaf)
	site := webtest.Snapshot(t, s.root)[filepath.Join(s.root, "sites-enabled/a.test")]
	if c := strings.Count(site, "ssl_certificate "); c != 1 {
		t.Errorf("%d ssl_certificate lines after our deploy over certbot's, want 1:\n%s", c, site)
	}
	if c := strings.Count(site, "Strict-Transport-Security"); c != 1 {
		t.Errorf("HSTS added twice:\n%s", site)
	}

	if err := n.Rollback(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, byCertbot, webtest.Snapshot(t, s.root))
	if err := n.Rollback(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, original, webtest.Snapshot(t, s.root))
	if err := n.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestCertbotUpdatesAndRollsBackOurs: certbot install runs over what our
// installer wrote (nginx -t passes, the certificate is replaced in place), and
// certbot rollback undoes certbot's and our checkpoints to the original bytes.
func TestCertbotUpdatesAndRollsBackOurs(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot is required (Debian packages certbot, python3-certbot-nginx): %v", err)
	}
	s := startNginx(t)
	withTLSBlock(t, s)
	original := webtest.Snapshot(t, s.root)
	ours, _ := webtest.Lineage(t, filepath.Join(filepath.Dir(s.root), "ours"), "a.test", "a.test", "x.wild.test")
	n := s.installer()
	if err := n.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := installer.Install(t.Context(), n, []string{"a.test", "x.wild.test"}, ours, installer.InstallOptions{Enhancements: []installer.Enhancement{installer.HSTS}}, true); err != nil {
		t.Fatal(err)
	}
	n.Close() // certbot takes the same lock

	theirs, leaf := webtest.Lineage(t, filepath.Join(filepath.Dir(s.root), "theirs"), "a.test", "a.test")
	certbot(t, s, "", "install", "--nginx", "--cert-path", theirs.Cert, "--key-path", theirs.Key, "--fullchain-path", theirs.Fullchain,
		"--chain-path", theirs.Chain, "-d", "a.test", "--https-port", strconv.Itoa(s.httpsPort))
	webtest.WaitServed(t, s.https(), "a.test", leaf)
	site := webtest.Snapshot(t, s.root)[filepath.Join(s.root, "sites-enabled/a.test")]
	if c := strings.Count(site, "ssl_certificate "); c != 1 || !strings.Contains(site, theirs.Fullchain) {
		t.Errorf("certbot over our configuration:\n%s", site)
	}
	// Ours ("Deployed ACME Certificate", "Add enhancement Strict-Transport-Security")
	// and certbot install's.
	cps, err := (&installer.Reverter{WorkDir: s.workDir}).Checkpoints()
	if err != nil || len(cps) < 3 {
		t.Fatalf("checkpoints: %+v %v", cps, err)
	}
	certbot(t, s, "", "rollback", "--checkpoints", strconv.Itoa(len(cps)), "--installer", "nginx")
	webtest.SameFiles(t, original, webtest.Snapshot(t, s.root))
}
