package scm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Account statuses seen in SCM responses. SCM spells them with varying case
// ("pending" in the 25.5 reference, "Pending" in 25.4): compare with StatusIs.
const (
	StatusPending = "pending"
	StatusValid   = "valid"
)

// Account is a Sectigo Public ACME account in SCM (v2 object). MACID and
// MACKey are the EAB key id and HMAC key an ACME client registers with.
type Account struct {
	ID                 int    `json:"id"`        // SCM entity id
	AccountID          string `json:"accountId"` // ACME account id; equals MACID in SCM's examples
	MACID              string `json:"macId"`     // EAB kid
	MACKey             Secret `json:"macKey"`    // EAB HMAC key (base64url)
	ACMEServer         string `json:"acmeServer"`
	Name               string `json:"name"`
	OrganizationID     int    `json:"organizationId"`
	CertValidationType string `json:"certValidationType"` // DV, OV or EV
	Status             string `json:"status"`
	ValidationID       string `json:"validationId,omitempty"`
	OVAnchorID         string `json:"ovAnchorID,omitempty"`
	Contacts           string `json:"contacts,omitempty"`
}

// StatusIs compares the account status case-insensitively.
func (a *Account) StatusIs(status string) bool { return strings.EqualFold(a.Status, status) }

// AccountFilter narrows ListAccounts; zero fields are not sent.
type AccountFilter struct {
	OrganizationID int
	// OrganizationOnly excludes the organization's departments (organizationId=N,-2).
	OrganizationOnly   bool
	Name               string
	ACMEServer         string
	CertValidationType string
	Status             string
}

func (f AccountFilter) query() url.Values {
	q := url.Values{}
	if f.OrganizationID != 0 {
		v := strconv.Itoa(f.OrganizationID)
		if f.OrganizationOnly {
			v += ",-2"
		}
		q.Set("organizationId", v)
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("name", f.Name)
	set("acmeServer", f.ACMEServer)
	set("certValidationType", f.CertValidationType)
	set("status", f.Status)
	return q
}

const accountsPath = "/acme/v2/account"

func accountPath(id int) string { return accountsPath + "/" + strconv.Itoa(id) }

// ListAccounts returns every account matching f, fetching all pages. Results
// are whatever the admin's role may see.
func (c *Client) ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error) {
	return listAll[Account](ctx, c, accountsPath, f.query())
}

// GetAccount returns account id, including its EAB credentials. An unknown id
// gives an *Error matching ErrNotFound.
func (c *Client) GetAccount(ctx context.Context, id int) (*Account, error) {
	if id <= 0 {
		return nil, fmt.Errorf("scm: get account: invalid id %d", id)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var a Account
	if _, err := c.getJSON(ctx, accountPath(id), nil, &a); err != nil {
		return nil, err
	}
	if a.ID == 0 {
		a.ID = id
	}
	return &a, nil
}

// AccountRequest creates an account. OrganizationID, Name (1–128 characters)
// and ACMEServer (the server's name or URL from ListServers, 1–1024) are required.
type AccountRequest struct {
	Name               string `json:"name"`
	ACMEServer         string `json:"acmeServer"`
	OrganizationID     int    `json:"organizationId"`
	CertValidationType string `json:"certValidationType,omitempty"`
	ValidationID       string `json:"validationId,omitempty"`
}

func (r AccountRequest) validate() error {
	switch n := utf8.RuneCountInString(r.Name); {
	case strings.TrimSpace(r.Name) == "":
		return errors.New("account name is empty")
	case n > 128:
		return fmt.Errorf("account name has %d characters, at most 128 allowed", n)
	}
	switch n := len(r.ACMEServer); {
	case strings.TrimSpace(r.ACMEServer) == "":
		return errors.New("acme server is empty")
	case n > 1024:
		return fmt.Errorf("acme server has %d characters, at most 1024 allowed", n)
	}
	if r.OrganizationID <= 0 {
		return fmt.Errorf("organization id %d: want a positive SCM organization id", r.OrganizationID)
	}
	return nil
}

// CreateAccount creates an account. SCM answers 201 with an empty body and
// the new id in Location; CreateAccount then GETs the account, so the result
// carries MACID and MACKey.
func (c *Client) CreateAccount(ctx context.Context, r AccountRequest) (*Account, error) {
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("scm: create account: %w", err)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, accountsPath, nil, r, http.StatusCreated, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("create account %q: %w", r.Name, err)
	}
	id, err := idFromLocation(resp.header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("scm: create account %q: %w", r.Name, err)
	}
	a, err := c.GetAccount(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read account %d just created as %q: %w", id, r.Name, err)
	}
	return a, nil
}

// idFromLocation parses ".../api/acme/v2/account/{id}".
func idFromLocation(loc string) (int, error) {
	if loc == "" {
		return 0, errors.New("response has no Location header")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return 0, fmt.Errorf("parse Location %q: %w", loc, err)
	}
	id, err := strconv.Atoi(path.Base(strings.TrimSuffix(u.Path, "/")))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("no account id at the end of Location %q", loc)
	}
	return id, nil
}

// RenameAccount sets account id's name.
func (c *Client) RenameAccount(ctx context.Context, id int, name string) error {
	if err := (AccountRequest{Name: name, ACMEServer: "-", OrganizationID: 1}).validate(); err != nil {
		return fmt.Errorf("scm: rename account %d: %w", id, err)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := struct {
		Name string `json:"name"`
	}{name}
	if _, err := c.do(ctx, http.MethodPut, accountPath(id), nil, body, http.StatusOK, http.StatusNoContent); err != nil {
		return fmt.Errorf("rename account %d: %w", id, err)
	}
	return nil
}

// DeleteAccount deletes account id (204). ACME clients registered with its EAB
// credentials can no longer order certificates.
func (c *Client) DeleteAccount(ctx context.Context, id int) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if _, err := c.do(ctx, http.MethodDelete, accountPath(id), nil, nil, http.StatusNoContent, http.StatusOK); err != nil {
		return fmt.Errorf("delete account %d: %w", id, err)
	}
	return nil
}
