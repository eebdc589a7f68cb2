package manager

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// A renew run asks each lineage's CA for its renewal window (ARI, RFC 9773)
// once the saved ari_retry_after has passed: on the first run over a fresh
// tree, and every Retry-After (6 h at Let's Encrypt) after that, that is one
// GET per lineage. Asked one after the other, 1,000 lineages took 2.7 s;
// asked ahead of the walk, a few at a time per CA, they take the time of the
// slowest few. The walk still settles and reports lineages in listing order.
// The retry times of the lineages not renewed are saved in one batch when
// the walk ends, into one file (storage.Tree.SetARIRetryAfters,
// .acmectl/ari-retry): rewriting each conf as its answer came in cost more
// CPU than everything else in the run, and rewriting 1,000 confs in one
// batch still cost more than the 1,000 requests.
const (
	// ariPerCA is how many renewal-info requests run at once per CA: few
	// enough for any CA's connection limits (over HTTP/2 they share one
	// connection), many enough to hide the round trips.
	ariPerCA = 8
	// ariLookahead is how many lineages the listing may run ahead of the
	// lineage being settled (their ARI answers are asked meanwhile).
	ariLookahead = 256
	// ariSaveBatch is how many not-due lineages' ari_retry_after a run
	// keeps before it saves them in one batch (storage.SetARIRetryAfters);
	// the rest are saved when the walk ends.
	ariSaveBatch = 4096
)

// listed is one lineage of the listing on its way to being settled.
type listed struct {
	li     *storage.LineageInfo
	oc     *Outcome
	notDue bool    // the listing alone settles it as not due
	ask    *ariAsk // the CA's ARI answer decides (asked ahead)
}

// inOrder streams the listing, asks the CAs for the ARI answers the listing
// leaves open ahead of time (at most ariPerCA requests at once per CA), and
// settles each lineage in listing order on the listing's goroutine: its
// events are reported, a lineage that is not due is skipped, and due is
// called for each of the others (with the CA's answer when it was asked).
// A lineage waits behind an earlier one whose answer is not in yet; the
// listing runs at most ariLookahead lineages ahead. inOrder returns when
// every lineage is settled and every request has ended.
func (r *renewRun) inOrder(ctx context.Context, only []string, outcomes *outcomeList, skip map[string]bool,
	due func(li *storage.LineageInfo, oc *Outcome, known *ariKnown)) error {
	var asks sync.WaitGroup
	var pending []*listed
	saves := map[string]storage.ARIRetry{}
	// settleReady settles the head of pending while its answer is in, and
	// waits for it while more than limit lineages are pending.
	settleReady := func(limit int) {
		for len(pending) > 0 {
			it := pending[0]
			if it.ask != nil && len(pending) <= limit {
				select {
				case <-it.ask.done:
				default:
					return
				}
			}
			pending = pending[1:]
			r.settle(ctx, it, due, saves)
			if len(saves) >= ariSaveBatch {
				r.saveARIRetries(saves)
			}
		}
	}
	// The listing runs to its end also after renew's deadline (ctx), so
	// that every lineage has an outcome.
	err := r.listing(skip)(r.hookCtx, only, func(li *storage.LineageInfo) error {
		if skip[li.Name] {
			return nil
		}
		it := &listed{li: li, oc: outcomes.add()}
		if li.Err == nil {
			it.notDue, it.ask = r.fromListing(ctx, li)
			if it.ask != nil {
				r.askAhead(ctx, &asks, li, it.ask)
			}
		}
		pending = append(pending, it)
		settleReady(ariLookahead)
		return nil
	})
	settleReady(0)
	asks.Wait()
	r.saveARIRetries(saves)
	return err
}

// settle reports one lineage and decides it, in listing order. When the
// CA was asked, when to ask it next goes into saves for a lineage that is
// not renewed (saved in a batch: nothing else of this run writes its conf),
// and is saved at once for a due one, before its renewal reads the conf.
func (r *renewRun) settle(ctx context.Context, it *listed, due func(*storage.LineageInfo, *Outcome, *ariKnown), saves map[string]storage.ARIRetry) {
	li, oc := it.li, it.oc
	oc.Lineage, oc.Expiry = li.Name, li.NotAfter.Unix()
	r.m.emit(Event{Kind: EventLineageStarted, Lineage: li.Name, ConfPath: li.ConfPath})
	switch {
	case li.Err != nil:
		r.fail(oc, li.Name, StatusParseFailed, li.Err)
	case it.notDue:
		r.skip(oc, "not yet due")
	case r.pastDeadline(ctx, li, oc):
	case it.ask == nil:
		due(li, oc, nil)
	default:
		<-it.ask.done
		if r.pastDeadline(ctx, li, oc) || r.decideARI(ctx, li, oc, it.ask) {
			if !it.ask.retryAt.IsZero() {
				saves[li.Name] = storage.ARIRetry{At: it.ask.retryAt, Serial: li.Serial}
			}
			return
		}
		r.saveARIRetry(ctx, li.Name, it.ask.retryAt)
		due(li, oc, it.ask.known)
	}
}

// pastDeadline fails li when renew's deadline (or a cancellation) came
// before its check could run, and returns true then.
func (r *renewRun) pastDeadline(ctx context.Context, li *storage.LineageInfo, oc *Outcome) bool {
	err := ctx.Err()
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) && r.m.Config.RenewDeadline > 0 {
		err = &DeadlineError{Deadline: r.m.Config.RenewDeadline}
	}
	r.failed(oc, li, err)
	return true
}

// askAhead asks li's CA for its renewal window on a goroutine of its own;
// ask.done is closed when the answer (or its absence) is in ask.
func (r *renewRun) askAhead(ctx context.Context, asks *sync.WaitGroup, li *storage.LineageInfo, ask *ariAsk) {
	ask.done = make(chan struct{})
	g := r.m.ariGate(ask.cl.DirectoryURL)
	asks.Add(1)
	go func() {
		defer asks.Done()
		defer close(ask.done)
		r.fetchARI(ctx, li, ask, g)
	}()
}

// fetchARI asks the CA for the listed certificate's renewal window without
// loading or locking the lineage; ask.pick is the chosen time (zero when the
// CA gave no answer: the dates decide) and ask.retryAt when to ask next
// (zero: nothing to save). settle saves it.
func (r *renewRun) fetchARI(ctx context.Context, li *storage.LineageInfo, ask *ariAsk, g *caGate) {
	pick, retry, ok, err := r.askThroughGate(ctx, li, ask, g)
	switch {
	case errors.Is(err, errCAAskedToWait):
		ask.retryAt = r.m.now().Add(g.waitLeft())
	case ok:
		ask.retryAt = r.m.now().Add(max(retry, g.waitLeft()))
	}
	ask.pick = pick
}

// askThroughGate asks li's renewal window in one of the CA's ariPerCA
// slots, once the CA's gate is open; errCAAskedToWait (or the context's
// error) when it was not asked.
func (r *renewRun) askThroughGate(ctx context.Context, li *storage.LineageInfo, ask *ariAsk, g *caGate) (pick time.Time, retry time.Duration, ok bool, err error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, 0, false, ctx.Err()
	}
	defer func() { <-g.slots }()
	if err := g.wait(ctx); err != nil {
		r.m.log().LogAttrs(ctx, slog.LevelInfo, "renewal info not asked", slog.String("lineage", li.Name), slog.String("reason", err.Error()))
		return time.Time{}, 0, false, err
	}
	pick, retry, ok = r.askARI(ctx, li.Name, ask.cl.DirectoryURL, func() (*acme.RenewalInfo, error) {
		ri, err := ask.cl.RenewalInfoByID(ctx, ask.id)
		g.noteError(err)
		return ri, err
	})
	return pick, retry, ok, nil
}

// saveARIRetry saves when li's CA may be asked for its renewal window next
// (ari_retry_after; nothing when at is zero): a lineage the CA asked to
// wait for is not asked before.
func (r *renewRun) saveARIRetry(ctx context.Context, name string, at time.Time) {
	if at.IsZero() {
		return
	}
	if err := r.m.Store.SetARIRetryAfter(ctx, name, at); err != nil {
		r.m.log().LogAttrs(ctx, slog.LevelWarn, "could not save ari_retry_after", slog.String("lineage", name), slog.String("error", err.Error()))
	}
}

// saveARIRetries saves the ari_retry_after of the lineages in saves in one
// batch (storage.SetARIRetryAfters) and empties saves. They are saved after
// renew's deadline too (hookCtx); a time that is lost (a crash before the
// batch) only means the CA is asked again on the next run.
func (r *renewRun) saveARIRetries(saves map[string]storage.ARIRetry) {
	if len(saves) == 0 {
		return
	}
	if err := r.m.Store.SetARIRetryAfters(r.hookCtx, saves); err != nil {
		r.m.log().LogAttrs(r.hookCtx, slog.LevelWarn, "could not save ari_retry_after", slog.Int("lineages", len(saves)), slog.String("error", err.Error()))
	}
	clear(saves)
}

// decideARI settles li as not due when the CA's answer says so and returns
// true; it returns false when li is due (ask.known then holds the answer for
// renewOne).
func (r *renewRun) decideARI(ctx context.Context, li *storage.LineageInfo, oc *Outcome, ask *ariAsk) bool {
	in := ask.in
	in.ARITime = ask.pick
	due, why := isDue(in)
	r.m.log().LogAttrs(ctx, slog.LevelInfo, "renewal decision", slog.String("lineage", li.Name), slog.Bool("due", due), slog.String("reason", why))
	if due {
		ask.known = &ariKnown{serial: li.Serial, pick: ask.pick}
		return false
	}
	r.skip(oc, why)
	return true
}

// caGate paces the renewal-info requests of one CA in a run: ariPerCA at
// once, and none while the CA asked to wait. A request that waits before
// its retry (a 429 or 503 with Retry-After, or a backoff after a failure)
// holds back the CA's other requests for as long; a Retry-After longer than
// the client sleeps through closes the gate for the rest of the run (the
// remaining lineages are decided by their dates, and their next question
// is saved for when the CA said: ari_retry_after).
type caGate struct {
	slots chan struct{}
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	until  time.Time // no request before this
	closed bool      // no request in this run: the CA asked to wait past until
}

// errCAAskedToWait: the CA answered with a Retry-After longer than a run
// waits; it is not asked again in this run.
var errCAAskedToWait = errors.New("the CA asked to wait before its next request")

func newCAGate(now func() time.Time, sleep func(context.Context, time.Duration) error) *caGate {
	return &caGate{slots: make(chan struct{}, ariPerCA), now: now, sleep: sleep}
}

// clientSleep is the ARI client's Sleep: the client waits d before a retry,
// and so does every other request to the CA.
func (g *caGate) clientSleep(ctx context.Context, d time.Duration) error {
	g.hold(g.now().Add(d), false)
	return g.sleep(ctx, d)
}

func (g *caGate) hold(until time.Time, closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
	g.closed = g.closed || closed
}

// noteError closes the gate when err carries a Retry-After the client did
// not wait for (longer than its MaxRetryAfter).
func (g *caGate) noteError(err error) {
	var rl *acme.RateLimitError
	var p *acme.Problem
	switch {
	case errors.As(err, &rl) && !rl.RetryAt.IsZero():
		g.hold(rl.RetryAt, true)
	case errors.As(err, &p) && p.RetryAfter > 0:
		g.hold(g.now().Add(p.RetryAfter), true)
	}
}

// wait returns once the CA may be asked: at once, or after the rest of a
// wait the CA asked for; errCAAskedToWait when the gate is closed.
func (g *caGate) wait(ctx context.Context) error {
	g.mu.Lock()
	closed, d := g.closed, g.until.Sub(g.now())
	g.mu.Unlock()
	if closed {
		return errCAAskedToWait
	}
	if d <= 0 {
		return nil
	}
	return g.sleep(ctx, d)
}

// waitLeft is how long the closed gate still holds (0 when open): the next
// run asks no earlier.
func (g *caGate) waitLeft() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		return 0
	}
	return max(0, g.until.Sub(g.now()))
}

// ariGate returns the run's gate for the CA at server.
func (m *Manager) ariGate(server string) *caGate {
	m.ariMu.Lock()
	defer m.ariMu.Unlock()
	return m.ariGateLocked(server)
}

func (m *Manager) ariGateLocked(server string) *caGate {
	if g := m.ariGates[server]; g != nil {
		return g
	}
	if m.ariGates == nil {
		m.ariGates = map[string]*caGate{}
	}
	sleep := m.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	g := newCAGate(m.now, sleep)
	m.ariGates[server] = g
	return g
}
