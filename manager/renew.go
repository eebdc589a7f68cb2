package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/revocation"
	"github.com/acmectl/acmectl/storage"
)

// ariDefaultRetry is how long an ARI answer (or an ARI error) is trusted when
// the CA sends no Retry-After (certbot: 6 h).
const ariDefaultRetry = 6 * time.Hour

// Outcome statuses of a lineage in a renew run.
const (
	StatusRenewed     = "renewed"
	StatusSkipped     = "skipped"
	StatusFailed      = "failed"
	StatusParseFailed = "parse-failed"
)

// Outcome is one lineage's result in a renew run. A run over 10,000
// lineages keeps 10,000 of these, so one skipped from the listing holds no
// more than its name, status and expiry.
type Outcome struct {
	Lineage      string
	Expiry       int64  // Unix seconds
	Status       string // StatusRenewed, ... (constants: no allocation)
	*outcomeMore        // nil for a lineage the listing alone settled as not due
}

type outcomeMore struct {
	names  []string // for the post-hook
	err    error
	reason string
}

// Names are the lineage's names (nil for one the listing settled).
func (oc *Outcome) Names() []string {
	if oc.outcomeMore == nil {
		return nil
	}
	return oc.names
}

// Err is why the lineage failed.
func (oc *Outcome) Err() error {
	if oc.outcomeMore == nil {
		return nil
	}
	return oc.err
}

func (oc *Outcome) more() *outcomeMore {
	if oc.outcomeMore == nil {
		oc.outcomeMore = &outcomeMore{}
	}
	return oc.outcomeMore
}

// RenewResult is a renew run: every lineage's outcome in listing order.
type RenewResult struct {
	outcomes outcomeList
	// HookFailures counts the hooks that failed (the installer's steps too).
	HookFailures int
	// InstallerErr is why the installer (reloading nginx or Apache, or
	// installing a certificate again) failed; nil when it did not.
	InstallerErr error
	// DryRun says the renewals were simulated.
	DryRun bool
	// SyncErr is why a cluster node's replica could not be brought up to
	// the cluster after the run (nil when it was, or there is no cluster).
	SyncErr error
}

// Each calls f for every outcome in listing order.
func (r *RenewResult) Each(f func(oc *Outcome)) { r.outcomes.each(f) }

// Lineages lists the renewed and the failed (or unreadable) lineages, in
// listing order.
func (r *RenewResult) Lineages() (renewed, failed []string) {
	r.Each(func(oc *Outcome) {
		switch oc.Status {
		case StatusRenewed:
			renewed = append(renewed, oc.Lineage)
		case StatusFailed, StatusParseFailed:
			failed = append(failed, oc.Lineage)
		}
	})
	return renewed, failed
}

// Len is the number of lineages seen.
func (r *RenewResult) Len() int { return r.outcomes.n }

// Err is the run's error: the failed lineages, or the failed hooks.
func (r *RenewResult) Err() error {
	var names []string
	failed, parseFailed := 0, 0
	r.Each(func(oc *Outcome) {
		switch oc.Status {
		case StatusFailed:
			failed++
			names = append(names, oc.Lineage)
		case StatusParseFailed:
			parseFailed++
			names = append(names, oc.Lineage)
		}
	})
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Errorf("%d renew failure(s), %d parse failure(s) (%s)", failed, parseFailed, strings.Join(names, ", "))
	}
	if r.InstallerErr != nil {
		return fmt.Errorf("the certificates were renewed, but the installer failed: %s", OneLine(r.InstallerErr.Error()))
	}
	if r.HookFailures > 0 {
		return fmt.Errorf("%d hook(s) failed", r.HookFailures)
	}
	if r.SyncErr != nil {
		return fmt.Errorf("this node's copy of the cluster's certificates could not be updated: %w", r.SyncErr)
	}
	return nil
}

// outcomeList keeps outcomes in lineage order in fixed-size chunks (no
// copying as it grows).
type outcomeList struct {
	chunks [][]Outcome
	n      int
}

const outcomeChunk = 1024

// add reserves the next slot and returns it.
func (l *outcomeList) add() *Outcome {
	if l.n%outcomeChunk == 0 {
		l.chunks = append(l.chunks, make([]Outcome, outcomeChunk))
	}
	oc := &l.chunks[l.n/outcomeChunk][l.n%outcomeChunk]
	l.n++
	return oc
}

func (l *outcomeList) each(f func(oc *Outcome)) {
	for i := 0; i < l.n; i++ {
		f(&l.chunks[i/outcomeChunk][i%outcomeChunk])
	}
}

// renewRun is the state shared by the lineages of one renew run.
type renewRun struct {
	m     *Manager
	hooks *hooks
	// inFlight are the lineages with an order recorded before finalize:
	// due whatever their dates, to collect what the CA issued.
	inFlight  map[string]bool
	sleepOnce *sync.Once
	rnd       *rand.Rand
	rndMu     *sync.Mutex
	// synced are the names a cluster sync brought into the node's tree
	// (their deploy hooks ran), syncErr why the sync failed.
	synced  []string
	syncErr error
	// runCtx carries renew's deadline (Config.RenewDeadline); hookCtx is
	// the caller's context without it: the listing, hooks and the
	// installer run under hookCtx, so a post hook that starts the server
	// the pre hook stopped still runs after the deadline.
	runCtx, hookCtx context.Context
	// writable warns about a lineage directory others may write, as the
	// listing finds it (nil: warnOtherWritable checked them before).
	writable func(storage.WritableDir)
}

// Renew renews every lineage that is due (or only Config.CertName), as
// certbot's renew: lineages are decided as the listing streams by; the due
// ones run on up to Config.Parallel goroutines per CA. Pre hooks run before
// the first attempt, deploy hooks after each renewal, post hooks once at the
// end. Every lineage's outcome is in the result and was reported as an
// event; the error is only for the run as a whole (the listing failed, or
// --cert-name names no lineage). Call RenewResult.Err for failures.
func (m *Manager) Renew(ctx context.Context) (*RenewResult, error) {
	c := m.Config
	if len(c.Domains) > 0 {
		return nil, Usagef("renew renews every certificate that is due, or one chosen with --cert-name; to renew by domain names use certonly -d")
	}
	defer m.closeWebServers()
	writable := m.warnOtherWritableTop(ctx)
	var only []string
	if c.CertName != "" {
		only = []string{c.CertName}
	}
	hookCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.RenewDeadline > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.RenewDeadline)
	}
	defer cancel()
	r := &renewRun{m: m, hooks: m.newHooks(), sleepOnce: &sync.Once{}, rndMu: &sync.Mutex{},
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)), runCtx: ctx, hookCtx: hookCtx, inFlight: m.inFlightNames(ctx), writable: writable}
	res := &RenewResult{DryRun: c.DryRun}
	skip, err := r.renewCluster(ctx, only, &res.outcomes)
	if err != nil {
		r.warnWritableUnlisted(hookCtx)
		return nil, fmt.Errorf("list the cluster's certificates: %w", err)
	}
	if err := r.walk(ctx, only, &res.outcomes, skip); err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	res.SyncErr = r.syncErr
	if c.CertName != "" && res.outcomes.n == 0 {
		return nil, fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", c.CertName)
	}
	renewed, failed := r.synced, []string(nil)
	attempted := len(r.synced) > 0
	res.Each(func(oc *Outcome) {
		switch oc.Status {
		case StatusRenewed:
			attempted = true
			renewed = append(renewed, oc.names...)
		case StatusFailed:
			if oc.reason != "" {
				attempted = true
			}
			failed = append(failed, oc.Names()...)
		}
	})
	m.SaveRevocationCache(hookCtx)
	m.reloadInstaller(hookCtx, r.hooks)
	if attempted {
		r.hooks.AddPost(c.PostHook)
		r.hooks.Post(hookCtx, renewed, failed)
	}
	res.HookFailures, res.InstallerErr = r.hooks.Failures(), r.hooks.installErr()
	return res, nil
}

// walk streams the listing: a lineage that is not due is decided from the
// listing alone, one whose CA's ARI answer decides once that answer is in
// (asked ahead: inOrder); the due ones run on up to Parallel goroutines per
// CA (at most 4×Parallel waiting), or one at a time. The listing runs to its
// end also after renew's deadline (ctx), so that every lineage has an
// outcome. Lineages in skip belong to another pass (a cluster's).
func (r *renewRun) walk(ctx context.Context, only []string, outcomes *outcomeList, skip map[string]bool) error {
	c := r.m.Config
	var (
		wg    sync.WaitGroup
		semMu sync.Mutex
		sems  = map[string]chan struct{}{}
		slots = make(chan struct{}, 4*max(1, c.Parallel))
	)
	defer wg.Wait()
	return r.inOrder(ctx, only, outcomes, skip, func(li *storage.LineageInfo, oc *Outcome, known *ariKnown) {
		if c.Parallel <= 1 {
			r.renewOne(ctx, li, oc, known)
			return
		}
		server := r.m.lineageServer(li.Conf)
		semMu.Lock()
		sem := sems[server]
		if sem == nil {
			sem = make(chan struct{}, c.Parallel)
			sems[server] = sem
		}
		semMu.Unlock()
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			r.failed(oc, li, ctx.Err())
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				r.failed(oc, li, ctx.Err())
				return
			}
			defer func() { <-sem }()
			if !r.pastDeadline(ctx, li, oc) {
				r.renewOne(ctx, li, oc, known)
			}
		}()
	})
}

// lineageServer is the CA a lineage renews with.
func (m *Manager) lineageServer(conf *storage.ConfSummary) string {
	if m.Config.setByUser("server", "staging") || conf == nil || conf.Server == "" {
		return m.Config.Server
	}
	return conf.Server
}

// failed records a failure of li in oc and reports it.
func (r *renewRun) failed(oc *Outcome, li *storage.LineageInfo, err error) {
	oc.more().names = li.Domains
	r.fail(oc, li.Name, StatusFailed, err)
}

func (r *renewRun) fail(oc *Outcome, name, status string, err error) {
	var de *DeadlineError
	if status == StatusFailed && r.m.Config.RenewDeadline > 0 && errors.Is(r.runCtx.Err(), context.DeadlineExceeded) && !errors.As(err, &de) {
		err = &DeadlineError{Deadline: r.m.Config.RenewDeadline, Err: err}
	}
	oc.Lineage, oc.Status = name, status
	oc.more().err = err
	// Warn, not Error: the observer reports the failure to the operator
	// (once); an error-level record would print it a second time on stderr.
	r.m.log().LogAttrs(context.Background(), slog.LevelWarn, "renewal failed", slog.String("lineage", name), slog.String("error", err.Error()))
	r.m.emit(Event{Kind: EventLineageFailed, Lineage: name, Names: oc.names, Err: err, ParseFailed: status == StatusParseFailed, Failures: nameFailures(err)})
}

func (r *renewRun) skip(oc *Outcome, why string) {
	oc.Status = StatusSkipped
	r.m.emit(Event{Kind: EventLineageSkipped, Lineage: oc.Lineage, Reason: why})
}

// renewOne decides whether one lineage is due and renews it if so. It never
// panics the run: every failure is an outcome.
func (r *renewRun) renewOne(ctx context.Context, li *storage.LineageInfo, oc *Outcome, known *ariKnown) {
	m := r.m
	oc.more().names = li.Domains
	ctx, unlock, err := m.lockLineage(ctx, li.Name)
	if heldElsewhere(err) {
		r.skip(oc, heldBy(err))
		return
	}
	if err != nil {
		r.fail(oc, li.Name, StatusFailed, err)
		return
	}
	defer unlock()
	l, lc, status, err := r.load(ctx, li.Name, oc)
	if err != nil {
		r.fail(oc, li.Name, status, err)
		return
	}
	due, why, err := r.isDue(ctx, l, lc, known)
	if err != nil {
		r.fail(oc, li.Name, StatusFailed, err)
		return
	}
	// The run's start-time list of recorded orders is re-checked under the
	// lock: another run may have collected the order (and renewed) since.
	if !due && r.inFlight[li.Name] && !lc.DryRun && m.inFlightNow(ctx, li.Name) {
		due, why = true, "an order recorded before finalize waits to be collected"
	}
	m.log().LogAttrs(ctx, slog.LevelInfo, "renewal decision", slog.String("lineage", li.Name), slog.Bool("due", due), slog.String("reason", why))
	if !due {
		r.skip(oc, why)
		return
	}
	oc.reason = why
	r.randomSleep(ctx)
	if ctx.Err() != nil {
		r.fail(oc, li.Name, StatusFailed, ctx.Err())
		return
	}
	p := &issuePlan{c: lc, name: l.Name, domains: lc.Domains, ips: lc.IPs, existing: l}
	if err := p.checkSavable(); err != nil {
		r.fail(oc, li.Name, StatusFailed, err)
		return
	}
	r.hooks.Pre(r.hookCtx, lc.PreHook)
	r.hooks.AddPost(lc.PostHook)
	res, err := m.obtain(ctx, p)
	if err != nil {
		r.fail(oc, li.Name, StatusFailed, lostLease(ctx, err))
		return
	}
	oc.Status, oc.names, oc.Expiry = StatusRenewed, res.Names, res.Cert.NotAfter.Unix()
	m.emit(Event{Kind: EventLineageRenewed, Lineage: l.Name, Names: res.Names, NotAfter: res.Cert.NotAfter, Reason: why})
	if !lc.DryRun || lc.RunDeployHooks {
		live := res.LiveDir
		if live == "" {
			live = strings.TrimSuffix(l.FullchainPath, "/fullchain.pem")
		}
		r.hooks.Deploy(r.hookCtx, l.Name, lc.DeployHook, live, res.Names)
	}
	m.install(r.hookCtx, r.hooks, lc, l.Name, res, true)
}

// load reads the lineage (under its lock) and merges its saved parameters.
func (r *renewRun) load(ctx context.Context, name string, oc *Outcome) (*storage.Lineage, *Config, string, error) {
	l, err := r.m.Store.LoadLineage(ctx, name)
	if err != nil {
		return nil, nil, StatusParseFailed, err
	}
	oc.names, oc.Expiry = CertNames(l.Cert), l.Cert.NotAfter.Unix()
	lc, err := lineageConfig(r.m.Config, l)
	if err != nil {
		return nil, nil, StatusParseFailed, err
	}
	if err := checkReuseKeyConflicts(lc, l); err != nil {
		return nil, nil, StatusFailed, err
	}
	return l, lc, "", nil
}

// randomSleep is certbot's random delay of a non-interactive renew, once
// per run, before the first renewal.
func (r *renewRun) randomSleep(ctx context.Context) {
	r.sleepOnce.Do(func() {
		if r.m.Terminal || r.m.Config.NoRandomSleep {
			return
		}
		r.rndMu.Lock()
		d := time.Duration(1+r.rnd.Float64()*479) * time.Second
		r.rndMu.Unlock()
		r.m.log().LogAttrs(ctx, slog.LevelInfo, "non-interactive renewal: random delay", slog.Duration("delay", d))
		r.m.emit(Event{Kind: EventRandomDelay, Delay: d})
		sleep := r.m.Sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		_ = sleep(ctx, d)
	})
}

// isDue applies certbot's rules, asking the lineage's CA for ARI when the
// saved ari_retry_after has passed, and saving the new retry time. known is
// the CA's answer for the listed certificate when it was just asked.
func (r *renewRun) isDue(ctx context.Context, l *storage.Lineage, lc *Config, known *ariKnown) (bool, string, error) {
	var sum *storage.ConfSummary
	if l.Conf != nil {
		sum = l.Conf.Summary()
	}
	in, err := confDueInput(sum, l.Cert.NotBefore, l.Cert.NotAfter, r.m.now())
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", l.ConfPath, err)
	}
	in.Force, in.DryRun = lc.Force, lc.DryRun
	if in.Force || in.DryRun || !in.Autorenew {
		ok, why := isDue(in)
		return ok, why, nil
	}
	if r.m.revokedLineage(ctx, l) {
		return true, "the certificate is revoked", nil
	}
	switch {
	case known != nil && l.Cert.SerialNumber.Text(16) == known.serial:
		in.ARITime = known.pick
	case l.ARIRetryAfter.IsZero() || !in.Now.Before(l.ARIRetryAfter):
		in.ARITime = r.ariTime(ctx, l, lc)
	}
	ok, why := isDue(in)
	return ok, why, nil
}

// ariTime asks the lineage's CA for its renewal window and returns a random
// point in it (zero when the CA has no ARI or the request failed). The next
// time to ask is saved in [acme_renewal_info].
func (r *renewRun) ariTime(ctx context.Context, l *storage.Lineage, lc *Config) time.Time {
	cl, err := r.m.ariClient(lc.Server)
	if err != nil {
		return time.Time{}
	}
	pick, retry, ok := r.askARI(ctx, l.Name, lc.Server, func() (*acme.RenewalInfo, error) { return cl.RenewalInfo(ctx, l.Cert) })
	if ok && !lc.DryRun && l.Conf != nil {
		at := r.m.now().Add(retry).UTC().Truncate(time.Second)
		if err := r.m.Store.SetARIRetryAfter(ctx, l.Name, at); err != nil {
			r.m.log().LogAttrs(ctx, slog.LevelWarn, "could not save ari_retry_after", slog.String("lineage", l.Name), slog.String("error", err.Error()))
		} else {
			c := *l.Conf
			c.ARIRetryAfter = at
			l.Conf, l.ARIRetryAfter = &c, at
		}
	}
	return pick
}

// askARI runs one renewal-info request and returns a random point in the
// CA's window (zero when the request failed) and how long until the next
// request; ok is false when the CA has no ARI, or was not asked (it was
// found unreachable earlier in the run, or renew's deadline passed):
// nothing to save.
func (r *renewRun) askARI(ctx context.Context, lineage, server string, fetch func() (*acme.RenewalInfo, error)) (pick time.Time, retry time.Duration, ok bool) {
	log := r.m.log()
	if err := r.m.unreachableCA(server); err != nil || ctx.Err() != nil {
		log.LogAttrs(ctx, slog.LevelInfo, "renewal info not asked", slog.String("lineage", lineage), slog.Any("reason", errors.Join(err, ctx.Err())))
		return time.Time{}, 0, false
	}
	retry = ariDefaultRetry
	ri, err := fetch()
	r.m.noteCAError(ctx, server, err)
	switch {
	case errors.Is(err, acme.ErrNoARI):
		return time.Time{}, 0, false
	case err != nil:
		log.LogAttrs(ctx, slog.LevelWarn, "renewal info request failed", slog.String("lineage", lineage), slog.String("error", err.Error()))
	default:
		r.rndMu.Lock()
		pick = ariPick(ri.Start, ri.End, r.rnd)
		r.rndMu.Unlock()
		if ri.RetryAfter > 0 {
			retry = ri.RetryAfter
		}
		log.LogAttrs(ctx, slog.LevelInfo, "renewal window", slog.String("lineage", lineage),
			slog.Time("window_start", ri.Start), slog.Time("window_end", ri.End), slog.Time("chosen", pick))
		if ri.ExplanationURL != "" {
			log.LogAttrs(ctx, slog.LevelWarn, "the CA explains its renewal window", slog.String("explanation_url", ri.ExplanationURL))
		}
	}
	return pick, retry, true
}

// ariClient returns the run's client for server (no account: renewalInfo is
// a GET). Its waits before a retry hold back the CA's other ARI requests
// (caGate).
func (m *Manager) ariClient(server string) (*acme.Client, error) {
	m.ariMu.Lock()
	defer m.ariMu.Unlock()
	if cl := m.ariClients[server]; cl != nil {
		return cl, nil
	}
	cl, err := m.newClient(server, nil, "")
	if err != nil {
		return nil, err
	}
	cl.Sleep = m.ariGateLocked(server).clientSleep
	if m.ariClients == nil {
		m.ariClients = map[string]*acme.Client{}
	}
	m.ariClients[server] = cl
	return cl, nil
}

// ariAsk is a lineage the listing leaves to the CA's ARI answer.
type ariAsk struct {
	in    dueInput
	cl    *acme.Client
	id    string        // ARI CertID of the listed certificate
	done  chan struct{} // closed once pick and retryAt are set (askAhead)
	pick  time.Time     // the chosen point in the CA's window; zero: no answer
	known *ariKnown     // the answer, for renewOne when the lineage is due
	// retryAt is when to ask the CA next (ari_retry_after); zero: nothing
	// to save (the CA has no ARI, or was not asked).
	retryAt time.Time
}

// ariKnown is the CA's answer for one certificate (by serial).
type ariKnown struct {
	serial string
	pick   time.Time
}

// fromListing decides "not due" from the listing alone (cached cert dates and
// conf summary) when no ARI request is needed — the saved ari_retry_after has
// not passed, or the lineage's CA offers no ARI — so that a lineage that is
// not due costs no lock, no key parse and no file reads. When only the CA's
// ARI answer is missing it returns what to ask (fetchARI asks without loading
// the lineage). Otherwise, or when in doubt, the full check runs.
func (r *renewRun) fromListing(ctx context.Context, li *storage.LineageInfo) (notDue bool, ask *ariAsk) {
	c, conf := r.m.Config, li.Conf
	if c.Force || c.DryRun || conf == nil || li.NotAfter.IsZero() || r.inFlight[li.Name] {
		return false, nil
	}
	now := r.m.now()
	in, err := confDueInput(conf, li.NotBefore, li.NotAfter, now)
	if err != nil {
		return false, nil
	}
	// certbot checks revocation first (storage.should_autorenew); a fresh
	// cached answer costs nothing, a missing one is asked within the run's
	// budget.
	if in.Autorenew && r.m.revoked(ctx, li).Status == revocation.Revoked {
		return false, nil
	}
	if in.Autorenew && (conf.ARIRetryAfter.IsZero() || !now.Before(conf.ARIRetryAfter)) {
		ask, ok := r.ariAskFor(ctx, li, in)
		if !ok {
			return false, nil
		}
		if ask != nil {
			return false, ask
		}
	}
	due, _ := isDue(in)
	return !due, nil
}

// ariAskFor prepares the ARI question for a listed lineage: nil when its CA
// has no ARI; ok false when in doubt (the full check runs).
func (r *renewRun) ariAskFor(ctx context.Context, li *storage.LineageInfo, in dueInput) (ask *ariAsk, ok bool) {
	server, err := ResolveServer(r.m.lineageServer(li.Conf))
	if err != nil {
		return nil, false
	}
	if ctx.Err() != nil || r.m.unreachableCA(server) != nil {
		return nil, true // decided by dates; the CA is not asked again
	}
	cl, err := r.m.ariClient(server)
	if err != nil {
		return nil, false
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		r.m.noteCAError(ctx, server, err)
		return nil, errors.Is(err, acme.ErrCAUnreachable)
	}
	if dir.RenewalInfoURL == "" {
		return nil, true
	}
	serial, good := new(big.Int).SetString(li.Serial, 16)
	if !good {
		return nil, false
	}
	id, err := acme.ARICertIDOf(li.AuthorityKeyID, serial)
	if err != nil {
		return nil, false
	}
	return &ariAsk{in: in, cl: cl, id: id}, true
}

// confDueInput is the due-check input a lineage's conf and certificate dates
// give (autorenew, renew_before_expiry); ARI and flags are the caller's.
func confDueInput(c *storage.ConfSummary, notBefore, notAfter, now time.Time) (dueInput, error) {
	in := dueInput{Now: now, NotBefore: notBefore, NotAfter: notAfter, Autorenew: c == nil || !c.NoAutoRenew}
	if c != nil && c.RenewBeforeExpiry != "" {
		d, err := parseInterval(c.RenewBeforeExpiry)
		if err != nil {
			return in, fmt.Errorf("renew_before_expiry: %w", err)
		}
		in.RenewBeforeExpiry, in.HasRBE = d, true
	}
	return in, nil
}
