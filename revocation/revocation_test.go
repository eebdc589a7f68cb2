package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testCA issues leaf certificates and answers OCSP and CRL requests for
// them, counting requests.
type testCA struct {
	t       *testing.T
	cert    *x509.Certificate
	key     crypto.Signer
	mu      sync.Mutex
	revoked map[string]bool
	ocspN   atomic.Int64
	crlN    atomic.Int64
	next    int64
	srv     *httptest.Server
	// hang makes the responder wait for the request's end.
	hang atomic.Bool
	stop chan struct{}
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId: ski()}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, cert: c, key: key, revoked: map[string]bool{}, next: 100, stop: make(chan struct{})}
	ca.srv = httptest.NewServer(http.HandlerFunc(ca.serve))
	t.Cleanup(ca.srv.Close)
	t.Cleanup(func() { close(ca.stop) }) // runs first: hanging handlers return
	return ca
}

// ski is a random subject key identifier (each test CA its own).
func ski() []byte {
	b := make([]byte, 20)
	rand.Read(b)
	return b
}

func (ca *testCA) serve(w http.ResponseWriter, r *http.Request) {
	if ca.hang.Load() {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-ca.stop:
		}
		return
	}
	switch r.URL.Path {
	case "/ocsp":
		ca.ocspN.Add(1)
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		ca.mu.Lock()
		rev := ca.revoked[req.SerialNumber.Text(16)]
		ca.mu.Unlock()
		tpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(2 * time.Hour)}
		if rev {
			tpl.Status, tpl.RevokedAt = ocsp.Revoked, time.Now().Add(-time.Minute)
		}
		b, err := ocsp.CreateResponse(ca.cert, ca.cert, tpl, ca.key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(b)
	case "/crl":
		ca.crlN.Add(1)
		w.Write(ca.crl(ca.key))
	default:
		http.NotFound(w, r)
	}
}

// crl is the CA's CRL, signed with key.
func (ca *testCA) crl(key crypto.Signer) []byte {
	ca.mu.Lock()
	var entries []x509.RevocationListEntry
	for s := range ca.revoked {
		n, _ := new(big.Int).SetString(s, 16)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now().Add(-time.Hour)})
	}
	ca.mu.Unlock()
	b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute),
		NextUpdate: time.Now().Add(3 * time.Hour), RevokedCertificateEntries: entries}, ca.cert, key)
	if err != nil {
		ca.t.Error(err)
	}
	return b
}

// leaf issues a certificate pointing at the CA's OCSP responder (ocsp) or
// only at its CRL.
func (ca *testCA) leaf(withOCSP bool) *x509.Certificate {
	ca.t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca.mu.Lock()
	ca.next++
	serial := big.NewInt(ca.next)
	ca.mu.Unlock()
	tpl := &x509.Certificate{SerialNumber: serial, DNSNames: []string{"a.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	if withOCSP {
		tpl.OCSPServer = []string{ca.srv.URL + "/ocsp"}
	} else {
		tpl.CRLDistributionPoints = []string{ca.srv.URL + "/crl"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func (ca *testCA) revoke(c *x509.Certificate) {
	ca.mu.Lock()
	ca.revoked[c.SerialNumber.Text(16)] = true
	ca.mu.Unlock()
}

func TestOCSPAndCRLStatus(t *testing.T) {
	ca := newTestCA(t)
	for _, withOCSP := range []bool{true, false} {
		good, bad := ca.leaf(withOCSP), ca.leaf(withOCSP)
		ca.revoke(bad)
		ch := &Checker{}
		src := map[bool]string{true: "ocsp", false: "crl"}[withOCSP]
		if r := ch.Check(t.Context(), good, ca.cert); r.Status != Good || r.Source != src || r.Err != nil {
			t.Errorf("%s: good certificate = %+v", src, r)
		}
		if r := ch.Check(t.Context(), bad, ca.cert); r.Status != Revoked || r.Source != src {
			t.Errorf("%s: revoked certificate = %+v", src, r)
		}
		// The second time comes from the cache.
		if r := ch.Check(t.Context(), bad, ca.cert); r.Status != Revoked || r.Source != "cache" {
			t.Errorf("%s: cached = %+v", src, r)
		}
	}
	// An expired certificate is not checked (certbot: CAs stop answering).
	old := ca.leaf(true)
	ch := &Checker{Now: func() time.Time { return old.NotAfter.Add(time.Hour) }}
	if r := ch.Check(t.Context(), old, ca.cert); r.Status != Unknown || ch.Requests() != 0 {
		t.Errorf("expired certificate: %+v, %d requests", r, ch.Requests())
	}
}

// TestRevocationCacheNoSecondFetch: 1,000 certificates (half OCSP, half
// sharing one CRL) cost 500 OCSP requests and one CRL fetch in the first
// run, and nothing in the second run (a new Checker reading the cache file).
func TestRevocationCacheNoSecondFetch(t *testing.T) {
	ca := newTestCA(t)
	var certs []*x509.Certificate
	for i := range 1000 {
		certs = append(certs, ca.leaf(i%2 == 0))
	}
	ca.revoke(certs[10])
	ca.revoke(certs[11])
	path := filepath.Join(t.TempDir(), "revocation.json")
	run := func() (revoked int, ch *Checker) {
		ch = &Checker{CachePath: path, Budget: time.Minute}
		for _, c := range certs {
			if r, ok := ch.Cached(Key(c.AuthorityKeyId, c.SerialNumber.Text(16))); ok {
				if r.Status == Revoked {
					revoked++
				}
				continue
			}
			if ch.Check(t.Context(), c, ca.cert).Status == Revoked {
				revoked++
			}
		}
		if err := ch.Save(); err != nil {
			t.Fatal(err)
		}
		return revoked, ch
	}
	n, ch := run()
	if n != 2 || ca.ocspN.Load() != 500 || ca.crlN.Load() != 1 || ch.Requests() != 501 {
		t.Errorf("first run: %d revoked, %d OCSP and %d CRL requests (checker counted %d), want 2, 500, 1", n, ca.ocspN.Load(), ca.crlN.Load(), ch.Requests())
	}
	n, ch = run()
	if n != 2 || ch.Requests() != 0 || ca.ocspN.Load() != 500 || ca.crlN.Load() != 1 {
		t.Errorf("second run: %d revoked, %d requests; want 2 revoked and no request", n, ch.Requests())
	}
	// Past the answers' validity (OCSP nextUpdate 2 h, CRL 3 h) they are asked again.
	later := &Checker{CachePath: path, Now: func() time.Time { return time.Now().Add(150 * time.Minute) }}
	if _, ok := later.Cached(Key(certs[0].AuthorityKeyId, certs[0].SerialNumber.Text(16))); ok {
		t.Error("an OCSP answer past its nextUpdate is still cached")
	}
	if _, ok := later.Cached(Key(certs[1].AuthorityKeyId, certs[1].SerialNumber.Text(16))); !ok {
		t.Error("a CRL answer before its nextUpdate is not cached")
	}
	if r, ok := later.Cached(Key(certs[10].AuthorityKeyId, certs[10].SerialNumber.Text(16))); !ok || r.Status != Revoked {
		t.Error("a revocation is not kept until the certificate expires")
	}
}

// TestRevocationTimeoutBounded: a responder that never answers costs one
// timeout per run, not one per certificate, and the failure is cached.
func TestRevocationTimeoutBounded(t *testing.T) {
	ca := newTestCA(t)
	ca.hang.Store(true)
	var certs []*x509.Certificate
	for range 100 {
		certs = append(certs, ca.leaf(true))
	}
	ch := &Checker{Timeout: 200 * time.Millisecond, Budget: 5 * time.Second}
	start := time.Now()
	for _, c := range certs {
		if r := ch.Check(t.Context(), c, ca.cert); r.Status != Unknown {
			t.Fatalf("hanging responder: %+v", r)
		}
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("100 checks against a hanging responder took %s", took)
	}
	if ch.Requests() != 1 {
		t.Errorf("requests = %d, want 1 (the host is not asked again in the run)", ch.Requests())
	}
	// The budget: spent, nothing more is asked even of a new host.
	ca2 := newTestCA(t)
	ch.mu.Lock()
	ch.spent = ch.budget()
	ch.mu.Unlock()
	if r := ch.Check(t.Context(), ca2.leaf(true), ca2.cert); !errors.Is(r.Err, errBudget) || ca2.ocspN.Load() != 0 {
		t.Errorf("after the budget: %+v, %d requests", r, ca2.ocspN.Load())
	}
}

// TestRevocationRedirects: the OCSP client follows a redirect on the same
// host, never to another one (the other host gets nothing), and reads a
// bounded answer.
func TestRevocationRedirects(t *testing.T) {
	ca := newTestCA(t)
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("x"))
	}))
	defer other.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, ca.srv.URL+"/ocsp", http.StatusTemporaryRedirect) // another port: another host
		case "/away":
			http.Redirect(w, r, other.URL+"/ocsp", http.StatusTemporaryRedirect)
		case "/big":
			w.Write([]byte(strings.Repeat("x", maxOCSPResponse+10)))
		case "/ocsp":
			r.URL.Path = "/ocsp"
			ca.serve(w, r)
		case "/local":
			http.Redirect(w, r, "/ocsp", http.StatusTemporaryRedirect)
		}
	}))
	defer front.Close()
	leafAt := func(path string) *x509.Certificate {
		c := ca.leaf(true)
		c.OCSPServer = []string{front.URL + path}
		return c
	}
	for _, path := range []string{"/same", "/away"} {
		r := (&Checker{}).Check(t.Context(), leafAt(path), ca.cert)
		if r.Status != Unknown || !errors.Is(r.Err, ErrRedirect) {
			t.Errorf("%s: %+v, want a refused redirect", path, r)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	if r := (&Checker{}).Check(t.Context(), leafAt("/local"), ca.cert); r.Status != Good {
		t.Errorf("same-host redirect: %+v", r)
	}
	if r := (&Checker{}).Check(t.Context(), leafAt("/big"), ca.cert); r.Status != Unknown || r.Err == nil || !strings.Contains(r.Err.Error(), "larger than") {
		t.Errorf("oversized answer: %+v", r)
	}
}

// TestCRLMustBeSignedByTheIssuer: a CRL signed by another key is refused
// (Unknown, never Good).
func TestCRLMustBeSignedByTheIssuer(t *testing.T) {
	ca := newTestCA(t)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(ca.crl(otherKey)) }))
	defer srv.Close()
	c := ca.leaf(false)
	c.CRLDistributionPoints = []string{srv.URL + "/crl"}
	if r := (&Checker{}).Check(context.Background(), c, ca.cert); r.Status != Unknown || r.Err == nil {
		t.Errorf("forged CRL: %+v", r)
	}
}
