// Package etcdtest starts a real etcd server (Debian's etcd-server, /usr/bin/etcd,
// or $ACMECTL_ETCD_BIN) for one test on free loopback ports with a temporary data
// directory, and stops it when the test ends. It can pause the server
// (SIGSTOP/SIGCONT) and put a TCP proxy between one client and the server whose
// connections can be cut, to test what a cluster node does when etcd is gone.
//
// Test support only: nothing outside tests and test helpers imports it. A
// missing etcd binary is a failure, never a skip.
package etcdtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/testport"
)

// Options choose how the server is started. The zero value is a plain-HTTP
// server without authentication.
type Options struct {
	// TLS serves clients over TLS with a certificate from a CA made for this
	// server, and requires a client certificate signed by the same CA.
	TLS bool
}

// Server is one running etcd.
type Server struct {
	// Endpoint is the client URL (http://127.0.0.1:port or https://…).
	Endpoint string
	// Addr is host:port of the client listener.
	Addr string
	// Dir holds the data directory and, with TLS, the PEM files below.
	Dir string
	// CAFile, ClientCertFile and ClientKeyFile are set with Options.TLS.
	CAFile, ClientCertFile, ClientKeyFile string

	cmd      *exec.Cmd
	done     chan struct{}
	mu       sync.Mutex
	logs     bytes.Buffer
	stopOnce sync.Once
	paused   bool
}

// Binary is the etcd server to run: $ACMECTL_ETCD_BIN, else etcd on PATH, else
// /usr/bin/etcd.
func Binary() (string, error) {
	if b := os.Getenv("ACMECTL_ETCD_BIN"); b != "" {
		return b, nil
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/etcd"); err == nil {
		return "/usr/bin/etcd", nil
	}
	return "", errors.New("etcd server not found: install Debian's etcd-server (apt-get install etcd-server) or set ACMECTL_ETCD_BIN")
}

// Start starts etcd for t and stops it in t.Cleanup, printing its log when the
// test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Launch(opts, dataParent(t))
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("etcd log (%s):\n%s", s.Endpoint, s.Logs())
		}
	})
	return s
}

// dataParent is a temporary directory on tmpfs when there is one (etcd fsyncs
// its WAL on every write; on a loaded disk that is most of a test's time), else
// t.TempDir().
func dataParent(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "acmectl-etcdtest-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// Launch is Start for callers that are not tests (benchmarks): the data
// directory is made under parent and the caller must call Stop.
func Launch(opts Options, parent string) (*Server, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var s *Server
		s, err = launchOnce(opts, parent)
		if err == nil {
			return s, nil
		}
		// A port chosen free can be taken by another test binary before etcd
		// binds it: start again on other ports.
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

func launchOnce(opts Options, parent string) (_ *Server, retErr error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "etcd-")
	if err != nil {
		return nil, err
	}
	cport, err := FreePort()
	if err != nil {
		return nil, err
	}
	pport, err := FreePort()
	if err != nil {
		return nil, err
	}
	scheme := "http"
	s := &Server{Dir: dir, done: make(chan struct{})}
	s.Addr = "127.0.0.1:" + strconv.Itoa(cport)
	peer := "http://127.0.0.1:" + strconv.Itoa(pport)
	args := []string{
		"--name", "acmectl-test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "acmectl-test=" + peer,
		"--initial-cluster-state", "new",
		"--logger", "zap",
		"--log-outputs", "stderr",
		"--log-level", "warn",
	}
	if opts.TLS {
		scheme = "https"
		if err := s.makeCerts(); err != nil {
			return nil, err
		}
		args = append(args,
			"--cert-file", filepath.Join(dir, "server.pem"),
			"--key-file", filepath.Join(dir, "server-key.pem"),
			"--trusted-ca-file", s.CAFile,
			"--client-cert-auth")
	}
	s.Endpoint = scheme + "://" + s.Addr
	args = append(args, "--listen-client-urls", s.Endpoint, "--advertise-client-urls", s.Endpoint)
	// The metrics/health listener must not collide with another server's.
	mport, err := FreePort()
	if err != nil {
		return nil, err
	}
	metrics := "http://127.0.0.1:" + strconv.Itoa(mport)
	args = append(args, "--listen-metrics-urls", metrics)

	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = s.logWriter()
	s.cmd.Stderr = s.logWriter()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	defer func() {
		if retErr != nil {
			s.Stop()
			os.RemoveAll(dir)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("etcd exited while starting:\n%s", s.Logs())
		default:
		}
		if resp, err := hc.Get(metrics + "/health"); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"true"`)) {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("etcd did not become healthy within 60 s:\n%s", s.Logs())
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-s.done:
		case <-t.C:
		}
		t.Stop()
	}
}

// Pause stops the server process (SIGSTOP): connections stay open, nothing is
// answered. Resume continues it.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	s.paused = true
	return nil
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return err
	}
	s.paused = false
	return nil
}

// Stop kills the server and waits for it (also a paused one).
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
}

// Logs returns what the server printed.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.logs.Len() < 4<<20 {
		w.s.logs.Write(p)
	}
	return len(p), nil
}

func (s *Server) logWriter() io.Writer { return logWriter{s} }

// FreePort returns a TCP port on 127.0.0.1 for a server another process
// starts (see internal/testport).
func FreePort() (int, error) { return testport.TCP() }

// makeCerts writes a CA, a server certificate for 127.0.0.1 and a client
// certificate (CN "acmectl-node") into s.Dir.
func (s *Server) makeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcdtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	if err := writePEM(s.CAFile, "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	issue := func(serial int64, cn string, ips []net.IP, usage x509.ExtKeyUsage, certFile, keyFile string) error {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
			return err
		}
		return writePEM(keyFile, "PRIVATE KEY", kder, 0o600)
	}
	if err := issue(2, "127.0.0.1", []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, x509.ExtKeyUsageServerAuth,
		filepath.Join(s.Dir, "server.pem"), filepath.Join(s.Dir, "server-key.pem")); err != nil {
		return err
	}
	s.ClientCertFile, s.ClientKeyFile = filepath.Join(s.Dir, "client.pem"), filepath.Join(s.Dir, "client-key.pem")
	return issue(3, "acmectl-node", nil, x509.ExtKeyUsageClientAuth, s.ClientCertFile, s.ClientKeyFile)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}
