package acme

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// ProblemType is an RFC 8555 §6.7 error type URN; the value is what goes on the wire.
type ProblemType string

// Problem types from RFC 8555 §6.7 and RFC 9773.
const (
	ProblemAccountDoesNotExist     ProblemType = "urn:ietf:params:acme:error:accountDoesNotExist"
	ProblemAlreadyReplaced         ProblemType = "urn:ietf:params:acme:error:alreadyReplaced"
	ProblemAlreadyRevoked          ProblemType = "urn:ietf:params:acme:error:alreadyRevoked"
	ProblemBadCSR                  ProblemType = "urn:ietf:params:acme:error:badCSR"
	ProblemBadNonce                ProblemType = "urn:ietf:params:acme:error:badNonce"
	ProblemBadPublicKey            ProblemType = "urn:ietf:params:acme:error:badPublicKey"
	ProblemBadRevocationReason     ProblemType = "urn:ietf:params:acme:error:badRevocationReason"
	ProblemBadSignatureAlgorithm   ProblemType = "urn:ietf:params:acme:error:badSignatureAlgorithm"
	ProblemCAA                     ProblemType = "urn:ietf:params:acme:error:caa"
	ProblemCompound                ProblemType = "urn:ietf:params:acme:error:compound"
	ProblemConnection              ProblemType = "urn:ietf:params:acme:error:connection"
	ProblemDNS                     ProblemType = "urn:ietf:params:acme:error:dns"
	ProblemExternalAccountRequired ProblemType = "urn:ietf:params:acme:error:externalAccountRequired"
	ProblemIncorrectResponse       ProblemType = "urn:ietf:params:acme:error:incorrectResponse"
	ProblemInvalidContact          ProblemType = "urn:ietf:params:acme:error:invalidContact"
	ProblemMalformed               ProblemType = "urn:ietf:params:acme:error:malformed"
	ProblemOrderNotReady           ProblemType = "urn:ietf:params:acme:error:orderNotReady"
	ProblemRateLimited             ProblemType = "urn:ietf:params:acme:error:rateLimited"
	ProblemRejectedIdentifier      ProblemType = "urn:ietf:params:acme:error:rejectedIdentifier"
	ProblemServerInternal          ProblemType = "urn:ietf:params:acme:error:serverInternal"
	ProblemTLS                     ProblemType = "urn:ietf:params:acme:error:tls"
	ProblemUnauthorized            ProblemType = "urn:ietf:params:acme:error:unauthorized"
	ProblemUnsupportedContact      ProblemType = "urn:ietf:params:acme:error:unsupportedContact"
	ProblemUnsupportedIdentifier   ProblemType = "urn:ietf:params:acme:error:unsupportedIdentifier"
	ProblemUserActionRequired      ProblemType = "urn:ietf:params:acme:error:userActionRequired"
)

// Identifier is an ACME identifier (§9.7.7): Type "dns" or "ip" (RFC 8738).
type Identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (id Identifier) String() string { return id.Value }

// DNSIdentifiers turns names into dns identifiers.
func DNSIdentifiers(names ...string) []Identifier {
	ids := make([]Identifier, len(names))
	for i, n := range names {
		ids[i] = Identifier{Type: "dns", Value: n}
	}
	return ids
}

// Problem is an RFC 7807 / RFC 8555 §6.7 problem document returned by the CA.
// It is always used as a pointer; find it with errors.As.
type Problem struct {
	Type        ProblemType   `json:"type"`
	Detail      string        `json:"detail,omitempty"`
	Status      int           `json:"status,omitempty"`
	Instance    string        `json:"instance,omitempty"`
	Subproblems []Subproblem  `json:"subproblems,omitempty"`
	RetryAfter  time.Duration `json:"-"` // from the response's Retry-After; 0 when absent
}

// Subproblem is one entry of a problem's subproblems, naming the identifier it is about.
type Subproblem struct {
	Type       ProblemType `json:"type"`
	Detail     string      `json:"detail,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
}

// Error renders the problem and every subproblem (§6.7.1 asks clients to show them).
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("acme: ")
	b.WriteString(shortType(p.Type))
	if p.Status != 0 {
		fmt.Fprintf(&b, " (%d)", p.Status)
	}
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	subs := append([]Subproblem(nil), p.Subproblems...)
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].ident() < subs[j].ident() })
	for _, s := range subs {
		b.WriteString("; ")
		if id := s.ident(); id != "" {
			b.WriteString(id)
			b.WriteString(": ")
		}
		b.WriteString(shortType(s.Type))
		if s.Detail != "" {
			b.WriteString(": ")
			b.WriteString(s.Detail)
		}
	}
	return b.String()
}

func (s Subproblem) ident() string {
	if s.Identifier == nil {
		return ""
	}
	return s.Identifier.Value
}

// LogValue logs a problem as a group.
func (p *Problem) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", string(p.Type)),
		slog.String("detail", p.Detail),
		slog.Int("status", p.Status),
		slog.Int("subproblems", len(p.Subproblems)))
}

func shortType(t ProblemType) string {
	s := string(t)
	if i := strings.LastIndex(s, ":"); i >= 0 && strings.HasPrefix(s, "urn:ietf:params:acme:error:") {
		return s[i+1:]
	}
	if s == "" {
		return "error"
	}
	return s
}

// IsProblem reports whether err carries a *Problem of type t (case-insensitive:
// servers vary in the case of the URN).
func IsProblem(err error, t ProblemType) bool {
	var p *Problem
	return errors.As(err, &p) && strings.EqualFold(string(p.Type), string(t))
}

// RateLimitError is returned for HTTP 429 and rateLimited problems. It wraps the
// *Problem and says when the CA allows the next attempt.
type RateLimitError struct {
	Problem *Problem
	RetryAt time.Time // zero when the CA gave no Retry-After
}

func (e *RateLimitError) Error() string {
	if e.RetryAt.IsZero() {
		return e.Problem.Error() + " (rate limited; the CA did not say when to retry)"
	}
	return fmt.Sprintf("%s (rate limited; retry after %s)", e.Problem.Error(), e.RetryAt.UTC().Format(time.RFC3339))
}

func (e *RateLimitError) Unwrap() error { return e.Problem }

// maxProblemBody bounds what is read of an error response.
const maxProblemBody = 64 << 10

// parseProblem decodes an error body. A body that is not a problem document still
// yields a *Problem carrying the HTTP status and a bounded excerpt.
func parseProblem(status int, body []byte) *Problem {
	p := &Problem{}
	if err := json.Unmarshal(body, p); err != nil || p.Type == "" && p.Detail == "" {
		excerpt := strings.TrimSpace(string(body))
		if len(excerpt) > 200 {
			excerpt = excerpt[:200] + "…"
		}
		p = &Problem{Type: ProblemServerInternal, Detail: fmt.Sprintf("unexpected response (HTTP %d): %q", status, excerpt)}
		if status < 500 {
			p.Type = ProblemMalformed
		}
	}
	if p.Status == 0 {
		p.Status = status
	}
	return p
}

// AuthorizationError reports why one identifier's authorization failed.
type AuthorizationError struct {
	Identifier Identifier
	URL        string
	Err        error
	// Local: the failure happened on this side (no solver for the
	// challenges offered, a solver that could not be prepared, present or
	// wait), not at the CA; the CA never tried to validate.
	Local bool
}

func (e *AuthorizationError) Error() string {
	return fmt.Sprintf("authorization for %s failed: %v", e.Identifier.Value, e.Err)
}

func (e *AuthorizationError) Unwrap() error { return e.Err }

// joinSorted aggregates per-identifier errors in a stable order.
func joinSorted(errs []error) error {
	var keep []error
	for _, e := range errs {
		if e != nil {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	sort.SliceStable(keep, func(i, j int) bool { return keep[i].Error() < keep[j].Error() })
	if len(keep) == 1 {
		return keep[0]
	}
	return errors.Join(keep...)
}
