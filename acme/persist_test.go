package acme

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// persistSolver records PresentPersist calls; fail makes them fail.
type persistSolver struct {
	recordingSolver
	mu      sync.Mutex
	persist []string
	fail    error
}

func (s *persistSolver) PresentPersist(_ context.Context, domain string, wildcard bool, issuers []string, accountURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := ""
	if wildcard {
		w = " wildcard"
	}
	s.persist = append(s.persist, domain+w+" "+strings.Join(issuers, ",")+" "+accountURL)
	return s.fail
}

var _ PersistSolver = (*persistSolver)(nil)

func persistChallenge(f *fakeCA, issuers ...string) map[string]any {
	return map[string]any{"type": ChallengeDNSPersist01, "url": f.url("/chall/1"), "status": "pending", "issuer-domain-names": issuers}
}

func TestChallengeIssuerDomainNamesBothSpellings(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"draft-00/01 and Pebble", `{"type":"dns-persist-01","url":"u","status":"pending","issuer-domain-names":["a.example","b.example"]}`, "a.example,b.example"},
		{"draft-02", `{"type":"dns-persist-01","url":"u","status":"pending","issuerDomainNames":["c.example"]}`, "c.example"},
		{"both: the hyphenated one wins", `{"type":"dns-persist-01","issuer-domain-names":["a.example"],"issuerDomainNames":["c.example"]}`, "a.example"},
		{"none", `{"type":"http-01","url":"u","status":"pending","token":"t"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ch Challenge
			if err := json.Unmarshal([]byte(tc.body), &ch); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ch.IssuerDomainNames, ","); got != tc.want {
				t.Errorf("IssuerDomainNames = %q, want %q", got, tc.want)
			}
			if ch.Type == "" {
				t.Error("type lost")
			}
		})
	}
	var ch Challenge
	if err := json.Unmarshal([]byte(`{"type":"http-01","validated":"2026-01-02T03:04:05Z","error":{"type":"urn:ietf:params:acme:error:dns","detail":"x"}}`), &ch); err != nil {
		t.Fatal(err)
	}
	if ch.Validated.Year() != 2026 || ch.Error == nil || ch.Error.Detail != "x" {
		t.Errorf("other fields lost: %+v", ch)
	}
}

func TestDirectoryPersistIssuerDomainNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta DirectoryMeta
		want []string
	}{
		{"caaIdentities only (Pebble)", DirectoryMeta{CAAIdentities: []string{"pebble.letsencrypt.org"}}, []string{"pebble.letsencrypt.org"}},
		{"issuerDomainNames wins (draft-02)", DirectoryMeta{CAAIdentities: []string{"a.example", "b.example"}, IssuerDomainNames: []string{"b.example"}}, []string{"b.example"}},
		{"neither", DirectoryMeta{}, nil},
	} {
		if got := tc.meta.PersistIssuerDomainNames(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: PersistIssuerDomainNames() = %q, want %q", tc.name, got, tc.want)
		}
	}
	f := newFakeCA(t)
	f.dirExtra = map[string]any{"meta": map[string]any{"caaIdentities": []string{"ca.example"}, "issuerDomainNames": []string{"persist.ca.example"}}}
	c, _ := fakeClient(t, f)
	dir, err := c.Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := dir.Meta.PersistIssuerDomainNames(); !slices.Equal(got, []string{"persist.ca.example"}) || !slices.Equal(dir.Meta.CAAIdentities, []string{"ca.example"}) {
		t.Errorf("directory meta: caaIdentities %q, persist names %q", dir.Meta.CAAIdentities, got)
	}
}

// TestObtainDNSPersist: a wildcard authorization offering dns-01 and
// dns-persist-01 (no token) is answered by the PersistSolver with the base
// name, the wildcard flag, the challenge's issuer names and the account URL
// — also from a CA that writes the wildcard into the identifier instead of
// setting "wildcard" (the lenient rule of pickChallenge).
func TestObtainDNSPersist(t *testing.T) {
	for _, tc := range []struct {
		name, ident string
		wildcard    bool
	}{{"wildcard flag", "a.example", true}, {"star in the identifier", "*.a.example", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t)
			c, _ := fakeClient(t, f)
			csr, key := csrFor(t, "*.a.example")
			o := installOrder(f, "*.a.example", []map[string]any{
				{"type": "dns-01", "url": f.url("/chall/2"), "status": "pending", "token": "tok"},
				persistChallenge(f, "ca.example", "other.example"),
			}, issueLeaf(t, key.Public(), "*.a.example"))
			o.authz["identifier"] = map[string]string{"type": "dns", "value": tc.ident}
			o.authz["wildcard"] = tc.wildcard
			s := &persistSolver{}
			if _, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("*.a.example"), CSR: csr,
				Solvers: map[string]Solver{ChallengeDNSPersist01: s}, Preference: []string{ChallengeDNSPersist01}}); err != nil {
				t.Fatalf("Obtain: %v", err)
			}
			if got, want := strings.Join(s.persist, "|"), "a.example wildcard ca.example,other.example "+c.AccountURL; got != want {
				t.Errorf("PresentPersist calls %q, want %q", got, want)
			}
			if got, want := strings.Join(s.Calls(), "|"), "cleanup "+tc.ident+" "; got != want {
				t.Errorf("Present/CleanUp calls %q, want %q (Present never, CleanUp once)", got, want)
			}
			if n := f.count("POST /chall/1"); n != 1 {
				t.Errorf("dns-persist-01 challenge answered %d times, want 1", n)
			}
		})
	}
}

// TestDNSPersistCheckFailsBeforeTheCA: a failing check of any name stops the
// order before any challenge is answered or any other solver presents, and
// every failing name is reported.
func TestDNSPersistCheckFailsBeforeTheCA(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, _ := csrFor(t, "a.example")
	installOrder(f, "a.example", []map[string]any{persistChallenge(f, "ca.example")}, nil)
	errRecord := errors.New("create TXT _validation-persist.a.example")
	s := &persistSolver{fail: errRecord}
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr,
		Solvers: map[string]Solver{ChallengeDNSPersist01: s}})
	var ae *AuthorizationError
	if !errors.As(err, &ae) || !errors.Is(err, errRecord) || !ae.Local {
		t.Fatalf("err = %v, want a Local AuthorizationError wrapping the solver's error", err)
	}
	if n := f.count("POST /chall/1"); n != 0 {
		t.Errorf("the CA was asked to validate %d times after a failed check", n)
	}
	if got := strings.Join(s.Calls(), "|"); got != "cleanup a.example " {
		t.Errorf("CleanUp calls %q", got)
	}
}

// TestDNSPersistNeedsPersistSolver: a plain Solver registered for
// dns-persist-01 is a programming error, reported before anything is sent.
func TestDNSPersistNeedsPersistSolver(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, _ := csrFor(t, "a.example")
	installOrder(f, "a.example", []map[string]any{persistChallenge(f, "ca.example")}, nil)
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("a.example"), CSR: csr,
		Solvers: map[string]Solver{ChallengeDNSPersist01: &recordingSolver{}}})
	if err == nil || !strings.Contains(err.Error(), "PersistSolver") || f.count("POST /chall/1") != 0 {
		t.Fatalf("err = %v (challenge posts %d)", err, f.count("POST /chall/1"))
	}
}

// TestWildcardNoSolverNamesDNSPersist: a wildcard offered dns-persist-01
// without a solver for it says so.
func TestWildcardNoSolverNamesDNSPersist(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	csr, _ := csrFor(t, "*.a.example")
	o := installOrder(f, "*.a.example", []map[string]any{persistChallenge(f, "ca.example")}, nil)
	o.authz["identifier"] = map[string]string{"type": "dns", "value": "a.example"}
	o.authz["wildcard"] = true
	_, err := c.Obtain(t.Context(), ObtainRequest{Identifiers: DNSIdentifiers("*.a.example"), CSR: csr,
		Solvers: map[string]Solver{"http-01": &recordingSolver{}}})
	var ns *NoSolverError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), "dns-01 or dns-persist-01") || !strings.Contains(err.Error(), "*.a.example") {
		t.Fatalf("err = %v", err)
	}
}
