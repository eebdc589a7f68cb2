package webtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Nginx is one nginx of Debian's started by a test on loopback ports with its
// own server root (nginx.conf in Root); it is stopped when the test ends.
type Nginx struct {
	Bin                 string
	Dir                 string // the test's directory: Root, letsencrypt/, work/ are in it
	Root                string
	HTTPPort, HTTPSPort int
	cmd                 *exec.Cmd
	done                chan error
	out                 bytes.Buffer
}

// HTTP and HTTPS are the loopback addresses of the two ports.
func (s *Nginx) HTTP() string  { return "127.0.0.1:" + strconv.Itoa(s.HTTPPort) }
func (s *Nginx) HTTPS() string { return "127.0.0.1:" + strconv.Itoa(s.HTTPSPort) }

// ConfigDir and WorkDir are the certbot directories tests use beside the root.
func (s *Nginx) ConfigDir() string { return filepath.Join(s.Dir, "letsencrypt") }
func (s *Nginx) WorkDir() string   { return filepath.Join(s.Dir, "work") }

// NginxSites is the configuration the tests start from: nginx.conf with an
// http block that includes conf.d/*.conf and sites-enabled/*; a default
// server (conf.d/default.conf), an exact-name block for a.test and
// www.a.test, a wildcard block for *.wild.test, each with comments, all on
// the http port of 127.0.0.1; and a dot file glob(3) skips.
func NginxSites(s *Nginx) map[string]string {
	return map[string]string{
		"nginx.conf": fmt.Sprintf(`# test nginx.conf — comments and layout must survive
daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;

events {
	worker_connections 64;   # small
}

http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	default_type text/plain;

	map $http_upgrade $connection_upgrade {
		default upgrade;
		''      close;
	}

	include conf.d/*.conf;
	include sites-enabled/*;
}
`, s.Root),
		"conf.d/default.conf": fmt.Sprintf(`# the catch-all
server {
    listen 127.0.0.1:%d default_server;
    server_name _;
    return 200 "default\n";
}
`, s.HTTPPort),
		"sites-enabled/a.test": fmt.Sprintf(`server {
	# exact name
	listen 127.0.0.1:%d;
	server_name a.test www.a.test;

	location / {
		if ($request_method = POST) { return 405; }
		return 200 "a site\n";
	}
}
`, s.HTTPPort),
		"sites-enabled/wild": fmt.Sprintf(`server {
        listen       127.0.0.1:%d;
        server_name  "*.wild.test";   # quoted wildcard
        location / { return 200 'wild site\n'; }
}
`, s.HTTPPort),
		"sites-enabled/.hidden": "this is not nginx syntax and glob(3) skips it\n",
	}
}

// NginxBin is Debian's nginx (a missing one fails the test).
func NginxBin(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err != nil {
		t.Fatalf("nginx is required (Debian package nginx): %v", err)
	}
	return "/usr/sbin/nginx"
}

// StartNginx writes the files sites returns (paths relative to the root)
// and starts nginx with them.
func StartNginx(t testing.TB, sites func(s *Nginx) map[string]string) *Nginx {
	t.Helper()
	dir := t.TempDir()
	s := &Nginx{Bin: NginxBin(t), Dir: dir, Root: filepath.Join(dir, "nginx"), HTTPPort: FreePort(t), HTTPSPort: FreePort(t)}
	for s.HTTPSPort == s.HTTPPort {
		s.HTTPSPort = FreePort(t)
	}
	WriteFiles(t, s.Root, sites(s))
	s.cmd = exec.Command(s.Bin, "-p", s.Root, "-c", filepath.Join(s.Root, "nginx.conf"))
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t, syscall.SIGQUIT) })
	WaitListening(t, s.HTTP(), s.exited)
	return s
}

func (s *Nginx) exited() error {
	select {
	case err := <-s.done:
		s.done <- err
		logs, _ := os.ReadFile(filepath.Join(s.Root, "error.log"))
		return fmt.Errorf("nginx exited: %v\n%s\n%s", err, s.out.String(), logs)
	default:
		return nil
	}
}

func (s *Nginx) stop(t testing.TB, sig syscall.Signal) {
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if t.Failed() {
		logs, _ := os.ReadFile(filepath.Join(s.Root, "error.log"))
		t.Logf("nginx output:\n%s\nerror.log:\n%s", s.out.String(), logs)
	}
}

// Test runs nginx -t on the root.
func (s *Nginx) Test() error {
	out, err := exec.Command(s.Bin, "-p", s.Root, "-c", filepath.Join(s.Root, "nginx.conf"), "-t").CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	return nil
}

// WriteFiles writes files (relative paths) under root.
func WriteFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
