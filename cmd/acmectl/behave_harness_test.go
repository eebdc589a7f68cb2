package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/pebbletest"
)

// peer is one client of a side-by-side test: acmectl invoked through a
// "certbot" symlink, or Debian's certbot 2.1 itself, each with its own tree,
// both against the same Pebble.
type peer struct {
	name string // "acmectl" or "certbot 2.1"
	tr   *tree
	bin  string
	real bool
}

// certbotLink is a "certbot" symlink to the built acmectl.
func certbotLink(t *testing.T) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "certbot")
	if err := os.Symlink(acmectlBin(t), link); err != nil {
		t.Fatal(err)
	}
	return link
}

// sideBySide returns acmectl (as certbot) and certbot 2.1, each with a tree.
func sideBySide(t *testing.T, s *pebbletest.Server) (ac, cb *peer) {
	t.Helper()
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot is needed (Debian package certbot): %v", err)
	}
	return &peer{name: "acmectl", tr: newTree(t, s), bin: certbotLink(t)},
		&peer{name: "certbot 2.1", tr: newTree(t, s), bin: "certbot", real: true}
}

func (p *peer) args(args []string) []string {
	full := append(append([]string{}, args...), "--config-dir", p.tr.config, "--work-dir", p.tr.work, "--logs-dir", p.tr.logs)
	if !p.real && p.tr.s != nil {
		full = append(full, "--ca-bundle", p.tr.s.CABundle)
	}
	return full
}

func (p *peer) env() []string {
	env := append(append(os.Environ(), p.tr.env...), "GORACE=halt_on_error=1")
	if p.real && p.tr.s != nil {
		env = append(env, "REQUESTS_CA_BUNDLE="+p.tr.s.CABundle)
	}
	return env
}

// run runs the peer with its tree's dirs (bounded to 3 minutes).
func (p *peer) run(args ...string) result {
	p.tr.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, p.args(args)...)
	cmd.Env = p.env()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		p.tr.t.Fatalf("run %s: %v", p.name, err)
	}
	return result{so.String(), se.String(), code}
}

func (p *peer) mustRun(args ...string) result {
	p.tr.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.tr.t.Fatalf("%s %s: %s", p.name, strings.Join(args, " "), r)
	}
	return r
}

// issueArgs are the certonly flags both peers share: Pebble, its http-01
// port for the standalone server, an account without questions.
func issueArgs(s *pebbletest.Server, extra ...string) []string {
	return append([]string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--no-eff-email", "--server", s.DirectoryURL,
		"--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1"}, extra...)
}

// fileServer serves root's files on addr:port (the webroot a web server
// would serve) until the test ends or stop is called.
func fileServer(t *testing.T, addr string, port int, root string) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(root)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return stop
}

// ptyProc is a command on a pseudo-terminal of its own (its controlling
// terminal, so ^C written to it is SIGINT, as at a real terminal).
type ptyProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	m    *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startPTY(t *testing.T, env []string, bin string, args ...string) *ptyProc {
	t.Helper()
	m, sl := openPTY(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sl, sl, sl
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sl.Close()
	p := &ptyProc{t: t, cmd: cmd, m: m, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

func (p *ptyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits (up to 2 minutes) until the output holds s.
func (p *ptyProc) waitFor(s string) {
	p.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.output(), s) {
		select {
		case <-p.done:
			if !strings.Contains(p.output(), s) {
				p.t.Fatalf("the process ended without printing %q:\n%s", s, p.output())
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q within 2 minutes:\n%s", s, p.output())
		}
	}
}

// send types s at the terminal.
func (p *ptyProc) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.m, s); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits (up to 2 minutes) for the exit and returns the exit code and
// everything printed.
func (p *ptyProc) wait() (int, string) {
	p.t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- p.cmd.Wait() }()
	select {
	case err := <-ch:
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), p.output()
		}
		if err != nil {
			p.t.Fatal(err)
		}
		return 0, p.output()
	case <-time.After(2 * time.Minute):
		p.cmd.Process.Kill()
		p.t.Fatalf("no exit within 2 minutes:\n%s", p.output())
	}
	return -1, ""
}

// startPeerPTY runs the peer on a terminal.
func (p *peer) startPTY(args ...string) *ptyProc {
	p.tr.t.Helper()
	return startPTY(p.tr.t, p.env(), p.bin, p.args(args)...)
}

// treeFiles lists the regular files and links under dir (relative paths),
// for comparing what two clients left behind.
func treeFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = true
		}
		return nil
	})
	return out
}
