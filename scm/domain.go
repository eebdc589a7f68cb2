package scm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Domain is a domain assigned to an ACME account.
type Domain struct {
	Name         string `json:"name"`
	ValidUntil   string `json:"validUntil,omitempty"`  // DCV validity (date)
	StickyUntil  string `json:"stickyUntil,omitempty"` // sticky DCV
	ValidationID string `json:"validationId,omitempty"`
}

// DomainFilter narrows ListDomains; zero fields are not sent.
type DomainFilter struct {
	// Name is a regular expression SCM matches names against ("^www\.example\.com$").
	Name                        string
	ExpiresWithinNextDays       int
	StickyExpiresWithinNextDays int
}

func domainPath(id int) string { return accountPath(id) + "/domain" }

type domainName struct {
	Name string `json:"name"`
}

type domainsBody struct {
	Domains []domainName `json:"domains"`
}

func newDomainsBody(domains []string) (domainsBody, error) {
	if len(domains) == 0 {
		return domainsBody{}, errors.New("no domains given")
	}
	b := domainsBody{Domains: make([]domainName, 0, len(domains))}
	for _, d := range domains {
		d = strings.TrimSpace(d)
		if d == "" || len(d) > 1024 {
			return domainsBody{}, fmt.Errorf("invalid domain name %q", d)
		}
		b.Domains = append(b.Domains, domainName{d})
	}
	return b, nil
}

// ListDomains returns the domains of account id, fetching all pages.
func (c *Client) ListDomains(ctx context.Context, id int, f DomainFilter) ([]Domain, error) {
	q := url.Values{}
	if f.Name != "" {
		q.Set("name", f.Name)
	}
	if f.ExpiresWithinNextDays > 0 {
		q.Set("expiresWithinNextDays", strconv.Itoa(f.ExpiresWithinNextDays))
	}
	if f.StickyExpiresWithinNextDays > 0 {
		q.Set("stickyExpiresWithinNextDays", strconv.Itoa(f.StickyExpiresWithinNextDays))
	}
	ds, err := listAll[Domain](ctx, c, domainPath(id), q)
	if err != nil {
		return nil, fmt.Errorf("list domains of account %d: %w", id, err)
	}
	return ds, nil
}

// AddDomains assigns domains to account id. When SCM reports some in
// notAddedDomains (not delegated to the organization, not validated, ...), the
// others are added and the error is a *DomainError naming the refused ones.
func (c *Client) AddDomains(ctx context.Context, id int, domains []string) error {
	body, err := newDomainsBody(domains)
	if err != nil {
		return fmt.Errorf("scm: add domains to account %d: %w", id, err)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, domainPath(id), nil, body, http.StatusOK, http.StatusCreated, http.StatusNoContent)
	if err != nil {
		return fmt.Errorf("add domains to account %d: %w", id, err)
	}
	var out struct {
		NotAdded []string `json:"notAddedDomains"`
	}
	if err := decode(resp.body, &out); err != nil {
		return fmt.Errorf("scm: add domains to account %d: decode response: %w", id, err)
	}
	if len(out.NotAdded) > 0 {
		return newDomainError(id, "add", out.NotAdded)
	}
	return nil
}

// RemoveDomains removes domains from account id (a DELETE with a JSON body).
// Domains SCM reports in notRemovedDomains come back as a *DomainError.
func (c *Client) RemoveDomains(ctx context.Context, id int, domains []string) error {
	body, err := newDomainsBody(domains)
	if err != nil {
		return fmt.Errorf("scm: remove domains from account %d: %w", id, err)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.do(ctx, http.MethodDelete, domainPath(id), nil, body, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return fmt.Errorf("remove domains from account %d: %w", id, err)
	}
	var out struct {
		NotRemoved []string `json:"notRemovedDomains"`
	}
	if err := decode(resp.body, &out); err != nil {
		return fmt.Errorf("scm: remove domains from account %d: decode response: %w", id, err)
	}
	if len(out.NotRemoved) > 0 {
		return newDomainError(id, "remove", out.NotRemoved)
	}
	return nil
}
