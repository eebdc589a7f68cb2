package acme

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// RenewalInfo is the CA's renewal suggestion for one certificate (RFC 9773 §4.2).
type RenewalInfo struct {
	Start, End     time.Time
	ExplanationURL string
	// RetryAfter is when to ask again (the response's Retry-After; RFC 9773 §4.3
	// suggests clients treat an absent one as 6 hours — callers decide).
	RetryAfter time.Duration
}

// ARICertID returns the certificate's RFC 9773 §4.1 identifier:
// base64url(AKI keyIdentifier) "." base64url(DER serial number bytes).
func ARICertID(cert *x509.Certificate) (string, error) {
	return ARICertIDOf(cert.AuthorityKeyId, cert.SerialNumber)
}

// ARICertIDOf is ARICertID from the certificate's authority key identifier
// and serial number (as a listing keeps them, without the certificate).
func ARICertIDOf(authorityKeyID []byte, serial *big.Int) (string, error) {
	if len(authorityKeyID) == 0 {
		return "", errors.New("acme: certificate has no authority key identifier: no ARI CertID")
	}
	if serial == nil || serial.Sign() <= 0 {
		return "", errors.New("acme: certificate has no positive serial number")
	}
	return base64.RawURLEncoding.EncodeToString(authorityKeyID) + "." +
		base64.RawURLEncoding.EncodeToString(serialDER(serial)), nil
}

// serialDER is the content octets of the DER INTEGER (with a leading 0x00 when the
// high bit is set), as RFC 9773 requires.
func serialDER(n *big.Int) []byte {
	b, _ := asn1.Marshal(n)
	// Skip tag and length (serials are at most 20 octets, so a short length).
	return b[2:]
}

// RenewalInfo fetches the CA's suggested renewal window for cert (GET, no JWS).
// errors.Is(err, ErrNoARI) when the directory has no renewalInfo endpoint. A
// malformed answer is an error (callers fall back to expiry-based renewal).
func (c *Client) RenewalInfo(ctx context.Context, cert *x509.Certificate) (*RenewalInfo, error) {
	dir, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	if dir.RenewalInfoURL == "" {
		return nil, ErrNoARI
	}
	id, err := ARICertID(cert)
	if err != nil {
		return nil, err
	}
	return c.RenewalInfoByID(ctx, id)
}

// RenewalInfoByID is RenewalInfo for the certificate whose ARICertID is id.
func (c *Client) RenewalInfoByID(ctx context.Context, id string) (*RenewalInfo, error) {
	dir, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	if dir.RenewalInfoURL == "" {
		return nil, ErrNoARI
	}
	url := strings.TrimSuffix(dir.RenewalInfoURL, "/") + "/" + id
	resp, err := c.get(ctx, url, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("renewal info %s: %w", url, err)
	}
	var w struct {
		SuggestedWindow struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"suggestedWindow"`
		ExplanationURL string `json:"explanationURL"`
	}
	if err := json.Unmarshal(resp.body, &w); err != nil {
		return nil, fmt.Errorf("renewal info %s: malformed: %w", url, err)
	}
	ri := &RenewalInfo{Start: w.SuggestedWindow.Start, End: w.SuggestedWindow.End, ExplanationURL: w.ExplanationURL}
	if ri.Start.IsZero() || ri.End.IsZero() || ri.End.Before(ri.Start) {
		return nil, fmt.Errorf("renewal info %s: malformed suggestedWindow", url)
	}
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		ri.RetryAfter = ra
	}
	return ri, nil
}
