package faultproxy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

type solver struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (s *solver) Present(_ context.Context, _, token, ka string) error {
	s.mu.Lock()
	s.tokens[token] = ka
	s.mu.Unlock()
	return nil
}

func (s *solver) CleanUp(_ context.Context, _, token, _ string) error {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
	return nil
}

func (s *solver) serve(t *testing.T, port int) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ka, ok := s.tokens[strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(ka))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// TestE2EFaultMatrix injects every fault on every step of an issuance and checks
// that the client either completes or fails with a clear error, within bounded
// time, and never sends finalize twice for one order.
func TestE2EFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	s := pebbletest.Start(t, pebbletest.Options{})
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(s.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"), filepath.Join(mod, "test/certs/localhost/key.pem"), s.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	sol := &solver{tokens: map[string]string{}}
	sol.serve(t, s.HTTPPort)

	steps := []faultproxy.Step{faultproxy.Directory, faultproxy.NewNonce, faultproxy.NewAccount, faultproxy.NewOrder, faultproxy.Authz,
		faultproxy.Challenge, faultproxy.Finalize, faultproxy.Order, faultproxy.Certificate}
	kinds := []faultproxy.Fault{
		{Kind: faultproxy.Drop, Times: 1},
		{Kind: faultproxy.DropAfter, Times: 1},
		{Kind: faultproxy.Status, Status: 503, RetryAfter: "1", Times: 1},
		{Kind: faultproxy.Status, Status: 500, Times: 1},
		{Kind: faultproxy.Status, Status: 429, RetryAfter: "3600", Times: 1},
		{Kind: faultproxy.Status, Status: 503, RetryAfter: "1"}, // persistent
		{Kind: faultproxy.Truncate, Times: 1},
		{Kind: faultproxy.InvalidJSON, Times: 1},
		{Kind: faultproxy.Huge, Times: 1},
		{Kind: faultproxy.WrongType, Times: 1},
		{Kind: faultproxy.Delay, Delay: 1500 * time.Millisecond, Times: 1},
	}
	hc := &http.Client{Timeout: time.Second, Transport: s.HTTPClient().Transport}
	n, completed, failed := 0, 0, 0
	for _, step := range steps {
		for _, k := range kinds {
			f := k
			f.Step = step
			t.Run(f.String(), func(t *testing.T) {
				n++
				key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				c := &acme.Client{DirectoryURL: p.DirectoryURL, HTTPClient: hc, Key: key,
					Sleep: func(ctx context.Context, d time.Duration) error {
						if d > 50*time.Millisecond {
							d = 50 * time.Millisecond // keep the matrix fast; the waits asked for are checked in acme's unit tests
						}
						tm := time.NewTimer(d)
						defer tm.Stop()
						select {
						case <-ctx.Done():
							return ctx.Err()
						case <-tm.C:
							return nil
						}
					}}
				p.Inject(f)
				p.ResetLog()
				// The issuance deadline is below the bound checked after it: a
				// run the CA leaves hanging must end at the deadline, cleanly.
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				start := time.Now()
				err := func() error {
					if _, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); err != nil {
						return err
					}
					name := fmt.Sprintf("f%d.example.com", n)
					csrKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
					csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{name}}, csrKey)
					cert, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers(name), CSR: csr, Solvers: map[string]acme.Solver{"http-01": sol}})
					if err != nil {
						return err
					}
					if _, err := acme.ParseChain(cert.PEM); err != nil {
						t.Errorf("completed with a bad chain: %v", err)
					}
					return nil
				}()
				if took := time.Since(start); took > 25*time.Second {
					t.Errorf("took %v", took)
				}
				if err != nil {
					failed++
					msg := err.Error()
					if msg == "" || errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "acme") && !strings.Contains(msg, "http") {
						t.Errorf("unclear error: %q", msg)
					}
					t.Logf("failed cleanly: %v", err)
				} else {
					completed++
				}
				// Per order: a request of the previous case may be logged late
				// (a huge answer still being written when the client hung up).
				perOrder := map[string]int{}
				for _, e := range p.Log() {
					if e.Step == faultproxy.Finalize && e.Method == http.MethodPost {
						perOrder[e.Path]++
					}
				}
				for path, got := range perOrder {
					if got > 1 {
						t.Errorf("finalize sent %d times for one order (%s)", got, path)
					}
				}
				if got := p.Count(faultproxy.Finalize, http.MethodPost); got > len(perOrder) {
					t.Logf("%d finalize requests logged for %d orders (one of a previous case logged late)", got, len(perOrder))
				}
				if len(sol.tokens) != 0 {
					t.Errorf("challenge tokens left in flight: %d", len(sol.tokens))
				}
			})
		}
	}
	t.Logf("fault matrix: %d faults injected, %d issuances completed, %d failed cleanly", n, completed, failed)
	if completed == 0 || failed == 0 {
		t.Errorf("completed %d, failed %d: the matrix should see both", completed, failed)
	}
}

// TestE2EProcessing: behind SetProcessing the order stays "processing" with
// Retry-After for the processing time after its finalize, then is valid with
// its certificate; package acme waits what the CA asks.
func TestE2EProcessing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	s := pebbletest.Start(t, pebbletest.Options{})
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(s.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"), filepath.Join(mod, "test/certs/localhost/key.pem"), s.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	sol := &solver{tokens: map[string]string{}}
	sol.serve(t, s.HTTPPort)
	const processing = 2 * time.Second
	p.SetProcessing(processing, "1")

	var mu sync.Mutex
	var asked []time.Duration
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &acme.Client{DirectoryURL: p.DirectoryURL, HTTPClient: s.HTTPClient(), Key: key,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			asked = append(asked, d)
			mu.Unlock()
			tm := time.NewTimer(d)
			defer tm.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tm.C:
				return nil
			}
		}}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	csrKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"processing.example.com"}}, csrKey)
	p.ResetLog()
	start := time.Now()
	cert, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("processing.example.com"), CSR: csr,
		Solvers: map[string]acme.Solver{"http-01": sol}})
	if err != nil {
		t.Fatalf("Obtain behind a processing CA: %v", err)
	}
	if _, err := acme.ParseChain(cert.PEM); err != nil {
		t.Errorf("bad chain: %v", err)
	}
	if took := time.Since(start); took < processing {
		t.Errorf("certificate after %v, before the CA's processing time %v", took, processing)
	}
	var processed, finalizes int
	for _, e := range p.Log() {
		if e.Fault == "processing" {
			processed++
		}
		if e.Step == faultproxy.Finalize {
			finalizes++
		}
	}
	if processed == 0 || finalizes != 1 {
		t.Errorf("%d answers shown processing, %d finalizes; want some, and one", processed, finalizes)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(asked, time.Second) {
		t.Errorf("waits %v: the CA's Retry-After of 1 s was not honoured", asked)
	}
}
