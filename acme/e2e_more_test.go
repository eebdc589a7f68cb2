package acme_test

import (
	"crypto/rand"
	"crypto/x509"
	"net"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// TestE2EOrderFeatures: IP identifiers (RFC 8738), profiles, replaces (RFC 9773)
// with the alreadyReplaced fallback, alternate chains, contact update,
// authorization deactivation.
func TestE2EOrderFeatures(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end against Pebble")
	}
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{
		Env: []string{"PEBBLE_ALTERNATE_ROOTS=2", "PEBBLE_CHAIN_LENGTH=2"},
		Profiles: map[string]pebbletest.Profile{
			"classic":    {Description: "90 days", ValidityPeriod: 90 * 24 * 3600},
			"shortlived": {Description: "6 days", ValidityPeriod: 6 * 24 * 3600},
		},
	})
	ctx := t.Context()
	c := newClient(s, accountKey(t, "ES256"))
	if _, err := c.Register(ctx, acme.AccountRequest{Contact: []string{"mailto:a@example.org"}, TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	solvers := map[string]acme.Solver{acme.ChallengeHTTP01: newHTTPSolver(t, s.HTTPPort)}

	t.Run("update contacts", func(t *testing.T) {
		a, err := c.UpdateAccount(ctx, []string{"mailto:b@example.org"})
		if err != nil || len(a.Contact) != 1 || a.Contact[0] != "mailto:b@example.org" {
			t.Fatalf("UpdateAccount = %+v, %v", a, err)
		}
	})

	t.Run("ip identifier", func(t *testing.T) {
		key := accountKey(t, "ES256")
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: []acme.Identifier{{Type: "ip", Value: "127.0.0.1"}}, CSR: der, Solvers: solvers})
		if err != nil {
			t.Fatalf("Obtain ip: %v", err)
		}
		leaf, _ := cert.Leaf()
		if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
			t.Errorf("leaf IPs = %v", leaf.IPAddresses)
		}
	})

	var first *x509.Certificate
	t.Run("profile", func(t *testing.T) {
		csr, _ := newCSR(t, "p.example.com")
		cert, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("p.example.com"), CSR: csr, Solvers: solvers, Profile: "shortlived"})
		if err != nil {
			t.Fatalf("Obtain with profile: %v", err)
		}
		first, _ = cert.Leaf()
		if days := first.NotAfter.Sub(first.NotBefore).Hours() / 24; days > 7 {
			t.Errorf("shortlived profile gave a %.0f-day certificate", days)
		}
		_, err = c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("p.example.com"), CSR: csr, Solvers: solvers, Profile: "nosuch"})
		if err == nil || !strings.Contains(err.Error(), `no profile "nosuch"`) {
			t.Errorf("unknown profile: err = %v", err)
		}
	})

	t.Run("replaces", func(t *testing.T) {
		id, err := acme.ARICertID(first)
		if err != nil {
			t.Fatal(err)
		}
		csr, _ := newCSR(t, "p.example.com")
		if _, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("p.example.com"), CSR: csr, Solvers: solvers, Replaces: id, Profile: "shortlived"}); err != nil {
			t.Fatalf("Obtain replacing: %v", err)
		}
		// The same replaces again: Pebble says alreadyReplaced; Obtain orders without it.
		if _, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("p.example.com"), CSR: csr, Solvers: solvers, Replaces: id, Profile: "shortlived"}); err != nil {
			t.Fatalf("Obtain replacing twice: %v", err)
		}
	})

	t.Run("preferred chain", func(t *testing.T) {
		csr, _ := newCSR(t, "chain.example.com")
		def, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("chain.example.com"), CSR: csr, Solvers: solvers})
		if err != nil {
			t.Fatal(err)
		}
		if len(def.Alternates) != 2 {
			t.Fatalf("alternates = %v, want 2", def.Alternates)
		}
		alt, err := c.FetchCertificate(ctx, def.Alternates[1])
		if err != nil {
			t.Fatal(err)
		}
		altChain, _ := acme.ParseChain(alt.PEM)
		want := altChain[len(altChain)-1].Issuer.CommonName
		got, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("chain.example.com"), CSR: csr, Solvers: solvers, PreferredChain: want})
		if err != nil {
			t.Fatal(err)
		}
		chain, _ := acme.ParseChain(got.PEM)
		if cn := chain[len(chain)-1].Issuer.CommonName; cn != want {
			t.Errorf("preferred chain: top issuer %q, want %q", cn, want)
		}
		if len(chain) != 3 {
			t.Errorf("chain length %d, want leaf + 2 intermediates", len(chain))
		}
		// An unknown preference keeps the default.
		got, err = c.Obtain(ctx, acme.ObtainRequest{Identifiers: acme.DNSIdentifiers("chain.example.com"), CSR: csr, Solvers: solvers, PreferredChain: "No Such Root"})
		if err != nil || got.URL == alt.URL {
			t.Errorf("unknown preference: url %s, %v", got.URL, err)
		}
	})

	t.Run("deactivate authorization", func(t *testing.T) {
		o, err := c.NewOrder(ctx, acme.OrderRequest{Identifiers: acme.DNSIdentifiers("deact.example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DeactivateAuthorization(ctx, o.AuthorizationURLs[0]); err != nil {
			t.Fatalf("DeactivateAuthorization: %v", err)
		}
		a, err := c.GetAuthorization(ctx, o.AuthorizationURLs[0])
		if err != nil || a.Status != acme.StatusDeactivated {
			t.Errorf("authorization = %+v, %v; want deactivated", a, err)
		}
	})
}
