// Package e2etest_test drives the challenge solvers end to end: acme.Client.Obtain
// against a real Pebble (internal/pebbletest), with real nginx and knot where an
// operator would have them. It holds only tests, so that challenge/ itself never
// imports acme/. Every test name contains E2E; -short skips them all.
package e2etest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopKnot()
	os.Exit(code)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test; skipped with -short")
	}
}

// repoFile returns the path of a file relative to the repository root.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return p
}

// newClient returns a registered account on s.
func newClient(t *testing.T, s *pebbletest.Server) *acme.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: s.HTTPClient(), UserAgent: "acmectl-challenge-e2e", Key: key}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := c.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true}); err != nil {
		t.Fatalf("register: %v", err)
	}
	return c
}

func identifiers(names []string) []acme.Identifier {
	var ids []acme.Identifier
	for _, n := range names {
		if net.ParseIP(n) != nil {
			ids = append(ids, acme.Identifier{Type: "ip", Value: n})
		} else {
			ids = append(ids, acme.Identifier{Type: "dns", Value: n})
		}
	}
	return ids
}

func csrFor(t *testing.T, names []string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.CertificateRequest{}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if len(tmpl.DNSNames) > 0 {
		tmpl.Subject = pkix.Name{CommonName: tmpl.DNSNames[0]}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// obtain runs one issuance for names with the given solvers and returns the error.
func obtain(t *testing.T, c *acme.Client, names []string, solvers map[string]acme.Solver, prefs ...string) (*acme.Certificate, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	return c.Obtain(ctx, acme.ObtainRequest{Identifiers: identifiers(names), CSR: csrFor(t, names), Solvers: solvers, Preference: prefs})
}

// mustObtain runs obtain and checks that the leaf certificate covers names.
func mustObtain(t *testing.T, s *pebbletest.Server, c *acme.Client, names []string, solvers map[string]acme.Solver, prefs ...string) {
	t.Helper()
	cert, err := obtain(t, c, names, solvers, prefs...)
	if err != nil {
		t.Fatalf("obtain %v: %v", names, err)
	}
	block, rest := pem.Decode(cert.PEM)
	if block == nil {
		t.Fatalf("no PEM in certificate: %q", cert.PEM)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	got = append(got, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		got = append(got, ip.String())
	}
	want := slices.Clone(names)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("certificate names %v, want %v", got, want)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.IssuerRoot(t, 0)) {
		t.Fatal("no issuer root")
	}
	inter := x509.NewCertPool()
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if ic, err := x509.ParseCertificate(b.Bytes); err == nil {
			inter.AddCert(ic)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		t.Errorf("issued certificate does not verify: %v", err)
	}
}

// wantErr fails unless err is non-nil and contains every piece.
func wantErr(t *testing.T, err error, pieces ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", pieces)
	}
	for _, p := range pieces {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// noWellKnown fails when a .well-known directory is left under root.
func noWellKnown(t *testing.T, roots ...string) {
	t.Helper()
	for _, r := range roots {
		if _, err := os.Lstat(filepath.Join(r, ".well-known")); err == nil {
			entries, _ := os.ReadDir(filepath.Join(r, ".well-known", "acme-challenge"))
			t.Errorf("%s/.well-known left behind (%d challenge files)", r, len(entries))
		}
	}
}
