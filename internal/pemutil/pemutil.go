// Package pemutil is the one set of PEM helpers acmectl's packages share:
// certificates, chains, private keys and CSRs read from PEM (or DER where
// certbot accepts both), and private keys written as certbot writes them. It
// parses and encodes; it never touches the disk. Package acme keeps its own
// chain parser, because it imports nothing but the standard library and
// go-jose.
package pemutil

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Block types.
const (
	TypeCertificate = "CERTIFICATE"
	TypePrivateKey  = "PRIVATE KEY"
	TypeRSAKey      = "RSA PRIVATE KEY"
	TypeECKey       = "EC PRIVATE KEY"
	TypeCSR         = "CERTIFICATE REQUEST"
)

// ParseCert parses the first CERTIFICATE block of b (other blocks before it
// are skipped).
func ParseCert(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no CERTIFICATE PEM block")
		}
		if blk.Type == TypeCertificate {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// ParseCertPEMOrDER parses a certificate given as PEM or as DER (certbot's
// --cert-path accepts both).
func ParseCertPEMOrDER(b []byte) (*x509.Certificate, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}

// ParsePrivateKey parses the first PKCS#8, PKCS#1 or SEC 1 private key block.
func ParsePrivateKey(b []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PRIVATE KEY PEM block")
		}
		switch blk.Type {
		case TypePrivateKey:
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("unsupported key type %T", k)
			}
			return s, nil
		case TypeRSAKey:
			return x509.ParsePKCS1PrivateKey(blk.Bytes)
		case TypeECKey:
			return x509.ParseECPrivateKey(blk.Bytes)
		}
	}
}

// EncodePrivateKey encodes k as PKCS#8 PEM ("PRIVATE KEY", as certbot writes).
func EncodePrivateKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: TypePrivateKey, Bytes: der}), nil
}

// ParseCSR parses a certificate request given as PEM or DER and checks its
// signature.
func ParseCSR(b []byte) (*x509.CertificateRequest, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(b)
	if err != nil {
		return nil, fmt.Errorf("not a certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	return csr, nil
}

// CheckChain verifies that b holds only CERTIFICATE blocks that parse
// (whitespace between them; empty is allowed).
func CheckChain(b []byte) error {
	rest := bytes.TrimSpace(b)
	for len(rest) > 0 {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil || blk.Type != TypeCertificate {
			return errors.New("chain: want only CERTIFICATE PEM blocks")
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("chain: %w", err)
		}
		rest = bytes.TrimSpace(rest)
	}
	return nil
}

// KeyMatches reports whether key is the private key of cert.
func KeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(eq)
	return ok && pub.Equal(cert.PublicKey)
}
