package nginx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/webtest"
)

// testServer is webtest's nginx with the three-block layout.
type testServer struct {
	*webtest.Nginx
	bin, root, configDir, workDir string
	httpPort, httpsPort           int
}

func (s *testServer) http() string  { return s.HTTP() }
func (s *testServer) https() string { return s.HTTPS() }

func (s *testServer) installer() *Nginx {
	return New(Config{Ctl: s.bin, ServerRoot: s.root, ConfigDir: s.configDir, WorkDir: s.workDir, HTTPPort: s.httpPort, HTTPSPort: s.httpsPort})
}

func startNginx(t *testing.T) *testServer {
	t.Helper()
	n := webtest.StartNginx(t, webtest.NginxSites)
	return &testServer{Nginx: n, bin: n.Bin, root: n.Root, configDir: n.ConfigDir(), workDir: n.WorkDir(), httpPort: n.HTTPPort, httpsPort: n.HTTPSPort}
}

func mustBody(t *testing.T, scheme, addr, host, path string, status int, want string) {
	t.Helper()
	resp, body, err := webtest.Get(scheme, addr, host, path)
	if err != nil {
		t.Fatalf("GET %s://%s%s (Host %s): %v", scheme, addr, path, host, err)
	}
	if resp.StatusCode != status || (want != "" && body != want) {
		t.Fatalf("GET %s://%s%s (Host %s) = %d %q, want %d %q", scheme, addr, path, host, resp.StatusCode, body, status, want)
	}
}

// TestNginxDeployEnhanceRollback: one certificate for a.test and x.wild.test is
// installed into exactly the exact-name and the wildcard block, served with SNI;
// --redirect gives a 301 to https, --hsts the header; rollback restores every
// file byte for byte.
func TestNginxDeployEnhanceRollback(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	l, leaf := webtest.Lineage(t, s.configDir, "a.test", "a.test", "x.wild.test")

	n := s.installer()
	if err := n.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, f := range []string{installer.OptionsSSLNginxName, installer.SSLDHParamsName} {
		if _, err := os.Stat(filepath.Join(s.configDir, f)); err != nil {
			t.Errorf("Prepare did not install %s: %v", f, err)
		}
	}
	cps, err := installer.Install(ctx, n, []string{"a.test", "x.wild.test"}, l, installer.InstallOptions{Enhancements: []installer.Enhancement{installer.Redirect, installer.HSTS}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if cps != 3 {
		t.Errorf("Install made %d checkpoints, want 3", cps)
	}
	after := webtest.Snapshot(t, s.root)
	if after[filepath.Join(s.root, "conf.d/default.conf")] != before[filepath.Join(s.root, "conf.d/default.conf")] ||
		after[filepath.Join(s.root, "nginx.conf")] != before[filepath.Join(s.root, "nginx.conf")] {
		t.Errorf("the default server or nginx.conf was edited")
	}
	a := after[filepath.Join(s.root, "sites-enabled/a.test")]
	for _, want := range []string{
		"\tlisten 127.0.0.1:" + strconv.Itoa(s.httpsPort) + " ssl; # managed by Certbot",
		"\tssl_certificate " + l.Fullchain + "; # managed by Certbot",
		"\tssl_certificate_key " + l.Key + "; # managed by Certbot",
		"\tinclude " + n.OptionsFile() + "; # managed by Certbot",
		"\tssl_dhparam " + n.DHParams() + "; # managed by Certbot",
		"add_header Strict-Transport-Security \"max-age=31536000\" always; # managed by Certbot",
		"if ($host = a.test) {",
		"} # managed by Certbot",
		"\t# exact name\n", // comments stay
		"if ($request_method = POST) { return 405; }",
	} {
		if !strings.Contains(a, want) {
			t.Errorf("a.test lacks %q:\n%s", want, a)
		}
	}
	if w := after[filepath.Join(s.root, "sites-enabled/wild")]; !strings.Contains(w, "ssl_certificate "+l.Fullchain) || !strings.Contains(w, "# quoted wildcard") {
		t.Errorf("wildcard block not deployed or lost its comment:\n%s", w)
	}
	if err := n.ConfigTest(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.test", "x.wild.test"} {
		webtest.WaitServed(t, s.https(), name, leaf)
		resp, _, err := webtest.Get("https", s.https(), name, "/")
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("%s: Strict-Transport-Security = %q", name, got)
		}
		resp, _, err = webtest.Get("http", s.http(), name, "/path?q=1")
		if err != nil {
			t.Fatal(err)
		}
		wantLoc := "https://" + name + ":" + strconv.Itoa(s.httpsPort) + "/path?q=1"
		if resp.StatusCode != 301 || resp.Header.Get("Location") != wantLoc {
			t.Errorf("%s: http → %d %q, want 301 %q", name, resp.StatusCode, resp.Header.Get("Location"), wantLoc)
		}
	}
	mustBody(t, "http", s.http(), "other.test", "/", 200, "default\n")

	// A second run updates in place: nothing is added twice.
	l2, leaf2 := webtest.Lineage(t, s.configDir, "a.test", "a.test", "x.wild.test")
	if err := n.Deploy(ctx, []string{"a.test", "x.wild.test"}, l2); err != nil {
		t.Fatal(err)
	}
	if err := n.Enhance(ctx, []string{"a.test", "x.wild.test"}, installer.Redirect, l2); !errors.Is(err, installer.ErrAlreadyPresent) {
		t.Errorf("second redirect: %v, want ErrAlreadyPresent", err)
	}
	if ok, err := n.Save("Deployed ACME Certificate"); err != nil || ok { // the same paths again: nothing to save
		t.Fatal(err)
	}
	if got := webtest.Snapshot(t, s.root); got[filepath.Join(s.root, "sites-enabled/a.test")] != a {
		t.Errorf("redeploying the same paths changed a.test:\n%s", got[filepath.Join(s.root, "sites-enabled/a.test")])
	}
	if err := n.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	webtest.WaitServed(t, s.https(), "a.test", leaf2)

	cs, err := (&installer.Reverter{WorkDir: s.workDir}).Checkpoints()
	if err != nil || len(cs) != 3 || cs[len(cs)-1].Title != "Deployed ACME Certificate" {
		t.Fatalf("checkpoints %+v, %v", cs, err)
	}
	if err := n.Rollback(ctx, 3); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	if err := n.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
}

// TestNginxChallenge: the challenge answers from the block for the name (and a
// copy of the default server for an unknown name) while authenticating, and
// nothing of it is left after CleanUp.
func TestNginxChallenge(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	n := s.installer()
	if err := n.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	chs := []challenge{{"a.test", "tokA_-1", "tokA_-1.thumb"}, {"unknown.test", "tokB", "tokB.thumb"}, {"y.wild.test", "tokC", "tokC.thumb"}}
	for _, c := range chs {
		if err := n.Present(ctx, c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		if err := n.Wait(ctx, c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		mustBody(t, "http", s.http(), c.domain, "/.well-known/acme-challenge/"+c.token, 200, c.keyAuth)
	}
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
	if _, err := os.Stat(filepath.Join(s.workDir, installer.TempCheckpointDir, "FILEPATHS")); err != nil {
		t.Errorf("no temporary checkpoint during the challenge: %v", err)
	}
	for _, c := range chs {
		if err := n.CleanUp(context.WithoutCancel(ctx), c.domain, c.token, c.keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	if _, err := os.Stat(n.ChallengeFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("challenge file left: %v", err)
	}
	mustBody(t, "http", s.http(), "a.test", "/.well-known/acme-challenge/tokA_-1", 200, "a site\n")
}

// TestNginxBrokenEditRolledBack: a second block claiming the name is refused
// with both places named; an options file nginx rejects makes the test fail
// after the edit, which is rolled back byte for byte, and nginx keeps serving.
func TestNginxBrokenEditRolledBack(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	ctx := t.Context()
	l, _ := webtest.Lineage(t, s.configDir, "a.test", "a.test")

	dup := filepath.Join(s.root, "sites-enabled/dup")
	if err := os.WriteFile(dup, []byte(fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n    server_name a.test;\n}\n", s.httpPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := webtest.Snapshot(t, s.root)
	n := s.installer()
	if err := n.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := installer.Install(ctx, n, []string{"a.test"}, l, installer.InstallOptions{}, true)
	var ce *installer.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), filepath.Join(s.root, "sites-enabled/a.test")+":1") || !strings.Contains(err.Error(), dup+":1") {
		t.Fatalf("duplicate server_name: %v, want a ConfigError naming both blocks", err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	n.Close()
	if err := os.Remove(dup); err != nil {
		t.Fatal(err)
	}

	// An options file nginx refuses: the edit fails nginx -t and is rolled back.
	before = webtest.Snapshot(t, s.root)
	n = s.installer()
	if err := n.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := os.WriteFile(n.OptionsFile(), []byte("no_such_directive on;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = installer.Install(ctx, n, []string{"a.test"}, l, installer.InstallOptions{Enhancements: []installer.Enhancement{installer.Redirect}}, true)
	if err == nil || !strings.Contains(err.Error(), "no_such_directive") {
		t.Fatalf("broken options file: %v, want nginx -t's complaint", err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	if cs, _ := (&installer.Reverter{WorkDir: s.workDir}).Checkpoints(); len(cs) != 0 {
		t.Errorf("a failed install left checkpoints: %+v", cs)
	}
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
}

// TestNginxRollbackRepairsBrokenConfig: after a hand edit breaks the
// configuration, Prepare refuses it but PrepareRollback and Rollback restore
// the checkpointed state and nginx reloads; Deployed and Names read the tree.
func TestNginxRollbackRepairsBrokenConfig(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	ctx := t.Context()
	before := webtest.Snapshot(t, s.root)
	l, _ := webtest.Lineage(t, s.configDir, "a.test", "a.test")
	n := s.installer()
	if err := n.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(n.Names(), " "), "a.test www.a.test"; got != want {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if _, err := installer.Install(ctx, n, []string{"a.test"}, l, installer.InstallOptions{}, true); err != nil {
		t.Fatal(err)
	}
	if !n.Deployed([]string{"a.test"}, l) || n.Deployed([]string{"www.a.test", "b.test"}, l) {
		t.Errorf("Deployed: a.test %v, (www.a.test, b.test) %v; want true, false", n.Deployed([]string{"a.test"}, l), n.Deployed([]string{"www.a.test", "b.test"}, l))
	}
	n.Close()
	site := filepath.Join(s.root, "sites-enabled/a.test")
	b, _ := os.ReadFile(site)
	if err := os.WriteFile(site, append(b, "this is broken {\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	n = s.installer()
	if err := n.Prepare(ctx); err == nil {
		t.Fatal("Prepare accepted a configuration nginx -t refuses")
	}
	n = s.installer()
	if err := n.PrepareRollback(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Rollback(ctx, 1); err != nil {
		t.Fatal(err)
	}
	webtest.SameFiles(t, before, webtest.Snapshot(t, s.root))
	if err := n.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	mustBody(t, "http", s.http(), "a.test", "/", 200, "a site\n")
}
