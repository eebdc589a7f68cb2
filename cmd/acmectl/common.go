package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// openStore opens --config-dir, refusing one that exists but cannot be read
// or written (a clear error instead of a half-done command).
// openLockedStore opens the tree and holds certbot's .certbot.lock for the
// whole command (account commands: no parallel writers wanted).
func openLockedStore(ctx context.Context, e *env) (*storage.Tree, func(), error) {
	st, err := openStore(e)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := st.LockTree(ctx)
	if err != nil {
		return nil, nil, err
	}
	return st, unlock, nil
}

func openStore(e *env) (*storage.Tree, error) {
	dir := e.o.configDir
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("config directory %s is not a directory; pass --config-dir", dir)
		}
		if _, err := os.ReadDir(dir); err != nil {
			return nil, fmt.Errorf("config directory %s is not readable (%v); run as root or pass --config-dir", dir, errors.Unwrap(err))
		}
	} else if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("config directory %s is not accessible: permission denied; run as root or pass --config-dir", dir)
	}
	t, err := storage.Open(dir, &storage.Options{Logger: e.log})
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w; run as root or pass --config-dir", err)
		}
		return nil, err
	}
	if err := os.MkdirAll(e.o.workDir, 0o755); err != nil {
		return nil, fmt.Errorf("create work directory: %w; run as root or pass --work-dir", err)
	}
	return t, nil
}

// httpClient returns the run's HTTP client (built once: timeouts, system
// roots plus the CA bundle).
func (e *env) httpClient() (*http.Client, error) {
	e.hcOnce.Do(func() { e.hc, e.hcErr = newHTTPClient(e.o.caBundle) })
	return e.hc, e.hcErr
}

// newClient builds an acme.Client for server with the account key (may be
// nil for directory-only use).
func (e *env) newClient(server string, key crypto.Signer, accountURL string) (*acme.Client, error) {
	hc, err := e.httpClient()
	if err != nil {
		return nil, err
	}
	return &acme.Client{
		DirectoryURL: server,
		HTTPClient:   hc,
		UserAgent:    e.o.userAgent,
		Logger:       e.log,
		Key:          key,
		AccountURL:   accountURL,
		OrderTimeout: 10*time.Minute + e.o.issuanceTimeout,
	}, nil
}

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

// keyPEM encodes a private key as PKCS#8 PEM (certbot writes "PRIVATE KEY").
func keyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
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

// certNames lists a certificate's DNS names then IP addresses.
func certNames(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// splitNames separates DNS names and IP addresses.
func splitNames(names []string) (domains, ips []string) {
	for _, n := range names {
		if net.ParseIP(n) != nil {
			ips = append(ips, n)
		} else {
			domains = append(domains, n)
		}
	}
	return domains, ips
}

// sameSet reports whether a and b hold the same names.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// subsetOf reports whether every name of a is in b.
func subsetOf(a, b []string) bool {
	m := map[string]bool{}
	for _, x := range b {
		m[x] = true
	}
	for _, x := range a {
		if !m[x] {
			return false
		}
	}
	return true
}

// describeErr renders an ACME error for humans: the problem detail and every
// subproblem's (acme.Problem.Error already includes them).
func describeErr(err error) string {
	return oneLine(err.Error())
}
