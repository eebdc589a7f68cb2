// Package http01 answers ACME http-01 challenges (RFC 8555 §8.3): Standalone runs
// its own HTTP listener, Webroot writes files under a directory that an existing
// web server already serves (certbot's --standalone and --webroot).
//
// The solvers satisfy acme.Solver without importing package acme. They are not a
// general web server: Standalone answers only the tokens currently presented and
// 404s everything else.
package http01

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/challenge/internal/portuse"
)

// DefaultPort is the port the CA connects to for http-01.
const DefaultPort = 80

// PortInUseError is returned when the listener's port is taken; it names the
// holding process when /proc tells. errors.Is(err, syscall.EADDRINUSE) holds.
type PortInUseError = portuse.Error

// PortHolder returns the pid and command name of the process listening on
// TCP port on this host, or 0 and "" when none can be found (to explain a
// connection the CA found refused).
func PortHolder(port int) (pid int, process string) { return portuse.Holder(port) }

// Standalone serves http-01 key authorizations from its own listener. One
// listener serves every name of an issuance: it opens on Start or on the first
// Present and closes when the last presented token is cleaned up, or on Close.
//
// A Standalone is safe for concurrent use. Set the exported fields before the
// first call and do not copy it afterwards.
type Standalone struct {
	// Address is the IP address to listen on; empty means every IPv4 and IPv6
	// address (certbot --http-01-address).
	Address string
	// Port defaults to 80 (certbot --http-01-port).
	Port int
	// Logger receives one Debug record per request (remote_addr, path, status).
	// Nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	tokens map[string]string // token → key authorization
	ln     net.Listener
	srv    *http.Server
	served chan struct{} // closed when the Serve goroutine returns
}

// NewStandalone returns a Standalone for address ("" = all) and port (0 = 80).
func NewStandalone(address string, port int) *Standalone {
	return &Standalone{Address: address, Port: port}
}

func (s *Standalone) addr() string { return portuse.HostPort(s.Address, s.Port, DefaultPort) }

func (s *Standalone) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Start opens the listener now, so that a taken port fails before an order is
// created. It is a no-op when the listener is already open. A taken port returns
// *PortInUseError.
func (s *Standalone) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked(ctx)
}

func (s *Standalone) startLocked(ctx context.Context) error {
	if s.ln != nil {
		return nil
	}
	ln, err := portuse.Listen(ctx, s.addr())
	if err != nil {
		return fmt.Errorf("http-01 standalone: %w", err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          nil,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after stop
	}()
	s.ln, s.srv, s.served = ln, srv, served
	s.logger().LogAttrs(ctx, slog.LevelInfo, "http-01 standalone listening", slog.String("address", ln.Addr().String()))
	return nil
}

// Addr returns the listener's address, or nil when it is closed.
func (s *Standalone) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Present starts serving keyAuth at /.well-known/acme-challenge/<token>, opening
// the listener if needed. domain may be a DNS name or an IP address; it does not
// restrict which Host the CA sends.
func (s *Standalone) Present(ctx context.Context, domain, token, keyAuth string) error {
	if err := CheckToken(token); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startLocked(ctx); err != nil {
		return err
	}
	if s.tokens == nil {
		s.tokens = map[string]string{}
	}
	s.tokens[token] = keyAuth
	return nil
}

// CleanUp stops serving token and closes the listener when no token is left.
// Cleaning up an unknown token returns nil.
func (s *Standalone) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	delete(s.tokens, token)
	if len(s.tokens) > 0 {
		s.mu.Unlock()
		return nil
	}
	srv, served := s.detachLocked()
	s.mu.Unlock()
	return stop(ctx, srv, served)
}

// Close stops the listener and forgets every token. It is safe to call more than
// once and the Standalone may be started again afterwards.
func (s *Standalone) Close() error {
	s.mu.Lock()
	s.tokens = nil
	srv, served := s.detachLocked()
	s.mu.Unlock()
	return stop(context.Background(), srv, served)
}

func (s *Standalone) detachLocked() (*http.Server, chan struct{}) {
	srv, served := s.srv, s.served
	s.ln, s.srv, s.served = nil, nil, nil
	return srv, served
}

// stop shuts srv down gracefully for up to 5 s (the listener closes at once, so
// the port is free when stop returns), then closes what is left.
func stop(ctx context.Context, srv *http.Server, served chan struct{}) error {
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	<-served
	if err != nil {
		return fmt.Errorf("http-01 standalone: stop: %w", err)
	}
	return nil
}

func (s *Standalone) serveHTTP(w http.ResponseWriter, r *http.Request) {
	status := http.StatusNotFound
	defer func() {
		s.logger().LogAttrs(r.Context(), slog.LevelDebug, "http-01 request",
			slog.String("remote_addr", r.RemoteAddr), slog.String("host", r.Host),
			slog.String("path", r.URL.Path), slog.Int("status", status))
	}()
	token, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) || CheckToken(token) != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	keyAuth, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	status = http.StatusOK
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(keyAuth)))
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, keyAuth)
	}
}
