package http01

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var _ interface {
	Present(ctx context.Context, domain, token, keyAuth string) error
	CleanUp(ctx context.Context, domain, token, keyAuth string) error
} = (*Standalone)(nil)

func freePort(t *testing.T, network, host string) int {
	t.Helper()
	l, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStandaloneServesOnlyInFlightTokens(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1", ""} {
		t.Run("address="+host, func(t *testing.T) {
			network := "tcp4"
			if host == "::1" {
				network = "tcp6"
			}
			port := freePort(t, network, host)
			s := NewStandalone(host, port)
			defer s.Close()
			ctx := t.Context()
			if err := s.Present(ctx, "a.example", "tokA", "tokA.thumb"); err != nil {
				t.Fatal(err)
			}
			if err := s.Present(ctx, "b.example", "tokB", "tokB.thumb"); err != nil {
				t.Fatal(err)
			}
			hosts := []string{host}
			if host == "" {
				hosts = []string{"127.0.0.1", "::1"} // both families on one listener
			}
			for _, h := range hosts {
				base := "http://" + net.JoinHostPort(h, strconv.Itoa(port))
				tests := []struct {
					method, path string
					status       int
					body         string
				}{
					{"GET", PathPrefix + "tokA", 200, "tokA.thumb"},
					{"GET", PathPrefix + "tokB", 200, "tokB.thumb"},
					{"HEAD", PathPrefix + "tokA", 200, ""},
					{"GET", PathPrefix + "unknown", 404, ""},
					{"GET", PathPrefix, 404, ""},
					{"GET", "/", 404, ""},
					{"GET", "/tokA", 404, ""},
					{"GET", PathPrefix + "tokA/x", 404, ""},
					{"GET", PathPrefix + "..%2ftokA", 404, ""},
					{"POST", PathPrefix + "tokA", 404, ""},
				}
				for _, tc := range tests {
					status, body := get(t, tc.method, base+tc.path)
					if status != tc.status || (tc.status == 200 && body != tc.body) {
						t.Errorf("%s %s%s = %d %q, want %d %q", tc.method, base, tc.path, status, body, tc.status, tc.body)
					}
				}
			}
			if err := s.CleanUp(ctx, "a.example", "tokA", "tokA.thumb"); err != nil {
				t.Fatal(err)
			}
			base := "http://" + net.JoinHostPort(hosts[0], strconv.Itoa(port))
			if status, _ := get(t, "GET", base+PathPrefix+"tokA"); status != 404 {
				t.Errorf("cleaned-up token: status %d, want 404", status)
			}
			if s.Addr() == nil {
				t.Fatal("listener closed while a token is still presented")
			}
			if err := s.CleanUp(ctx, "b.example", "tokB", "tokB.thumb"); err != nil {
				t.Fatal(err)
			}
			if s.Addr() != nil {
				t.Fatal("listener still open after the last CleanUp")
			}
			// The port is free again.
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				t.Fatalf("port %d not released: %v", port, err)
			}
			l.Close()
		})
	}
}

func TestStandaloneRefusesHostileToken(t *testing.T) {
	s := NewStandalone("127.0.0.1", freePort(t, "tcp4", "127.0.0.1"))
	defer s.Close()
	for _, tok := range []string{"../x", "a/b", "a\x00b", ""} {
		if err := s.Present(t.Context(), "a.example", tok, "ka"); err == nil {
			t.Errorf("Present(token %q) = nil, want error", tok)
		}
	}
	if s.Addr() != nil {
		t.Error("a refused token opened the listener")
	}
}

func TestStandalonePortInUse(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	for _, start := range []string{"Start", "Present"} {
		t.Run(start, func(t *testing.T) {
			s := NewStandalone("127.0.0.1", port)
			defer s.Close()
			if start == "Start" {
				err = s.Start(t.Context())
			} else {
				err = s.Present(t.Context(), "a.example", "tok", "tok.x")
			}
			if err == nil {
				t.Fatal("succeeded on a taken port")
			}
			var pe *PortInUseError
			if !errors.As(err, &pe) || !errors.Is(err, syscall.EADDRINUSE) {
				t.Fatalf("error %v: not a PortInUseError wrapping EADDRINUSE", err)
			}
			want := fmt.Sprintf("port %d is already in use by ", port)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
				t.Errorf("error %q does not name port %d and pid %d", err, port, os.Getpid())
			}
			if s.Addr() != nil {
				t.Error("listener open after failure")
			}
			// Nothing left behind: a CleanUp is a no-op.
			if err := s.CleanUp(t.Context(), "a.example", "tok", "tok.x"); err != nil {
				t.Errorf("CleanUp after failure = %v", err)
			}
		})
	}
}

func TestStandaloneStartThenCloseThenRestart(t *testing.T) {
	port := freePort(t, "tcp4", "127.0.0.1")
	s := NewStandalone("127.0.0.1", port)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("second Start = %v, want nil", err)
	}
	if status, _ := get(t, "GET", fmt.Sprintf("http://127.0.0.1:%d%sx", port, PathPrefix)); status != 404 {
		t.Errorf("unknown token before Present: %d, want 404", status)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := s.Present(t.Context(), "a.example", "tok", "tok.x"); err != nil {
		t.Fatalf("Present after Close = %v", err)
	}
	defer s.Close()
	if status, body := get(t, "GET", fmt.Sprintf("http://127.0.0.1:%d%stok", port, PathPrefix)); status != 200 || body != "tok.x" {
		t.Errorf("after restart: %d %q", status, body)
	}
}
