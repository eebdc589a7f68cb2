package etcdtest

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echo serves lines back on 127.0.0.1 until the test ends.
func echo(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return l.Addr().String()
}

func roundTrip(c net.Conn, r *bufio.Reader, timeout time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// TestProxy: bytes pass; Hold delays them until Restore; Cut closes open
// connections and refuses new ones until Restore.
func TestProxy(t *testing.T) {
	p, err := NewProxy(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if s, err := roundTrip(c, r, 5*time.Second); err != nil || s != "ping\n" {
		t.Fatalf("through the proxy: %q, %v", s, err)
	}
	p.Hold()
	if _, err := roundTrip(c, r, 300*time.Millisecond); err == nil {
		t.Fatal("an answer came through a held proxy")
	}
	p.Restore()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if s, err := r.ReadString('\n'); err != nil || s != "ping\n" {
		t.Fatalf("held bytes after Restore: %q, %v", s, err)
	}
	p.Cut()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection open after Cut")
	}
	c2, err := net.Dial("tcp", p.Addr)
	if err == nil {
		c2.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := roundTrip(c2, bufio.NewReader(c2), 5*time.Second); err == nil {
			t.Fatal("a new connection worked while cut")
		}
		c2.Close()
	}
	p.Restore()
	c3, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if s, err := roundTrip(c3, bufio.NewReader(c3), 5*time.Second); err != nil || s != "ping\n" {
		t.Fatalf("after Restore: %q, %v", s, err)
	}
}
