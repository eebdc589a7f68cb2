package acme

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrOrderNotResumable: a recorded order cannot be continued (invalid,
// expired, gone, pending again, or not the recorded names); the caller
// discards its record and orders anew. Test with errors.Is.
var ErrOrderNotResumable = errors.New("acme: the recorded order cannot be resumed; order anew")

// ResumeRequest describes an order recorded before finalize (see
// ObtainRequest.BeforeFinalize).
type ResumeRequest struct {
	OrderURL string
	// CSR is the recorded CSR (DER). It is sent with finalize only if the
	// order is still ready after ReadyGrace.
	CSR []byte
	// Identifiers are the names that were ordered; nil means those of the CSR.
	Identifiers    []Identifier
	PreferredChain string
	ExtraNames     ExtraNamesPolicy
	// RecordedAt is when the record was made, just before finalize was sent.
	// Sectigo may show a finalized order as "ready" for a while before
	// "processing", so while the order is ready and less than ReadyGrace
	// (zero: 2 min) has passed since RecordedAt, it is polled, not finalized.
	RecordedAt time.Time
	ReadyGrace time.Duration
}

// ResumeOrder continues an order recorded before finalize, after a crash, a
// kill or a lost answer, so that no second certificate is ordered:
//
//   - valid: the certificate is downloaded;
//   - processing: the order is polled until valid (IssuanceTimeout, ctx);
//   - ready: polled until ReadyGrace has passed since RecordedAt, then
//     finalized once with the recorded CSR;
//   - pending, invalid, expired, deactivated, unknown to the CA (4xx), or
//     for other names: an error wrapping ErrOrderNotResumable.
//
// The certificate is checked as Obtain checks it (the recorded CSR's key, the
// requested names). Other errors (transport, 5xx, *OrderInFlightError) mean
// "try again later": the caller keeps its record.
func (c *Client) ResumeOrder(ctx context.Context, req ResumeRequest) (*Certificate, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.orderTimeout())
		defer cancel()
	}
	csr, want, err := req.parse()
	if err != nil {
		return nil, err
	}
	o, err := c.fetchRecorded(ctx, req, want)
	if err != nil {
		return nil, err
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "resuming recorded order", attrOrderURL(o.URL), slog.String("status", o.Status))
	if o.Status == StatusReady {
		if o, err = c.pollReadyGrace(ctx, o, req); err != nil {
			return nil, err
		}
	}
	switch o.Status {
	case StatusValid:
		if o.CertificateURL == "" {
			return nil, fmt.Errorf("acme: order %s is valid but has no certificate URL", o.URL)
		}
	case StatusProcessing:
		ictx, cancel := c.issuanceContext(ctx)
		o, err = c.waitFinalized(ictx, o, nil, time.Time{})
		cancel()
		if err != nil {
			return nil, err
		}
	case StatusReady:
		c.logger().LogAttrs(ctx, slog.LevelInfo, "recorded order still ready; finalizing it once", attrOrderURL(o.URL))
		if o.FinalizeURL == "" {
			return nil, req.notResumable("no finalize URL")
		}
		if o, err = c.FinalizeOrder(ctx, o, req.CSR); err != nil {
			return nil, err
		}
	default:
		return nil, req.notResumable("status %q", o.Status)
	}
	return c.download(ctx, o, csr, want, req.PreferredChain, req.ExtraNames)
}

func (req *ResumeRequest) notResumable(format string, a ...any) error {
	return fmt.Errorf("%w: order %s: %s", ErrOrderNotResumable, req.OrderURL, fmt.Sprintf(format, a...))
}

// parse reads the recorded CSR and the names that were ordered.
func (req *ResumeRequest) parse() (*x509.CertificateRequest, map[string]bool, error) {
	if req.OrderURL == "" {
		return nil, nil, req.notResumable("no order URL")
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return nil, nil, req.notResumable("recorded CSR: %v", err)
	}
	ids := req.Identifiers
	if ids == nil {
		for _, n := range csr.DNSNames {
			ids = append(ids, Identifier{Type: "dns", Value: n})
		}
		for _, ip := range csr.IPAddresses {
			ids = append(ids, Identifier{Type: "ip", Value: ip.String()})
		}
	}
	want, err := identifierSet(ids)
	if err != nil {
		return nil, nil, req.notResumable("%v", err)
	}
	return csr, want, nil
}

// fetchRecorded fetches the recorded order and checks that it is the one
// recorded and not expired.
func (c *Client) fetchRecorded(ctx context.Context, req ResumeRequest, want map[string]bool) (*Order, error) {
	o := &Order{}
	resp, err := c.fetch(ctx, req.OrderURL, o)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && !IsProblem(err, ProblemRateLimited) && !IsProblem(err, ProblemBadNonce) {
			return nil, errors.Join(req.notResumable("the CA refuses to show it"), err)
		}
		return nil, fmt.Errorf("fetch recorded order %s: %w", req.OrderURL, err)
	}
	o.URL = req.OrderURL
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		o.RetryAfter = ra
	}
	if err := checkOrderIdentifiers(o, want); err != nil {
		return nil, errors.Join(req.notResumable("not the recorded names"), err)
	}
	if !o.Expires.IsZero() && o.Expires.Before(time.Now()) && o.Status != StatusValid {
		return nil, req.notResumable("expired at %s", o.Expires.UTC().Format(time.RFC3339))
	}
	return o, nil
}

// pollReadyGrace polls a ready order until ReadyGrace has passed since the
// record was made (the CA may still be working on the finalize it got).
func (c *Client) pollReadyGrace(ctx context.Context, o *Order, req ResumeRequest) (*Order, error) {
	grace := req.ReadyGrace
	if grace <= 0 {
		grace = 2 * time.Minute
	}
	until := req.RecordedAt.Add(grace)
	if !time.Now().Before(until) {
		return o, nil
	}
	gctx, cancel := context.WithDeadline(ctx, until)
	cur, err := c.pollOrder(gctx, o, StatusReady)
	cancel()
	switch {
	case err == nil:
		return cur, nil
	case ctx.Err() != nil:
		return nil, &OrderInFlightError{OrderURL: o.URL, Status: o.Status, Err: err}
	case !errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("poll recorded order %s: %w", o.URL, err)
	}
	return o, nil
}
