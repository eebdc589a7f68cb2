package apache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/installer/internal/itest"
)

// testServer is Debian's apache2 on loopback ports with a copy of
// /etc/apache2 as its ServerRoot (the machine's is only read).
type testServer struct {
	root, rt, configDir, workDir, state string
	httpPort, httpsPort                 int
	env                                 []string
	cmd                                 *exec.Cmd
	done                                chan error
	out                                 bytes.Buffer
}

func (s *testServer) http() string  { return "127.0.0.1:" + strconv.Itoa(s.httpPort) }
func (s *testServer) https() string { return "127.0.0.1:" + strconv.Itoa(s.httpsPort) }

func (s *testServer) installer() *Apache {
	return New(Config{Ctl: "/usr/sbin/apache2ctl", Enmod: "/usr/sbin/a2enmod", Dismod: "/usr/sbin/a2dismod", Env: []string{"APACHE_STATE_DIRECTORY=" + s.state},
		ServerRoot: s.root, ConfigDir: s.configDir, WorkDir: s.workDir, HTTPPort: s.httpPort, HTTPSPort: s.httpsPort,
		StaplingCache: "shmcb:" + s.rt + "/stapling_cache(128000)"})
}

func openDirs(t *testing.T, d string) {
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func site(port int, name, alias, docroot string) string {
	a := ""
	if alias != "" {
		a = "\tServerAlias " + alias + "\n"
	}
	return fmt.Sprintf(`# %[2]s — comments stay
<VirtualHost 127.0.0.1:%[1]d>
	ServerName %[2]s
%[3]s	DocumentRoot %[4]s
	<Directory %[4]s>
		Require all granted
	</Directory>
</VirtualHost>
`, port, name, a, docroot)
}

func startApache(t *testing.T) *testServer {
	t.Helper()
	bin := "/usr/sbin/apache2"
	for _, b := range []string{bin, "/usr/sbin/apache2ctl", "/usr/sbin/a2enmod"} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("Debian's apache2 is required: %v", err)
		}
	}
	dir := t.TempDir()
	openDirs(t, dir)
	s := &testServer{root: filepath.Join(dir, "apache2"), rt: filepath.Join(dir, "rt"), configDir: filepath.Join(dir, "letsencrypt"),
		workDir: filepath.Join(dir, "work"), state: filepath.Join(dir, "state"), httpPort: itest.FreePort(t), httpsPort: itest.FreePort(t)}
	for s.httpsPort == s.httpPort {
		s.httpsPort = itest.FreePort(t)
	}
	if out, err := exec.Command("cp", "-a", "/etc/apache2", s.root).CombinedOutput(); err != nil {
		t.Fatalf("copy /etc/apache2: %v %s", err, out)
	}
	for _, d := range []string{s.rt, s.workDir, filepath.Join(dir, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(s.root, "sites-enabled"))
	for _, e := range ents {
		os.Remove(filepath.Join(s.root, "sites-enabled", e.Name()))
	}
	ents, _ = os.ReadDir(filepath.Join(s.root, "sites-available"))
	for _, e := range ents {
		os.Remove(filepath.Join(s.root, "sites-available", e.Name()))
	}
	s.env = []string{"APACHE_RUN_USER=www-data", "APACHE_RUN_GROUP=www-data", "APACHE_PID_FILE=" + s.rt + "/apache2.pid",
		"APACHE_RUN_DIR=" + s.rt, "APACHE_LOCK_DIR=" + s.rt, "APACHE_LOG_DIR=" + s.rt, "LANG=C"}
	var envvars strings.Builder
	envvars.WriteString("unset HOME\n")
	for _, e := range s.env {
		envvars.WriteString("export " + e + "\n")
	}
	files := map[string]string{
		"envvars":    envvars.String(),
		"ports.conf": fmt.Sprintf("# test ports\nListen 127.0.0.1:%d\n", s.httpPort),
	}
	for _, st := range []struct{ file, name, alias, body string }{
		{"000-default.conf", "default.test", "", "default\n"},
		{"a.conf", "a.test", "www.a.test", "a site\n"},
		{"wild.conf", "wild.test", "*.wild.test", "wild site\n"},
	} {
		doc := filepath.Join(dir, "www", st.name)
		if err := os.MkdirAll(doc, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(doc, "index.html"), []byte(st.body), 0o644)
		files["sites-available/"+st.file] = site(s.httpPort, st.name, st.alias, doc)
		if err := os.Symlink("../sites-available/"+st.file, filepath.Join(s.root, "sites-enabled", st.file)); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(s.root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.cmd = exec.Command(bin, "-d", s.root, "-D", "FOREGROUND")
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start apache2: %v", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(s.rt, "error.log"))
			t.Logf("apache2 output:\n%s\nerror.log:\n%s", s.out.String(), logs)
		}
	})
	itest.WaitListening(t, s.http(), func() error {
		select {
		case err := <-s.done:
			return fmt.Errorf("apache2 exited: %v\n%s", err, s.out.String())
		default:
			return nil
		}
	})
	return s
}

func mustBody(t *testing.T, scheme, addr, host, path string, status int, want string) {
	t.Helper()
	var resp_ int
	var body string
	for i := 0; i < 100; i++ { // a graceful restart finishes in the background
		resp, b, err := itest.Get(scheme, addr, host, path)
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
	before := itest.Snapshot(t, s.root)
	l, leaf := itest.Lineage(t, s.configDir, "a.test", "a.test", "x.wild.test")
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := installer.Install(ctx, a, []string{"a.test", "x.wild.test"}, l,
		installer.InstallOptions{Enhancements: []installer.Enhancement{installer.Redirect, installer.HSTS}}, true); err != nil {
		t.Fatal(err)
	}
	after := itest.Snapshot(t, s.root)
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
		itest.WaitServed(t, s.https(), name, leaf)
		resp, body, err := itest.Get("https", s.https(), name, "/")
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" || resp.StatusCode != 200 {
			t.Errorf("%s: %d %q, Strict-Transport-Security = %q", name, resp.StatusCode, body, got)
		}
		resp, _, err = itest.Get("http", s.http(), name, "/p?q=1")
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
	itest.SameFiles(t, before, itest.Snapshot(t, s.root))
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
	before := itest.Snapshot(t, s.root)
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
	itest.SameFiles(t, before, itest.Snapshot(t, s.root))
	mustBody(t, "http", s.http(), "a.test", "/.well-known/acme-challenge/tokA_-1", 404, "")
}

// TestApacheBrokenEditRolledBack: a second vhost claiming the name is refused
// naming both; a broken options file fails configtest and everything is
// restored byte for byte while apache keeps serving.
func TestApacheBrokenEditRolledBack(t *testing.T) {
	t.Parallel()
	s := startApache(t)
	ctx := t.Context()
	l, _ := itest.Lineage(t, s.configDir, "a.test", "a.test")
	dup := filepath.Join(s.root, "sites-enabled/dup.conf")
	if err := os.WriteFile(dup, []byte(fmt.Sprintf("<VirtualHost 127.0.0.1:%d>\n\tServerName a.test\n</VirtualHost>\n", s.httpPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := itest.Snapshot(t, s.root)
	a := s.installer()
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := installer.Install(ctx, a, []string{"a.test"}, l, installer.InstallOptions{}, true)
	if err == nil || !strings.Contains(err.Error(), "sites-available/a.conf:2") || !strings.Contains(err.Error(), "dup.conf:1") {
		t.Fatalf("duplicate ServerName: %v", err)
	}
	itest.SameFiles(t, before, itest.Snapshot(t, s.root))
	a.Close()
	os.Remove(dup)

	before = itest.Snapshot(t, s.root)
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
	itest.SameFiles(t, before, itest.Snapshot(t, s.root))
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
	before := itest.Snapshot(t, s.root)
	l, _ := itest.Lineage(t, s.configDir, "a.test", "a.test")
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
	itest.SameFiles(t, before, itest.Snapshot(t, s.root))
}
