package acme

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Certificate is an issued certificate with the chain the CA served.
type Certificate struct {
	OrderURL string
	URL      string // the URL it was downloaded from (default or alternate chain)
	// PEM is the leaf followed by its chain, as served (certbot's fullchain).
	PEM []byte
	// Alternates are the other chains the CA offers (Link rel="alternate").
	Alternates []string
	// ExtraNames are the names in the certificate that were not requested
	// (accepted by the ExtraNamesPolicy), sorted; a caller shows them as a
	// warning.
	ExtraNames []string
}

// Leaf returns the parsed first certificate.
func (c *Certificate) Leaf() (*x509.Certificate, error) {
	certs, err := ParseChain(c.PEM)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseChain parses a PEM chain (§7.4.2: application/pem-certificate-chain): only
// CERTIFICATE blocks, at least one, at most maxChainCerts, nothing but whitespace
// between them. A truncated download or an HTML error page fails here, so it never
// reaches the disk.
func ParseChain(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		block, r := pem.Decode(rest)
		if block == nil {
			return nil, errors.New("acme: certificate chain: trailing data that is not PEM (truncated or not a certificate)")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("acme: certificate chain: unexpected PEM block %q", block.Type)
		}
		if len(certs) >= maxChainCerts {
			return nil, fmt.Errorf("acme: certificate chain: more than %d certificates: refused", maxChainCerts)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("acme: certificate chain: certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		rest = bytes.TrimSpace(r)
	}
	if len(certs) == 0 {
		return nil, errors.New("acme: certificate chain: no certificate")
	}
	return certs, nil
}

// FetchCertificate downloads a certificate chain (POST-as-GET, §7.4.2) and the
// URLs of its alternate chains. The body is parsed before it is returned.
// Downloads are safe to retry (no state changes at the CA).
func (c *Client) FetchCertificate(ctx context.Context, url string) (*Certificate, error) {
	var lastErr error
	for attempt := 1; attempt <= max5xxTries; attempt++ {
		resp, err := c.post(ctx, url, nil, postOpts{limit: maxCertBody, accept: "application/pem-certificate-chain"})
		if err != nil {
			return nil, fmt.Errorf("download certificate %s: %w", url, err)
		}
		if _, err := ParseChain(resp.body); err != nil {
			lastErr = fmt.Errorf("download certificate %s: %w", url, err)
			c.logger().LogAttrs(ctx, slog.LevelWarn, "bad certificate download, retrying", attrURL(url), attrAttempt(attempt), attrErr(err))
			continue
		}
		return &Certificate{URL: url, PEM: normalizePEM(resp.body), Alternates: ParseLinks(resp.header.Values("Link"), "alternate")}, nil
	}
	return nil, lastErr
}

// normalizePEM re-encodes the chain so every block ends with a newline (certbot's
// fullchain = cert + chain relies on it).
func normalizePEM(data []byte) []byte {
	var out bytes.Buffer
	rest := data
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		pem.Encode(&out, &pem.Block{Type: block.Type, Bytes: block.Bytes})
		rest = r
	}
	return out.Bytes()
}

// SplitChain returns the leaf PEM and the rest of the chain PEM (certbot's cert.pem and chain.pem).
func SplitChain(fullchain []byte) (leaf, chain []byte, err error) {
	block, rest := pem.Decode(fullchain)
	if block == nil {
		return nil, nil, errors.New("acme: no certificate in chain")
	}
	return pem.EncodeToMemory(block), normalizePEM(rest), nil
}

// topIssuerCN is the issuer CN of the topmost certificate of a chain (certbot's
// --preferred-chain rule).
func topIssuerCN(chain []*x509.Certificate) string {
	return chain[len(chain)-1].Issuer.CommonName
}

// selectChain returns the default chain, or the first alternate whose topmost
// issuer CN equals preferred. An unknown preference keeps the default.
func (c *Client) selectChain(ctx context.Context, def *Certificate, preferred string) (*Certificate, error) {
	if preferred == "" {
		return def, nil
	}
	if certs, err := ParseChain(def.PEM); err == nil && topIssuerCN(certs) == preferred {
		return def, nil
	}
	for _, alt := range def.Alternates {
		cert, err := c.FetchCertificate(ctx, alt)
		if err != nil {
			c.logger().LogAttrs(ctx, slog.LevelWarn, "alternate chain unavailable", attrURL(alt), attrErr(err))
			continue
		}
		certs, _ := ParseChain(cert.PEM)
		if topIssuerCN(certs) == preferred {
			cert.Alternates = def.Alternates
			return cert, nil
		}
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "no chain matches the preferred issuer; keeping the default", slog.String("preferred_chain", preferred))
	return def, nil
}

// DropChainIssuer removes from a PEM chain (leaf first, as served) every
// certificate above the leaf that is issued by, or is, the CA whose common
// name is issuerCN (compared case-insensitively), for --chain-drop-issuer.
// Sectigo serves chains ending in a cross-sign by the legacy root "AAA
// Certificate Services" and offers no alternate chain (win-acme/win-acme#2653),
// so --preferred-chain cannot avoid it; dropping the cross-signed certificate
// leaves a chain that ends at an intermediate issued by a root modern trust
// stores hold (old clients that only trust AAA then fail).
//
// It returns the chain re-encoded and how many certificates were dropped (0
// and the chain unchanged when none matched). The leaf is never dropped: a
// leaf issued by issuerCN itself is an error.
func DropChainIssuer(chainPEM []byte, issuerCN string) ([]byte, int, error) {
	cn := strings.TrimSpace(issuerCN)
	if cn == "" {
		return nil, 0, errors.New("acme: drop chain issuer: empty common name")
	}
	certs, err := ParseChain(chainPEM)
	if err != nil {
		return nil, 0, err
	}
	if strings.EqualFold(certs[0].Issuer.CommonName, cn) {
		return nil, 0, fmt.Errorf("acme: drop chain issuer %q: it issued the certificate itself; nothing can be dropped", cn)
	}
	var out bytes.Buffer
	dropped := 0
	for i, c := range certs {
		if i > 0 && (strings.EqualFold(c.Issuer.CommonName, cn) || strings.EqualFold(c.Subject.CommonName, cn)) {
			dropped++
			continue
		}
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return out.Bytes(), dropped, nil
}
