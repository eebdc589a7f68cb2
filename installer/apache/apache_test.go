package apache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/webtest"
)

// testServer is webtest's apache2 with the three-site layout.
type testServer struct {
	*webtest.Apache
	root, rt, configDir, workDir, state string
	httpPort, httpsPort                 int
	env                                 []string
}

func (s *testServer) http() string  { return s.HTTP() }
func (s *testServer) https() string { return s.HTTPS() }

func (s *testServer) installer() *Apache {
	return New(Config{Ctl: "/usr/sbin/apache2ctl", Enmod: "/usr/sbin/a2enmod", Dismod: "/usr/sbin/a2dismod", Env: []string{"APACHE_STATE_DIRECTORY=" + s.state},
		ServerRoot: s.root, ConfigDir: s.configDir, WorkDir: s.workDir, HTTPPort: s.httpPort, HTTPSPort: s.httpsPort,
		StaplingCache: "shmcb:" + s.rt + "/stapling_cache(128000)", LogsRoot: s.rt})
}

func startApacheWith(t *testing.T, sites []webtest.Site) *testServer {
	t.Helper()
	a := webtest.StartApache(t, sites)
	return &testServer{Apache: a, root: a.Root, rt: a.Run, configDir: a.ConfigDir(), workDir: a.WorkDir(), state: a.State,
		httpPort: a.HTTPPort, httpsPort: a.HTTPSPort, env: a.Env[2:]}
}

func startApache(t *testing.T) *testServer { return startApacheWith(t, webtest.ApacheSites) }

func mustBody(t *testing.T, scheme, addr, host, path string, status int, want string) {
	t.Helper()
	var resp_ int
	var body string
	for i := 0; i < 100; i++ { // a graceful restart finishes in the background
		resp, b, err := webtest.Get(scheme, addr, host, path)
		if err == nil {
			resp_, body = resp.StatusCode, b
			if resp_ == status && (want == "" || body == want) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s://%s%s (Host %s) = %d %q, want %d %q", scheme, addr, path, host, resp_, body, status, want)
}

// TestApacheDeployEnhanceRollback: the twins a-le-ssl.conf and wild-le-ssl.conf
// are created and enabled, mod_ssl and the Listen added; apache serves the
// certificate by SNI, redirects with 301, sends HSTS; rollback restores the
// server root byte for byte (modules and links included).
func TestApacheDeployEnhanceRollback(t *testing.T) {
	t.Parallel()
	s := startApache(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	l, leaf := webtest.Lineage(t, s.configDir, "a.test", "a.test", "x.wild.test")
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := installer.Install(ctx, a, []string{"a.test", "x.wild.test"}, l,
		installer.InstallOptions{Enhancements: []installer.Enhancement{installer.Redirect, installer.HSTS}}, true); err != nil {
		t.Fatal(err)
	}
	after := webtest.Snapshot(t, s.root)
	twin := after[filepath.Join(s.root, "sites-available/a-le-ssl.conf")]
	for _, want := range []string{
		"<IfModule mod_ssl.c>\n<VirtualHost 127.0.0.1:" + strconv.Itoa(s.httpsPort) + ">\n",
		"\tServerName a.test\n", "\tSSLCertificateFile " + l.Fullchain + "\n", "\tSSLCertificateKeyFile " + l.Key + "\n",
		"\tInclude " + a.OptionsFile() + "\n", "Header always set Strict-Transport-Security \"max-age=31536000\"\n", "</VirtualHost>\n</IfModule>\n",
		"# a.test — comments stay", // the comment before the vhost stays in a.conf; inside ones are copied
	} {
		if !strings.Contains(twin+after[filepath.Join(s.root, "sites-available/a.conf")], want) {
			t.Errorf("a-le-ssl.conf lacks %q:\n%s", want, twin)
		}
	}
	if got := after[filepath.Join(s.root, "sites-enabled/a-le-ssl.conf")]; !strings.HasPrefix(got, "-> ") {
		t.Errorf("a-le-ssl.conf not enabled: %q", got)
	}
	if !strings.Contains(after[filepath.Join(s.root, "ports.conf")], "<IfModule mod_ssl.c>\n    Listen 127.0.0.1:"+strconv.Itoa(s.httpsPort)+" https\n</IfModule>\n") {
		t.Errorf("ports.conf:\n%s", after[filepath.Join(s.root, "ports.conf")])
	}
	if _, ok := after[filepath.Join(s.root, "mods-enabled/ssl.load")]; !ok {
		t.Errorf("mod_ssl not enabled")
	}
	if !strings.Contains(after[filepath.Join(s.root, "sites-available/a.conf")], "RewriteCond %{SERVER_NAME} =a.test [OR]\n\tRewriteCond %{SERVER_NAME} =www.a.test\n") {
		t.Errorf("a.conf redirect:\n%s", after[filepath.Join(s.root, "sites-available/a.conf")])
	}
	if after[filepath.Join(s.root, "sites-available/000-default.conf")] != before[filepath.Join(s.root, "sites-available/000-default.conf")] {
		t.Errorf("the default vhost was edited")
	}
	for _, name := range []string{"a.test", "x.wild.test"} {
		webtest.WaitServed(t, s.https(), name, leaf)
		resp, body, err := webtest.Get("https", s.https(), name, "/")
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" || resp.StatusCode != 200 {
			t.Errorf("%s: %d %q, Strict-Transport-Security = %q", name, resp.StatusCode, body, got)
		}
		resp, _, err = webtest.Get("http", s.http(), name, "/p?q=1")
		if err != nil {
			t.Fatal(err)
		}
		want := "https://" + name + ":" + strconv.Itoa(s.httpsPort) + "/p?q=1"
		if resp.StatusCode != 301 || resp.Header.Get("Location") != want {
			t.Errorf("%s: http → %d %q, want 301 %q", name, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	mustBody(t, "http", s.http(), "default.test", "/", 200, "default\n")
	if err := a.Enhance(ctx, []string{"a.test"}, installer.Redirect, l); !errors.Is(err, installer.ErrAlreadyPresent) {
		t.Errorf("second redirect: %v", err)
	}

	if err := a.Rollback(ctx, 3); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
}

// TestApacheChallenge: the key authorization answers for a named vhost while
// authenticating; afterwards the server root is as before.
func TestApacheChallenge(t *testing.T) {
	t.Parallel()
	s := startApache(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	chs := []challenge{{"a.test", "tokA_-1", "tokA_-1.thumb"}, {"y.wild.test", "tokC", "tokC.thumb"}}
	for _, c := range chs {
		if err := a.Present(ctx, c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		if err := a.Wait(ctx, c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		mustBody(t, "http", s.http(), c.domain, "/.well-known/acme-challenge/"+c.token, 200, c.keyAuth)
	}
	for _, c := range chs {
		if err := a.CleanUp(context.WithoutCancel(ctx), c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	mustBody(t, "http", s.http(), "a.test", "/.well-known/acme-challenge/tokA_-1", 404, "")
}

// TestApacheBrokenEditRolledBack: a second vhost claiming the name is refused
// naming both; a broken options file fails configtest and everything is
// restored byte for byte while apache keeps serving.
func TestApacheBrokenEditRolledBack(t *testing.T) {
	t.Parallel()
	s := startApache(t)
	ctx := t.Context()
	l, _ := webtest.Lineage(t, s.configDir, "a.test", "a.test")
	dup := filepath.Join(s.root, "sites-enabled/dup.conf")
	if err := os.WriteFile(dup, []byte(fmt.Sprintf("<VirtualHost 127.0.0.1:%d>\n\tServerName a.test\n</VirtualHost>\n", s.httpPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := webtest.Snapshot(t, s.root)
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := installer.Install(ctx, a, []string{"a.test"}, l, installer.InstallOptions{}, true)
	if err == nil || !strings.Contains(err.Error(), "sites-available/a.conf:2") || !strings.Contains(err.Error(), "dup.conf:1") {
		t.Fatalf("duplicate ServerName: %v", err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	a.Close()
	os.Remove(dup)

	before = webtest.Snapshot(t, s.root)
	a = s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := os.WriteFile(a.OptionsFile(), []byte("NoSuchDirective on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = installer.Install(ctx, a, []string{"a.test"}, l, installer.InstallOptions{}, true)
	if err == nil || !strings.Contains(err.Error(), "NoSuchDirective") {
		t.Fatalf("broken options file: %v", err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
}

// TestCertbotRollsBackOurApache: `certbot rollback --installer apache` reads
// the checkpoints our installer made (twin file, site link, ports.conf, the
// a2dismod undo commands) and restores the server root byte for byte.
func TestCertbotRollsBackOurApache(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot is required (Debian packages certbot, python3-certbot-apache): %v", err)
	}
	s := startApache(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	l, _ := webtest.Lineage(t, s.configDir, "a.test", "a.test")
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := installer.Install(ctx, a, []string{"a.test"}, l, installer.InstallOptions{Enhancements: []installer.Enhancement{installer.Redirect, installer.HSTS}}, true)
	if err != nil || n != 3 {
		t.Fatalf("Install = %d, %v", n, err)
	}
	a.Close()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "certbot", "--config-dir", s.configDir, "--work-dir", s.workDir, "--logs-dir", filepath.Join(s.rt, "le-logs"), "-n",
		"rollback", "--checkpoints", "3", "--installer", "apache", "--apache-server-root", s.root,
		"--apache-vhost-root", filepath.Join(s.root, "sites-available"), "--apache-challenge-location", s.root, "--apache-logs-root", s.rt)
	cmd.Env = append(os.Environ(), append(s.env, "APACHE_CONFDIR="+s.root, "APACHE_STATE_DIRECTORY="+s.state, "PATH=/usr/sbin:/usr/bin:/sbin:/bin")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("certbot rollback: %v\n%s", err, out)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
}

// TestApacheRedirectWithoutPlainVHost: a name served only with TLS gets
// certbot's le-redirect-<name>.conf — enabled here, unlike certbot (#3137) —
// which answers http with a 301; Deployed and Names read the configuration;
// rollback removes the file and its link.
func TestApacheRedirectWithoutPlainVHost(t *testing.T) {
	t.Parallel()
	s := startApache(t)
	ctx := t.Context()
	l, leaf := webtest.Lineage(t, s.configDir, "a.test", "a.test", "www.a.test")
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(a.Names(), " "), "a.test default.test wild.test www.a.test"; got != want {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if a.Deployed([]string{"a.test"}, l) {
		t.Errorf("Deployed before any deployment")
	}
	if _, err := installer.Install(ctx, a, []string{"a.test", "www.a.test"}, l, installer.InstallOptions{}, true); err != nil {
		t.Fatal(err)
	}
	if !a.Deployed([]string{"a.test", "www.a.test"}, l) {
		t.Errorf("Deployed after the deployment = false")
	}
	other, _ := webtest.Lineage(t, filepath.Join(s.Dir, "other"), "a.test", "a.test")
	if a.Deployed([]string{"a.test"}, other) {
		t.Errorf("Deployed for another lineage = true")
	}
	// Redeploying the same lineage changes nothing (the directives are set in place).
	before := webtest.Snapshot(t, s.root)
	if err := a.Deploy(ctx, []string{"a.test", "www.a.test"}, l); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Save("Deployed ACME Certificate"); ok || err != nil {
		t.Errorf("a second deployment of the same lineage saved a checkpoint (%v, %v)", ok, err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	a.Close()

	// The plain vhost goes away: only the TLS twin serves a.test.
	if err := os.Remove(filepath.Join(s.root, "sites-enabled/a.conf")); err != nil {
		t.Fatal(err)
	}
	before = webtest.Snapshot(t, s.root)
	a = s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, err := installer.Enhance(ctx, a, []string{"a.test"}, l, []installer.Enhancement{installer.Redirect}, true); err != nil || n != 1 {
		t.Fatalf("Enhance redirect = %d, %v", n, err)
	}
	red := filepath.Join(s.root, "sites-available/le-redirect-a.test.conf")
	after := webtest.Snapshot(t, s.root)
	if txt := after[red]; !strings.Contains(txt, "<VirtualHost 127.0.0.1:"+strconv.Itoa(s.httpPort)+">\nServerName a.test \nServerAlias www.a.test \nServerSignature Off\n") ||
		!strings.Contains(txt, "RewriteRule ^ https://%{SERVER_NAME}:"+strconv.Itoa(s.httpsPort)+"%{REQUEST_URI} [END,NE,R=permanent]\n") {
		t.Errorf("le-redirect-a.test.conf:\n%s", txt)
	}
	if got := after[filepath.Join(s.root, "sites-enabled/le-redirect-a.test.conf")]; !strings.HasPrefix(got, "-> ") {
		t.Errorf("le-redirect-a.test.conf is not enabled: %q", got)
	}
	webtest.WaitServed(t, s.https(), "a.test", leaf)
	resp, _, err := webtest.Get("http", s.http(), "www.a.test", "/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://www.a.test:" + strconv.Itoa(s.httpsPort) + "/x?y=1"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("http www.a.test → %d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if err := a.Rollback(ctx, 1); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
}
