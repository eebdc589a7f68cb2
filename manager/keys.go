package manager

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"

	"github.com/acmectl/acmectl/acme"
)

// newCertKey generates a certificate key as --key-type/--rsa-key-size/
// --elliptic-curve ask (certbot's default: ECDSA P-256).
func newCertKey(keyType string, rsaBits int, curve string) (crypto.Signer, error) {
	if keyType == "rsa" {
		if rsaBits == 0 {
			rsaBits = 2048
		}
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	if keyType != "ecdsa" && keyType != "" {
		return nil, fmt.Errorf("key type %q: want ecdsa or rsa", keyType)
	}
	var c elliptic.Curve
	switch curve {
	case "", "secp256r1":
		c = elliptic.P256()
	case "secp384r1":
		c = elliptic.P384()
	case "secp521r1":
		c = elliptic.P521()
	default:
		return nil, fmt.Errorf("unknown elliptic curve %q", curve)
	}
	return ecdsa.GenerateKey(c, rand.Reader)
}

// keyMatchesConfig reports whether an existing key has the type c asks for
// (a --key-type change makes a new key even with --reuse-key).
func keyMatchesConfig(k crypto.Signer, c *Config) bool {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if c.KeyType != "ecdsa" {
			return false
		}
		want := map[string]int{"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}[c.Curve]
		return k.Curve.Params().BitSize == want
	case *rsa.PrivateKey:
		return c.KeyType == "rsa" && k.N.BitLen() == c.RSAKeySize
	}
	return false
}

// oidTLSFeature is the TLS Feature extension (RFC 7633); status_request (5)
// is OCSP must-staple.
var oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}

// makeCSR builds the DER CSR for the names with key.
func makeCSR(key crypto.Signer, domains, ips []string, mustStaple bool) ([]byte, error) {
	tpl := &x509.CertificateRequest{DNSNames: domains}
	for _, s := range ips {
		tpl.IPAddresses = append(tpl.IPAddresses, net.ParseIP(s))
	}
	if len(domains) > 0 && len(domains[0]) <= 64 {
		tpl.Subject = pkix.Name{CommonName: domains[0]}
	}
	if mustStaple {
		v, _ := asn1.Marshal([]int{5})
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: oidTLSFeature, Value: v})
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		return nil, fmt.Errorf("create CSR: %w", err)
	}
	return der, nil
}

// identifiers turns names into ACME identifiers.
func identifiers(domains, ips []string) []acme.Identifier {
	var ids []acme.Identifier
	for _, d := range domains {
		ids = append(ids, acme.Identifier{Type: "dns", Value: d})
	}
	for _, ip := range ips {
		ids = append(ids, acme.Identifier{Type: "ip", Value: ip})
	}
	return ids
}
