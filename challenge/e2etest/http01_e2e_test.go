package e2etest_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/challenge/tlsalpn01"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestE2EHTTP01Standalone(t *testing.T) {
	skipShort(t)
	tests := []struct {
		name        string
		address     string
		defaultIPv6 string
		names       []string
		wantRemote  string // the VA's source address as logged by the solver
	}{
		{"ipv4", "127.0.0.1", "", []string{"a.standalone.test", "b.standalone.test", "127.0.0.1"}, "remote_addr=127.0.0.1:"},
		{"ipv6", "::1", "::1", []string{"a6.standalone.test", "b6.standalone.test", "::1"}, "remote_addr=[::1]:"},
		{"all addresses", "", "", []string{"any.standalone.test"}, "remote_addr=127.0.0.1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := pebbletest.Start(t, pebbletest.Options{DefaultIPv6: tc.defaultIPv6})
			c := newClient(t, s)
			var logs syncBuffer
			sol := http01.NewStandalone(tc.address, s.HTTPPort)
			sol.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			defer sol.Close()
			// The CLI starts the listener before creating the order.
			if err := sol.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			mustObtain(t, s, c, tc.names, map[string]acme.Solver{"http-01": sol})
			if !strings.Contains(logs.String(), tc.wantRemote) {
				t.Errorf("no request from %s served; log:\n%s", tc.wantRemote, logs.String())
			}
			if strings.Contains(logs.String(), "status=404") {
				t.Errorf("the VA got a 404; log:\n%s", logs.String())
			}
			if sol.Addr() != nil {
				t.Error("listener still open after the issuance")
			}
		})
	}
}

func TestE2EHTTP01StandaloneFailures(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)

	t.Run("port in use", func(t *testing.T) {
		held, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.HTTPPort))
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		sol := http01.NewStandalone("", s.HTTPPort)
		err = sol.Start(t.Context())
		var pe *http01.PortInUseError
		if !errors.As(err, &pe) || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("Start = %v, want PortInUseError", err)
		}
		wantErr(t, err, fmt.Sprintf("port %d is already in use by", s.HTTPPort), fmt.Sprintf("(pid %d)", os.Getpid()))
		// Also through Obtain (no explicit Start): the authorization fails, nothing is left.
		_, err = obtain(t, c, []string{"busy.standalone.test"}, map[string]acme.Solver{"http-01": sol})
		wantErr(t, err, fmt.Sprintf("port %d is already in use", s.HTTPPort))
		if sol.Addr() != nil {
			t.Error("listener open after failure")
		}
	})

	t.Run("validation fails", func(t *testing.T) {
		// Listening on a port the VA does not dial: the CA marks the authorization
		// invalid; the token must be gone and the listener closed afterwards.
		sol := http01.NewStandalone("127.0.0.1", pebbletest.FreePort(t))
		defer sol.Close()
		_, err := obtain(t, c, []string{"wrongport.standalone.test"}, map[string]acme.Solver{"http-01": sol})
		wantErr(t, err, "wrongport.standalone.test")
		if sol.Addr() != nil {
			t.Error("listener still open after a failed issuance")
		}
	})
}

// startNginx runs Debian's nginx in the foreground with its own configuration,
// serving each root for its server names on 127.0.0.1:port, and stops it at cleanup.
func startNginx(t *testing.T, port int, servers map[string]string, defaultRoot string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			t.Fatalf("nginx not installed (apt-get install -y nginx): %v", err)
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	var conf strings.Builder
	if os.Geteuid() == 0 {
		// Workers drop to nobody, so the webroot must really be world-readable.
		conf.WriteString("user nobody nogroup;\n")
	}
	fmt.Fprintf(&conf, `daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    default_type application/octet-stream;
    server { listen 127.0.0.1:%[2]d default_server; server_name _; root %[3]s; }
`, dir, port, defaultRoot)
	for names, root := range servers {
		fmt.Fprintf(&conf, "    server { listen 127.0.0.1:%d; server_name %s; root %s; }\n", port, names, root)
	}
	conf.WriteString("}\n")
	cfg := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", cfg, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			access, _ := os.ReadFile(filepath.Join(dir, "access.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s\naccess.log:\n%s", out.String(), logs, access)
		}
	})
	// Bounded by time, not by tries: a loaded machine starts nginx slowly.
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-done:
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not listening on %d after 60s", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// webrootDir returns a fresh directory that nginx's workers (nobody) can read.
func webrootDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestE2EWebrootNginx(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)
	rootA, rootB := webrootDir(t), webrootDir(t)
	startNginx(t, s.HTTPPort, map[string]string{
		"a.webroot.test www.a.webroot.test": rootA,
		"b.webroot.test":                    rootB,
	}, rootB) // the IP identifier reaches the default server

	// certbot -w rootA -d a.webroot.test --webroot-map '{"www.a...": rootA, "b...,127.0.0.1": rootB}'
	args, err := http01.ScanWebrootArgs([]string{
		"certonly", "--webroot", "-w", rootA, "-d", "a.webroot.test",
		"--webroot-map", fmt.Sprintf(`{"www.a.webroot.test":%q,"b.webroot.test,127.0.0.1":%q}`, rootA, rootB),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := args.Map()
	if err != nil {
		t.Fatal(err)
	}
	w, err := http01.NewWebroot(m)
	if err != nil {
		t.Fatal(err)
	}
	mustObtain(t, s, c, args.Domains(), map[string]acme.Solver{"http-01": w})
	noWellKnown(t, rootA, rootB)

	t.Run("webroot not writable", func(t *testing.T) {
		// a.webroot.test is presented first (its file really lands in rootA), then
		// the unwritable root fails: the order fails naming it and rootA is clean.
		w, err := http01.NewWebroot(map[string]string{"a.webroot.test": rootA, "b.webroot.test": "/sys/kernel"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = obtain(t, c, []string{"a.webroot.test", "b.webroot.test"}, map[string]acme.Solver{"http-01": w})
		wantErr(t, err, "/sys/kernel", "b.webroot.test")
		noWellKnown(t, rootA)
	})

	t.Run("files removed after a failed validation", func(t *testing.T) {
		// The name is served by nginx from rootB, but the solver writes into rootA.
		other := webrootDir(t)
		w, err := http01.NewWebroot(map[string]string{"b.webroot.test": other})
		if err != nil {
			t.Fatal(err)
		}
		_, err = obtain(t, c, []string{"b.webroot.test"}, map[string]acme.Solver{"http-01": w})
		wantErr(t, err, "b.webroot.test")
		noWellKnown(t, other, rootB)
	})
}

func TestE2ETLSALPN01Standalone(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)
	var logs syncBuffer
	sol := tlsalpn01.NewStandalone("127.0.0.1", s.TLSPort)
	sol.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer sol.Close()
	mustObtain(t, s, c, []string{"a.alpn.test", "b.alpn.test", "127.0.0.1"}, map[string]acme.Solver{"tls-alpn-01": sol}, "tls-alpn-01")
	if !strings.Contains(logs.String(), "server_name=1.0.0.127.in-addr.arpa") {
		t.Errorf("no handshake for the IP identifier's reverse name; log:\n%s", logs.String())
	}
	if sol.Addr() != nil {
		t.Error("listener still open after the issuance")
	}

	t.Run("port in use", func(t *testing.T) {
		held, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.TLSPort))
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		sol := tlsalpn01.NewStandalone("127.0.0.1", s.TLSPort)
		_, err = obtain(t, c, []string{"busy.alpn.test"}, map[string]acme.Solver{"tls-alpn-01": sol}, "tls-alpn-01")
		wantErr(t, err, fmt.Sprintf("port %d is already in use by", s.TLSPort))
		if sol.Addr() != nil {
			t.Error("listener open after failure")
		}
	})
}
