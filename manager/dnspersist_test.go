package manager

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dnspersist"
)

// TestBuildSolversDNSPersist: dns-persist-01 alone gives its solver and
// prepares no authenticator (a saved standalone's port is never bound, a
// wildcard is answered); with other types the authenticator is prepared
// only when its type is asked for, and the user's order is kept.
func TestBuildSolversDNSPersist(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) // taken: preparing standalone there fails
	id := acme.Identifier{Type: "dns", Value: "p.example"}
	for _, tc := range []struct {
		name    string
		flags   FlagMap
		domains []string
		pref    []string
		// other is a type besides dns-persist-01 that is asked for, and
		// otherErr what it must fail with ("" when it is answered; "-" when
		// it is declined).
		other, otherErr string
	}{
		{"alone", FlagMap{"preferred-challenges": "dns-persist-01"}, []string{"p.example", "*.p.example"},
			[]string{"dns-persist-01"}, "http-01", "-"},
		{"alone, a saved standalone is not started", FlagMap{"preferred-challenges": "dns-persist-01", "standalone": "true", "http-01-port": busy, "http-01-address": "127.0.0.1"}, []string{"p.example"},
			[]string{"dns-persist-01"}, "http-01", "-"},
		{"with manual dns-01", FlagMap{"preferred-challenges": "dns-persist-01,dns", "manual": "true", "manual-auth-hook": "true"}, []string{"*.p.example"},
			[]string{"dns-persist-01", "dns-01"}, "dns-01", ""},
		{"with standalone, port taken", FlagMap{"preferred-challenges": "http,dns-persist-01", "standalone": "true", "http-01-port": busy, "http-01-address": "127.0.0.1"}, []string{"p.example"},
			[]string{"http-01", "dns-persist-01"}, "http-01", "standalone http-01 server on port " + busy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustConfig(t, tc.flags)
			m := &Manager{Config: c}
			set, err := m.buildSolvers(c, tc.domains)
			if err != nil {
				t.Fatal(err)
			}
			defer set.release()
			if !slices.Equal(set.preference, tc.pref) {
				t.Errorf("preference %v, want %v", set.preference, tc.pref)
			}
			s, err := set.solverFor(t.Context(), acme.ChallengeDNSPersist01, id, true)
			if ps, ok := s.(*dnspersist.Solver); err != nil || !ok || !slices.Equal(ps.Names, tc.domains) {
				t.Errorf("solverFor(dns-persist-01) = %#v, %v", s, err)
			}
			s, err = set.solverFor(t.Context(), tc.other, id, false)
			switch tc.otherErr {
			case "-":
				if s != nil || err != nil {
					t.Errorf("solverFor(%s) = %v, %v; want declined", tc.other, s, err)
				}
			case "":
				if s == nil || err != nil {
					t.Errorf("solverFor(%s) = %v, %v; want a solver", tc.other, s, err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tc.otherErr) {
					t.Errorf("solverFor(%s) = %v, want %q", tc.other, err, tc.otherErr)
				}
			}
		})
	}
}

// TestExplainNoSolverPersist: a wildcard the configuration cannot answer,
// at a CA that offers dns-persist-01, is told about it; with dns-persist-01
// alone the answer names it.
func TestExplainNoSolverPersist(t *testing.T) {
	nse := func(name string, wildcard bool, offered ...string) error {
		return &acme.AuthorizationError{Identifier: acme.Identifier{Type: "dns", Value: name},
			Err: &acme.NoSolverError{Identifier: acme.Identifier{Type: "dns", Value: name}, Wildcard: wildcard, Offered: offered}}
	}
	for _, tc := range []struct {
		flags FlagMap
		err   error
		want  []string
	}{
		{FlagMap{"standalone": "true"}, nse("w.example", true, "dns-01", "dns-persist-01"),
			[]string{"the wildcard *.w.example needs validation", "dns-01 or dns-persist-01", "--standalone does not answer",
				"--preferred-challenges dns-persist-01 after publishing the record of 'acmectl dns-persist records -d *.w.example'"}},
		{FlagMap{"preferred-challenges": "dns-persist-01"}, nse("h.example", false, "http-01"),
			[]string{"the CA offers http-01 and --preferred-challenges dns-persist-01 answers dns-persist-01"}},
	} {
		got := explainNoSolver(mustConfig(t, tc.flags), tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%v: %q lacks %q", tc.flags, got, w)
			}
		}
	}
}
