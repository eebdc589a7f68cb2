package sectigoca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
)

var testHMAC = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") // 64 bytes, as Sectigo's

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// httpClient trusts the server's TLS root from its Bundle file, as acmectl
// --ca-bundle does.
func httpClient(t *testing.T, s *Server) *http.Client {
	t.Helper()
	pemData, err := os.ReadFile(s.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("bundle holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// client registers a new account (with EAB kid-1 when the CA wants it).
func client(t *testing.T, s *Server, key crypto.Signer) *acme.Client {
	t.Helper()
	c := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: httpClient(t, s), Key: key, PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond}
	if _, err := c.Register(t.Context(), acme.AccountRequest{TermsOfServiceAgreed: true, EAB: &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: testHMAC}}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return c
}

func csrFor(t *testing.T, names ...string) ([]byte, crypto.Signer) {
	k := newKey(t)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der, k
}

func noSolver(context.Context, string, acme.Identifier, bool) (acme.Solver, error) {
	return nil, errors.New("port 80 is already in use by nginx")
}

// TestDirectoryAndEAB: the directory is the bare URL (".../directory" is
// 403), EAB is required, and a key ID binds to the first account key only.
func TestDirectoryAndEAB(t *testing.T) {
	s := start(t, SectigoDefaults(map[string][]byte{"kid-1": testHMAC}))
	hc := httpClient(t, s)
	resp, err := hc.Get(s.URL + "/v2/directory")
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /v2/directory: %v %v, want 403", resp, err)
	}
	resp.Body.Close()

	c := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: hc, Key: newKey(t)}
	dir, err := c.Directory(t.Context())
	if err != nil || !dir.Meta.ExternalAccountRequired || dir.RenewalInfoURL != "" {
		t.Fatalf("directory %+v, %v", dir, err)
	}
	if _, err := c.Register(t.Context(), acme.AccountRequest{}); !errors.Is(err, acme.ErrEABRequired) {
		t.Errorf("Register without EAB: %v", err)
	}
	bad := &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: []byte(strings.Repeat("x", 64))}
	if _, err := c.Register(t.Context(), acme.AccountRequest{EAB: bad}); err == nil || !strings.Contains(err.Error(), "Invalid MAC") {
		t.Errorf("Register with a wrong HMAC key: %v", err)
	}
	first := newKey(t)
	c1 := client(t, s, first)
	again := client(t, s, first) // the same key registers again: its account
	if c1.AccountURL != again.AccountURL {
		t.Errorf("same key, accounts %s and %s", c1.AccountURL, again.AccountURL)
	}
	c2 := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: hc, Key: newKey(t)}
	_, err = c2.Register(t.Context(), acme.AccountRequest{TermsOfServiceAgreed: true, EAB: &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: testHMAC}})
	var be *acme.EABBoundError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "The account is not awaiting external account binding") {
		t.Fatalf("second key with the same key ID: %v, want an EABBoundError", err)
	}
	s.Update(func(c *Config) { c.EABReuse = true })
	client(t, s, newKey(t))
	if n := s.Counts().NewAccount; n != 5 { // no request went out without EAB
		t.Errorf("NewAccount count %d, want 5", n)
	}
}

// TestPreValidatedIssuance: every name pre-validated (authorizations valid
// with only sectigo-* challenges, "wildcard": true, Retry-After 300, the
// order "pending"): issued without a solver being asked for, one order,
// one finalize; the extra SAN and the AAA cross-signed chain are served.
func TestPreValidatedIssuance(t *testing.T) {
	cfg := SectigoDefaults(map[string][]byte{"kid-1": testHMAC})
	cfg.ExtraSAN = true
	s := start(t, cfg)
	c := client(t, s, newKey(t))
	ctx := t.Context()

	// What the CA serves, raw.
	o, err := c.NewOrder(ctx, acme.OrderRequest{Identifiers: acme.DNSIdentifiers("a.example")})
	if err != nil || o.Status != acme.StatusPending {
		t.Fatalf("new order: %+v %v, want pending", o, err)
	}
	a, err := c.GetAuthorization(ctx, o.AuthorizationURLs[0])
	if err != nil || a.Status != acme.StatusValid || !a.Wildcard || a.RetryAfter != 300*time.Second ||
		len(a.Challenges) != 1 || a.Challenges[0].Type != "sectigo-email-01" || a.Challenges[0].Token != "" {
		t.Fatalf("authorization %+v, %v", a, err)
	}
	if o, err = c.GetOrder(ctx, o.URL); err != nil || o.Status != acme.StatusReady {
		t.Fatalf("order after its authorization was fetched: %+v %v, want ready", o, err)
	}

	csr, _ := csrFor(t, "*.b.example", "c.example")
	cert, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("*.b.example", "c.example"), CSR: csr, SolverFor: noSolver})
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if got := strings.Join(cert.ExtraNames, ","); got != "b.example" {
		t.Errorf("extra names %q, want the wildcard's base b.example", got)
	}
	chain, _ := acme.ParseChain(cert.PEM)
	if len(chain) != 3 || chain[2].Issuer.CommonName != RootAAA || chain[1].Subject.CommonName != IntermediateCN {
		t.Errorf("chain of %d, top issuer %q", len(chain), chain[len(chain)-1].Issuer.CommonName)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.RootsPEM)
	inter := x509.NewCertPool()
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "c.example"}); err != nil {
		t.Errorf("leaf does not verify to the roots: %v", err)
	}
	dropped, n, err := acme.DropChainIssuer(cert.PEM, RootAAA)
	if err != nil || n != 1 || strings.Count(string(dropped), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("DropChainIssuer: %d dropped, %v", n, err)
	}
	if got := s.Counts(); got.NewOrder != 2 || got.Finalize != 1 || got.Issued != 1 || got.CertDownloads != 1 {
		t.Errorf("counts %+v, want 2 orders (one raw), 1 finalize, 1 issued", got)
	}

	// Strict order fields (win-acme#2607): acme sends no replaces without
	// renewalInfo, so it still orders.
	if _, err := c.NewOrder(ctx, acme.OrderRequest{Identifiers: acme.DNSIdentifiers("d.example"), Replaces: "x.y"}); err != nil {
		t.Errorf("new order with replaces on a CA without ARI: %v", err)
	}
}

// TestHeldFinalizeAndResume: a finalize held open longer than the client's
// issuance deadline leaves the order in flight (ready, then processing);
// resuming it later downloads the certificate without a second finalize.
func TestHeldFinalizeAndResume(t *testing.T) {
	cfg := SectigoDefaults(map[string][]byte{"kid-1": testHMAC})
	cfg.FinalizeDelay, cfg.ReadyDuringFinalize = 1500*time.Millisecond, 500*time.Millisecond
	s := start(t, cfg)
	key := newKey(t)
	c := client(t, s, key)
	c.RequestTimeout = 300 * time.Millisecond // an ordinary request's bound: finalize is not held to it
	c.IssuanceTimeout = 700 * time.Millisecond
	var mu sync.Mutex
	var statuses []string
	c.OnWait = func(p acme.WaitProgress) {
		mu.Lock()
		statuses = append(statuses, string(p.Kind)+":"+p.Status)
		mu.Unlock()
	}
	csr, _ := csrFor(t, "a.example")
	var recorded string
	_, err := c.Obtain(t.Context(), acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("a.example"), CSR: csr, SolverFor: noSolver,
		BeforeFinalize: func(_ context.Context, url string, _ []byte) error { recorded = url; return nil }})
	var inflight *acme.OrderInFlightError
	if !errors.As(err, &inflight) || inflight.OrderURL != recorded {
		t.Fatalf("Obtain: %v, want an OrderInFlightError for the recorded order %s", err, recorded)
	}
	mu.Lock()
	t.Logf("waits: %v", statuses)
	mu.Unlock()
	if got := s.Orders(); len(got) != 1 || got[0].Status != "ready" && got[0].Status != "processing" {
		t.Fatalf("orders %+v", got)
	}

	// The next run: a new client of the same account resumes the order.
	c2 := client(t, s, key)
	c2.IssuanceTimeout = 30 * time.Second
	cert, err := c2.ResumeOrder(t.Context(), acme.ResumeRequest{OrderURL: recorded, CSR: csr, RecordedAt: time.Now()})
	if err != nil || len(cert.PEM) == 0 {
		t.Fatalf("ResumeOrder: %v", err)
	}
	if got := s.Counts(); got.NewOrder != 1 || got.Finalize != 1 || got.Issued != 1 {
		t.Errorf("counts %+v, want one order, one finalize, one certificate", got)
	}

	// A held finalize within the deadline simply succeeds.
	c2.RequestTimeout = 300 * time.Millisecond
	csr2, _ := csrFor(t, "b.example")
	if _, err := c2.Obtain(t.Context(), acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("b.example"), CSR: csr2, SolverFor: noSolver}); err != nil {
		t.Fatalf("Obtain with a 1.5-s finalize and a 30-s deadline: %v", err)
	}
	if err := s.WaitFinalize(t.Context(), 2); err != nil {
		t.Error(err)
	}
}

// TestPendingDCVWithRetryAfter300: a name not pre-validated gets a pending
// authorization (http-01, dns-01) with Retry-After 300 that turns valid
// DCVDelay after the response; a client capping waits notices it at once.
func TestPendingDCVWithRetryAfter300(t *testing.T) {
	cfg := SectigoDefaults(map[string][]byte{"kid-1": testHMAC})
	cfg.PreValidateAll, cfg.PreValidated = false, []string{"pre.example"}
	cfg.DCVDelay = 300 * time.Millisecond
	s := start(t, cfg)
	c := client(t, s, newKey(t))
	c.MaxPollWait = 100 * time.Millisecond
	csr, _ := csrFor(t, "pre.example", "dcv.example")
	var asked []string
	var mu sync.Mutex
	solverFor := func(_ context.Context, typ string, id acme.Identifier, _ bool) (acme.Solver, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, typ+" "+id.Value)
		return nopSolver{}, nil
	}
	start := time.Now()
	if _, err := c.Obtain(t.Context(), acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("pre.example", "dcv.example"), CSR: csr, SolverFor: solverFor}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if got := strings.Join(asked, "|"); got != "http-01 dcv.example" {
		t.Errorf("solvers asked for %q, want only the pending name's", got)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v: the Retry-After of 300 s was slept through", d)
	}

	// A pending wildcard offers dns-01 only.
	csr2, _ := csrFor(t, "*.w.example")
	_, err := c.Obtain(t.Context(), acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("*.w.example"), CSR: csr2,
		SolverFor: func(context.Context, string, acme.Identifier, bool) (acme.Solver, error) { return nil, nil }})
	var ns *acme.NoSolverError
	if !errors.As(err, &ns) || !ns.Wildcard || strings.Join(ns.Offered, ",") != "dns-01" {
		t.Fatalf("pending wildcard without a solver: %v", err)
	}
}

// TestReuseOrders: with ReuseOrders the same names get the same order back.
func TestReuseOrders(t *testing.T) {
	cfg := SectigoDefaults(map[string][]byte{"kid-1": testHMAC})
	cfg.ReuseOrders = true
	s := start(t, cfg)
	c := client(t, s, newKey(t))
	o1, err1 := c.NewOrder(t.Context(), acme.OrderRequest{Identifiers: acme.DNSIdentifiers("a.example", "b.example")})
	o2, err2 := c.NewOrder(t.Context(), acme.OrderRequest{Identifiers: acme.DNSIdentifiers("b.example", "a.example")})
	if err1 != nil || err2 != nil || o1.URL != o2.URL {
		t.Fatalf("orders %v %v (%v, %v), want the same", o1, o2, err1, err2)
	}
	if got := len(s.Orders()); got != 1 {
		t.Errorf("%d orders, want 1", got)
	}
}

type nopSolver struct{}

func (nopSolver) Present(context.Context, string, string, string) error { return nil }
func (nopSolver) CleanUp(context.Context, string, string, string) error { return nil }
