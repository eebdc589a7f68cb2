package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Authorization is an ACME authorization (§7.1.4).
type Authorization struct {
	URL        string        `json:"-"`
	Identifier Identifier    `json:"identifier"`
	Status     string        `json:"status"`
	Expires    time.Time     `json:"expires,omitempty"`
	Challenges []Challenge   `json:"challenges"`
	Wildcard   bool          `json:"wildcard,omitempty"`
	RetryAfter time.Duration `json:"-"`
}

// Challenge is one challenge of an authorization (§7.1.5, §8). Types the client
// does not know (Sectigo's sectigo-email-01) decode like any other and are ignored
// by Obtain.
type Challenge struct {
	Type      string    `json:"type"`
	URL       string    `json:"url"`
	Status    string    `json:"status"`
	Token     string    `json:"token,omitempty"`
	Validated time.Time `json:"validated,omitempty"`
	Error     *Problem  `json:"error,omitempty"`
	// IssuerDomainNames (dns-persist-01 only) are the names the CA accepts
	// as the record's issuer-domain-name. Sent as "issuer-domain-names" by
	// draft-ietf-acme-dns-persist-00/01 and Pebble, as "issuerDomainNames"
	// from draft -02; both are read.
	IssuerDomainNames []string `json:"issuer-domain-names,omitempty"`
}

// UnmarshalJSON reads a challenge, taking the issuer domain names from
// either spelling the drafts used.
func (ch *Challenge) UnmarshalJSON(b []byte) error {
	type plain Challenge
	var w struct {
		plain
		IssuerDomainNamesCamel []string `json:"issuerDomainNames"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*ch = Challenge(w.plain)
	if len(ch.IssuerDomainNames) == 0 {
		ch.IssuerDomainNames = w.IssuerDomainNamesCamel
	}
	return nil
}

// GetAuthorization fetches an authorization (POST-as-GET).
func (c *Client) GetAuthorization(ctx context.Context, url string) (*Authorization, error) {
	a := &Authorization{}
	resp, err := c.fetch(ctx, url, a)
	if err != nil {
		return nil, fmt.Errorf("fetch authorization %s: %w", url, err)
	}
	a.URL = url
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		a.RetryAfter = ra
	}
	if a.Identifier.Value == "" {
		return nil, fmt.Errorf("acme: authorization %s has no identifier", url)
	}
	return a, nil
}

// DeactivateAuthorization deactivates an authorization (§7.5.2).
func (c *Client) DeactivateAuthorization(ctx context.Context, url string) error {
	if _, err := c.post(ctx, url, map[string]string{"status": StatusDeactivated}, postOpts{}); err != nil {
		return fmt.Errorf("deactivate authorization %s: %w", url, err)
	}
	return nil
}

// Accept tells the CA the challenge is ready to be validated (§7.5.1).
func (c *Client) Accept(ctx context.Context, ch *Challenge) error {
	if _, err := c.post(ctx, ch.URL, struct{}{}, postOpts{}); err != nil {
		return fmt.Errorf("respond to %s challenge %s: %w", ch.Type, ch.URL, err)
	}
	return nil
}

// WaitAuthorization polls an authorization while it is pending (challenges being
// validated, including "processing" challenges) and returns it once valid. An
// invalid authorization is an *AuthorizationError carrying the challenge's problem.
//
// The CA's Retry-After spaces the polls but one wait is capped at
// MaxPollWait (Sectigo sends 300 s: grindsa/acme2certifier#122).
func (c *Client) WaitAuthorization(ctx context.Context, url string) (*Authorization, error) {
	p := c.newPoller(WaitAuthorization, url, "")
	var retryAfter time.Duration
	status := ""
	for {
		if err := p.wait(ctx, retryAfter, status); err != nil {
			return nil, err
		}
		a, err := c.GetAuthorization(ctx, url)
		if err != nil {
			return nil, err
		}
		p.ident = identKey(a.Identifier, a.Wildcard)[len(a.Identifier.Type)+1:]
		status = a.Status
		switch a.Status {
		case StatusValid:
			return a, nil
		case StatusPending:
			retryAfter = a.RetryAfter
			continue
		}
		return nil, &AuthorizationError{Identifier: a.Identifier, URL: url, Err: a.failure()}
	}
}

// failure explains an authorization that is not valid: the first challenge
// error, or the status.
func (a *Authorization) failure() error {
	for _, ch := range a.Challenges {
		if ch.Error != nil {
			return fmt.Errorf("%s challenge: %w", ch.Type, ch.Error)
		}
	}
	return fmt.Errorf("acme: authorization is %s", a.Status)
}

// challengeStarted reports whether the CA is validating, or has validated, the
// challenge at url (or the whole authorization).
func (a *Authorization) challengeStarted(url string) bool {
	if a.Status != StatusPending {
		return true
	}
	for _, ch := range a.Challenges {
		if ch.URL == url && ch.Status != StatusPending {
			return true
		}
	}
	return false
}
