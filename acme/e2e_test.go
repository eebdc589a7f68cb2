package acme_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// Pebble's EAB test keys (test/config/pebble-config-external-account-bindings.json);
// kid-3's key has '-' and '_' (base64url).
var testEAB = map[string]string{
	"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
	"kid-3": "HjudV5qnbreN-n9WyFSH-t4HXuEx_XFen45zuxY-G1h6fr74V3cUM_dVlwQZBWmc",
}

// httpSolver is a minimal http-01 solver on the port Pebble's VA dials.
type httpSolver struct {
	mu      sync.Mutex
	tokens  map[string]string
	srv     *http.Server
	present int
}

func newHTTPSolver(t *testing.T, port int) *httpSolver {
	t.Helper()
	s := &httpSolver{tokens: map[string]string{}}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ka, ok := s.tokens[strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(ka))
	}), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(l)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *httpSolver) Present(_ context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = keyAuth
	s.present++
	return nil
}

func (s *httpSolver) CleanUp(_ context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
	return nil
}

func (s *httpSolver) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

func newCSR(t *testing.T, names ...string) ([]byte, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func accountKey(t *testing.T, kind string) crypto.Signer {
	t.Helper()
	switch kind {
	case "ES256":
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return k
	case "ES384":
		k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		return k
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	t.Fatalf("unknown key kind %s", kind)
	return nil
}

func newClient(s *pebbletest.Server, key crypto.Signer) *acme.Client {
	return &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: s.HTTPClient(), UserAgent: "acmectl-test", Key: key}
}

func TestE2EAccountLifecycleAndIssuance(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{EAB: testEAB})
	ctx := t.Context()

	// EAB required: no EAB fails before anything is sent; a wrong key fails clearly.
	c := newClient(s, accountKey(t, "ES256"))
	if _, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); !errors.Is(err, acme.ErrEABRequired) {
		t.Fatalf("Register without EAB: err = %v, want ErrEABRequired", err)
	}
	wrong, _ := acme.DecodeHMACKey("c2VjcmV0LWJ1dC13cm9uZy1rZXktZm9yLWtpZC0xLXh4eHh4eHh4eHh4eA")
	_, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true, EAB: &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: wrong}})
	if err == nil || !strings.Contains(err.Error(), "unauthorized") && !strings.Contains(strings.ToLower(err.Error()), "binding") {
		t.Fatalf("Register with a wrong HMAC key: err = %v, want a clear EAB failure", err)
	}
	if strings.Contains(fmt.Sprint(err), "c2VjcmV0") {
		t.Fatalf("error leaks the HMAC key: %v", err)
	}

	for _, kind := range []string{"ES256", "RS256"} {
		t.Run(kind, func(t *testing.T) {
			c := newClient(s, accountKey(t, kind))
			hmacKey, err := acme.DecodeHMACKey(testEAB["kid-3"])
			if err != nil {
				t.Fatal(err)
			}
			acct, err := c.Register(ctx, acme.AccountRequest{Contact: []string{"mailto:ops@example.org"}, TermsOfServiceAgreed: true,
				EAB: &acme.ExternalAccountBinding{KeyID: "kid-3", HMACKey: hmacKey}})
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			if acct.Status != "valid" || c.AccountURL == "" {
				t.Fatalf("account = %+v, url %q", acct, c.AccountURL)
			}
			// Lookup finds the same account.
			found, err := newClient(s, c.Key).LookupAccount(ctx)
			if err != nil || found.URL != acct.URL {
				t.Fatalf("LookupAccount = %v, %v; want %s", found, err, acct.URL)
			}

			solver := newHTTPSolver(t, s.HTTPPort)
			csr, certKey := newCSR(t, "a.example.com", "b.example.com")
			cert, err := c.Obtain(ctx, acme.ObtainRequest{
				Identifiers: acme.DNSIdentifiers("a.example.com", "b.example.com"),
				CSR:         csr,
				Solvers:     map[string]acme.Solver{acme.ChallengeHTTP01: solver},
			})
			if err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			leaf, err := cert.Leaf()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(leaf.DNSNames, ","); got != "a.example.com,b.example.com" && got != "b.example.com,a.example.com" {
				t.Errorf("leaf names = %s", got)
			}
			if solver.present != 2 || solver.inFlight() != 0 {
				t.Errorf("solver presented %d, %d left in flight; want 2, 0", solver.present, solver.inFlight())
			}
			// The chain verifies against Pebble's issuing root.
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(s.IssuerRoot(t, 0))
			chain, _ := acme.ParseChain(cert.PEM)
			inter := x509.NewCertPool()
			for _, c := range chain[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "a.example.com"}); err != nil {
				t.Errorf("verify chain: %v", err)
			}

			// ARI from Pebble.
			ri, err := c.RenewalInfo(ctx, leaf)
			if err != nil {
				t.Fatalf("RenewalInfo: %v", err)
			}
			if !ri.Start.After(leaf.NotBefore) || !ri.End.Before(leaf.NotAfter) {
				t.Errorf("ARI window %v–%v outside the certificate's lifetime %v–%v", ri.Start, ri.End, leaf.NotBefore, leaf.NotAfter)
			}

			// Revoke with the account key, then a second certificate by its own key.
			if err := c.Revoke(ctx, leaf.Raw, acme.ReasonSuperseded, nil); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if err := c.Revoke(ctx, leaf.Raw, acme.ReasonUnspecified, nil); !acme.IsProblem(err, acme.ProblemAlreadyRevoked) {
				t.Errorf("second Revoke: err = %v, want alreadyRevoked", err)
			}
			csr2, certKey2 := newCSR(t, "c.example.com")
			cert2, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("c.example.com"), CSR: csr2,
				Solvers: map[string]acme.Solver{acme.ChallengeHTTP01: solver}})
			if err != nil {
				t.Fatalf("Obtain 2: %v", err)
			}
			leaf2, _ := cert2.Leaf()
			if err := newClient(s, nil).Revoke(ctx, leaf2.Raw, acme.ReasonKeyCompromise, certKey2); err != nil {
				t.Fatalf("Revoke by certificate key: %v", err)
			}
			_ = certKey

			// Key rollover, then issuance signed by the new key.
			newKey := accountKey(t, "ES384")
			if err := c.RolloverKey(ctx, newKey); err != nil {
				t.Fatalf("RolloverKey: %v", err)
			}
			if got, err := newClient(s, newKey).LookupAccount(ctx); err != nil || got.URL != acct.URL {
				t.Fatalf("lookup with the new key = %v, %v", got, err)
			}
			csr3, _ := newCSR(t, "d.example.com")
			if _, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("d.example.com"), CSR: csr3,
				Solvers: map[string]acme.Solver{acme.ChallengeHTTP01: solver}}); err != nil {
				t.Fatalf("Obtain after rollover: %v", err)
			}

			// Deactivate; afterwards the account is refused with a clear error.
			if a, err := c.DeactivateAccount(ctx); err != nil || a.Status != "deactivated" {
				t.Fatalf("DeactivateAccount = %+v, %v", a, err)
			}
			csr4, _ := newCSR(t, "e.example.com")
			_, err = c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("e.example.com"), CSR: csr4,
				Solvers: map[string]acme.Solver{acme.ChallengeHTTP01: solver}})
			if !acme.IsProblem(err, acme.ProblemUnauthorized) {
				t.Fatalf("Obtain with a deactivated account: err = %v, want unauthorized", err)
			}
		})
	}
}

func TestE2ENonceRejection(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{Env: []string{"PEBBLE_WFE_NONCEREJECT=50"}})
	c := newClient(s, accountKey(t, "ES256"))
	ctx := t.Context()
	if _, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	solver := newHTTPSolver(t, s.HTTPPort)
	for i := range 3 {
		name := fmt.Sprintf("n%d.example.com", i)
		csr, _ := newCSR(t, name, "www."+name)
		if _, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers(name, "www."+name), CSR: csr,
			Solvers: map[string]acme.Solver{acme.ChallengeHTTP01: solver}}); err != nil {
			t.Fatalf("Obtain %s with 50%% badNonce: %v", name, err)
		}
	}
}
