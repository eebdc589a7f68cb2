package scm

import (
	"context"
	"fmt"
	"strings"
)

// InputError is an error in what the caller gave (a credentials file, a
// domain name, an onboarding request), not in SCM's answer. A CLI reports it
// as a usage error.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, a ...any) error { return &InputError{fmt.Sprintf(format, a...)} }

// NormalizeDomains splits comma lists, lower-cases, drops a trailing dot and
// duplicates (keeping the first-seen order), and refuses with an *InputError
// what cannot be a domain name.
func NormalizeDomains(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, item := range in {
		for _, d := range strings.Split(item, ",") {
			d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
			if d == "" {
				continue
			}
			if len(d) > 253 || strings.ContainsAny(d, " \t/\\:@?#") || strings.Contains(d, "..") || strings.HasPrefix(d, ".") {
				return nil, inputErrorf("%q is not a valid domain name", d)
			}
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// Without returns the names of all that are not in drop (case-insensitive),
// in all's order: what a partly refused domain change did do.
func Without(all, drop []string) []string {
	d := map[string]bool{}
	for _, x := range drop {
		d[strings.ToLower(x)] = true
	}
	var out []string
	for _, x := range all {
		if !d[strings.ToLower(x)] {
			out = append(out, x)
		}
	}
	return out
}

// UnknownServerError is a server name or URL that is none of the tenant's
// ACME servers; Servers are the tenant's.
type UnknownServerError struct {
	Name    string
	Servers []Server
}

func (e *UnknownServerError) Error() string {
	var avail []string
	for _, s := range e.Servers {
		avail = append(avail, fmt.Sprintf("%q (%s)", s.Name, s.URL))
	}
	if len(avail) == 0 {
		avail = []string{"none"}
	}
	return fmt.Sprintf("ACME server %q is not one of this SCM tenant's servers: %s", e.Name, strings.Join(avail, ", "))
}

// FindServer returns the tenant's ACME server named by v: an SCM server name
// or directory URL, or a client-side alias that alias maps to a directory
// URL (nil: no aliases; an alias error means v is no alias). A server name
// wins over an alias of the same spelling. None matching is an
// *UnknownServerError.
func (c *Client) FindServer(ctx context.Context, v string, alias func(string) (string, error)) (*Server, error) {
	ss, err := c.ListServers(ctx, ServerFilter{})
	if err != nil {
		return nil, err
	}
	var want []string
	if !strings.Contains(v, "://") {
		want = append(want, v)
	}
	u := v
	if alias != nil {
		if a, err := alias(v); err == nil {
			u = a
		}
	}
	want = append(want, u)
	for _, w := range want {
		for i := range ss {
			if ss[i].Matches(w) {
				return &ss[i], nil
			}
		}
	}
	return nil, &UnknownServerError{Name: v, Servers: ss}
}
