package e2etest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dnspersist"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// publish sets the TXT values of a record name at challtestsrv (replacing
// what was there).
func publish(t *testing.T, s *pebbletest.Server, name string, values ...string) {
	t.Helper()
	s.ChallSrv(t, "clear-txt", map[string]string{"host": name + "."})
	for _, v := range values {
		s.ChallSrv(t, "set-txt", map[string]string{"host": name + ".", "value": v})
	}
}

func persistSolver(s *pebbletest.Server) *dnspersist.Solver {
	return &dnspersist.Solver{Resolver: &dnspersist.Resolver{Servers: []string{s.DNSAddr}, Direct: true, Timeout: 5 * time.Second}}
}

// TestE2EDNSPersist: the records composed from the directory's names (before
// any order) let Pebble issue for a name and its wildcard with no DNS change
// at issuance, twice; a wrong record fails before Pebble validates.
func TestE2EDNSPersist(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)
	dir, err := c.Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	issuers := dir.Meta.PersistIssuerDomainNames()
	if len(issuers) == 0 {
		t.Fatal("Pebble's directory names no caaIdentities")
	}
	names := []string{"p.example", "*.p.example"}
	recs, err := dnspersist.Records(dnspersist.Request{AccountURL: c.AccountURL, IssuerDomainNames: issuers, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Name != "_validation-persist.p.example" || !strings.HasSuffix(recs[0].Value, "; policy=wildcard") {
		t.Fatalf("records %+v", recs)
	}
	publish(t, s, recs[0].Name, recs[0].Value)
	sol := persistSolver(s)
	solvers := map[string]acme.Solver{acme.ChallengeDNSPersist01: sol}
	mustObtain(t, s, c, names, solvers, acme.ChallengeDNSPersist01)
	mustObtain(t, s, c, names, solvers, acme.ChallengeDNSPersist01) // renewal: nothing changed in DNS

	t.Run("lazy solver", func(t *testing.T) {
		var asked []string
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		_, err := c.Obtain(ctx, acme.ObtainRequest{Identifiers: identifiers(names), CSR: csrFor(t, names), Preference: []string{acme.ChallengeDNSPersist01},
			SolverFor: func(_ context.Context, typ string, id acme.Identifier, wildcard bool) (acme.Solver, error) {
				asked = append(asked, fmt.Sprintf("%s %s %v", typ, id.Value, wildcard))
				return sol, nil
			}})
		if err != nil || len(asked) != 2 {
			t.Fatalf("Obtain: %v; asked %q", err, asked)
		}
	})

	t.Run("wrong record fails before validation", func(t *testing.T) {
		publish(t, s, "_validation-persist.q.example", strings.Replace(recs[0].Value, "; policy=wildcard", "", 1))
		_, err := obtain(t, c, []string{"q.example", "*.q.example"}, solvers, acme.ChallengeDNSPersist01)
		var re *dnspersist.RecordError
		if !errors.As(err, &re) || re.Verdict.Status != dnspersist.StatusNoWildcardPolicy {
			t.Fatalf("err = %v, want a RecordError no-wildcard-policy", err)
		}
		wantErr(t, err, "*.q.example", "policy=wildcard", `TXT _validation-persist.q.example "`+issuers[0]+"; accounturi="+c.AccountURL+`; policy=wildcard"`)
		// Pebble was not asked: the wildcard's authorization is still pending.
		var ae *acme.AuthorizationError
		if !errors.As(err, &ae) {
			t.Fatal("not an AuthorizationError")
		}
		a, gerr := c.GetAuthorization(t.Context(), ae.URL)
		if gerr != nil || a.Status != acme.StatusPending {
			t.Errorf("authorization %s: %v %v, want pending", ae.URL, a, gerr)
		}
	})
}

// noCheck answers dns-persist-01 without looking, so that Pebble decides.
type noCheck struct{}

func (noCheck) Present(context.Context, string, string, string) error { return nil }
func (noCheck) CleanUp(context.Context, string, string, string) error { return nil }
func (noCheck) PresentPersist(context.Context, string, bool, []string, string) error {
	return nil
}

// TestE2EDNSPersistMatchesPebble replays records against Pebble itself and
// against dnspersist.CheckName, reading the same DNS server: both must
// decide alike (accepted, malformed, unauthorized) for each.
func TestE2EDNSPersistMatchesPebble(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	c := newClient(t, s)
	otherAcct := newClient(t, s).AccountURL
	dir, err := c.Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	is := dir.Meta.PersistIssuerDomainNames()[0]
	me := c.AccountURL
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	future := strconv.FormatInt(time.Now().Add(400*24*time.Hour).Unix(), 10)
	for i, tc := range []struct {
		name     string
		wildcard bool
		records  []string
		want     dnspersist.Status
	}{
		{"valid", false, []string{is + "; accounturi=" + me}, dnspersist.StatusOK},
		{"valid wildcard, blanks and case", true, []string{"  " + is + " ;AccountURI = " + me + " ; POLICY=WildCard ; persistUntil=" + future + "; x-new=1"}, dnspersist.StatusOK},
		{"malformed and valid", false, []string{is + "; accounturi=" + me + "; a=1; A=2", is + "; accounturi=" + me}, dnspersist.StatusOK},
		{"no record", false, nil, dnspersist.StatusMissing},
		{"other issuer", false, []string{"other.example; accounturi=" + me}, dnspersist.StatusMissing},
		{"issuer in capitals", false, []string{strings.ToUpper(is) + "; accounturi=" + me}, dnspersist.StatusMissing},
		{"another account", false, []string{is + "; accounturi=" + otherAcct}, dnspersist.StatusWrongAccount},
		{"wildcard without policy", true, []string{is + "; accounturi=" + me}, dnspersist.StatusNoWildcardPolicy},
		{"wildcard, other policy", true, []string{is + "; accounturi=" + me + "; policy=subdomains"}, dnspersist.StatusNoWildcardPolicy},
		{"expired", false, []string{is + "; accounturi=" + me + "; persistUntil=" + past}, dnspersist.StatusExpired},
		{"duplicate tag", false, []string{is + "; accounturi=" + me + "; persistuntil=1; persistUntil=2"}, dnspersist.StatusMalformed},
		{"no accounturi", false, []string{is + "; policy=wildcard"}, dnspersist.StatusMalformed},
		{"trailing semicolon", false, []string{is + "; accounturi=" + me + ";"}, dnspersist.StatusMalformed},
		{"bad persistUntil", false, []string{is + "; accounturi=" + me + "; persistUntil=2027-01-01"}, dnspersist.StatusMalformed},
		{"blank in value", false, []string{is + "; accounturi=" + me + "; policy=wild card"}, dnspersist.StatusMalformed},
		{"malformed beats another account", false, []string{is + "; accounturi=" + otherAcct, is + "; accounturi=" + me + "; =x"}, dnspersist.StatusMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := fmt.Sprintf("c%d.persist.example", i)
			name := base
			if tc.wildcard {
				name = "*." + base
			}
			publish(t, s, "_validation-persist."+base, tc.records...)
			v := dnspersist.CheckName(t.Context(), persistSolver(s).Resolver, name, dnspersist.Expect{IssuerDomainNames: []string{is}, AccountURL: me})
			if v.Status != tc.want {
				t.Errorf("CheckName = %s (%s), want %s", v.Status, v.Reason, tc.want)
			}
			_, err := obtain(t, c, []string{name}, map[string]acme.Solver{acme.ChallengeDNSPersist01: noCheck{}}, acme.ChallengeDNSPersist01)
			var p *acme.Problem
			switch {
			case tc.want == dnspersist.StatusOK:
				if err != nil {
					t.Errorf("Pebble refused what the check accepts: %v", err)
				}
			case !errors.As(err, &p):
				t.Errorf("Pebble: %v, want a problem", err)
			case tc.want == dnspersist.StatusMalformed && p.Type != acme.ProblemMalformed,
				tc.want != dnspersist.StatusMalformed && p.Type != acme.ProblemUnauthorized:
				t.Errorf("Pebble: %s (%s); the check says %s", p.Type, p.Detail, tc.want)
			}
		})
	}
}

// TestE2EDNSPersistRFC2136: records created once by DNS UPDATE in knot (the
// zone's authoritative server), read back through the authoritative walk,
// and used by Pebble (resolving through knot) for a name and its wildcard.
// Creating again changes nothing; another CA's record at the name is kept.
func TestE2EDNSPersistRFC2136(t *testing.T) {
	skipShort(t)
	k := startKnot(t)
	s := pebbletest.Start(t, pebbletest.Options{DNSServer: k.Addr})
	c := newClient(t, s)
	dir, err := c.Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	issuers := dir.Meta.PersistIssuerDomainNames()
	names := []string{"persist.acmectl.test", "*.persist.acmectl.test"}
	recs, err := dnspersist.Records(dnspersist.Request{AccountURL: c.AccountURL, IssuerDomainNames: issuers, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RFC2136_NAMESERVER": k.Addr, "RFC2136_TSIG_KEY": tsigKeyName, "RFC2136_TSIG_SECRET": k.Secret, "RFC2136_TSIG_ALGORITHM": "hmac-sha256."}
	pub, err := dnspersist.NewRFC2136(func(n string) string { return env[n] })
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := pub.Publish(t.Context(), recs[0]); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	if got := k.txt(t, recs[0].Name); len(got) != 1 || got[0] != recs[0].Value {
		t.Fatalf("knot holds %q, want the one record %q", got, recs[0].Value)
	}
	otherCA := dnspersist.Record{Name: recs[0].Name, Type: "TXT", Value: "other-ca.example; accounturi=https://other-ca.example/acct/1"}
	if err := pub.Publish(t.Context(), otherCA); err != nil {
		t.Fatal(err)
	}
	if got := k.txt(t, recs[0].Name); len(got) != 2 {
		t.Errorf("knot holds %q, want both CAs' records", got)
	}

	auth := &dnspersist.Resolver{Servers: []string{k.Addr}, NameserverPort: k.Port, Timeout: 2 * time.Second}
	for _, n := range names {
		v := dnspersist.CheckName(t.Context(), auth, n, dnspersist.Expect{IssuerDomainNames: issuers, AccountURL: c.AccountURL})
		if !v.OK() || !strings.HasPrefix(v.Source, "ns1.acmectl.test. (") {
			t.Errorf("CheckName(%s) = %s %q from %q", n, v.Status, v.Reason, v.Source)
		}
	}
	sol := &dnspersist.Solver{Resolver: auth, Names: names}
	mustObtain(t, s, c, names, map[string]acme.Solver{acme.ChallengeDNSPersist01: sol}, acme.ChallengeDNSPersist01)

	t.Run("refused update", func(t *testing.T) {
		bad := map[string]string{"RFC2136_NAMESERVER": k.Addr, "RFC2136_TSIG_KEY": tsigKeyName, "RFC2136_TSIG_SECRET": "AAAA", "RFC2136_TSIG_ALGORITHM": "hmac-sha256"}
		p, err := dnspersist.NewRFC2136(func(n string) string { return bad[n] })
		if err != nil {
			t.Fatal(err)
		}
		err = p.Publish(t.Context(), dnspersist.Record{Name: "_validation-persist.bad.acmectl.test", Type: "TXT", Value: recs[0].Value})
		wantErr(t, err, "rfc2136", k.Addr)
		if got := k.txt(t, "_validation-persist.bad.acmectl.test"); len(got) != 0 {
			t.Errorf("a refused update wrote %q", got)
		}
	})
}
