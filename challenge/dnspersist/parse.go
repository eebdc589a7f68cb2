package dnspersist

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IssueValue is one TXT value read as the CA reads it (RFC 8659 §4.2
// issue-value: issuer-domain-name, then ";"-separated tag=value parameters).
type IssueValue struct {
	// Issuer is the issuer-domain-name, surrounding blanks removed, case
	// kept: the CA compares it exactly with its own names.
	Issuer string
	// AccountURI is the accounturi parameter ("" when absent).
	AccountURI string
	// Policy is "wildcard" (in the case written) when the policy parameter
	// says so; any other value counts as no policy, as the draft requires.
	Policy string
	// PersistUntil is the persistUntil parameter; HasPersistUntil tells
	// whether there was one.
	PersistUntil    time.Time
	HasPersistUntil bool
	// Unknown lists the tags of parameters the CA ignores.
	Unknown []string
}

// Wildcard reports whether the value carries policy=wildcard (any case).
func (v IssueValue) Wildcard() bool { return strings.EqualFold(v.Policy, "wildcard") }

// ErrNoIssuer: the value does not start with an issuer-domain-name.
var ErrNoIssuer = errors.New("no issuer-domain-name")

// Parse reads one TXT value (its character-strings joined). The Issuer is
// set whenever there is one, also when the parameters are malformed (the CA
// ignores records for other issuers before it looks at their parameters).
// Errors, with Pebble's wording where it has one: ErrNoIssuer; an empty
// parameter or trailing ';'; a parameter without '='; an empty tag; a
// duplicate tag (tags compare case-insensitively); a value with a blank,
// ';', control or non-ASCII character; an empty accounturi; a persistUntil
// that is not a base-10 int64. A missing accounturi is not a parse error
// (the check reports it).
func Parse(txt string) (IssueValue, error) {
	parts := strings.Split(txt, ";")
	v := IssueValue{Issuer: trimWSP(parts[0])}
	if v.Issuer == "" {
		return v, ErrNoIssuer
	}
	seen := map[string]bool{}
	for _, param := range parts[1:] {
		param = trimWSP(param)
		if param == "" {
			return v, errors.New("empty parameter or trailing semicolon")
		}
		tag, value, ok := strings.Cut(param, "=")
		if !ok {
			return v, fmt.Errorf("malformed parameter %q should be tag=value pair", param)
		}
		tag, value = trimWSP(tag), trimWSP(value)
		if tag == "" {
			return v, fmt.Errorf("malformed parameter %q, empty tag", param)
		}
		canon := strings.ToLower(tag)
		if seen[canon] {
			return v, fmt.Errorf("duplicate parameter %q", tag)
		}
		seen[canon] = true
		for _, r := range value {
			if !valueChar(r) {
				return v, fmt.Errorf("malformed value %q for tag %q", value, tag)
			}
		}
		switch canon {
		case "accounturi":
			if value == "" {
				return v, errors.New("empty value provided for mandatory accounturi")
			}
			v.AccountURI = value
		case "policy":
			if !strings.EqualFold(value, "wildcard") {
				value = ""
			}
			v.Policy = value
		case "persistuntil":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return v, fmt.Errorf("malformed persistUntil timestamp %q", value)
			}
			v.PersistUntil, v.HasPersistUntil = time.Unix(n, 0).UTC(), true
		default:
			v.Unknown = append(v.Unknown, tag)
		}
	}
	return v, nil
}

// trimWSP trims RFC 8659 WSP (space and tab) from both ends.
func trimWSP(s string) string { return strings.Trim(s, " \t") }
