package manager

import (
	"errors"
	"fmt"
	"strings"
)

// UsageError marks bad input — a flag, a config file value, a name — as
// opposed to a failure while running; front-ends exit with a usage code (2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{fmt.Errorf(format, a...)}
}

// IsUsage reports whether err is (or wraps) a *UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// NeedFlag is the failure of a run that may not prompt: it names the flag
// to pass instead.
func NeedFlag(what, flag string) error {
	return Usagef("%s; in non-interactive mode pass %s", what, flag)
}

// OneLine folds a multi-line message into one line.
func OneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// CertbotError is a refusal worded exactly as certbot words it (a sentence,
// capitalized, with its full stop), so that scripts and operators who know
// certbot's messages recognize it. Front-ends print it as it is.
// Hint, when set, is shown before it (certbot's notification before the
// error).
type CertbotError struct{ Msg, Hint string }

func (e *CertbotError) Error() string { return e.Msg }

func certbotErrorf(format string, a ...any) error {
	return &CertbotError{Msg: fmt.Sprintf(format, a...)}
}
