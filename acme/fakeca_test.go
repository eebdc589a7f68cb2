package acme

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeCA is an httptest ACME server for unit tests: the directory at "/", a
// counter nonce on every response, JWS bodies decoded and checked (nonce issued
// by us, url header equal to the request URL), and per-path handlers.
type fakeCA struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	nonce    int
	issued   map[string]bool
	requests []string // "METHOD /path"
	handlers map[string]func(w http.ResponseWriter, r *http.Request, payload []byte)
	dirExtra map[string]any
}

func newFakeCA(t *testing.T) *fakeCA {
	f := &fakeCA{t: t, issued: map[string]bool{}, handlers: map[string]func(http.ResponseWriter, *http.Request, []byte){}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCA) url(path string) string { return f.srv.URL + path }

func (f *fakeCA) handle(path string, h func(w http.ResponseWriter, r *http.Request, payload []byte)) {
	f.mu.Lock()
	f.handlers[path] = h
	f.mu.Unlock()
}

func (f *fakeCA) count(req string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r == req {
			n++
		}
	}
	return n
}

func (f *fakeCA) newNonce() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nonce++
	n := "nonce-" + strconv.Itoa(f.nonce)
	f.issued[n] = true
	return n
}

func (f *fakeCA) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Replay-Nonce", f.newNonce())
	switch {
	case r.URL.Path == "/":
		dir := map[string]any{
			"newNonce": f.url("/nonce"), "newAccount": f.url("/new-acct"), "newOrder": f.url("/new-order"),
			"revokeCert": f.url("/revoke"), "keyChange": f.url("/key-change"),
		}
		for k, v := range f.dirExtra {
			dir[k] = v
		}
		json.NewEncoder(w).Encode(dir)
		return
	case r.URL.Path == "/nonce":
		return
	}
	var payload []byte
	if r.Method == http.MethodPost {
		var err error
		payload, err = f.checkJWS(r)
		if err != nil {
			f.t.Errorf("fake CA: %s: %v", r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	h := f.handlers[r.URL.Path]
	f.mu.Unlock()
	if h == nil {
		problem(w, 404, "urn:ietf:params:acme:error:malformed", "no handler for "+r.URL.Path)
		return
	}
	h(w, r, payload)
}

func (f *fakeCA) checkJWS(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedJSON(string(body), []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("parse JWS: %w", err)
	}
	h := jws.Signatures[0].Protected
	if u, _ := h.ExtraHeaders["url"].(string); u != f.url(r.URL.Path) {
		return nil, fmt.Errorf("JWS url %q, want %q", u, f.url(r.URL.Path))
	}
	f.mu.Lock()
	ok := f.issued[h.Nonce]
	delete(f.issued, h.Nonce)
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("JWS nonce %q was not issued or was used twice", h.Nonce)
	}
	if h.JSONWebKey != nil {
		return jws.Verify(h.JSONWebKey)
	}
	return jws.UnsafePayloadWithoutVerification(), nil
}

func problem(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": typ, "detail": detail, "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// sleepLog records the waits a client asks for instead of sleeping.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepLog) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fakeClient is a client of f with an account already registered and waits recorded.
func fakeClient(t *testing.T, f *fakeCA) (*Client, *sleepLog) {
	sl := &sleepLog{}
	return &Client{DirectoryURL: f.url("/"), HTTPClient: f.srv.Client(), Key: testKey(t), AccountURL: f.url("/acct/1"), Sleep: sl.sleep}, sl
}

// issueLeaf makes a certificate for names and pub, signed by a throwaway CA, as PEM leaf+issuer.
func issueLeaf(t *testing.T, pub crypto.PublicKey, names ...string) []byte {
	t.Helper()
	caKey := testKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fake Root"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		SubjectKeyId: []byte{1, 2, 3, 4}}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x87654321), DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
}

func csrFor(t *testing.T, names ...string) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	k := testKey(t)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der, k
}

// orderFlow installs a complete one-name order at the fake CA. authz is the
// authorization JSON the CA returns; certPEM the chain it serves.
type orderFlow struct {
	f            *fakeCA
	mu           sync.Mutex
	orderStatus  string
	authzStatus  string
	authz        map[string]any
	certPEM      []byte
	finalizeHits int
}

func (o *orderFlow) set(field *string, v string) { o.mu.Lock(); *field = v; o.mu.Unlock() }

func installOrder(f *fakeCA, name string, challenges []map[string]any, certPEM []byte) *orderFlow {
	o := &orderFlow{f: f, orderStatus: StatusPending, authzStatus: StatusPending, certPEM: certPEM}
	o.authz = map[string]any{"identifier": map[string]string{"type": "dns", "value": name}, "challenges": challenges}
	orderJSON := func() map[string]any {
		o.mu.Lock()
		defer o.mu.Unlock()
		m := map[string]any{"status": o.orderStatus, "identifiers": []map[string]string{{"type": "dns", "value": name}},
			"authorizations": []string{f.url("/authz/1")}, "finalize": f.url("/order/1/finalize")}
		if o.orderStatus == StatusValid {
			m["certificate"] = f.url("/cert/1")
		}
		return m
	}
	f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Location", f.url("/order/1"))
		writeJSON(w, http.StatusCreated, orderJSON())
	})
	f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) { writeJSON(w, 200, orderJSON()) })
	f.handle("/authz/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		o.mu.Lock()
		a := map[string]any{}
		for k, v := range o.authz {
			a[k] = v
		}
		a["status"] = o.authzStatus
		o.mu.Unlock()
		writeJSON(w, 200, a)
	})
	f.handle("/chall/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		o.mu.Lock()
		o.authzStatus = StatusValid
		o.orderStatus = StatusReady
		o.mu.Unlock()
		writeJSON(w, 200, map[string]any{"type": "http-01", "url": f.url("/chall/1"), "status": "processing"})
	})
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		o.mu.Lock()
		o.finalizeHits++
		o.orderStatus = StatusValid
		o.mu.Unlock()
		writeJSON(w, 200, orderJSON())
	})
	f.handle("/cert/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.Write(o.certPEM)
	})
	return o
}

// recordingSolver records calls; fail makes Present fail.
type recordingSolver struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (s *recordingSolver) Present(_ context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "present "+domain+" "+token)
	return s.fail
}

func (s *recordingSolver) CleanUp(_ context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "cleanup "+domain+" "+token)
	return nil
}

func (s *recordingSolver) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}
