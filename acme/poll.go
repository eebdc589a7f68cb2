package acme

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// WaitKind says what a wait is for.
type WaitKind string

// What a client waits for.
const (
	// WaitAuthorization: a pending authorization the CA is validating.
	WaitAuthorization WaitKind = "authorization"
	// WaitOrder: an order the CA is processing after finalize (or whose
	// finalize answer was lost).
	WaitOrder WaitKind = "order"
	// WaitFinalize: a finalize request the CA holds open (synchronous
	// issuance; esnet/acme-proxy#22 saw Sectigo take more than 45 s).
	WaitFinalize WaitKind = "finalize"
)

// WaitProgress describes a long wait, for Client.OnWait: what is awaited, for
// how long so far, and when the next check is.
type WaitProgress struct {
	Kind WaitKind
	// URL is the authorization or order URL.
	URL string
	// Identifier is the authorization's identifier value (WaitAuthorization).
	Identifier string
	// Status is the last status the CA reported ("pending", "ready",
	// "processing"; empty before the first answer).
	Status string
	// Elapsed is the time since the wait began.
	Elapsed time.Duration
	// Next is the time until the next check; 0 while a request is
	// outstanding (WaitFinalize).
	Next time.Duration
	// RetryAfter is what the CA asked for in its last answer (0: nothing),
	// before the client's ceiling and deadline were applied.
	RetryAfter time.Duration
	// Polls counts the checks made so far.
	Polls int
}

func (c *Client) maxPollWait() time.Duration {
	if c.MaxPollWait > 0 {
		return c.MaxPollWait
	}
	return 60 * time.Second
}

func (c *Client) readyGrace() time.Duration {
	if c.ReadyGrace > 0 {
		return c.ReadyGrace
	}
	return 30 * time.Second
}

func (c *Client) progressInterval() time.Duration {
	if c.ProgressInterval > 0 {
		return c.ProgressInterval
	}
	return 10 * time.Second
}

func (c *Client) report(p WaitProgress) {
	if c.OnWait != nil {
		c.OnWait(p)
	}
}

// poller spaces polls. The CA's Retry-After is the minimum spacing (RFC 8555
// §7.5.1 / §7.4: clients should honour it), otherwise an interval that starts
// short (a fast CA costs no idle time) and doubles up to MaxPollInterval.
// Either way one wait is capped at MaxPollWait — Sectigo sends
// "Retry-After: 300" on authorizations whatever their status
// (grindsa/acme2certifier#122), which would notice a 20-s DCV five minutes
// late — and never runs past ctx's deadline: the last check is made just
// before it.
type poller struct {
	c        *Client
	kind     WaitKind
	url      string
	ident    string
	start    time.Time
	interval time.Duration
	max      time.Duration
	n        int
	last     bool
}

func (c *Client) newPoller(kind WaitKind, url, ident string) *poller {
	p := &poller{c: c, kind: kind, url: url, ident: ident, start: time.Now(), interval: c.PollInterval, max: c.MaxPollInterval}
	if p.interval <= 0 {
		p.interval = 50 * time.Millisecond
	}
	if p.max <= 0 {
		p.max = 5 * time.Second
	}
	return p
}

// deadlineReserve is the time kept before a deadline for the last check.
func deadlineReserve(left time.Duration) time.Duration {
	return min(left/4, 5*time.Second)
}

// wait sleeps before the next poll. retryAfter is the CA's last Retry-After (0
// when none), status the last status seen. When the deadline is too close for
// another check it returns an error naming what was awaited.
func (p *poller) wait(ctx context.Context, retryAfter time.Duration, status string) error {
	d := p.interval
	if p.interval *= 2; p.interval > p.max {
		p.interval = p.max
	}
	d = max(d, retryAfter)
	d = min(d, p.c.maxPollWait())
	what := p.what(status)
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		budget := left - deadlineReserve(left)
		if p.last || budget <= 0 {
			return fmt.Errorf("acme: gave up waiting for %s after %d checks in %s: %w", what, p.n, time.Since(p.start).Round(time.Second), context.DeadlineExceeded)
		}
		if d >= budget {
			d, p.last = budget, true
		}
	}
	p.n++
	p.c.report(WaitProgress{Kind: p.kind, URL: p.url, Identifier: p.ident, Status: status,
		Elapsed: time.Since(p.start), Next: d, RetryAfter: retryAfter, Polls: p.n - 1})
	p.c.logger().LogAttrs(ctx, slog.LevelDebug, "waiting", slog.String("for", what), attrRetryIn(d))
	if err := p.c.sleep(ctx, d); err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

func (p *poller) what(status string) string {
	s := string(p.kind) + " " + p.url
	if p.ident != "" {
		s = string(p.kind) + " for " + p.ident
	}
	if status != "" {
		s += " (" + status + ")"
	}
	return s
}

// heartbeat reports a request held open (WaitFinalize) every
// ProgressInterval until stop is called.
func (c *Client) heartbeat(ctx context.Context, kind WaitKind, url, status string) (stop func()) {
	if c.OnWait == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(c.progressInterval())
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				c.report(WaitProgress{Kind: kind, URL: url, Status: status, Elapsed: time.Since(start)})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// requestContext bounds one HTTP exchange: RequestTimeout (default 45 s,
// certbot's socket timeout) for ordinary requests, and the caller's deadline
// less a reserve for one that may be held open (finalize), so that a lost
// answer still leaves time to poll the order.
func (c *Client) requestContext(ctx context.Context, long bool) (context.Context, context.CancelFunc) {
	if long {
		dl, ok := ctx.Deadline()
		if !ok {
			return context.WithCancel(ctx)
		}
		left := time.Until(dl)
		return context.WithTimeout(ctx, max(left-min(left/10, 30*time.Second), min(left, c.requestTimeout())))
	}
	return context.WithTimeout(ctx, c.requestTimeout())
}

func (c *Client) requestTimeout() time.Duration {
	if c.RequestTimeout > 0 {
		return c.RequestTimeout
	}
	return 45 * time.Second
}
