package dnspersist

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse: no panic; what parses survives Value() → Parse unchanged
// (issuer, account, policy, persistUntil); Check never panics and a failing
// verdict proposes a record that passes.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.txt)
	}
	for _, tc := range checkCases {
		for _, r := range tc.records {
			f.Add(r)
		}
	}
	f.Fuzz(func(t *testing.T, txt string) {
		v, err := Parse(txt)
		if len(v.Issuer) > len(txt) {
			t.Fatalf("issuer %q longer than the input", v.Issuer)
		}
		exp := Expect{IssuerDomainNames: []string{"authority.example"}, AccountURL: acct, At: time.Unix(1767225600, 0)}
		for _, name := range []string{"p.example", "*.p.example"} {
			c := Check(name, []string{txt}, exp)
			if !c.OK() && c.Want != nil {
				if w := Check(name, []string{c.Want.Value}, exp); !w.OK() {
					t.Fatalf("proposed %q refused: %s", c.Want.Value, w.Reason)
				}
			}
			if c.OK() && err != nil {
				t.Fatalf("accepted a record that does not parse: %v", err)
			}
		}
		if err != nil || v.AccountURI == "" || CheckIssuerDomainName(v.Issuer) != nil {
			return
		}
		p := Params{Issuer: v.Issuer, AccountURI: v.AccountURI, Wildcard: v.Wildcard()}
		if v.HasPersistUntil {
			p.PersistUntil = v.PersistUntil
		}
		val, err := p.Value()
		if err != nil {
			t.Fatalf("Value(%+v) of a parsed record: %v", p, err)
		}
		w, err := Parse(val)
		if err != nil || w.Issuer != v.Issuer || w.AccountURI != v.AccountURI || w.Wildcard() != v.Wildcard() ||
			w.HasPersistUntil != v.HasPersistUntil || !w.PersistUntil.Equal(v.PersistUntil) {
			t.Fatalf("round trip %q → %q → %+v, %v", txt, val, w, err)
		}
		if !utf8.ValidString(val) || strings.ContainsAny(val, "\n\r\x00") {
			t.Fatalf("composed value %q", val)
		}
	})
}
