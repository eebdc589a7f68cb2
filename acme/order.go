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

// OrderInFlightError is returned when a finalize request was sent but the
// order was not valid by the deadline: the CA may have accepted it and may
// still issue (Sectigo can take minutes: esnet/acme-proxy#22, #56). The order
// must not be finalized again nor ordered anew — that can mint a second
// certificate — but resumed later with ResumeOrder.
type OrderInFlightError struct {
	OrderURL string
	// Status is the order's last known status ("ready", "processing", or ""
	// when the CA never answered).
	Status string
	Err    error
}

func (e *OrderInFlightError) Error() string {
	st := e.Status
	if st == "" {
		st = "unknown"
	}
	return fmt.Sprintf("acme: order %s was finalized but is not valid yet (status %s); not re-sending finalize, resume the order later: %v", e.OrderURL, st, e.Err)
}

func (e *OrderInFlightError) Unwrap() error { return e.Err }

// issuanceContext applies IssuanceTimeout (default 90 s) to ctx.
func (c *Client) issuanceContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.IssuanceTimeout
	if d <= 0 {
		d = 90 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

// maxPollFailures is how many polls of a finalized order in a row may fail
// (each already retried by post) before the CA counts as unreachable and the
// order is left in flight for a later run.
const maxPollFailures = 3

// FinalizeOrder sends the CSR (DER) to the order's finalize URL (§7.4) and waits
// until the order is valid, honouring Retry-After. The whole is bounded by
// IssuanceTimeout (and ctx); the finalize request itself may be held open by
// the CA until shortly before that deadline.
//
// Finalize is sent at most once. After a transport error, a time-out or a
// server error the outcome is unknown, so the order is polled instead — while
// it is "ready" (Sectigo may show that for a while), then "processing" —
// until it is valid or the deadline passes, because a second finalize can
// mint a second certificate (esnet/acme-proxy#56, go-acme/lego#1183).
//
// Errors: *OrderInFlightError when finalize was (or may have been) accepted
// and the order was not valid in time; *Problem for a refused finalize
// (badCSR, ...); an error naming the order when it became invalid.
func (c *Client) FinalizeOrder(ctx context.Context, o *Order, csrDER []byte) (*Order, error) {
	ctx, cancel := c.issuanceContext(ctx)
	defer cancel()
	payload := map[string]string{"csr": base64.RawURLEncoding.EncodeToString(csrDER)}
	for attempt := 1; ; attempt++ {
		sent := time.Now()
		stop := c.heartbeat(ctx, WaitFinalize, o.URL, o.Status)
		resp, err := c.post(ctx, o.FinalizeURL, payload, postOpts{noReplay: true, long: true})
		stop()
		if err == nil {
			next, derr := decodeOrder(resp)
			if derr != nil {
				// The CA acted; learn the outcome by polling.
				return c.waitFinalized(ctx, &Order{URL: o.URL, FinalizeURL: o.FinalizeURL}, derr, time.Time{})
			}
			next.URL = o.URL
			if next.Status == StatusValid && next.CertificateURL != "" {
				return next, nil
			}
			return c.waitFinalized(ctx, next, nil, time.Time{})
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
			return c.waitFinalized(ctx, cur, nil, time.Time{})
		}
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 {
			return nil, fmt.Errorf("finalize order %s: %w", o.URL, err)
		}
		// Transport error, time-out or 5xx: the CA may have acted. Poll, never
		// re-finalize. With no answer at all the CA may still be working on
		// it (showing "ready" meanwhile), so a ready order is polled for
		// ReadyGrace after the request was sent; after a 5xx answer a ready
		// order means the finalize did not take, and it is left for a later
		// run (ResumeOrder finalizes it once) after one check.
		readyUntil := time.Now()
		if !errors.As(err, &p) {
			readyUntil = sent.Add(c.readyGrace())
		}
		c.logger().LogAttrs(ctx, slog.LevelWarn, "finalize outcome unknown; polling the order", attrOrderURL(o.URL), attrErr(err))
		return c.waitFinalized(ctx, &Order{URL: o.URL, FinalizeURL: o.FinalizeURL}, fmt.Errorf("finalize order %s: %w", o.URL, err), readyUntil)
	}
}

// WaitOrder polls a finalized order while it is ready or processing and
// returns it once valid. Errors as FinalizeOrder's (it never sends finalize).
func (c *Client) WaitOrder(ctx context.Context, url string) (*Order, error) {
	return c.waitFinalized(ctx, &Order{URL: url}, nil, time.Time{})
}

// waitFinalized polls an order finalize was sent for until it is valid. o's
// status is the last known one (empty: unknown, fetch first); cause is why
// the outcome is unknown (nil after a normal answer); a "ready" order is
// polled only until readyUntil when it is not zero. Transient fetch errors
// (transport, 5xx) do not end the wait unless maxPollFailures come in a row.
func (c *Client) waitFinalized(ctx context.Context, o *Order, cause error, readyUntil time.Time) (*Order, error) {
	p := c.newPoller(WaitOrder, o.URL, "")
	cur := o
	status := o.Status
	var lastErr error
	failures := 0
	for {
		if cur != nil {
			status = cur.Status
			switch cur.Status {
			case StatusValid:
				if cur.CertificateURL == "" {
					return nil, fmt.Errorf("acme: order %s is valid but has no certificate URL", cur.URL)
				}
				return cur, nil
			case StatusInvalid:
				if cur.Error != nil {
					return nil, fmt.Errorf("order %s is invalid: %w", cur.URL, cur.Error)
				}
				return nil, fmt.Errorf("acme: order %s is invalid", cur.URL)
			case StatusPending:
				return nil, errors.Join(cause, fmt.Errorf("acme: order %s is pending again after finalize: its authorizations are no longer valid", cur.URL))
			case StatusReady:
				if !readyUntil.IsZero() && !time.Now().Before(readyUntil) {
					return nil, &OrderInFlightError{OrderURL: o.URL, Status: StatusReady, Err: cause}
				}
			}
		}
		var ra time.Duration
		if cur != nil {
			ra = cur.RetryAfter
		}
		if cur != nil && cur.Status != "" || lastErr != nil {
			if err := p.wait(ctx, ra, status); err != nil {
				return nil, &OrderInFlightError{OrderURL: o.URL, Status: status, Err: errors.Join(cause, lastErr, err)}
			}
		}
		next, err := c.GetOrder(ctx, o.URL)
		if err != nil {
			var pr *Problem
			if errors.As(err, &pr) && pr.Status < 500 && pr.Status != 0 && !IsProblem(err, ProblemRateLimited) {
				return nil, errors.Join(cause, err)
			}
			if failures++; ctx.Err() != nil || failures >= maxPollFailures {
				return nil, &OrderInFlightError{OrderURL: o.URL, Status: status, Err: errors.Join(cause, err)}
			}
			c.logger().LogAttrs(ctx, slog.LevelWarn, "order poll failed; polling again", attrOrderURL(o.URL), attrErr(err))
			cur, lastErr = nil, err
			continue
		}
		cur, lastErr, failures = next, nil, 0
	}
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
	p := c.newPoller(WaitOrder, o.URL, "")
	for contains(while, o.Status) {
		if err := p.wait(ctx, o.RetryAfter, o.Status); err != nil {
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
