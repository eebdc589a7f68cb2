package acme

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func httpChallenge(f *fakeCA, typ, token string) map[string]any {
	return map[string]any{"type": typ, "url": f.url("/chall/1"), "status": "pending", "token": token}
}

func TestObtainHappyPathAndCleanup(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	o := installOrder(f, "a.example", []map[string]any{httpChallenge(f, "http-01", "tok_1")}, issueLeaf(t, key.Public(), "a.example"))
	s := &recordingSolver{}
	cert, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}})
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if got, want := strings.Join(s.Calls(), "|"), "present a.example tok_1|cleanup a.example tok_1"; got != want {
		t.Errorf("solver calls = %q, want %q", got, want)
	}
	if o.finalizeHits != 1 || len(cert.PEM) == 0 {
		t.Errorf("finalize hits = %d, cert %d bytes", o.finalizeHits, len(cert.PEM))
	}
}

// TestMakeCSRAtFinalize: with MakeCSR the CSR is asked for only once the
// authorizations are done (the key is generated meanwhile), once; its error
// stops the issuance before finalize.
func TestMakeCSRAtFinalize(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	o := installOrder(f, "a.example", []map[string]any{httpChallenge(f, "http-01", "tok_1")}, issueLeaf(t, key.Public(), "a.example"))
	s := &recordingSolver{}
	calls := 0
	cert, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), Solvers: map[string]Solver{"http-01": s},
		MakeCSR: func(context.Context) ([]byte, error) {
			calls++
			if got := strings.Join(s.Calls(), "|"); got != "present a.example tok_1|cleanup a.example tok_1" {
				t.Errorf("CSR asked for before the authorization was done (solver calls %q)", got)
			}
			return csr, nil
		}})
	if err != nil || calls != 1 || o.finalizeHits != 1 || len(cert.PEM) == 0 {
		t.Fatalf("Obtain: %v; MakeCSR calls %d, finalize hits %d", err, calls, o.finalizeHits)
	}

	f2 := newFakeCA(t)
	c2, _ := fakeClient(t, f2)
	o2 := installOrder(f2, "a.example", []map[string]any{httpChallenge(f2, "http-01", "tok_1")}, issueLeaf(t, key.Public(), "a.example"))
	_, err = c2.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), Solvers: map[string]Solver{"http-01": &recordingSolver{}},
		MakeCSR: func(context.Context) ([]byte, error) { return nil, errors.New("no entropy") }})
	if err == nil || !strings.Contains(err.Error(), "no entropy") || o2.finalizeHits != 0 {
		t.Errorf("MakeCSR failure: err %v, finalize hits %d", err, o2.finalizeHits)
	}
}

func TestValidAuthorizationNeverReachesSolver(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	// Sectigo style: already valid with a non-standard challenge.
	o := installOrder(f, "a.example", []map[string]any{{"type": "sectigo-email-01", "url": f.url("/chall/9"), "status": "valid"}}, issueLeaf(t, key.Public(), "a.example"))
	o.set(&o.authzStatus, StatusValid)
	o.set(&o.orderStatus, StatusReady)
	s := &recordingSolver{fail: errors.New("must not be called")}
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("solver was called: %v", calls)
	}
	if n := f.count("POST /chall/9"); n != 0 {
		t.Errorf("the valid challenge was answered %d times", n)
	}
}

func TestUnknownChallengeTypesIgnored(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	installOrder(f, "a.example", []map[string]any{
		{"type": "sectigo-email-01", "url": f.url("/chall/9"), "status": "pending"},
		httpChallenge(f, "http-01", "tok"),
	}, issueLeaf(t, key.Public(), "a.example"))
	s := &recordingSolver{}
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}

	// Only an unknown type on offer: a clear error naming what was offered.
	f2 := newFakeCA(t)
	c2, _ := fakeClient(t, f2)
	installOrder(f2, "a.example", []map[string]any{{"type": "sectigo-email-01", "url": f2.url("/chall/9"), "status": "pending"}}, nil)
	_, err := c2.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}})
	var ae *AuthorizationError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "sectigo-email-01") || !strings.Contains(err.Error(), "http-01") {
		t.Fatalf("err = %v, want an AuthorizationError naming offered and configured types", err)
	}
}

func TestRetryAfterOnProcessingOrder(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"http-date", time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, sl := fakeClient(t, f)
			csr, key := csrFor(t, "a.example")
			o := installOrder(f, "a.example", nil, issueLeaf(t, key.Public(), "a.example"))
			o.set(&o.authzStatus, StatusValid)
			o.set(&o.orderStatus, StatusReady)
			polls := 0
			f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				o.set(&o.orderStatus, StatusProcessing)
				w.Header().Set("Retry-After", tc.header)
				writeJSON(w, 200, map[string]any{"status": "processing", "identifiers": []any{map[string]string{"type": "dns", "value": "a.example"}},
					"authorizations": []string{f.url("/authz/1")}, "finalize": f.url("/order/1/finalize")})
			})
			f.handle("/order/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
				polls++
				m := map[string]any{"status": "valid", "identifiers": []any{map[string]string{"type": "dns", "value": "a.example"}},
					"authorizations": []string{f.url("/authz/1")}, "finalize": f.url("/order/1/finalize"), "certificate": f.url("/cert/1")}
				writeJSON(w, 200, m)
			})
			if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr}); err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			waits := sl.all()
			if len(waits) != 1 || polls != 1 {
				t.Fatalf("waits = %v, polls = %d; want one wait then one poll", waits, polls)
			}
			if d := waits[0] - tc.want; d < -2*time.Second || d > time.Second {
				t.Errorf("waited %v, want about %v", waits[0], tc.want)
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	f := newFakeCA(t)
	c, sl := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	installOrder(f, "a.example", []map[string]any{httpChallenge(f, "http-01", "tok")}, issueLeaf(t, key.Public(), "a.example"))
	hits := 0
	orig := f.handlers["/new-order"]
	f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, p []byte) {
		hits++
		if hits == 1 {
			w.Header().Set("Retry-After", "2")
			problem(w, 503, "urn:ietf:params:acme:error:serverInternal", "try again")
			return
		}
		orig(w, r, p)
	})
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": &recordingSolver{}}}); err != nil {
		t.Fatalf("Obtain after one 503: %v", err)
	}
	if hits != 2 {
		t.Errorf("newOrder hits = %d, want 2", hits)
	}
	if w := sl.all(); len(w) == 0 || w[0] != 2*time.Second {
		t.Errorf("waits = %v, want the Retry-After of 2s first", w)
	}
}

func TestRateLimitedSaysWhenToRetry(t *testing.T) {
	f := newFakeCA(t)
	c, sl := fakeClient(t, f)
	f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "3600")
		problem(w, 429, "urn:ietf:params:acme:error:rateLimited", "too many certificates")
	})
	_, err := c.NewOrder(t.Context(), OrderRequest{Identifiers: DNSIdentifiers("a.example")})
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *RateLimitError", err)
	}
	if d := time.Until(rl.RetryAt); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("RetryAt in %v, want about 1h", d)
	}
	if !IsProblem(err, ProblemRateLimited) || !strings.Contains(err.Error(), "retry after") {
		t.Errorf("err = %v: want the problem and when to retry", err)
	}
	if n := f.count("POST /new-order"); n != 1 || len(sl.all()) != 0 {
		t.Errorf("newOrder sent %d times, waits %v; want 1 and no sleep", n, sl.all())
	}
}

func TestBadNonceResignsWithErrorNonce(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	hits := 0
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		hits++
		if hits <= 2 {
			problem(w, 400, "urn:ietf:params:acme:error:badNonce", "stale")
			return
		}
		writeJSON(w, 200, map[string]any{"status": "valid"})
	})
	if _, err := c.GetAccount(t.Context()); err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	// One HEAD for the first nonce; the retries use the nonces from the error responses.
	if n := f.count("HEAD /nonce"); n != 1 {
		t.Errorf("HEAD newNonce %d times, want 1", n)
	}
	if hits != 3 {
		t.Errorf("hits = %d, want 3", hits)
	}

	// A storm gives up after a bounded number of attempts.
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		problem(w, 400, "urn:ietf:params:acme:error:badNonce", "stale")
	})
	before := f.count("POST /acct/1")
	_, err := c.GetAccount(t.Context())
	if !IsProblem(err, ProblemBadNonce) {
		t.Fatalf("err = %v, want badNonce", err)
	}
	if n := f.count("POST /acct/1") - before; n != maxNonceTries {
		t.Errorf("attempts = %d, want %d", n, maxNonceTries)
	}
}

func TestFinalizeDroppedConnectionPollsInsteadOfRefinalizing(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example")
	o := installOrder(f, "a.example", nil, issueLeaf(t, key.Public(), "a.example"))
	o.set(&o.authzStatus, StatusValid)
	o.set(&o.orderStatus, StatusReady)
	finalizes := 0
	f.handle("/order/1/finalize", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		finalizes++
		o.set(&o.orderStatus, StatusValid) // the CA acted...
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, _, _ := hj.Hijack()
		conn.Close() // ...and the response was lost.
	})
	cert, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr})
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if finalizes != 1 {
		t.Errorf("finalize sent %d times, want 1", finalizes)
	}
	if len(cert.PEM) == 0 || f.count("POST /order/1") == 0 {
		t.Errorf("expected the order to be polled and the certificate downloaded")
	}
	// Still "ready" after the drop: TestFinalizeLostAnswerPollsUntilValid.
}

func TestOversizedBodyRejected(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"status":"valid","junk":"`)
		bw.WriteString(strings.Repeat("x", 2<<20))
		bw.WriteString(`"}`)
		bw.Flush()
	})
	_, err := c.GetAccount(t.Context())
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want an oversized-body refusal", err)
	}
}

func TestProblemRendersEverySubproblem(t *testing.T) {
	body := `{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Some identifiers were rejected","status":400,
	"subproblems":[{"type":"urn:ietf:params:acme:error:malformed","detail":"bad name","identifier":{"type":"dns","value":"z.example"}},
	{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids","identifier":{"type":"dns","value":"a.example"}}]}`
	p := parseProblem(400, []byte(body))
	got := p.Error()
	for _, want := range []string{"rejectedIdentifier", "Some identifiers were rejected", "a.example: caa: CAA forbids", "z.example: malformed: bad name"} {
		if !strings.Contains(got, want) {
			t.Errorf("Error() = %q, missing %q", got, want)
		}
	}
	if strings.Index(got, "a.example") > strings.Index(got, "z.example") {
		t.Errorf("subproblems not sorted: %q", got)
	}
	var target *Problem
	if err := fmt.Errorf("wrapped: %w", p); !errors.As(err, &target) || len(target.Subproblems) != 2 {
		t.Errorf("errors.As through wrapping failed")
	}
	// Not a problem document: still a *Problem with the status and an excerpt.
	if p := parseProblem(502, []byte("<html>Bad Gateway</html>")); p.Status != 502 || !strings.Contains(p.Error(), "Bad Gateway") {
		t.Errorf("non-JSON body = %v", p)
	}
}

func TestHostileCA(t *testing.T) {
	csr, key := csrFor(t, "a.example")
	tests := []struct {
		name  string
		setup func(f *fakeCA, o *orderFlow)
		want  string
	}{
		{"token with slash", func(f *fakeCA, o *orderFlow) {
			o.authz["challenges"] = []map[string]any{httpChallenge(f, "http-01", "../../etc/passwd")}
		}, "not base64url"},
		{"token with NUL", func(f *fakeCA, o *orderFlow) {
			o.authz["challenges"] = []map[string]any{httpChallenge(f, "http-01", "ab\x00cd")}
		}, "not base64url"},
		{"authorization for another name", func(f *fakeCA, o *orderFlow) {
			o.authz["identifier"] = map[string]string{"type": "dns", "value": "evil.example"}
		}, "not requested"},
		{"certificate for another key", func(f *fakeCA, o *orderFlow) {
			o.certPEM = issueLeaf(t, testKey(t).Public(), "a.example")
		}, "not for the requested key"},
		{"certificate for other names", func(f *fakeCA, o *orderFlow) {
			o.certPEM = issueLeaf(t, key.Public(), "a.example", "evil.example")
		}, "not requested"},
		{"chain of 10000 certificates", func(f *fakeCA, o *orderFlow) {
			one := issueLeaf(t, key.Public(), "a.example")
			o.certPEM = []byte(strings.Repeat(string(one), 5000))
		}, "refused"},
		{"truncated chain", func(f *fakeCA, o *orderFlow) {
			full := issueLeaf(t, key.Public(), "a.example")
			o.certPEM = full[:len(full)-40]
		}, "not PEM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			o := installOrder(f, "a.example", []map[string]any{httpChallenge(f, "http-01", "tok")}, issueLeaf(t, key.Public(), "a.example"))
			tc.setup(f, o)
			s := &recordingSolver{}
			_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			for _, call := range s.Calls() {
				if strings.Contains(call, "..") || strings.Contains(call, "\x00") {
					t.Errorf("a hostile token reached the solver: %q", call)
				}
			}
		})
	}
}

func TestSolverFailureCleansUp(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, _ := csrFor(t, "a.example")
	installOrder(f, "a.example", []map[string]any{httpChallenge(f, "http-01", "tok")}, nil)
	s := &recordingSolver{fail: errors.New("port 80 is taken")}
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr, Solvers: map[string]Solver{"http-01": s}})
	if err == nil || !strings.Contains(err.Error(), "port 80 is taken") {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(s.Calls(), "|"); got != "present a.example tok|cleanup a.example tok" {
		t.Errorf("calls = %q, want present then cleanup", got)
	}
	if f.count("POST /chall/1") != 0 {
		t.Error("the CA was told although presenting failed")
	}
}

func TestRegisterEAB(t *testing.T) {
	f := newFakeCA(t)
	f.dirExtra = map[string]any{"meta": map[string]any{"externalAccountRequired": true}}
	var got map[string]json.RawMessage
	f.handle("/new-acct", func(w http.ResponseWriter, r *http.Request, p []byte) {
		json.Unmarshal(p, &got)
		w.Header().Set("Location", f.url("/acct/7"))
		writeJSON(w, 201, map[string]any{"status": "valid"})
	})
	c := &Client{DirectoryURL: f.url("/"), HTTPClient: f.srv.Client(), Key: testKey(t)}
	if _, err := c.Register(t.Context(), AccountRequest{}); !errors.Is(err, ErrEABRequired) {
		t.Fatalf("no EAB: err = %v", err)
	}
	if n := f.count("POST /new-acct"); n != 0 {
		t.Fatalf("newAccount sent %d times without EAB", n)
	}
	short, _ := DecodeHMACKey("HjudV5qnbreN-n9WyFSH-t4HXuEx_XFen45zuxY-G1h6fr74V3cUM_dVlwQZBWmc") // 48 bytes
	if _, err := c.Register(t.Context(), AccountRequest{EAB: &ExternalAccountBinding{KeyID: "k", HMACKey: short, Algorithm: "HS512"}}); err == nil || !strings.Contains(err.Error(), "at least 64") {
		t.Errorf("HS512 with a 48-byte key: err = %v", err)
	}
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		// 64 bytes, as Sectigo hands out (86 base64url characters).
		key, _ := DecodeHMACKey(strings.Repeat("HjudV5qnbreN-n9WyFSH-t4HXuEx_XFen45zuxY-G1h6fr74V3cUM_dVlwQZBWmc", 2)[:86])
		eab := &ExternalAccountBinding{KeyID: "kid-3", HMACKey: key, Algorithm: alg}
		if _, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true, EAB: eab}); err != nil {
			t.Fatalf("Register %s: %v", alg, err)
		}
		var inner struct{ Protected string }
		json.Unmarshal(got["externalAccountBinding"], &inner)
		hdr, _ := base64.RawURLEncoding.DecodeString(inner.Protected)
		if !strings.Contains(string(hdr), `"alg":"`+alg+`"`) || !strings.Contains(string(hdr), `"kid":"kid-3"`) {
			t.Errorf("EAB protected header = %s", hdr)
		}
		if c.AccountURL != f.url("/acct/7") {
			t.Errorf("AccountURL = %q", c.AccountURL)
		}
		for _, s := range []string{eab.String(), fmt.Sprintf("%v %+v %#v", eab, eab, eab)} {
			if strings.Contains(s, "HjudV5") || strings.Contains(s, string(key[:8])) {
				t.Errorf("EAB formatting leaks the key: %s", s)
			}
		}
	}
}

func TestDecodeHMACKey(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04}
	for _, enc := range []string{
		base64.RawURLEncoding.EncodeToString(raw), base64.URLEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw),
		" " + base64.RawURLEncoding.EncodeToString(raw) + "\n",
	} {
		got, err := DecodeHMACKey(enc)
		if err != nil || string(got) != string(raw) {
			t.Errorf("DecodeHMACKey(%q) = %x, %v; want %x", enc, got, err, raw)
		}
	}
	for _, bad := range []string{"", "not base64!", "a"} {
		if _, err := DecodeHMACKey(bad); err == nil {
			t.Errorf("DecodeHMACKey(%q) succeeded", bad)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-3", 0, true},
		{"Sat, 28 Nov 2026 12:01:00 GMT", time.Minute, true},
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0, true},
		{"Saturday, 28-Nov-26 12:00:30 GMT", 30 * time.Second, true},
		{"soon", 0, false},
		{"99999999999999", 365 * 24 * time.Hour, true},
	}
	for _, tc := range tests {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestParseLinks(t *testing.T) {
	tests := []struct {
		in   []string
		rel  string
		want string
	}{
		{[]string{`<https://ca/cert/1/1>;rel="alternate"`}, "alternate", "https://ca/cert/1/1"},
		{[]string{`<https://ca/dir>;rel="index", <https://ca/alt/1>; rel="alternate", <https://ca/alt/2>; rel=alternate`}, "alternate", "https://ca/alt/1 https://ca/alt/2"},
		{[]string{`<https://ca/a>;rel="up"`, `<https://ca/b>;rel="alternate"`}, "up", "https://ca/a"},
		{[]string{`<https://ca/a;x>; title="a, b"; rel="alternate"`}, "alternate", "https://ca/a;x"},
		{[]string{`garbage, <broken`}, "alternate", ""},
	}
	for _, tc := range tests {
		if got := strings.Join(ParseLinks(tc.in, tc.rel), " "); got != tc.want {
			t.Errorf("ParseLinks(%q, %q) = %q, want %q", tc.in, tc.rel, got, tc.want)
		}
	}
}

func TestARICertIDMatchesRFC9773Example(t *testing.T) {
	// RFC 9773 §4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
	aki := []byte{0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4}
	got, err := ARICertID(&x509.Certificate{AuthorityKeyId: aki, SerialNumber: big.NewInt(0x87654321)})
	if want := "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"; got != want || err != nil {
		t.Errorf("ARICertID = %q, %v; want %q", got, err, want)
	}
	if _, err := ARICertID(&x509.Certificate{SerialNumber: big.NewInt(1)}); err == nil {
		t.Error("ARICertID without AKI succeeded")
	}
}

func TestRenewalInfo(t *testing.T) {
	f := newFakeCA(t)
	f.dirExtra = map[string]any{"renewalInfo": f.url("/ari")}
	c, _ := fakeClient(t, f)
	cert := &x509.Certificate{AuthorityKeyId: []byte{1, 2, 3}, SerialNumber: big.NewInt(0x87654321)}
	id, _ := ARICertID(cert)
	f.handle("/ari/"+id, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "21600")
		writeJSON(w, 200, map[string]any{"suggestedWindow": map[string]string{"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}, "explanationURL": "https://ca/why"})
	})
	ri, err := c.RenewalInfo(t.Context(), cert)
	if err != nil {
		t.Fatalf("RenewalInfo: %v", err)
	}
	if ri.Start.Day() != 1 || ri.End.Day() != 2 || ri.RetryAfter != 6*time.Hour || ri.ExplanationURL != "https://ca/why" {
		t.Errorf("RenewalInfo = %+v", ri)
	}
	f.handle("/ari/"+id, func(w http.ResponseWriter, r *http.Request, _ []byte) { w.Write([]byte("{not json")) })
	if _, err := (&Client{DirectoryURL: f.url("/"), HTTPClient: f.srv.Client()}).RenewalInfo(t.Context(), cert); err == nil {
		t.Error("malformed ARI accepted")
	}
	f.dirExtra = nil
	if _, err := (&Client{DirectoryURL: f.url("/"), HTTPClient: f.srv.Client()}).RenewalInfo(t.Context(), cert); !errors.Is(err, ErrNoARI) {
		t.Errorf("err = %v, want ErrNoARI", err)
	}
}

func TestShortRateLimitIsWaitedOut(t *testing.T) {
	f := newFakeCA(t)
	c, sl := fakeClient(t, f)
	hits := 0
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		hits++
		if hits == 1 {
			w.Header().Set("Retry-After", "3")
			problem(w, 429, "urn:ietf:params:acme:error:rateLimited", "slow down")
			return
		}
		writeJSON(w, 200, map[string]any{"status": "valid"})
	})
	if _, err := c.GetAccount(t.Context()); err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if w := sl.all(); hits != 2 || len(w) != 1 || w[0] != 3*time.Second {
		t.Errorf("hits = %d, waits = %v; want 2 and [3s]", hits, w)
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	other := newFakeCA(t)
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, other.url("/acct/1"), http.StatusTemporaryRedirect)
	})
	other.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, map[string]any{"status": "valid"})
	})
	_, err := c.GetAccount(t.Context())
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if n := other.count("POST /acct/1"); n != 0 {
		t.Errorf("the other host got %d signed requests", n)
	}
	if n := f.count("POST /acct/1"); n != 1 {
		t.Errorf("the redirecting request was sent %d times, want 1", n)
	}
}

// seqSolver fails if asked to hold two challenges at once.
type seqSolver struct {
	recordingSolver
	live, maxLive int
}

func (s *seqSolver) Sequential() (bool, time.Duration) { return true, time.Millisecond }

func (s *seqSolver) Present(ctx context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	s.live++
	s.maxLive = max(s.maxLive, s.live)
	s.mu.Unlock()
	return s.recordingSolver.Present(ctx, domain, token, keyAuth)
}

func (s *seqSolver) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	s.live--
	s.mu.Unlock()
	return s.recordingSolver.CleanUp(ctx, domain, token, keyAuth)
}

func TestSequentialSolverHoldsOneChallengeAtATime(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, key := csrFor(t, "a.example", "*.a.example")
	var mu sync.Mutex
	status := map[string]string{"1": StatusPending, "2": StatusPending}
	authz := func(n, name string, wildcard bool) {
		f.handle("/authz/"+n, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			mu.Lock()
			defer mu.Unlock()
			writeJSON(w, 200, map[string]any{"identifier": map[string]string{"type": "dns", "value": name}, "status": status[n], "wildcard": wildcard,
				"challenges": []map[string]any{{"type": "dns-01", "url": f.url("/chall/" + n), "status": "pending", "token": "tok" + n}}})
		})
		f.handle("/chall/"+n, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			mu.Lock()
			status[n] = StatusValid
			mu.Unlock()
			writeJSON(w, 200, map[string]any{"status": "processing"})
		})
	}
	authz("1", "a.example", false)
	authz("2", "a.example", true)
	order := func(st string) map[string]any {
		m := map[string]any{"status": st, "identifiers": []map[string]string{{"type": "dns", "value": "a.example"}, {"type": "dns", "value": "*.a.example"}},
			"authorizations": []string{f.url("/authz/1"), f.url("/authz/2")}, "finalize": f.url("/fin")}
		if st == StatusValid {
			m["certificate"] = f.url("/cert")
		}
		return m
	}
	f.handle("/new-order", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Location", f.url("/order"))
		writeJSON(w, 201, order(StatusPending))
	})
	f.handle("/fin", func(w http.ResponseWriter, r *http.Request, _ []byte) { writeJSON(w, 200, order(StatusValid)) })
	f.handle("/cert", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Write(issueLeaf(t, key.Public(), "a.example", "*.a.example"))
	})
	s := &seqSolver{}
	if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example", "*.a.example"), CSR: csr, Solvers: map[string]Solver{"dns-01": s}}); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if s.maxLive != 1 || len(s.Calls()) != 4 {
		t.Errorf("max live challenges = %d, calls %v; want 1 at a time, 4 calls", s.maxLive, s.Calls())
	}
}
