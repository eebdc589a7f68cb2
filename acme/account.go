package acme

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Account is an ACME account object (§7.1.2).
type Account struct {
	URL                  string          `json:"-"`
	Status               string          `json:"status"`
	Contact              []string        `json:"contact,omitempty"`
	TermsOfServiceAgreed bool            `json:"termsOfServiceAgreed,omitempty"`
	OrdersURL            string          `json:"orders,omitempty"`
	Raw                  json.RawMessage `json:"-"` // the body as the CA sent it (certbot keeps it in regr.json)
}

// AccountRequest is what Register sends (§7.3).
type AccountRequest struct {
	Contact              []string
	TermsOfServiceAgreed bool
	EAB                  *ExternalAccountBinding
}

type wireNewAccount struct {
	Contact                []string        `json:"contact,omitempty"`
	TermsOfServiceAgreed   bool            `json:"termsOfServiceAgreed,omitempty"`
	OnlyReturnExisting     bool            `json:"onlyReturnExisting,omitempty"`
	ExternalAccountBinding json.RawMessage `json:"externalAccountBinding,omitempty"`
}

// Register creates the account for c.Key (§7.3), or returns the existing one if
// the CA already knows the key. It sets c.AccountURL. If the directory requires
// EAB and req.EAB is nil, it returns ErrEABRequired before sending anything.
func (c *Client) Register(ctx context.Context, req AccountRequest) (*Account, error) {
	dir, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	if dir.Meta.ExternalAccountRequired && req.EAB == nil {
		return nil, ErrEABRequired
	}
	w := wireNewAccount{Contact: req.Contact, TermsOfServiceAgreed: req.TermsOfServiceAgreed}
	if req.EAB != nil {
		if w.ExternalAccountBinding, err = eabJWS(req.EAB, c.Key, dir.NewAccountURL); err != nil {
			return nil, err
		}
	}
	acct, err := c.newAccount(ctx, dir, w)
	if err != nil {
		if req.EAB != nil && isEABAlreadyBound(err) {
			err = &EABBoundError{KeyID: req.EAB.KeyID, Err: err}
		}
		return nil, fmt.Errorf("register account: %w", err)
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "account registered", slog.String("account_url", acct.URL))
	return acct, nil
}

// LookupAccount finds the account of c.Key without creating one (§7.3.1,
// onlyReturnExisting) and sets c.AccountURL. An unknown key gives a *Problem of
// type accountDoesNotExist.
func (c *Client) LookupAccount(ctx context.Context) (*Account, error) {
	dir, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	acct, err := c.newAccount(ctx, dir, wireNewAccount{OnlyReturnExisting: true})
	if err != nil {
		return nil, fmt.Errorf("look up account: %w", err)
	}
	return acct, nil
}

func (c *Client) newAccount(ctx context.Context, dir *Directory, w wireNewAccount) (*Account, error) {
	resp, err := c.post(ctx, dir.NewAccountURL, w, postOpts{useJWK: true})
	if err != nil {
		return nil, err
	}
	if resp.location == "" {
		return nil, errors.New("acme: newAccount response has no Location header")
	}
	acct := &Account{}
	c.mu.Lock()
	c.AccountURL = resp.location
	c.mu.Unlock()
	if len(resp.body) > 0 {
		if err := json.Unmarshal(resp.body, acct); err != nil {
			// The CA answered with a Location but a garbled body: fetch it.
			if resp, err = c.fetch(ctx, resp.location, acct); err != nil {
				return nil, fmt.Errorf("decode account: %w", err)
			}
		}
	}
	acct.URL = c.AccountURL
	acct.Raw = append(json.RawMessage(nil), resp.body...)
	return acct, nil
}

// GetAccount fetches the account object (POST-as-GET on the account URL).
func (c *Client) GetAccount(ctx context.Context) (*Account, error) {
	return c.postAccount(ctx, nil, "fetch account")
}

// UpdateAccount replaces the account's contacts (§7.3.2).
func (c *Client) UpdateAccount(ctx context.Context, contact []string) (*Account, error) {
	if contact == nil {
		contact = []string{}
	}
	return c.postAccount(ctx, map[string]any{"contact": contact}, "update account")
}

// DeactivateAccount deactivates the account (§7.3.6). Afterwards the CA refuses
// every request signed by its key (unauthorized).
func (c *Client) DeactivateAccount(ctx context.Context) (*Account, error) {
	return c.postAccount(ctx, map[string]string{"status": "deactivated"}, "deactivate account")
}

func (c *Client) postAccount(ctx context.Context, payload any, op string) (*Account, error) {
	if c.AccountURL == "" {
		return nil, ErrNoAccount
	}
	acct := &Account{}
	var resp *response
	var err error
	if payload == nil {
		resp, err = c.fetch(ctx, c.AccountURL, acct)
	} else if resp, err = c.post(ctx, c.AccountURL, payload, postOpts{}); err == nil {
		if jerr := json.Unmarshal(resp.body, acct); jerr != nil {
			// The change was made; the answer was garbled. Fetch the result.
			resp, err = c.fetch(ctx, c.AccountURL, acct)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, c.AccountURL, err)
	}
	acct.URL = c.AccountURL
	acct.Raw = append(json.RawMessage(nil), resp.body...)
	return acct, nil
}

// RolloverKey replaces the account key with newKey (§7.3.5). On success c.Key is
// newKey. If the outcome is unknown (transport error), the caller should keep both
// keys and call LookupAccount with each to see which one the CA holds.
func (c *Client) RolloverKey(ctx context.Context, newKey crypto.Signer) error {
	if c.AccountURL == "" {
		return ErrNoAccount
	}
	dir, err := c.Directory(ctx)
	if err != nil {
		return err
	}
	if dir.KeyChangeURL == "" {
		return errors.New("acme: the CA's directory has no keyChange URL")
	}
	oldPub := jose.JSONWebKey{Key: c.Key.Public()}
	inner, err := signJWS(newKey, "", "", dir.KeyChangeURL, mustJSON(map[string]any{
		"account": c.AccountURL,
		"oldKey":  oldPub,
	}), true)
	if err != nil {
		return fmt.Errorf("key rollover: %w", err)
	}
	if _, err := c.post(ctx, dir.KeyChangeURL, json.RawMessage(inner), postOpts{noReplay: true}); err != nil {
		return fmt.Errorf("key rollover: %w", err)
	}
	c.mu.Lock()
	c.Key = newKey
	c.mu.Unlock()
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ErrEABAlreadyBound: the CA says the EAB key ID is already bound to another
// ACME account key. Test with errors.Is; the error is an *EABBoundError.
var ErrEABAlreadyBound = errors.New("acme: the EAB key ID is already bound to another ACME account")

// EABBoundError is returned by Register when the CA refuses the binding
// because the key ID already belongs to another account key. Sectigo (and
// ZeroSSL) bind a key ID to the first account key that uses it: a second
// server with the same credentials, or a rebuild that lost its account key,
// gets "[External Account Binding] The account is not awaiting external
// account binding" (certbot/certbot#8944, win-acme/win-acme#1904,
// cert-manager/cert-manager#2882). The way out is the first account key, a
// fresh key ID, or the CA enabling EAB reuse.
type EABBoundError struct {
	KeyID string
	Err   error // the CA's *Problem
}

func (e *EABBoundError) Error() string {
	return fmt.Sprintf("acme: the EAB key ID %s is already bound to another ACME account key; use that account's key, or get a new EAB key ID from the CA (%v)", e.KeyID, e.Err)
}

func (e *EABBoundError) Unwrap() []error { return []error{ErrEABAlreadyBound, e.Err} }

// isEABAlreadyBound recognises the CA's refusal of a key ID already used.
func isEABAlreadyBound(err error) bool {
	var p *Problem
	if !errors.As(err, &p) {
		return false
	}
	d := strings.ToLower(p.Detail)
	switch {
	case strings.Contains(d, "not awaiting external account binding"):
		return true // Sectigo, ZeroSSL
	case strings.Contains(d, "external account") || strings.Contains(d, "eab"):
		return strings.Contains(d, "already bound") || strings.Contains(d, "already used") ||
			strings.Contains(d, "already been used") || strings.Contains(d, "already in use") || strings.Contains(d, "already associated")
	}
	return false
}
