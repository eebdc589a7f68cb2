package webtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Apache is Debian's apache2 on loopback ports with a copy of /etc/apache2
// as its ServerRoot (the machine's is only read) and its own run, log and
// state directories; it is stopped when the test ends.
type Apache struct {
	Dir                 string // the test's directory
	Root                string // the ServerRoot (APACHE_CONFDIR)
	Run                 string // pid, logs, locks
	State               string // APACHE_STATE_DIRECTORY for a2enmod
	HTTPPort, HTTPSPort int
	// Env is what apache2ctl, a2enmod and acmectl/certbot need in their
	// environment to drive this server.
	Env  []string
	cmd  *exec.Cmd
	done chan error
	out  bytes.Buffer
}

// HTTP and HTTPS are the loopback addresses of the two ports.
func (s *Apache) HTTP() string  { return "127.0.0.1:" + strconv.Itoa(s.HTTPPort) }
func (s *Apache) HTTPS() string { return "127.0.0.1:" + strconv.Itoa(s.HTTPSPort) }

// ConfigDir and WorkDir are the certbot directories tests use beside the root.
func (s *Apache) ConfigDir() string { return filepath.Join(s.Dir, "letsencrypt") }
func (s *Apache) WorkDir() string   { return filepath.Join(s.Dir, "work") }

// Site is one virtual host file of sites-available, enabled by a link.
type Site struct {
	File, Name, Alias, Body string
	// Raw, when set, is the file's text (with %[1]d for the http port,
	// %[2]d for the https port and %[3]s for the document root).
	Raw string
}

// ApacheSites is the layout the tests start from: a default vhost, a.test
// (alias www.a.test) and wild.test (alias *.wild.test), each with its
// document root serving Body.
var ApacheSites = []Site{
	{File: "000-default.conf", Name: "default.test", Body: "default\n"},
	{File: "a.conf", Name: "a.test", Alias: "www.a.test", Body: "a site\n"},
	{File: "wild.conf", Name: "wild.test", Alias: "*.wild.test", Body: "wild site\n"},
}

func siteText(port int, name, alias, docroot string) string {
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

// ApacheBins are the Debian binaries the tests need.
var ApacheBins = []string{"/usr/sbin/apache2", "/usr/sbin/apache2ctl", "/usr/sbin/a2enmod", "/usr/sbin/a2dismod"}

// StartApache copies /etc/apache2, keeps its modules and ports.conf's
// layout, replaces the sites with sites, and starts apache2 in the
// foreground.
func StartApache(t testing.TB, sites []Site) *Apache {
	t.Helper()
	for _, b := range ApacheBins {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("Debian's apache2 is required: %v", err)
		}
	}
	dir := t.TempDir()
	openDirs(t, dir)
	s := &Apache{Dir: dir, Root: filepath.Join(dir, "apache2"), Run: filepath.Join(dir, "rt"), State: filepath.Join(dir, "state"),
		HTTPPort: FreePort(t), HTTPSPort: FreePort(t)}
	for s.HTTPSPort == s.HTTPPort {
		s.HTTPSPort = FreePort(t)
	}
	if out, err := exec.Command("cp", "-a", "/etc/apache2", s.Root).CombinedOutput(); err != nil {
		t.Fatalf("copy /etc/apache2: %v %s", err, out)
	}
	for _, d := range []string{s.Run, s.State} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"sites-enabled", "sites-available"} {
		ents, _ := os.ReadDir(filepath.Join(s.Root, sub))
		for _, e := range ents {
			os.Remove(filepath.Join(s.Root, sub, e.Name()))
		}
	}
	run := []string{"APACHE_RUN_USER=www-data", "APACHE_RUN_GROUP=www-data", "APACHE_PID_FILE=" + s.Run + "/apache2.pid",
		"APACHE_RUN_DIR=" + s.Run, "APACHE_LOCK_DIR=" + s.Run, "APACHE_LOG_DIR=" + s.Run, "LANG=C"}
	s.Env = append([]string{"APACHE_CONFDIR=" + s.Root, "APACHE_STATE_DIRECTORY=" + s.State}, run...)
	var envvars strings.Builder
	envvars.WriteString("unset HOME\n")
	for _, e := range run {
		envvars.WriteString("export " + e + "\n")
	}
	files := map[string]string{"envvars": envvars.String(), "ports.conf": fmt.Sprintf("# test ports\nListen 127.0.0.1:%d\n", s.HTTPPort)}
	for _, st := range sites {
		doc := filepath.Join(dir, "www", st.File)
		WriteFiles(t, doc, map[string]string{"index.html": st.Body})
		text := siteText(s.HTTPPort, st.Name, st.Alias, doc)
		if st.Raw != "" {
			text = fmt.Sprintf(st.Raw, s.HTTPPort, s.HTTPSPort, doc)
		}
		files["sites-available/"+st.File] = text
		if err := os.Symlink("../sites-available/"+st.File, filepath.Join(s.Root, "sites-enabled", st.File)); err != nil {
			t.Fatal(err)
		}
	}
	WriteFiles(t, s.Root, files)
	s.cmd = exec.Command("/usr/sbin/apache2", "-d", s.Root, "-D", "FOREGROUND")
	s.cmd.Env = append(os.Environ(), s.Env...)
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
			logs, _ := os.ReadFile(filepath.Join(s.Run, "error.log"))
			t.Logf("apache2 output:\n%s\nerror.log:\n%s", s.out.String(), logs)
		}
	})
	WaitListening(t, s.HTTP(), func() error {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("apache2 exited: %v\n%s", err, s.out.String())
		default:
			return nil
		}
	})
	return s
}

// Test runs apache2ctl configtest on the root.
func (s *Apache) Test() error {
	cmd := exec.Command("/usr/sbin/apache2ctl", "configtest")
	cmd.Env = append(os.Environ(), s.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apache2ctl configtest: %v\n%s", err, out)
	}
	return nil
}

// openDirs lets www-data (apache's workers) reach the document roots.
func openDirs(t testing.TB, d string) {
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
