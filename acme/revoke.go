package acme

import (
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
)

// Revocation reason codes (RFC 5280 §5.3.1) accepted by §7.6.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
)

// Revoke revokes a certificate (§7.6). With certKey nil the request is signed by
// the account key (kid); otherwise by the certificate's own key (jwk), which works
// without an account.
func (c *Client) Revoke(ctx context.Context, certDER []byte, reason int, certKey crypto.Signer) error {
	dir, err := c.Directory(ctx)
	if err != nil {
		return err
	}
	payload := struct {
		Certificate string `json:"certificate"`
		Reason      *int   `json:"reason,omitempty"`
	}{Certificate: base64.RawURLEncoding.EncodeToString(certDER)}
	if reason != ReasonUnspecified {
		payload.Reason = &reason
	}
	o := postOpts{}
	if certKey != nil {
		o = postOpts{key: certKey, useJWK: true}
	}
	if _, err := c.post(ctx, dir.RevokeCertURL, payload, o); err != nil {
		return fmt.Errorf("revoke certificate: %w", err)
	}
	return nil
}
