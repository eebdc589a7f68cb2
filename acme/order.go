package acme

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Order is an ACME order (§7.1.3).
type Order struct {
	URL               string       `json:"-"`
	Status            string       `json:"status"`
	Expires           time.Time    `json:"expires,omitempty"`
	Identifiers       []Identifier `json:"identifiers"`
	NotBefore         time.Time    `json:"notBefore,omitempty"`
	NotAfter          time.Time    `json:"notAfter,omitempty"`
	Error             *Problem     `json:"error,omitempty"`
	AuthorizationURLs []string     `json:"authorizations"`
	FinalizeURL       string       `json:"finalize"`
	CertificateURL    string       `json:"certificate,omitempty"`
	Profile           string       `json:"profile,omitempty"`
	Replaces          string       `json:"replaces,omitempty"`
	// RetryAfter is the Retry-After of the response that carried this order.
	RetryAfter time.Duration `json:"-"`
}

// Order statuses (§7.1.6).
const (
	StatusPending     = "pending"
	StatusReady       = "ready"
	StatusProcessing  = "processing"
	StatusValid       = "valid"
	StatusInvalid     = "invalid"
	StatusDeactivated = "deactivated"
	StatusExpired     = "expired"
	StatusRevoked     = "revoked"
)

// OrderRequest is what NewOrder sends (§7.4; profile from draft-aaron-acme-profiles,
// replaces from RFC 9773).
type OrderRequest struct {
	Identifiers         []Identifier
	NotBefore, NotAfter time.Time
	Profile             string // sent only when the directory lists profiles
	Replaces            string // ARI CertID; sent only when the directory has renewalInfo
}

type wireOrderRequest struct {
	Identifiers []Identifier `json:"identifiers"`
	NotBefore   string       `json:"notBefore,omitempty"`
	NotAfter    string       `json:"notAfter,omitempty"`
	Profile     string       `json:"profile,omitempty"`
	Replaces    string       `json:"replaces,omitempty"`
}

// NewOrder creates an order. A profile the directory does not list is an error
// before anything is sent; a profile on a CA without profiles is dropped with a
// warning, as is replaces on a CA without ARI.
func (c *Client) NewOrder(ctx context.Context, req OrderRequest) (*Order, error) {
	dir, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	if len(req.Identifiers) == 0 {
		return nil, errors.New("acme: new order: no identifiers")
	}
	w := wireOrderRequest{Identifiers: req.Identifiers}
	if !req.NotBefore.IsZero() {
		w.NotBefore = req.NotBefore.UTC().Format(time.RFC3339)
	}
	if !req.NotAfter.IsZero() {
		w.NotAfter = req.NotAfter.UTC().Format(time.RFC3339)
	}
	if req.Profile != "" {
		switch {
		case len(dir.Meta.Profiles) == 0:
			c.logger().LogAttrs(ctx, slog.LevelWarn, "the CA lists no profiles; ignoring the requested one", slog.String("profile", req.Profile))
		case dir.Meta.Profiles[req.Profile] == "" && !hasKey(dir.Meta.Profiles, req.Profile):
			return nil, fmt.Errorf("acme: the CA has no profile %q (it offers %s)", req.Profile, profileNames(dir.Meta.Profiles))
		default:
			w.Profile = req.Profile
		}
	}
	if req.Replaces != "" && dir.RenewalInfoURL != "" {
		w.Replaces = req.Replaces
	}
	resp, err := c.post(ctx, dir.NewOrderURL, w, postOpts{})
	if err != nil {
		return nil, fmt.Errorf("new order for %s: %w", idList(req.Identifiers), err)
	}
	if resp.location == "" {
		return nil, errors.New("acme: new order: response has no Location header")
	}
	o, err := decodeOrder(resp)
	if err != nil {
		// Created, but the answer was garbled: fetch the order.
		if o, err = c.GetOrder(ctx, resp.location); err != nil {
			return nil, fmt.Errorf("new order: %w", err)
		}
	}
	o.URL = resp.location
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("new order %s: %w", o.URL, err)
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "order created", attrOrderURL(o.URL), slog.String("status", o.Status))
	return o, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func profileNames(m map[string]string) string {
	var s string
	for k := range m {
		if s != "" {
			s += ", "
		}
		s += k
	}
	return s
}

func idList(ids []Identifier) string {
	var s string
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += id.Value
	}
	return s
}

func decodeOrder(resp *response) (*Order, error) {
	o := &Order{}
	if err := json.Unmarshal(resp.body, o); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	o.URL = resp.location
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		o.RetryAfter = ra
	}
	return o, nil
}

func (o *Order) check() error {
	switch o.Status {
	case StatusPending, StatusReady, StatusProcessing, StatusValid, StatusInvalid:
	default:
		return fmt.Errorf("acme: order has unknown status %q", o.Status)
	}
	if o.FinalizeURL == "" {
		return errors.New("acme: order has no finalize URL")
	}
	return nil
}

// GetOrder fetches an order (POST-as-GET).
func (c *Client) GetOrder(ctx context.Context, url string) (*Order, error) {
	o := &Order{}
	resp, err := c.fetch(ctx, url, o)
	if err != nil {
		return nil, fmt.Errorf("fetch order %s: %w", url, err)
	}
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		o.RetryAfter = ra
	}
	o.URL = url
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("fetch order %s: %w", url, err)
	}
	return o, nil
}

// FinalizeOrder sends the CSR (DER) to the order's finalize URL (§7.4) and waits
// until the order is valid, honouring Retry-After. Finalize is sent at most once:
// after a transport error or a server error the order is polled instead, because a
// second finalize can mint a second certificate (Sectigo). If the order is still
// "ready" after such an error, the error is returned and nothing is re-sent.
func (c *Client) FinalizeOrder(ctx context.Context, o *Order, csrDER []byte) (*Order, error) {
	payload := map[string]string{"csr": base64.RawURLEncoding.EncodeToString(csrDER)}
	for attempt := 1; ; attempt++ {
		resp, err := c.post(ctx, o.FinalizeURL, payload, postOpts{noReplay: true})
		if err == nil {
			next, derr := decodeOrder(resp)
			if derr != nil {
				// The CA acted; learn the outcome by polling.
				return c.WaitOrder(ctx, o.URL)
			}
			next.URL = o.URL
			if next.Status == StatusValid && next.CertificateURL != "" {
				return next, nil
			}
			return c.waitOrderFrom(ctx, next)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("finalize order %s: %w", o.URL, err)
		}
		if IsProblem(err, ProblemOrderNotReady) && attempt == 1 {
			// Nothing was issued; wait for the authorizations to settle, then retry once.
			cur, werr := c.waitOrderStatus(ctx, o.URL, StatusPending)
			if werr != nil {
				return nil, errors.Join(fmt.Errorf("finalize order %s: %w", o.URL, err), werr)
			}
			if cur.Status == StatusReady {
				continue
			}
			return c.waitOrderFrom(ctx, cur)
		}
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 {
			return nil, fmt.Errorf("finalize order %s: %w", o.URL, err)
		}
		// Transport error or 5xx: the CA may have acted. Poll, never re-finalize.
		c.logger().LogAttrs(ctx, slog.LevelWarn, "finalize outcome unknown; polling the order", attrOrderURL(o.URL), attrErr(err))
		cur, gerr := c.GetOrder(ctx, o.URL)
		if gerr != nil {
			return nil, errors.Join(fmt.Errorf("finalize order %s: %w", o.URL, err), gerr)
		}
		if cur.Status == StatusReady || cur.Status == StatusPending {
			return nil, fmt.Errorf("finalize order %s: %w (the order is still %s; not re-sending finalize)", o.URL, err, cur.Status)
		}
		return c.waitOrderFrom(ctx, cur)
	}
}

// WaitOrder polls a finalized order while it is processing and returns it once
// valid; an invalid order (or one not finalized) is an error.
func (c *Client) WaitOrder(ctx context.Context, url string) (*Order, error) {
	o, err := c.GetOrder(ctx, url)
	if err != nil {
		return nil, err
	}
	return c.waitOrderFrom(ctx, o)
}

func (c *Client) waitOrderFrom(ctx context.Context, o *Order) (*Order, error) {
	o, err := c.pollOrder(ctx, o, StatusProcessing)
	if err != nil {
		return nil, err
	}
	switch o.Status {
	case StatusValid:
		if o.CertificateURL == "" {
			return nil, fmt.Errorf("acme: order %s is valid but has no certificate URL", o.URL)
		}
		return o, nil
	case StatusInvalid:
		if o.Error != nil {
			return nil, fmt.Errorf("order %s is invalid: %w", o.URL, o.Error)
		}
		return nil, fmt.Errorf("acme: order %s is invalid", o.URL)
	}
	return nil, fmt.Errorf("acme: order %s is %s: the CA has not accepted a finalize request", o.URL, o.Status)
}

// waitOrderStatus polls while the order's status is one of while.
func (c *Client) waitOrderStatus(ctx context.Context, url string, while ...string) (*Order, error) {
	o, err := c.GetOrder(ctx, url)
	if err != nil {
		return nil, err
	}
	return c.pollOrder(ctx, o, while...)
}

func (c *Client) pollOrder(ctx context.Context, o *Order, while ...string) (*Order, error) {
	p := c.newPoller()
	for contains(while, o.Status) {
		if err := p.wait(ctx, o.RetryAfter, "order "+o.URL+" ("+o.Status+")"); err != nil {
			return nil, err
		}
		next, err := c.GetOrder(ctx, o.URL)
		if err != nil {
			return nil, err
		}
		o = next
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// poller spaces polls: Retry-After when the CA sends one, else an interval that
// starts short (so a fast CA costs no idle time) and doubles to a ceiling.
type poller struct {
	c        *Client
	interval time.Duration
	max      time.Duration
	n        int
}

func (c *Client) newPoller() *poller {
	p := &poller{c: c, interval: c.PollInterval, max: c.MaxPollInterval}
	if p.interval <= 0 {
		p.interval = 50 * time.Millisecond
	}
	if p.max <= 0 {
		p.max = 5 * time.Second
	}
	return p
}

// wait sleeps before the next poll. A wait that would pass ctx's deadline returns
// an error naming what was awaited instead of sleeping in vain.
func (p *poller) wait(ctx context.Context, retryAfter time.Duration, what string) error {
	d := p.interval
	if retryAfter > 0 {
		d = retryAfter
	} else {
		p.interval *= 2
		if p.interval > p.max {
			p.interval = p.max
		}
	}
	p.n++
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("acme: gave up waiting for %s after %d polls: the next check (in %s) is past the deadline", what, p.n, d.Round(time.Millisecond))
	}
	p.c.logger().LogAttrs(ctx, slog.LevelDebug, "waiting", slog.String("for", what), attrRetryIn(d))
	if err := p.c.sleep(ctx, d); err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}
