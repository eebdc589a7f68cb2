package acme_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// countingTransport records "METHOD path-kind" for every request.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+pathKind(r.URL.Path))
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

// pathKind maps Pebble's paths to the resource they name.
func pathKind(p string) string {
	for _, k := range []struct{ prefix, kind string }{
		{"/dir", "directory"}, {"/nonce-plz", "newNonce"}, {"/sign-me-up", "newAccount"}, {"/order-plz", "newOrder"},
		{"/authZ/", "authz"}, {"/chalZ/", "challenge"}, {"/finalize-order/", "finalize"}, {"/my-order/", "order"},
		{"/certZ/", "certificate"}, {"/my-account/", "account"},
	} {
		if strings.HasPrefix(p, k.prefix) {
			return k.kind
		}
	}
	return p
}

// TestE2ERequestsOfOneIssuance pins the requests of a one-name issuance with an
// existing account to the protocol minimum.
func TestE2ERequestsOfOneIssuance(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ctx := t.Context()
	key := accountKey(t, "ES256")
	reg := newClient(s, key)
	if _, err := reg.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	solver := newHTTPSolver(t, s.HTTPPort)

	// A fresh client, as a new acmectl process would be: account URL from storage.
	ct := &countingTransport{base: s.HTTPClient().Transport}
	c := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: &http.Client{Transport: ct, Timeout: 30 * time.Second},
		Key: key, AccountURL: reg.AccountURL,
		// Polls wait long enough for Pebble (VA without sleeps) to have finished,
		// so each poll is answered with the final state and the count is exact.
		PollInterval: 300 * time.Millisecond}
	csr, _ := newCSR(t, "one.example.com")
	if _, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("one.example.com"), CSR: csr,
		Solvers: map[string]acme.Solver{acme.ChallengeHTTP01: solver}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET directory",    // the URLs of everything else
		"HEAD newNonce",    // the first JWS needs a nonce; every later one reuses Replay-Nonce
		"POST newOrder",    // the order and its authorization URLs
		"POST authz",       // which challenges, and the token
		"POST challenge",   // tell the CA to validate
		"POST authz",       // poll: validation result
		"POST finalize",    // the CSR
		"POST order",       // poll: Pebble finalizes asynchronously ("processing")
		"POST certificate", // download
	}
	got := ct.reqs
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
