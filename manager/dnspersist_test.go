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

// TestBuildSolversDNSPersist: dns-persist-01 alone builds its solver and no
// authenticator (the standalone port stays free, a wildcard is allowed);
// with other types the authenticator is built too and the user's order
// kept; without it a wildcard still needs dns-01.
func TestBuildSolversDNSPersist(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) // taken: building standalone there fails
	for _, tc := range []struct {
		name    string
		flags   FlagMap
		domains []string
		types   []string
		pref    []string
		err     string
	}{
		{"alone", FlagMap{"preferred-challenges": "dns-persist-01"}, []string{"p.example", "*.p.example"},
			[]string{"dns-persist-01"}, []string{"dns-persist-01"}, ""},
		{"alone, a saved standalone is not started", FlagMap{"preferred-challenges": "dns-persist-01", "standalone": "true", "http-01-port": busy, "http-01-address": "127.0.0.1"}, []string{"p.example"},
			[]string{"dns-persist-01"}, []string{"dns-persist-01"}, ""},
		{"with manual dns-01", FlagMap{"preferred-challenges": "dns-persist-01,dns", "manual": "true", "manual-auth-hook": "true"}, []string{"*.p.example"},
			[]string{"dns-01", "dns-persist-01", "http-01"}, []string{"dns-persist-01", "dns-01"}, ""},
		{"with standalone, port taken", FlagMap{"preferred-challenges": "http,dns-persist-01", "standalone": "true", "http-01-port": busy, "http-01-address": "127.0.0.1"}, []string{"p.example"},
			nil, nil, "standalone http-01 server on port " + busy},
		{"wildcard without it", FlagMap{"preferred-challenges": "http", "standalone": "true"}, []string{"*.p.example"},
			nil, nil, "or dns-persist-01 (--preferred-challenges dns-persist-01)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustConfig(t, tc.flags)
			m := &Manager{Config: c}
			set, err := m.buildSolvers(t.Context(), c, tc.domains)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("buildSolvers = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer set.release()
			var types []string
			for k := range set.solvers {
				types = append(types, k)
			}
			slices.Sort(types)
			if !slices.Equal(types, tc.types) || !slices.Equal(set.preference, tc.pref) {
				t.Errorf("solvers %v preference %v, want %v %v", types, set.preference, tc.types, tc.pref)
			}
			ps, ok := set.solvers[acme.ChallengeDNSPersist01].(*dnspersist.Solver)
			if !ok || !slices.Equal(ps.Names, tc.domains) {
				t.Errorf("persist solver %#v", set.solvers[acme.ChallengeDNSPersist01])
			}
		})
	}
}
