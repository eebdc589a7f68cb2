package scm

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels matched by *Error.Is, so callers can write errors.Is(err, scm.ErrNotFound).
var (
	ErrNotFound     = errors.New("scm: not found")    // HTTP 404
	ErrUnauthorized = errors.New("scm: unauthorized") // HTTP 401 (e.g. code -16 "Unknown user")
	ErrForbidden    = errors.New("scm: forbidden")    // HTTP 403
)

// Error is an SCM error response: HTTP status ≥ 400 with the body
// {"code": <negative int>, "description": "..."} (SCM REST API §Errors).
// A body that is not that JSON leaves Code 0 and a sanitized excerpt in Description.
type Error struct {
	StatusCode  int    // HTTP status
	Code        int    // SCM error code, e.g. -16; 0 when absent
	Description string // SCM's message, e.g. "Unknown user"
	Details     string // optional, newer API versions
	Method      string // request method
	Path        string // API path, e.g. /acme/v2/account/100 (no host, no credentials)
}

type wireError struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
	Details     string `json:"details"`
}

func newError(method, p string, resp *response) *Error {
	e := &Error{StatusCode: resp.status, Method: method, Path: p}
	var w wireError
	if err := json.Unmarshal(resp.body, &w); err == nil && (w.Code != 0 || w.Description != "") {
		e.Code, e.Description, e.Details = w.Code, w.Description, w.Details
	} else {
		e.Description = excerpt(resp.body)
	}
	return e
}

// excerpt keeps the first printable characters of a non-JSON body.
func excerpt(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scm: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.Details != "" {
		fmt.Fprintf(&b, " (%s)", e.Details)
	}
	return b.String()
}

// Is reports ErrNotFound, ErrUnauthorized and ErrForbidden by HTTP status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// LogValue logs the error as a group.
func (e *Error) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("status", e.StatusCode), slog.Int("code", e.Code),
		slog.String("description", e.Description), slog.String("path", e.Path))
}

// DomainError reports domains SCM did not add to (Op "add", from
// notAddedDomains) or remove from (Op "remove", from notRemovedDomains) an
// account. The other domains of the request were processed.
type DomainError struct {
	AccountID int
	Op        string   // "add" or "remove"
	Domains   []string // sorted
}

func newDomainError(id int, op string, domains []string) *DomainError {
	d := append([]string(nil), domains...)
	sort.Strings(d)
	return &DomainError{AccountID: id, Op: op, Domains: d}
}

func (e *DomainError) Error() string {
	verb := "added to"
	if e.Op == "remove" {
		verb = "removed from"
	}
	return fmt.Sprintf("scm: %d domain(s) not %s account %d: %s", len(e.Domains), verb, e.AccountID, strings.Join(e.Domains, ", "))
}
