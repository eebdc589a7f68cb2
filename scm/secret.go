package scm

import "log/slog"

// Secret holds a password or an EAB HMAC key. Its String, GoString, LogValue
// and MarshalJSON print "redacted", so %v of a struct holding one, a log
// record or a JSON dump never shows it. Use string(s) where the value is needed.
type Secret string

const redacted = "redacted"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts for %#v.
func (s Secret) GoString() string { return `scm.Secret("` + s.String() + `")` }

// LogValue redacts in log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts; decoding a Secret from JSON keeps the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }
