package http01

import (
	"fmt"
	"strings"
)

// PathPrefix is where http-01 resources live (RFC 8555 §8.3).
const PathPrefix = "/.well-known/acme-challenge/"

// maxTokenLen bounds a token; RFC 8555 tokens carry at least 128 bits of entropy
// and real CAs send 43 characters.
const maxTokenLen = 256

// CheckToken reports whether token is safe to use as a file name and URL path
// segment: base64url characters only (RFC 8555 §8.1), 1 to 256 of them. A token
// from a hostile or broken CA that holds "/", "..", NUL or anything else is refused
// before it touches a path.
func CheckToken(token string) error {
	if token == "" {
		return fmt.Errorf("http-01: empty challenge token")
	}
	if len(token) > maxTokenLen {
		return fmt.Errorf("http-01: challenge token is %d bytes long, more than %d", len(token), maxTokenLen)
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' {
			continue
		}
		what := fmt.Sprintf("%q", string(c))
		switch {
		case c == 0:
			what = "NUL"
		case c == '.' && strings.Contains(token, ".."):
			what = `".."`
		}
		return fmt.Errorf("http-01: refusing challenge token %q: it contains %s at byte %d; tokens must match ^[A-Za-z0-9_-]+$", token, what, i)
	}
	return nil
}
