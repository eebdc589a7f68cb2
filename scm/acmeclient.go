package scm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AccountClient is an ACME client (an ACME account at the CA) registered with
// an SCM account's EAB credentials. Several may share one SCM account.
type AccountClient struct {
	AccountID    string `json:"accountId"` // the ACME account id (UUID), used to deactivate
	UserAgent    string `json:"userAgent"`
	IPAddress    string `json:"ipAddress"`
	Status       string `json:"status"` // "valid", "pending", "deactivated" (any case)
	LastActivity string `json:"lastActivity"`
	Contacts     string `json:"contacts"`
}

// StatusIs compares the client status case-insensitively.
func (a *AccountClient) StatusIs(status string) bool { return strings.EqualFold(a.Status, status) }

// ClientFilter narrows ListClients; zero fields are not sent.
type ClientFilter struct {
	Status                     string
	UserAgent                  string
	IPAddress                  string
	Contacts                   string
	LastActivityWithinPrevDays int
}

func clientPath(id int) string { return accountPath(id) + "/client" }

// ListClients returns the ACME clients registered with account id, all pages.
func (c *Client) ListClients(ctx context.Context, id int, f ClientFilter) ([]AccountClient, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "userAgent": f.UserAgent, "ipAddress": f.IPAddress, "contacts": f.Contacts} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.LastActivityWithinPrevDays > 0 {
		q.Set("lastActivityWithinPrevDays", strconv.Itoa(f.LastActivityWithinPrevDays))
	}
	cs, err := listAll[AccountClient](ctx, c, clientPath(id), q)
	if err != nil {
		return nil, fmt.Errorf("list clients of account %d: %w", id, err)
	}
	return cs, nil
}

// DeactivateClient deactivates the ACME client clientID (its ACME account id)
// of account id; SCM answers 204. Deleting clients is no longer supported by SCM.
func (c *Client) DeactivateClient(ctx context.Context, id int, clientID string) error {
	if strings.TrimSpace(clientID) == "" || strings.ContainsAny(clientID, "/?#") {
		return fmt.Errorf("scm: deactivate client of account %d: invalid client id %q", id, clientID)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	p := clientPath(id) + "/" + url.PathEscape(clientID)
	if _, err := c.do(ctx, http.MethodPut, p, nil, nil, http.StatusNoContent, http.StatusOK); err != nil {
		return fmt.Errorf("deactivate client %s of account %d: %w", clientID, id, err)
	}
	return nil
}
