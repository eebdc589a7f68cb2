package manager

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// ariCA is a CA that serves a directory and renewal info (RFC 9773) and
// counts its renewal-info requests: how many it has seen and how many were
// in flight at once. Requests wait for company (up to ariPerCA of them, or
// every one still to come) before they are answered, so that requests
// asked concurrently are in flight together; a client that asks one at a
// time gets its answers only when the test's release deadline passes.
type ariCA struct {
	t     *testing.T
	srv   *httptest.Server
	total int // renewal-info requests the run should make (first tries)
	// answer, when set, answers one request itself (true) instead of the
	// normal window far in the future.
	answer func(w http.ResponseWriter, n int) bool

	mu       sync.Mutex
	cond     *sync.Cond
	seen     int // requests received
	inFlight int
	maxIn    int
	waiting  int
	gen      int
	deadline time.Time
	arrivals []time.Time
}

func newARICA(t *testing.T, total int) *ariCA {
	ca := &ariCA{t: t, total: total, deadline: time.Now().Add(20 * time.Second)}
	ca.cond = sync.NewCond(&ca.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("/dir", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host
		_ = json.NewEncoder(w).Encode(map[string]string{
			"newNonce": base + "/nonce", "newAccount": base + "/acct", "newOrder": base + "/order",
			"renewalInfo": base + "/ari/",
		})
	})
	mux.HandleFunc("/ari/", ca.renewalInfo)
	ca.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ca.srv.Close)
	// Wake waiters when the release deadline passes (bounded: the loop ends
	// with the server).
	go func() {
		for !ca.closed() {
			time.Sleep(100 * time.Millisecond)
			ca.cond.Broadcast()
		}
	}()
	return ca
}

func (ca *ariCA) closed() bool {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return time.Now().After(ca.deadline.Add(time.Minute))
}

func (ca *ariCA) renewalInfo(w http.ResponseWriter, r *http.Request) {
	ca.mu.Lock()
	ca.seen++
	n := ca.seen
	ca.arrivals = append(ca.arrivals, time.Now())
	ca.inFlight++
	ca.maxIn = max(ca.maxIn, ca.inFlight)
	// Wait for company: a generation is released when ariPerCA requests
	// wait, when no more first tries are to come, or at the deadline.
	ca.waiting++
	gen := ca.gen
	for gen == ca.gen {
		if ca.waiting >= ariPerCA || ca.seen >= ca.total || time.Now().After(ca.deadline) {
			ca.gen++
			ca.waiting = 0
			ca.cond.Broadcast()
			break
		}
		ca.cond.Wait()
	}
	ca.mu.Unlock()
	defer func() {
		ca.mu.Lock()
		ca.inFlight--
		ca.mu.Unlock()
	}()
	if ca.answer != nil && ca.answer(w, n) {
		return
	}
	now := time.Now()
	w.Header().Set("Retry-After", "21600")
	fmt.Fprintf(w, `{"suggestedWindow":{"start":%q,"end":%q}}`,
		now.Add(40*24*time.Hour).Format(time.RFC3339), now.Add(41*24*time.Hour).Format(time.RFC3339))
}

func (ca *ariCA) stats() (seen, maxIn int) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return ca.seen, ca.maxIn
}

// ariTree makes n lineages per CA (names <prefix><i>), each with a
// certificate the CA's issuer signed (so it has an ARI CertID), not due by
// its dates, and returns the manager that renews them.
func ariTree(t *testing.T, hc *http.Client, cas map[string]*ariCA, n int) (*Manager, *storage.Tree) {
	t.Helper()
	c := mustConfig(t, FlagMap{"config-dir": t.TempDir(), "work-dir": t.TempDir(), "logs-dir": t.TempDir()})
	tr, err := OpenTree(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3, 4}}
	caDER, err := x509.CreateCertificate(cryptorand.Reader, caTpl, caTpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	issuer, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	keyPEM, _ := pemutil.EncodePrivateKey(leafKey)
	serial := int64(100)
	for prefix, ca := range cas {
		for i := range n {
			name := fmt.Sprintf("%s%02d.example", prefix, i)
			serial++
			tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), DNSNames: []string{name},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
			der, err := x509.CreateCertificate(cryptorand.Reader, tpl, issuer, leafKey.Public(), caKey)
			if err != nil {
				t.Fatal(err)
			}
			v := &storage.Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
				ChainPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), KeyPEM: keyPEM}
			conf := &storage.RenewalConf{Params: storage.RenewalParams{Server: ca.srv.URL + "/dir", Authenticator: "standalone"}}
			if _, err := tr.CreateLineage(t.Context(), name, v, conf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &Manager{Config: c, Store: tr, HTTPClient: hc, Terminal: true}, tr
}

// TestARIConcurrentPerCA: the first renew after ari_retry_after asks each
// CA for its lineages' renewal windows concurrently, never more than
// ariPerCA requests at once per CA, each CA on its own; every lineage is
// asked once and settled as not due; ari_retry_after is saved from the
// CA's Retry-After.
func TestARIConcurrentPerCA(t *testing.T) {
	const n = 20
	a, b := newARICA(t, n), newARICA(t, n)
	hc := a.srv.Client()
	pool := hc.Transport.(*http.Transport).TLSClientConfig.RootCAs
	pool.AddCert(b.srv.Certificate())
	m, tr := ariTree(t, hc, map[string]*ariCA{"a": a, "b": b}, n)
	res, err := m.Renew(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	res.Each(func(oc *Outcome) {
		if oc.Status == StatusSkipped {
			skipped++
		}
	})
	if skipped != 2*n {
		t.Errorf("%d lineages skipped as not due, want %d", skipped, 2*n)
	}
	for name, ca := range map[string]*ariCA{"a": a, "b": b} {
		seen, maxIn := ca.stats()
		if seen != n {
			t.Errorf("CA %s: %d renewal-info requests, want %d (one per lineage)", name, seen, n)
		}
		if maxIn != ariPerCA {
			t.Errorf("CA %s: %d requests in flight at most, want %d (concurrent, bounded per CA)", name, maxIn, ariPerCA)
		}
	}
	wantRetryIn6h(t, tr)
	// The next run honours the saved times: it asks nothing.
	if _, err := m.Renew(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, ca := range map[string]*ariCA{"a": a, "b": b} {
		if seen, _ := ca.stats(); seen != n {
			t.Errorf("CA %s: %d renewal-info requests after a second run, want still %d", name, seen, n)
		}
	}
}

// TestARIConcurrentRuns: two renew runs over one tree at the same time (two
// Managers, each with its own Tree, as two processes) each save the CA's
// retry time; no lineage is left without one, and a third run asks
// nothing.
func TestARIConcurrentRuns(t *testing.T) {
	const n = 20
	ca := newARICA(t, n)
	m1, tr := ariTree(t, ca.srv.Client(), map[string]*ariCA{"a": ca}, n)
	tr2, err := OpenTree(m1.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	m2 := &Manager{Config: m1.Config, Store: tr2, HTTPClient: m1.HTTPClient, Terminal: true}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*Manager{m1, m2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Renew(t.Context())
			if err == nil {
				res.Each(func(oc *Outcome) {
					if oc.Status != StatusSkipped {
						err = errors.Join(err, fmt.Errorf("%s: %s, want skipped", oc.Lineage, oc.Status))
					}
				})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i+1, err)
		}
	}
	wantRetryIn6h(t, tr)
	seen, _ := ca.stats()
	if seen < n || seen > 2*n {
		t.Errorf("%d renewal-info requests, want %d to %d", seen, n, 2*n)
	}
	m3 := &Manager{Config: m1.Config, Store: tr, HTTPClient: m1.HTTPClient, Terminal: true}
	if _, err := m3.Renew(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again, _ := ca.stats(); again != seen {
		t.Errorf("a third run made %d renewal-info requests, want none", again-seen)
	}
}

// TestARIRetryAfterHoldsCA: a 503 with Retry-After: 1 on one renewal-info
// request holds back every request to that CA for the second it asked (not
// only the retry of that request); the run then asks every lineage.
func TestARIRetryAfterHoldsCA(t *testing.T) {
	const n = 20
	ca := newARICA(t, n)
	var (
		mu     sync.Mutex
		at503  time.Time
		slept  []time.Duration
		asleep = make(chan struct{})
		once   sync.Once
	)
	ca.answer = func(w http.ResponseWriter, k int) bool {
		switch k {
		case 1:
			mu.Lock()
			at503 = time.Now()
			mu.Unlock()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"type":"urn:ietf:params:acme:error:serverInternal","detail":"busy"}`)
			return true
		case 2, 3, 4, 5, 6, 7, 8:
			// The other requests of the first round are answered once the
			// client waits: every request after this one passes the CA's
			// gate after it closed.
			select {
			case <-asleep:
			case <-time.After(30 * time.Second):
				ca.t.Errorf("request %d: the client never waited for the Retry-After", k)
			}
		}
		return false
	}
	m, _ := ariTree(t, ca.srv.Client(), map[string]*ariCA{"a": ca}, n)
	m.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		once.Do(func() { close(asleep) })
		return sleepCtx(ctx, d)
	}
	if _, err := m.Renew(t.Context()); err != nil {
		t.Fatal(err)
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.seen != n+1 {
		t.Errorf("%d renewal-info requests, want %d (every lineage, and the retry)", ca.seen, n+1)
	}
	if len(slept) == 0 || slept[0] != time.Second {
		t.Errorf("waits %v, want the CA's 1s first", slept)
	}
	late := 0
	for i, arr := range ca.arrivals[ariPerCA:] {
		if arr.Before(at503.Add(time.Second)) {
			t.Errorf("request %d reached the CA %v after its Retry-After: 1, before the second passed", i+ariPerCA+1, arr.Sub(at503))
		} else {
			late++
		}
	}
	if late != n+1-ariPerCA {
		t.Errorf("%d requests after the first round, want %d", late, n+1-ariPerCA)
	}
}

// TestARIRetryAfterTooLong: a Retry-After longer than a run waits (an hour)
// stops the run's renewal-info requests to that CA: the requests already
// in flight end, no other is made, the lineages are decided by their
// dates, and none is asked again before the CA's hour (ari_retry_after).
func TestARIRetryAfterTooLong(t *testing.T) {
	const n = 20
	ca := newARICA(t, n)
	var m *Manager
	ca.answer = func(w http.ResponseWriter, k int) bool {
		switch k {
		case 1:
			w.Header().Set("Retry-After", "3600")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down"}`)
			return true
		case 2, 3, 4, 5, 6, 7, 8:
			// Answered once the CA's gate has closed (the client has read
			// the 429): before any of their slots frees.
			waitGateClosed(ca.t, m, ca.srv.URL+"/dir")
		}
		return false
	}
	m, tr := ariTree(t, ca.srv.Client(), map[string]*ariCA{"a": ca}, n)
	res, err := m.Renew(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res.Each(func(oc *Outcome) {
		if oc.Status != StatusSkipped {
			t.Errorf("%s: %s, want skipped (not due by its dates)", oc.Lineage, oc.Status)
		}
	})
	if seen, _ := ca.stats(); seen != ariPerCA {
		t.Errorf("%d renewal-info requests, want %d (those in flight when the CA said wait an hour)", seen, ariPerCA)
	}
	infos, err := tr.ListLineages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, li := range infos {
		if d := time.Until(li.Conf.ARIRetryAfter); d < 50*time.Minute {
			t.Errorf("%s: ari_retry_after in %v, want no question before the CA's hour", li.Name, d)
		}
	}
}

// waitGateClosed waits (bounded) until the run's gate for the CA at server
// is closed for the rest of the run.
func waitGateClosed(t *testing.T, m *Manager, server string) {
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		m.ariMu.Lock()
		g := m.ariGates[server]
		m.ariMu.Unlock()
		if g != nil && g.waitLeft() > 0 {
			return
		}
	}
	t.Errorf("the CA's gate did not close after its Retry-After: 3600")
}

// wantRetryIn6h checks that every lineage of tr saved the test CA's 6 h
// Retry-After as its ari_retry_after.
func wantRetryIn6h(t *testing.T, tr *storage.Tree) {
	t.Helper()
	infos, err := tr.ListLineages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, li := range infos {
		if d := time.Until(li.Conf.ARIRetryAfter); d < 5*time.Hour || d > 7*time.Hour {
			t.Errorf("%s: ari_retry_after in %v, want the CA's 6 h", li.Name, d)
		}
	}
}
