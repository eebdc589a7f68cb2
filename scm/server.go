package scm

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Server is an ACME server the tenant may use (GET /api/acme/v1/server).
type Server struct {
	URL                string `json:"url"` // the ACME directory URL
	CAID               int    `json:"caId"`
	Name               string `json:"name"`
	SingleProductID    int    `json:"singleProductId"`
	MultiProductID     int    `json:"multiProductId"`
	WildcardProductID  int    `json:"wcProductId"`
	CertValidationType string `json:"certValidationType"`
	Active             *bool  `json:"active,omitempty"`
}

// Matches reports whether s names this server: its name (case-insensitive) or
// its URL (case-insensitive, trailing slash ignored). SCM accounts carry either
// in acmeServer.
func (s *Server) Matches(nameOrURL string) bool {
	v := strings.TrimSpace(nameOrURL)
	if v == "" {
		return false
	}
	return strings.EqualFold(v, s.Name) || strings.EqualFold(strings.TrimSuffix(v, "/"), strings.TrimSuffix(s.URL, "/"))
}

// ServerFilter narrows ListServers; zero fields are not sent.
type ServerFilter struct {
	Name               string
	URL                string
	CertValidationType string
	CAID               int
}

// ListServers returns the tenant's ACME servers, all pages.
func (c *Client) ListServers(ctx context.Context, f ServerFilter) ([]Server, error) {
	q := url.Values{}
	for k, v := range map[string]string{"name": f.Name, "url": f.URL, "certValidationType": f.CertValidationType} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.CAID != 0 {
		q.Set("caId", strconv.Itoa(f.CAID))
	}
	ss, err := listAll[Server](ctx, c, "/acme/v1/server", q)
	if err != nil {
		return nil, fmt.Errorf("list acme servers: %w", err)
	}
	return ss, nil
}
