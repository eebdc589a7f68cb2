// Package dnspersist composes, reads and checks the standing TXT records of
// the ACME dns-persist-01 challenge (draft-ietf-acme-dns-persist), and answers
// that challenge by checking the record before the CA is asked to validate.
//
// One record at _validation-persist.<name> names the CA (one of its issuer
// domain names) and the ACME account:
//
//	_validation-persist.p.example. IN TXT "ca.example; accounturi=https://ca.example/acct/1; policy=wildcard"
//
// It stays in the zone: every later issuance or renewal for the name
// validates against it, with no DNS change and no DNS credentials. A wildcard
// (*.p.example) is proven by the record of its base name with policy=wildcard.
// persistUntil=<unix seconds> bounds the record's use.
//
// The parser and the check follow what the CA does, rule for rule: Pebble
// v2.10.3's validateDNSPersist01 (RFC 8659 issue-value syntax, tags
// case-insensitive, a duplicate tag or a value outside %x21-3A / %x3C-7E
// malformed, accounturi mandatory and compared exactly, policy=wildcard
// compared case-insensitively and needed for a wildcard, persistUntil a
// base-10 integer not yet passed). Unknown tags are ignored.
//
// It is not an ACME client and does not import package acme: the Solver
// satisfies acme.PersistSolver with plain arguments. It never creates or
// deletes DNS records; publishing the record is the operator's (or a DNS
// provider's, once) job.
package dnspersist

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

const (
	// ChallengeType is the ACME challenge type.
	ChallengeType = "dns-persist-01"
	// Label is prepended to the validated name to form the record's name.
	Label = "_validation-persist"
	// WarnWithin: a persistUntil closer than this is reported (doctor, check)
	// so the record is renewed before renewals start failing.
	WarnWithin = 30 * 24 * time.Hour
	// MaxIssuerDomainNames is the most a CA may send (draft §3.1); more is a
	// malformed challenge.
	MaxIssuerDomainNames = 10
)

// Record is one TXT record to create.
type Record struct {
	// Name is the record's owner name, without a final dot
	// ("_validation-persist.p.example").
	Name string `json:"name"`
	// Type is always "TXT".
	Type string `json:"type"`
	// Value is the TXT value, as one string (ZoneLine splits it into
	// 255-octet character-strings when longer).
	Value string `json:"value"`
	// For are the requested names the record proves (p.example and
	// *.p.example share one record).
	For []string `json:"for"`
}

// ZoneLine returns the record as an RFC 1035 master-file line, owner name
// absolute, no TTL (the zone's $TTL applies).
func (r Record) ZoneLine() string {
	return r.Name + ". IN TXT " + quoteTXT(r.Value)
}

// quoteTXT renders a TXT value as quoted character-strings of at most 255
// octets each, escaping '"' and '\'.
func quoteTXT(v string) string {
	var parts []string
	for len(v) > 255 {
		parts = append(parts, v[:255])
		v = v[255:]
	}
	parts = append(parts, v)
	for i, p := range parts {
		p = strings.ReplaceAll(p, `\`, `\\`)
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
	}
	return strings.Join(parts, " ")
}

// Params are what one record says.
type Params struct {
	// Issuer is the issuer-domain-name: one of the CA's.
	Issuer string
	// AccountURI is the ACME account URL (accounturi=).
	AccountURI string
	// Wildcard adds policy=wildcard.
	Wildcard bool
	// PersistUntil, when not zero, adds persistUntil=<unix seconds>.
	PersistUntil time.Time
}

// Value returns the TXT value
// "<issuer>; accounturi=<url>[; policy=wildcard][; persistUntil=<unix>]",
// or an error when the issuer is not a domain name or the account URL holds a
// character the CA would refuse (space, ';', control or non-ASCII).
func (p Params) Value() (string, error) {
	if err := CheckIssuerDomainName(p.Issuer); err != nil {
		return "", err
	}
	if p.AccountURI == "" {
		return "", errors.New("dns-persist-01: no account URL")
	}
	if i := strings.IndexFunc(p.AccountURI, func(r rune) bool { return !valueChar(r) }); i >= 0 {
		return "", fmt.Errorf("dns-persist-01: the account URL %q holds %q, which a record value cannot carry", p.AccountURI, p.AccountURI[i:i+1])
	}
	v := p.Issuer + "; accounturi=" + p.AccountURI
	if p.Wildcard {
		v += "; policy=wildcard"
	}
	if !p.PersistUntil.IsZero() {
		v += "; persistUntil=" + strconv.FormatInt(p.PersistUntil.Unix(), 10)
	}
	return v, nil
}

// valueChar: RFC 8659 value = *(%x21-3A / %x3C-7E), as Pebble checks it.
func valueChar(r rune) bool { return r >= 0x21 && r <= 0x3A || r >= 0x3C && r <= 0x7E }

// CheckIssuerDomainName refuses a name the draft does not allow as an issuer
// domain name (§3.1: lower-case A-labels, no final dot, at most 253 octets).
// Names from the CA are checked before they reach a zone file or a DNS API.
func CheckIssuerDomainName(name string) error {
	if name == "" {
		return errors.New("dns-persist-01: empty issuer domain name")
	}
	if len(name) > 253 {
		return fmt.Errorf("dns-persist-01: issuer domain name longer than 253 octets: %.40q…", name)
	}
	if !ldhName(name, false) {
		return fmt.Errorf("dns-persist-01: %q is not a lower-case domain name (A-labels, no final dot)", name)
	}
	return nil
}

// CheckIssuerDomainNames checks a challenge's (or a directory's) list: 1 to
// 10 valid names (draft §3.1: a client MUST refuse anything else).
func CheckIssuerDomainNames(names []string) error {
	if len(names) == 0 {
		return errors.New("dns-persist-01: the CA names no issuer domain name")
	}
	if len(names) > MaxIssuerDomainNames {
		return fmt.Errorf("dns-persist-01: the CA names %d issuer domain names, more than the %d allowed", len(names), MaxIssuerDomainNames)
	}
	for _, n := range names {
		if err := CheckIssuerDomainName(n); err != nil {
			return err
		}
	}
	return nil
}

// ldhName reports whether name is dot-separated labels of a-z, 0-9, '-' (and
// '_' when underscore is set), each 1 to 63 octets.
func ldhName(name string, underscore bool) bool {
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || underscore && c == '_' {
				continue
			}
			return false
		}
	}
	return true
}

// SplitWildcard returns the validated name of a requested name (the base of
// a wildcard, lower case, A-labels, no final dot) and whether it was a
// wildcard.
func SplitWildcard(name string) (base string, wildcard bool, err error) {
	n := strings.TrimSuffix(strings.TrimSpace(name), ".")
	n, wildcard = strings.CutPrefix(n, "*.")
	if strings.ContainsFunc(n, func(r rune) bool { return r >= 0x80 }) {
		if n, err = idna.Lookup.ToASCII(n); err != nil {
			return "", false, fmt.Errorf("dns-persist-01: %q is not a domain name: %w", name, err)
		}
	}
	n = strings.ToLower(n)
	if len(n) > 253-len(Label)-1 || !ldhName(n, true) {
		return "", false, fmt.Errorf("dns-persist-01: %q is not a domain name this challenge can prove", name)
	}
	return n, wildcard, nil
}

// RecordName returns the record's owner name for a requested name, without a
// final dot: "_validation-persist.p.example" for p.example and *.p.example
// (draft §5 and Pebble: a wildcard is validated at its base name).
func RecordName(name string) (string, error) {
	base, _, err := SplitWildcard(name)
	if err != nil {
		return "", err
	}
	return Label + "." + base, nil
}

// Request describes the records to compose for one account.
type Request struct {
	// AccountURL is the ACME account's URL.
	AccountURL string
	// IssuerDomainNames are the CA's: the challenge's issuer-domain-names,
	// or, before any order, the directory's (acme.DirectoryMeta.
	// PersistIssuerDomainNames).
	IssuerDomainNames []string
	// Issuer picks one of IssuerDomainNames; empty means the first.
	Issuer string
	// Names are the requested names; a wildcard gets policy=wildcard on its
	// base name's record.
	Names []string
	// Wildcard adds policy=wildcard to every record (so the record also
	// proves *.name and subdomains a CA may accept by it).
	Wildcard bool
	// PersistUntil, when not zero, is written into every record.
	PersistUntil time.Time
}

// Records composes one record per distinct validated name, in the order the
// names first appear. Errors: no names, an issuer not among the CA's, a
// malformed issuer list, an unusable account URL or name.
func Records(req Request) ([]Record, error) {
	if len(req.Names) == 0 {
		return nil, errors.New("dns-persist-01: no names")
	}
	issuer, err := pickIssuer(req.IssuerDomainNames, req.Issuer)
	if err != nil {
		return nil, err
	}
	var out []Record
	index := map[string]int{}
	wild := map[string]bool{}
	for _, n := range req.Names {
		base, w, err := SplitWildcard(n)
		if err != nil {
			return nil, err
		}
		display := base
		if w {
			display = "*." + base
		}
		i, seen := index[base]
		if !seen {
			i = len(out)
			index[base] = i
			out = append(out, Record{Name: Label + "." + base, Type: "TXT"})
		}
		if !slices.Contains(out[i].For, display) {
			out[i].For = append(out[i].For, display)
		}
		wild[base] = wild[base] || w
	}
	for i := range out {
		base := strings.TrimPrefix(out[i].Name, Label+".")
		p := Params{Issuer: issuer, AccountURI: req.AccountURL, Wildcard: req.Wildcard || wild[base], PersistUntil: req.PersistUntil}
		if out[i].Value, err = p.Value(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func pickIssuer(names []string, want string) (string, error) {
	if err := CheckIssuerDomainNames(names); err != nil {
		return "", err
	}
	if want == "" {
		return names[0], nil
	}
	w := strings.ToLower(strings.TrimSuffix(want, "."))
	if !slices.Contains(names, w) {
		return "", fmt.Errorf("dns-persist-01: issuer %q is not one the CA accepts (%s)", want, strings.Join(names, ", "))
	}
	return w, nil
}
