package acme

import (
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Challenge types this package knows.
const (
	ChallengeHTTP01    = "http-01"
	ChallengeDNS01     = "dns-01"
	ChallengeTLSALPN01 = "tls-alpn-01"
	// ChallengeDNSPersist01 is draft-ietf-acme-dns-persist: a standing TXT
	// record at _validation-persist.<name> names the CA and the account. The
	// challenge has no token; see PersistSolver.
	ChallengeDNSPersist01 = "dns-persist-01"
)

// KeyAuthorization returns token + "." + the base64url SHA-256 JWK thumbprint of
// the account public key (§8.1). The token must be base64url.
func KeyAuthorization(pub crypto.PublicKey, token string) (string, error) {
	if err := CheckToken(token); err != nil {
		return "", err
	}
	th, err := JWKThumbprint(pub)
	if err != nil {
		return "", err
	}
	return token + "." + th, nil
}

// JWKThumbprint is the RFC 7638 SHA-256 thumbprint of a public key, base64url.
func JWKThumbprint(pub crypto.PublicKey) (string, error) {
	b, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("acme: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CheckToken refuses a challenge token that is not base64url (§8.3: tokens are
// base64url, so "/", "..", NUL and friends mean a hostile or broken CA). It is
// checked before any solver sees the token, because tokens become file names.
func CheckToken(token string) error {
	if token == "" {
		return errors.New("acme: empty challenge token")
	}
	if len(token) > 1024 {
		return errors.New("acme: challenge token longer than 1024 bytes")
	}
	for i := 0; i < len(token); i++ {
		ch := token[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' {
			continue
		}
		return fmt.Errorf("acme: challenge token %q is not base64url: refused", token)
	}
	return nil
}

// HTTP01ResourcePath is the path the CA fetches for http-01 (§8.3); the body is the key authorization.
func HTTP01ResourcePath(token string) string { return "/.well-known/acme-challenge/" + token }

// DNS01TXTRecordName is the TXT record name for dns-01 (§8.4), without a trailing dot.
// A wildcard's "*." is dropped: *.example.com is proven at _acme-challenge.example.com.
func DNS01TXTRecordName(domain string) string {
	return "_acme-challenge." + strings.TrimSuffix(strings.TrimPrefix(domain, "*."), ".")
}

// DNS01TXTRecordValue is the TXT value for dns-01: base64url(SHA-256(keyAuth)).
func DNS01TXTRecordValue(keyAuth string) string {
	h := sha256.Sum256([]byte(keyAuth))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// OIDACMEIdentifier is id-pe-acmeIdentifier (RFC 8737 §6.1).
var OIDACMEIdentifier = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}

// TLSALPN01ExtensionValue is the DER of the critical acmeIdentifier extension's
// value: an OCTET STRING holding SHA-256(keyAuth) (RFC 8737 §3).
func TLSALPN01ExtensionValue(keyAuth string) []byte {
	h := sha256.Sum256([]byte(keyAuth))
	b, _ := asn1.Marshal(h[:])
	return b
}
