package acme

// Tests of the behaviours Sectigo's ACME service shows its customers (issue 15,
// shared/reference/sectigo.md §3), against the in-package fake CA.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// authzSpec is one authorization of a multi-name order.
type authzSpec struct {
	name       string
	wildcard   bool // the authorization's "wildcard" field
	status     string
	challenges []map[string]any
}

// multiOrder installs an order for several authorizations at f; the order
// is ready when every authorization is valid. Challenges at /chall/<i>
// validate authorization i.
type multiOrder struct {
	f         *fakeCA
	mu        sync.Mutex
	ids       []map[string]string
	authzs    []authzSpec
	status    string // "" = computed from the authorizations
	certPEM   []byte
	finalizes int
}

func installMulti(f *fakeCA, ids []string, authzs []authzSpec, certPEM []byte) *multiOrder {
	m := &multiOrder{f: f, authzs: authzs, certPEM: certPEM}
	for _, id := range ids {
		m.ids = append(m.ids, map[string]string{"type": "dns", "value": id})
	}
	orderJSON := func() map[string]any {
		m.mu.Lock()
		defer m.mu.Unlock()
		st := m.status
		if st == "" {
			st = StatusReady
			for _, a := range m.authzs {
				if a.status != StatusValid {
					st = StatusPending
				}
			}
		}
		var urls []string
		for i := range m.authzs {
			urls = append(urls, f.url(fmt.Sprintf("/authz/%d", i)))
		}
		o := map[string]any{"status": st, "identifiers": m.ids, "authorizations": urls, "finalize": f.url("/order/1/finalize")}
		if st == StatusValid {
			o["certificate"] = f.url("/cert/1")
		}
		return o
	}
	f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Location", f.url("/order/1"))
		writeJSON(w, http.StatusCreated, orderJSON())
	})
	f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) { writeJSON(w, 200, orderJSON()) })
	for i := range authzs {
		f.handle(fmt.Sprintf("/authz/%d", i), func(w http.ResponseWriter, r *http.Request, _ []byte) {
			m.mu.Lock()
			a := m.authzs[i]
			m.mu.Unlock()
			body := map[string]any{"identifier": map[string]string{"type": "dns", "value": a.name}, "status": a.status, "challenges": a.challenges}
			if a.wildcard {
				body["wildcard"] = true
			}
			w.Header().Set("Retry-After", "300") // Sectigo sends it on every authorization
			writeJSON(w, 200, body)
		})
		f.handle(fmt.Sprintf("/chall/%d", i), func(w http.ResponseWriter, r *http.Request, _ []byte) {
			m.mu.Lock()
			m.authzs[i].status = StatusValid
			m.mu.Unlock()
			writeJSON(w, 200, map[string]any{"type": "http-01", "url": f.url(fmt.Sprintf("/chall/%d", i)), "status": "processing"})
		})
	}
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		m.mu.Lock()
		m.finalizes++
		m.status = StatusValid
		m.mu.Unlock()
		writeJSON(w, 200, orderJSON())
	})
	f.handle("/cert/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.Write(m.certPEM)
	})
	return m
}

func (m *multiOrder) finalizeCount() int { m.mu.Lock(); defer m.mu.Unlock(); return m.finalizes }

// preValidated is a Sectigo pre-validated authorization: valid, with only a
// tokenless sectigo-email-01 challenge (grindsa/acme2certifier#122).
func preValidated(f *fakeCA, i int) []map[string]any {
	return []map[string]any{{"type": "sectigo-email-01", "url": f.url(fmt.Sprintf("/chall/9%d", i)), "status": "valid"}}
}

func pendingChallenges(f *fakeCA, i int, types ...string) []map[string]any {
	var out []map[string]any
	for _, typ := range types {
		out = append(out, map[string]any{"type": typ, "url": f.url(fmt.Sprintf("/chall/%d", i)), "status": "pending", "token": fmt.Sprintf("tok_%d", i)})
	}
	return out
}

// solverLog is a SolverFor that records what it was asked and hands out s.
type solverLog struct {
	mu    sync.Mutex
	asked []string
	give  map[string]Solver
	err   error
}

func (l *solverLog) solverFor(_ context.Context, typ string, id Identifier, wildcard bool) (Solver, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := id.Value
	if wildcard {
		name = "*." + name
	}
	l.asked = append(l.asked, typ+" "+name)
	if l.err != nil {
		return nil, l.err
	}
	return l.give[typ], nil
}

func (l *solverLog) Asked() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

// TestSolverForOnlyForPendingAuthorizations: SolverFor is consulted (and
// Present called) for the pending authorization only; with every name
// pre-validated it is never consulted at all (issue 15 item 1: certbot's
// --standalone binds nothing then).
func TestSolverForOnlyForPendingAuthorizations(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example", "b.example")
	m := installMulti(f, []string{"a.example", "b.example"}, []authzSpec{
		{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)},
		{name: "b.example", status: StatusPending, challenges: pendingChallenges(f, 1, "dns-01", "http-01")},
	}, issueLeaf(t, key.Public(), "a.example", "b.example"))
	s := &recordingSolver{}
	l := &solverLog{give: map[string]Solver{"http-01": s}}
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example", "b.example"), CSR: csr, SolverFor: l.solverFor}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if got, want := strings.Join(l.Asked(), "|"), "http-01 b.example"; got != want {
		t.Errorf("SolverFor asked %q, want %q", got, want)
	}
	if got, want := strings.Join(s.Calls(), "|"), "present b.example tok_1|cleanup b.example tok_1"; got != want {
		t.Errorf("solver calls %q, want %q", got, want)
	}
	if m.finalizeCount() != 1 {
		t.Errorf("finalize sent %d times", m.finalizeCount())
	}

	// Everything pre-validated, the wildcard too: nothing is asked for.
	f2 := newFakeCA(t)
	c2, _ := fakeClient(t, f2)
	csr2, key2 := csrFor(t, "*.a.example", "a.example")
	installMulti(f2, []string{"*.a.example", "a.example"}, []authzSpec{
		{name: "a.example", wildcard: true, status: StatusValid, challenges: preValidated(f2, 0)},
		{name: "a.example", status: StatusValid, challenges: preValidated(f2, 1)},
	}, issueLeaf(t, key2.Public(), "*.a.example", "a.example"))
	l2 := &solverLog{err: errors.New("port 80 is already in use by nginx")}
	if _, err := c2.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("*.a.example", "a.example"), CSR: csr2, SolverFor: l2.solverFor}); err != nil {
		t.Fatalf("Obtain with everything pre-validated: %v", err)
	}
	if asked := l2.Asked(); len(asked) != 0 {
		t.Errorf("SolverFor asked %v although nothing was pending", asked)
	}
}

// TestNoSolverForPendingWildcard: a pending wildcard authorization with no
// dns-01 solver fails after the order was created, with a *NoSolverError
// naming the wildcard inside an *AuthorizationError, before anything is
// presented or finalized; a SolverFor error (a port taken) likewise.
func TestNoSolverForPendingWildcard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offered []string
		l       *solverLog
		want    []string
	}{
		{"no dns-01 solver", []string{"dns-01"}, &solverLog{give: map[string]Solver{"http-01": &recordingSolver{}}}, []string{"*.a.example", "needs a dns-01 solver", "configured: dns-01"}},
		{"only sectigo types offered", []string{"sectigo-dns-01"}, &solverLog{}, []string{"*.a.example", "sectigo-dns-01", "at the CA"}},
		{"SolverFor fails", []string{"dns-01"}, &solverLog{err: errors.New("manual needs --manual-auth-hook")}, []string{"a.example", "--manual-auth-hook"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			csr, _ := csrFor(t, "*.a.example", "b.example")
			present := &recordingSolver{}
			m := installMulti(f, []string{"*.a.example", "b.example"}, []authzSpec{
				{name: "a.example", wildcard: true, status: StatusPending, challenges: pendingChallenges(f, 0, tc.offered...)},
				{name: "b.example", status: StatusPending, challenges: pendingChallenges(f, 1, "http-01")},
			}, nil)
			_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("*.a.example", "b.example"), CSR: csr,
				Solvers: map[string]Solver{"http-01": present}, SolverFor: tc.l.solverFor})
			var ae *AuthorizationError
			if !errors.As(err, &ae) || ae.Identifier.Value != "a.example" {
				t.Fatalf("err = %v, want an AuthorizationError for a.example", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, missing %q", err, w)
				}
			}
			var ns *NoSolverError
			if errors.As(err, &ns) != (tc.l.err == nil) {
				t.Errorf("NoSolverError found = %v, want %v", !(tc.l.err == nil), tc.l.err == nil)
			}
			if calls := present.Calls(); len(calls) != 0 || m.finalizeCount() != 0 || f.count("POST /new-order") != 1 {
				t.Errorf("presented %v, finalized %d times, %d orders", calls, m.finalizeCount(), f.count("POST /new-order"))
			}
		})
	}
}

// TestValidAuthorizationWithWildcardFlag: Sectigo marks a valid
// pre-validated authorization "wildcard": true for a name ordered without
// "*." (acme2certifier#122): accepted; a pending one is still refused.
func TestValidAuthorizationWithWildcardFlag(t *testing.T) {
	for _, status := range []string{StatusValid, StatusPending} {
		t.Run(status, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			csr, key := csrFor(t, "some.valid.example")
			ch := preValidated(f, 0)
			if status == StatusPending {
				ch = pendingChallenges(f, 0, "dns-01")
			}
			m := installMulti(f, []string{"some.valid.example"}, []authzSpec{{name: "some.valid.example", wildcard: true, status: status, challenges: ch}},
				issueLeaf(t, key.Public(), "some.valid.example"))
			m.status = StatusPending // Sectigo: "pending" although the authorization is valid
			_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("some.valid.example"), CSR: csr, Solvers: map[string]Solver{"dns-01": &recordingSolver{}}})
			if status == StatusValid && err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			if status == StatusPending && (err == nil || !strings.Contains(err.Error(), "not requested")) {
				t.Fatalf("err = %v, want a refusal", err)
			}
		})
	}
}

// TestPollingCapsRetryAfter: "Retry-After: 300" on a pending authorization
// is honoured as the minimum spacing but one wait is capped at MaxPollWait
// (default 60 s), and every wait is reported through OnWait.
func TestPollingCapsRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		ceiling, want time.Duration
	}{{0, 60 * time.Second}, {10 * time.Second, 10 * time.Second}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			f := newFakeCA(t)
			c, sl := fakeClient(t, f)
			c.MaxPollWait = tc.ceiling
			var mu sync.Mutex
			var events []WaitProgress
			c.OnWait = func(p WaitProgress) { mu.Lock(); events = append(events, p); mu.Unlock() }
			csr, key := csrFor(t, "a.example")
			m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusPending, challenges: pendingChallenges(f, 0, "http-01")}},
				issueLeaf(t, key.Public(), "a.example"))
			// The DCV completes at the third check.
			checks := 0
			f.handle("/chall/0", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				writeJSON(w, 200, map[string]any{"type": "http-01", "url": f.url("/chall/0"), "status": "processing"})
			})
			f.handle("/authz/0", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				st := StatusPending
				if f.count("POST /chall/0") > 0 {
					if checks++; checks >= 3 {
						st = StatusValid
					}
				}
				w.Header().Set("Retry-After", "300")
				writeJSON(w, 200, map[string]any{"identifier": map[string]string{"type": "dns", "value": "a.example"}, "status": st, "challenges": pendingChallenges(f, 0, "http-01")})
			})
			if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": &recordingSolver{}}}); err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			_ = m
			waits := sl.all()
			if len(waits) != 3 || waits[1] != tc.want || waits[2] != tc.want {
				t.Fatalf("waits = %v, want [short %v %v]", waits, tc.want, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 3 {
				t.Fatalf("progress events = %+v, want 3", events)
			}
			e := events[2]
			if e.Kind != WaitAuthorization || e.Identifier != "a.example" || e.Status != StatusPending || e.RetryAfter != 300*time.Second || e.Next != tc.want || e.Polls != 2 {
				t.Errorf("last event = %+v", e)
			}
		})
	}
}

// TestPollingStaysUnderDeadline: a Retry-After beyond the deadline is not
// slept through; the last check is made just before the deadline and the
// error names what was awaited.
func TestPollingStaysUnderDeadline(t *testing.T) {
	f := newFakeCA(t)
	c, sl := fakeClient(t, f)
	installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusPending, challenges: pendingChallenges(f, 0, "http-01")}}, nil)
	f.handle("/chall/0", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, map[string]any{"type": "http-01", "url": f.url("/chall/0"), "status": "processing"})
	})
	csr, _ := csrFor(t, "a.example")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := c.Obtain(ctx, ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": &recordingSolver{}}})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "authorization for a.example") {
		t.Fatalf("err = %v, want a deadline error naming the authorization", err)
	}
	waits := sl.all()
	if len(waits) < 2 {
		t.Fatalf("waits = %v", waits)
	}
	var total time.Duration
	for _, w := range waits {
		total += w
	}
	if last := waits[len(waits)-1]; last < 10*time.Second || total > 20*time.Second {
		t.Errorf("waits = %v: want the last check shortly before the 20-s deadline, never past it", waits)
	}
}

// TestFinalizeHeldOpen: a finalize the CA answers after longer than an
// ordinary request may take is waited for (bounded by IssuanceTimeout, not
// RequestTimeout) and reported as WaitFinalize progress; sent once.
func TestFinalizeHeldOpen(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	c.RequestTimeout = 200 * time.Millisecond
	c.IssuanceTimeout = 30 * time.Second
	c.ProgressInterval = 100 * time.Millisecond
	var mu sync.Mutex
	held := 0
	c.OnWait = func(p WaitProgress) {
		if p.Kind == WaitFinalize {
			mu.Lock()
			held++
			mu.Unlock()
		}
	}
	csr, key := csrFor(t, "a.example")
	m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)}}, issueLeaf(t, key.Public(), "a.example"))
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		time.Sleep(time.Second) // five ordinary request timeouts
		m.mu.Lock()
		m.finalizes++
		m.status = StatusValid
		m.mu.Unlock()
		writeJSON(w, 200, map[string]any{"status": "valid", "identifiers": m.ids, "authorizations": []string{f.url("/authz/0")},
			"finalize": f.url("/order/1/finalize"), "certificate": f.url("/cert/1")})
	})
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if n := f.count("POST /order/1/finalize"); n != 1 {
		t.Errorf("finalize sent %d times, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if held < 3 {
		t.Errorf("%d finalize progress reports in 1 s at 100 ms, want several", held)
	}

	// An ordinary request is bounded by RequestTimeout.
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		time.Sleep(time.Second)
		writeJSON(w, 200, map[string]any{})
	})
	start := time.Now()
	if _, err := c.GetAccount(t.Context()); err == nil || time.Since(start) > 900*time.Millisecond*max5xxTries {
		t.Errorf("a held account fetch: err %v after %v", err, time.Since(start))
	}
}

// TestFinalizeLostAnswerPollsUntilValid: after a finalize whose answer was
// lost, the order is polled through ready → processing → valid and
// finalize is never sent again; when it stays ready until the deadline an
// *OrderInFlightError says so (the caller keeps its record and resumes).
func TestFinalizeLostAnswerPollsUntilValid(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	c.Sleep = nil
	c.PollInterval, c.MaxPollInterval = 10*time.Millisecond, 20*time.Millisecond
	csr, key := csrFor(t, "a.example")
	m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)}}, issueLeaf(t, key.Public(), "a.example"))
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		m.mu.Lock()
		m.finalizes++
		m.mu.Unlock()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	polls := 0
	var seen []string
	f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		polls++
		st := StatusReady
		switch {
		case polls > 5:
			st = StatusValid
		case polls > 3:
			st = StatusProcessing
		}
		seen = append(seen, st)
		o := map[string]any{"status": st, "identifiers": m.ids, "authorizations": []string{f.url("/authz/0")}, "finalize": f.url("/order/1/finalize")}
		if st == StatusValid {
			o["certificate"] = f.url("/cert/1")
		}
		writeJSON(w, 200, o)
	})
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr}); err != nil {
		t.Fatalf("Obtain: %v (order states seen %v)", err, seen)
	}
	if m.finalizeCount() != 1 {
		t.Errorf("finalize sent %d times, want 1", m.finalizeCount())
	}

	f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, map[string]any{"status": StatusReady, "identifiers": m.ids, "authorizations": []string{f.url("/authz/0")}, "finalize": f.url("/order/1/finalize")})
	})
	m.mu.Lock()
	m.finalizes = 0
	m.mu.Unlock()
	c.IssuanceTimeout = 500 * time.Millisecond
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr})
	var inflight *OrderInFlightError
	if !errors.As(err, &inflight) || inflight.Status != StatusReady || inflight.OrderURL != f.url("/order/1") || !strings.Contains(err.Error(), "not re-sending finalize") {
		t.Fatalf("err = %v, want an OrderInFlightError for the ready order", err)
	}
	if m.finalizeCount() != 1 {
		t.Errorf("finalize sent %d times, want 1", m.finalizeCount())
	}
}

// TestBeforeFinalizeRecordsFirst: the order URL and the CSR reach
// BeforeFinalize before finalize is sent; its failure stops finalize.
func TestBeforeFinalizeRecordsFirst(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)}}, issueLeaf(t, key.Public(), "a.example"))
	var gotURL string
	var gotCSR []byte
	record := func(_ context.Context, url string, der []byte) error {
		if m.finalizeCount() != 0 {
			t.Error("BeforeFinalize called after finalize")
		}
		gotURL, gotCSR = url, der
		return nil
	}
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, BeforeFinalize: record}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if gotURL != f.url("/order/1") || string(gotCSR) != string(csr) || m.finalizeCount() != 1 {
		t.Errorf("recorded %q, CSR equal %v, finalized %d", gotURL, string(gotCSR) == string(csr), m.finalizeCount())
	}

	f2 := newFakeCA(t)
	c2, _ := fakeClient(t, f2)
	m2 := installMulti(f2, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f2, 0)}}, nil)
	_, err := c2.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr,
		BeforeFinalize: func(context.Context, string, []byte) error { return errors.New("disk full") }})
	if err == nil || !strings.Contains(err.Error(), "disk full") || m2.finalizeCount() != 0 {
		t.Errorf("err = %v, finalized %d times; want no finalize", err, m2.finalizeCount())
	}
}

// TestResumeOrder: a recorded order is continued by its status; finalize is
// sent only for an order still ready after the grace period.
func TestResumeOrder(t *testing.T) {
	csr, key := csrFor(t, "a.example")
	old, recent := time.Hour, time.Duration(0) // age of the record
	for _, tc := range []struct {
		name       string
		states     []string // the order's status at each fetch (the last repeats)
		httpStatus int
		names      []string
		recorded   time.Duration
		finalizes  int
		want       string // "" success, "notresumable", "other"
	}{
		{name: "valid", states: []string{StatusValid}, recorded: old},
		{name: "processing", states: []string{StatusProcessing, StatusProcessing, StatusValid}, recorded: old},
		{name: "ready long after the record", states: []string{StatusReady}, recorded: old, finalizes: 1},
		{name: "ready within grace then processing", states: []string{StatusReady, StatusReady, StatusProcessing, StatusValid}, recorded: recent},
		{name: "invalid", states: []string{StatusInvalid}, recorded: old, want: "notresumable"},
		{name: "pending", states: []string{StatusPending}, recorded: old, want: "notresumable"},
		{name: "expired", states: []string{"expired"}, recorded: old, want: "notresumable"},
		{name: "gone", httpStatus: 404, recorded: old, want: "notresumable"},
		{name: "other names", states: []string{StatusValid}, names: []string{"b.example"}, recorded: old, want: "notresumable"},
		{name: "server error", httpStatus: 500, recorded: old, want: "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			c.Sleep = nil
			c.PollInterval, c.MaxPollInterval = 10*time.Millisecond, 20*time.Millisecond
			names := tc.names
			if names == nil {
				names = []string{"a.example"}
			}
			m := installMulti(f, names, []authzSpec{{name: names[0], status: StatusValid, challenges: preValidated(f, 0)}}, issueLeaf(t, key.Public(), "a.example"))
			fetches := 0
			f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if tc.httpStatus != 0 {
					problem(w, tc.httpStatus, "urn:ietf:params:acme:error:malformed", "no such order")
					return
				}
				m.mu.Lock()
				st := tc.states[min(fetches, len(tc.states)-1)]
				if m.finalizes > 0 {
					st = StatusValid
				}
				m.mu.Unlock()
				fetches++
				o := map[string]any{"status": st, "identifiers": m.ids, "authorizations": []string{f.url("/authz/0")}, "finalize": f.url("/order/1/finalize")}
				if st == StatusValid {
					o["certificate"] = f.url("/cert/1")
				}
				writeJSON(w, 200, o)
			})
			cert, err := c.ResumeOrder(t.Context(), ResumeRequest{OrderURL: f.url("/order/1"), CSR: csr, RecordedAt: time.Now().Add(-tc.recorded), ReadyGrace: 5 * time.Second})
			switch tc.want {
			case "":
				if err != nil || len(cert.PEM) == 0 {
					t.Fatalf("ResumeOrder: %v", err)
				}
			case "notresumable":
				if !errors.Is(err, ErrOrderNotResumable) {
					t.Fatalf("err = %v, want ErrOrderNotResumable", err)
				}
			default:
				if err == nil || errors.Is(err, ErrOrderNotResumable) {
					t.Fatalf("err = %v, want a retryable error", err)
				}
			}
			if m.finalizeCount() != tc.finalizes {
				t.Errorf("finalize sent %d times, want %d", m.finalizeCount(), tc.finalizes)
			}
		})
	}
}

// TestExtraNames: a certificate naming the free www./base name is accepted
// with the extra names reported; unrelated extra names, missing names and
// another key are refused.
func TestExtraNames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ordered []string
		issued  []string
		policy  ExtraNamesPolicy
		extra   string // "" with err == ""
		err     string
	}{
		{"www added", []string{"a.example"}, []string{"a.example", "www.a.example"}, ExtraNamesRelated, "www.a.example", ""},
		{"base of www added", []string{"www.a.example"}, []string{"www.a.example", "a.example"}, ExtraNamesRelated, "a.example", ""},
		{"base of wildcard added", []string{"*.a.example"}, []string{"*.a.example", "a.example"}, ExtraNamesRelated, "a.example", ""},
		{"exact", []string{"a.example"}, []string{"a.example"}, ExtraNamesRelated, "", ""},
		{"foreign name", []string{"a.example"}, []string{"a.example", "evil.example"}, ExtraNamesRelated, "", "names evil.example, which was not requested"},
		{"foreign name accepted by policy", []string{"a.example"}, []string{"a.example", "evil.example"}, ExtraNamesAny, "evil.example", ""},
		{"www refused by policy", []string{"a.example"}, []string{"a.example", "www.a.example"}, ExtraNamesRefuse, "", "not requested"},
		{"missing name", []string{"a.example", "b.example"}, []string{"a.example", "www.a.example"}, ExtraNamesAny, "", "does not cover b.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			csr, key := csrFor(t, tc.ordered...)
			var specs []authzSpec
			for i, n := range tc.ordered {
				specs = append(specs, authzSpec{name: strings.TrimPrefix(n, "*."), wildcard: strings.HasPrefix(n, "*."), status: StatusValid, challenges: preValidated(f, i)})
			}
			installMulti(f, tc.ordered, specs, issueLeaf(t, key.Public(), tc.issued...))
			cert, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers(tc.ordered...), CSR: csr, ExtraNames: tc.policy})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			if got := strings.Join(cert.ExtraNames, ","); got != tc.extra {
				t.Errorf("ExtraNames = %q, want %q", got, tc.extra)
			}
		})
	}
}

// TestEABAlreadyBound: Sectigo's refusal of a key ID bound to another account
// key is an *EABBoundError (errors.Is ErrEABAlreadyBound) that still carries
// the CA's problem.
func TestEABAlreadyBound(t *testing.T) {
	for _, tc := range []struct {
		detail string
		bound  bool
	}{
		{"[External Account Binding] The account is not awaiting external account binding", true},
		{"The account is not awaiting External Account Binding", true},
		{"External account binding key already used", true},
		{"[External Account Binding] Invalid MAC on JWS request", false},
		{"The request must include a value for the \"externalAccountBinding\" field", false},
	} {
		t.Run(tc.detail, func(t *testing.T) {
			f := newFakeCA(t)
			f.dirExtra = map[string]any{"meta": map[string]any{"externalAccountRequired": true}}
			f.handle("/new-acct", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				problem(w, 400, "urn:ietf:params:acme:error:malformed", tc.detail)
			})
			c := &Client{DirectoryURL: f.url("/"), HTTPClient: f.srv.Client(), Key: testKey(t)}
			key, _ := DecodeHMACKey(strings.Repeat("HjudV5qnbreN-n9WyFSH-t4HXuEx_XFen45zuxY-G1h6fr74V3cUM_dVlwQZBWmc", 2)[:86])
			_, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true, EAB: &ExternalAccountBinding{KeyID: "kid-1", HMACKey: key}})
			var be *EABBoundError
			if errors.Is(err, ErrEABAlreadyBound) != tc.bound || errors.As(err, &be) != tc.bound {
				t.Fatalf("err = %v; bound = %v, want %v", err, !tc.bound, tc.bound)
			}
			if !IsProblem(err, ProblemMalformed) || !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("err = %v, want the CA's problem kept", err)
			}
			if tc.bound && (be.KeyID != "kid-1" || !strings.Contains(err.Error(), "already bound")) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// chainCert makes a CA or leaf certificate for tests of chain handling.
func chainCert(t *testing.T, subject string, issuer *x509.Certificate, issuerKey crypto.Signer, isCA bool) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := testKey(t)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: subject},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true}
	if isCA {
		tpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tpl.DNSNames = []string{subject}
	}
	parent, signer := tpl, crypto.Signer(k)
	if issuer != nil {
		parent, signer = issuer, issuerKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, k.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, k
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// TestDropChainIssuer: the cross-sign by "AAA Certificate Services" (and the
// AAA root, if served) is dropped; the leaf never is.
func TestDropChainIssuer(t *testing.T) {
	aaa, aaaKey := chainCert(t, "AAA Certificate Services", nil, nil, true)
	ut, utKey := chainCert(t, "USERTrust RSA Certification Authority", nil, nil, true)
	cross, _ := chainCert(t, "USERTrust RSA Certification Authority", aaa, aaaKey, true)
	inter, interKey := chainCert(t, "Sectigo RSA Domain Validation Secure Server CA", ut, utKey, true)
	leaf, _ := chainCert(t, "a.example", inter, interKey, false)

	for _, tc := range []struct {
		name    string
		chain   []*x509.Certificate
		cn      string
		want    []*x509.Certificate
		dropped int
		err     string
	}{
		{"cross-sign dropped", []*x509.Certificate{leaf, inter, cross}, "AAA Certificate Services", []*x509.Certificate{leaf, inter}, 1, ""},
		{"cross-sign and root dropped", []*x509.Certificate{leaf, inter, cross, aaa}, "aaa certificate services ", []*x509.Certificate{leaf, inter}, 2, ""},
		{"nothing matches", []*x509.Certificate{leaf, inter}, "AAA Certificate Services", []*x509.Certificate{leaf, inter}, 0, ""},
		{"the leaf's issuer", []*x509.Certificate{leaf, inter, cross}, "Sectigo RSA Domain Validation Secure Server CA", nil, 0, "issued the certificate itself"},
		{"empty name", []*x509.Certificate{leaf, inter}, " ", nil, 0, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := DropChainIssuer(pemOf(tc.chain...), tc.cn)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || n != tc.dropped || string(got) != string(pemOf(tc.want...)) {
				t.Fatalf("DropChainIssuer = %d dropped, err %v; chain equal %v", n, err, string(got) == string(pemOf(tc.want...)))
			}
		})
	}
}

// TestFinalizedOrderUnreachable: when the order cannot be fetched several
// times in a row after a lost finalize answer, the order is left in flight
// at once (the next run resumes it) instead of polling a dead CA until the
// deadline; finalize is still sent once.
func TestFinalizedOrderUnreachable(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)}}, issueLeaf(t, key.Public(), "a.example"))
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		m.mu.Lock()
		m.finalizes++
		m.mu.Unlock()
		problem(w, 503, "urn:ietf:params:acme:error:serverInternal", "overloaded")
	})
	f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		problem(w, 503, "urn:ietf:params:acme:error:serverInternal", "overloaded")
	})
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr})
	var inflight *OrderInFlightError
	if !errors.As(err, &inflight) {
		t.Fatalf("err = %v, want an OrderInFlightError", err)
	}
	if m.finalizeCount() != 1 || f.count("POST /order/1") > maxPollFailures*max5xxTries {
		t.Errorf("finalize sent %d times, order fetched %d times", m.finalizeCount(), f.count("POST /order/1"))
	}
}

// TestFinalizeReadyGrace: after a finalize with no answer, an order that
// stays "ready" is polled for ReadyGrace, not the whole issuance deadline;
// after a 5xx answer it is checked once. Either way it is left in flight
// with finalize sent once.
func TestFinalizeReadyGrace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		polls  func(n int) bool
	}{
		{"no answer", func(w http.ResponseWriter) { conn, _, _ := w.(http.Hijacker).Hijack(); conn.Close() }, func(n int) bool { return n > 2 }},
		{"500", func(w http.ResponseWriter) { problem(w, 500, "urn:ietf:params:acme:error:serverInternal", "oops") }, func(n int) bool { return n == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			c.Sleep = nil
			c.PollInterval, c.MaxPollInterval = 10*time.Millisecond, 50*time.Millisecond
			c.ReadyGrace, c.IssuanceTimeout = 300*time.Millisecond, time.Minute
			csr, _ := csrFor(t, "a.example")
			m := installMulti(f, []string{"a.example"}, []authzSpec{{name: "a.example", status: StatusValid, challenges: preValidated(f, 0)}}, nil)
			f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				m.mu.Lock()
				m.finalizes++
				m.mu.Unlock()
				tc.answer(w)
			})
			start := time.Now()
			_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr})
			var inflight *OrderInFlightError
			if !errors.As(err, &inflight) || inflight.Status != StatusReady {
				t.Fatalf("err = %v, want an OrderInFlightError (ready)", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: the ready order was polled to the issuance deadline", d)
			}
			if n := f.count("POST /order/1"); !tc.polls(n) || m.finalizeCount() != 1 {
				t.Errorf("order polled %d times, finalize sent %d times", n, m.finalizeCount())
			}
		})
	}
}

// TestOrderRetriedWithoutReplaces: a renewal order whose "replaces" the CA
// refuses — alreadyReplaced, or Sectigo's 400 malformed with an empty detail
// (win-acme/win-acme#2607) — is placed once more without it. A malformed
// answer to an order that carried no replaces (no renewalInfo in the
// directory, or none asked for) is not retried, nor is any other problem.
func TestOrderRetriedWithoutReplaces(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ari         bool   // the directory has renewalInfo
		replaces    string // ObtainRequest.Replaces
		problem     string // the CA's answer to a newOrder carrying replaces
		wantOrders  int
		wantSuccess bool
	}{
		{"malformed", true, "aaa.bbb", "malformed", 2, true},
		{"alreadyReplaced", true, "aaa.bbb", "alreadyReplaced", 2, true},
		{"rejectedIdentifier", true, "aaa.bbb", "rejectedIdentifier", 1, false},
		{"no replaces asked", true, "", "malformed", 1, true},
		{"no renewalInfo", false, "aaa.bbb", "malformed", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			if tc.ari {
				f.dirExtra = map[string]any{"renewalInfo": f.url("/ari")}
			}
			c, _ := fakeClient(t, f)
			csr, key := csrFor(t, "r.example")
			installMulti(f, []string{"r.example"}, []authzSpec{{name: "r.example", status: StatusValid, challenges: preValidated(f, 0)}},
				issueLeaf(t, key.Public(), "r.example"))
			var mu sync.Mutex
			var sent []bool // whether each newOrder carried replaces
			f.mu.Lock()
			created := f.handlers["/new-order"]
			f.mu.Unlock()
			f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, payload []byte) {
				has := strings.Contains(string(payload), `"replaces"`)
				mu.Lock()
				sent = append(sent, has)
				mu.Unlock()
				if has {
					problem(w, http.StatusBadRequest, "urn:ietf:params:acme:error:"+tc.problem, "")
					return
				}
				created(w, r, payload)
			})
			_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("r.example"), CSR: csr, Replaces: tc.replaces})
			if (err == nil) != tc.wantSuccess {
				t.Fatalf("Obtain: err = %v, want success %v", err, tc.wantSuccess)
			}
			if len(sent) != tc.wantOrders {
				t.Fatalf("newOrder requests = %d (carrying replaces: %v), want %d", len(sent), sent, tc.wantOrders)
			}
			if tc.wantOrders == 2 && (!sent[0] || sent[1]) {
				t.Errorf("replaces sent = %v, want [true false]", sent)
			}
		})
	}
}
