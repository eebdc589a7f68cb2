package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/schedule"
	"github.com/acmectl/acmectl/storage"
)

// ariDefaultRetry is how long an ARI answer (or an ARI error) is trusted when
// the CA sends no Retry-After (certbot: 6 h).
const ariDefaultRetry = 6 * time.Hour

// renewOutcome is one lineage's result in a renew run. A run over 10,000
// lineages keeps 10,000 of these, so one skipped from the listing holds no
// more than its name, status and expiry.
type renewOutcome struct {
	name         string
	expiry       int64  // Unix seconds
	status       string // "renewed", "skipped", "failed", "parse-failed" (constants: no allocation)
	*outcomeMore        // nil for a lineage the listing alone settled as not due
}

type outcomeMore struct {
	names  []string // for the post-hook
	err    error
	reason string
}

func (oc *renewOutcome) more() *outcomeMore {
	if oc.outcomeMore == nil {
		oc.outcomeMore = &outcomeMore{}
	}
	return oc.outcomeMore
}

// renewRun is the state shared by the lineages of one renew run.
type renewRun struct {
	e     *env
	st    storage.Storage
	hooks *hooks

	sleepOnce sync.Once
	sleep     func(ctx context.Context, d time.Duration) error

	// One unauthenticated client per CA for the whole run, so the directory is
	// fetched once per CA, not once per lineage.
	ariMu      sync.Mutex
	ariClients map[string]*acme.Client
	rnd        *rand.Rand
	rndMu      sync.Mutex
}

// outcomeList keeps outcomes in lineage order in fixed-size chunks (no
// copying as it grows).
type outcomeList struct {
	chunks [][]renewOutcome
	n      int
}

const outcomeChunk = 1024

// add reserves the next slot and returns it.
func (l *outcomeList) add() *renewOutcome {
	if l.n%outcomeChunk == 0 {
		l.chunks = append(l.chunks, make([]renewOutcome, outcomeChunk))
	}
	oc := &l.chunks[l.n/outcomeChunk][l.n%outcomeChunk]
	l.n++
	return oc
}

func (l *outcomeList) each(f func(oc *renewOutcome)) {
	for i := 0; i < l.n; i++ {
		f(&l.chunks[i/outcomeChunk][i%outcomeChunk])
	}
}

func runRenew(ctx context.Context, e *env) error {
	o := e.o
	start := time.Now()
	if len(o.domains) > 0 {
		return usageErrorf("renew renews every certificate that is due, or one chosen with --cert-name; to renew by domain names use certonly -d")
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	var only []string
	if o.certName != "" {
		only = []string{o.certName}
	}
	r := &renewRun{e: e, st: st, hooks: newHooks(o.configDir, o.noDirHooks, e.stderr, e.log), sleep: sleepCtx,
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))}

	// Lineages are renewed as the listing streams by: one that is not due is
	// decided from the listing alone; the others run on up to --parallel
	// goroutines per CA (at most 4×--parallel waiting), or one at a time.
	var (
		outcomes outcomeList
		wg       sync.WaitGroup
		semMu    sync.Mutex
		sems     = map[string]chan struct{}{}
		slots    = make(chan struct{}, 4*max(1, o.parallel))
	)
	err = st.WalkLineages(ctx, only, func(li *storage.LineageInfo) error {
		oc := outcomes.add()
		done, ask := r.renewFromListing(ctx, li, oc)
		if done {
			return nil
		}
		if o.parallel <= 1 {
			r.process(ctx, li, oc, ask)
			return nil
		}
		server := lineageServer(o, li.Conf)
		semMu.Lock()
		sem := sems[server]
		if sem == nil {
			sem = make(chan struct{}, o.parallel)
			sems[server] = sem
		}
		semMu.Unlock()
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			r.failed(oc, li, ctx.Err())
			return nil
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
			r.process(ctx, li, oc, ask)
		}()
		return nil
	})
	wg.Wait()
	if err != nil {
		return fmt.Errorf("list certificates: %w", err)
	}
	if o.certName != "" && outcomes.n == 0 {
		return fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", o.certName)
	}

	var renewed, failed []string
	attempted := false
	outcomes.each(func(oc *renewOutcome) {
		switch oc.status {
		case "renewed":
			attempted = true
			renewed = append(renewed, oc.names...)
		case "failed":
			if oc.reason != "" {
				attempted = true
			}
			failed = append(failed, oc.names...)
		}
	})
	if attempted {
		r.hooks.AddPost(o.postHook)
		r.hooks.Post(ctx, renewed, failed)
	}
	err = r.summary(&outcomes)
	if !o.dryRun {
		// For `acmectl schedule status`: when the timer last ran and how it went.
		lr := schedule.LastRun{Time: start, Command: "renew", Version: version, OK: err == nil, Duration: time.Since(start).Round(time.Millisecond).String()}
		outcomes.each(func(oc *renewOutcome) {
			switch oc.status {
			case "renewed":
				lr.Renewed = append(lr.Renewed, oc.name)
			case "failed", "parse-failed":
				lr.Failed = append(lr.Failed, oc.name)
			}
		})
		if err != nil {
			lr.Error = oneLine(err.Error())
		}
		if werr := schedule.WriteLastRun(o.workDir, lr); werr != nil {
			e.log.LogAttrs(ctx, slog.LevelWarn, "could not write the last-run status", slog.String("error", werr.Error()))
		}
	}
	return err
}

func lineageServer(o *options, conf *storage.ConfSummary) string {
	if o.set[flgServer] || o.set[flgStaging] || conf == nil || conf.Server == "" {
		return o.server
	}
	return conf.Server
}

// failed records a failure of li in oc and reports it.
func (r *renewRun) failed(oc *renewOutcome, li *storage.LineageInfo, err error) {
	r.fail(oc, li.Name, "failed", err)
	oc.more().names = li.Domains
}

func (r *renewRun) fail(oc *renewOutcome, name, status string, err error) {
	e := r.e
	oc.name, oc.status = name, status
	oc.more().err = err
	e.log.LogAttrs(context.Background(), slog.LevelError, "renewal failed", slog.String("lineage", name), slog.String("error", err.Error()))
	e.errorf("Failed to renew certificate %s with error: %s\n", name, describeErr(err))
}

// renewFromListing starts li's report and settles it when the listing alone
// decides: a lineage that cannot be read, or one that is not due. Otherwise
// it returns false, with what to ask the CA first when only ARI can tell.
func (r *renewRun) renewFromListing(ctx context.Context, li *storage.LineageInfo, oc *renewOutcome) (bool, *ariAsk) {
	e := r.e
	oc.name, oc.expiry = li.Name, li.NotAfter.Unix()
	if !e.o.quiet {
		fmt.Fprintf(e.stderr, "\n%s\nProcessing %s\n", dashes, li.ConfPath)
	}
	if li.Err != nil {
		r.fail(oc, li.Name, "parse-failed", li.Err)
		return true, nil
	}
	notDue, ask := r.fromListing(ctx, li)
	if notDue {
		r.skip(oc)
		return true, nil
	}
	return false, ask
}

func (r *renewRun) skip(oc *renewOutcome) {
	oc.status = "skipped"
	if !r.e.o.quiet {
		fmt.Fprintln(r.e.stderr, "Certificate not yet due for renewal")
	}
}

// process settles a lineage the listing could not: it asks the CA for ARI
// first when that is all that is missing, then runs the full check.
func (r *renewRun) process(ctx context.Context, li *storage.LineageInfo, oc *renewOutcome, ask *ariAsk) {
	var known *ariKnown
	if ask != nil {
		if r.checkARI(ctx, li, oc, ask) {
			return
		}
		known = ask.known
	}
	r.renewOne(ctx, li, oc, known)
}

// renewOne decides whether one lineage is due and renews it if so. It never
// panics the run: every failure is an outcome.
func (r *renewRun) renewOne(ctx context.Context, li *storage.LineageInfo, oc *renewOutcome, known *ariKnown) {
	e := r.e
	oc.more().names = li.Domains
	fail := func(status string, err error) {
		r.fail(oc, li.Name, status, err)
	}
	unlock, err := r.st.LockLineage(ctx, li.Name)
	if err != nil {
		fail("failed", err)
		return
	}
	defer unlock()
	l, err := r.st.LoadLineage(ctx, li.Name)
	if err != nil {
		fail("parse-failed", err)
		return
	}
	oc.names, oc.expiry = certNames(l.Cert), l.Cert.NotAfter.Unix()
	lo, err := lineageOptions(e.o, l)
	if err != nil {
		fail("parse-failed", err)
		return
	}

	due, why, err := r.isDue(ctx, l, lo, known)
	if err != nil {
		fail("failed", err)
		return
	}
	e.log.LogAttrs(ctx, slog.LevelInfo, "renewal decision", slog.String("lineage", li.Name), slog.Bool("due", due), slog.String("reason", why))
	if !due {
		oc.status = "skipped"
		if !e.o.quiet {
			fmt.Fprintln(e.stderr, "Certificate not yet due for renewal")
		}
		return
	}
	oc.reason = why
	r.sleepOnce.Do(func() {
		if e.stdinTTY || e.o.noRandomSleep {
			return
		}
		r.rndMu.Lock()
		d := time.Duration(1+r.rnd.Float64()*479) * time.Second
		r.rndMu.Unlock()
		e.log.LogAttrs(ctx, slog.LevelInfo, "non-interactive renewal: random delay", slog.Duration("delay", d))
		if !e.o.quiet {
			fmt.Fprintf(e.stderr, "Non-interactive renewal: random delay of %s\n", d.Round(time.Second))
		}
		_ = r.sleep(ctx, d)
	})
	if ctx.Err() != nil {
		fail("failed", ctx.Err())
		return
	}
	r.hooks.Pre(ctx, lo.preHook)
	r.hooks.AddPost(lo.postHook)
	res, err := obtain(ctx, e, r.st, &issuePlan{o: lo, name: l.Name, domains: lo.domains, ips: lo.ips, existing: l})
	if err != nil {
		fail("failed", err)
		return
	}
	oc.status, oc.names, oc.expiry = "renewed", res.names, res.cert.NotAfter.Unix()
	if !lo.dryRun || lo.runDeployHooks {
		live := res.liveDir
		if live == "" {
			live = r.liveDir(l)
		}
		r.hooks.Deploy(ctx, lo.deployHook, live, res.names)
	}
}

func (r *renewRun) liveDir(l *storage.Lineage) string {
	return strings.TrimSuffix(l.FullchainPath, "/fullchain.pem")
}

// isDue applies certbot's rules, asking the lineage's CA for ARI when the
// saved ari_retry_after has passed, and saving the new retry time. known is
// the CA's answer for the listed certificate when it was just asked.
func (r *renewRun) isDue(ctx context.Context, l *storage.Lineage, lo *options, known *ariKnown) (bool, string, error) {
	var sum *storage.ConfSummary
	if l.Conf != nil {
		sum = l.Conf.Summary()
	}
	in, err := confDueInput(sum, l.Cert.NotBefore, l.Cert.NotAfter, r.e.now())
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", l.ConfPath, err)
	}
	in.Force, in.DryRun = lo.force, lo.dryRun
	if in.Force || in.DryRun || !in.Autorenew {
		ok, why := isDue(in)
		return ok, why, nil
	}
	switch {
	case known != nil && l.Cert.SerialNumber.Text(16) == known.serial:
		in.ARITime = known.pick
	case l.Conf == nil || l.Conf.ARIRetryAfter.IsZero() || !in.Now.Before(l.Conf.ARIRetryAfter):
		in.ARITime = r.ariTime(ctx, l, lo)
	}
	ok, why := isDue(in)
	return ok, why, nil
}

// ariTime asks the lineage's CA for its renewal window and returns a random
// point in it (zero when the CA has no ARI or the request failed). The next
// time to ask is saved in [acme_renewal_info].
func (r *renewRun) ariTime(ctx context.Context, l *storage.Lineage, lo *options) time.Time {
	cl, err := r.ariClient(lo.server)
	if err != nil {
		return time.Time{}
	}
	pick, retry, ok := r.askARI(ctx, l.Name, func() (*acme.RenewalInfo, error) { return cl.RenewalInfo(ctx, l.Cert) })
	if ok && !lo.dryRun && l.Conf != nil {
		at := r.e.now().Add(retry).UTC().Truncate(time.Second)
		if err := r.st.SetARIRetryAfter(ctx, l.Name, at); err != nil {
			r.e.log.LogAttrs(ctx, slog.LevelWarn, "could not save ari_retry_after", slog.String("lineage", l.Name), slog.String("error", err.Error()))
		} else {
			c := *l.Conf
			c.ARIRetryAfter = at
			l.Conf = &c
		}
	}
	return pick
}

// askARI runs one renewal-info request and returns a random point in the
// CA's window (zero when the request failed) and how long until the next
// request; ok is false when the CA has no ARI (nothing to save).
func (r *renewRun) askARI(ctx context.Context, lineage string, fetch func() (*acme.RenewalInfo, error)) (pick time.Time, retry time.Duration, ok bool) {
	e := r.e
	retry = ariDefaultRetry
	ri, err := fetch()
	switch {
	case errors.Is(err, acme.ErrNoARI):
		return time.Time{}, 0, false
	case err != nil:
		e.log.LogAttrs(ctx, slog.LevelWarn, "renewal info request failed", slog.String("lineage", lineage), slog.String("error", err.Error()))
	default:
		r.rndMu.Lock()
		pick = ariPick(ri.Start, ri.End, r.rnd)
		r.rndMu.Unlock()
		if ri.RetryAfter > 0 {
			retry = ri.RetryAfter
		}
		e.log.LogAttrs(ctx, slog.LevelInfo, "renewal window", slog.String("lineage", lineage),
			slog.Time("window_start", ri.Start), slog.Time("window_end", ri.End), slog.Time("chosen", pick))
		if ri.ExplanationURL != "" {
			e.log.LogAttrs(ctx, slog.LevelWarn, "the CA explains its renewal window", slog.String("explanation_url", ri.ExplanationURL))
		}
	}
	return pick, retry, true
}

// lineageOptions merges the lineage's saved renewal parameters under the
// options given on the command line or in cli.ini (which win).
func lineageOptions(base *options, l *storage.Lineage) (*options, error) {
	o := *base
	o.set = base.set
	o.domains, o.ips = splitNames(certNames(l.Cert))
	c := l.Conf
	if c == nil {
		c = &storage.RenewalConf{}
	}
	p := c.Params
	set := func(names ...string) bool {
		for _, n := range names {
			if base.set[n] {
				return true
			}
		}
		return false
	}
	if !set(flgServer, flgStaging) && p.Server != "" {
		u, err := resolveServer(p.Server)
		if err != nil {
			return nil, fmt.Errorf("%s: server: %w", l.ConfPath, err)
		}
		o.server = u
	}
	if !set(flgAccount) {
		o.account = p.Account
	}
	if !set(flgAuthenticator, flgStandalone, flgWebroot, flgManual, flgDNS, flgTLSALPN) {
		a := p.Authenticator
		switch {
		case a == "standalone", a == "webroot", a == "manual", a == "tls-alpn", strings.HasPrefix(a, "dns-"):
			o.authenticator = a
		case a == "":
			o.authenticator = "standalone"
		default:
			return nil, fmt.Errorf("%s: authenticator %q is a certbot plugin acmectl does not have; run 'acmectl reconfigure --cert-name %s --webroot -w PATH' (or --standalone)", l.ConfPath, a, l.Name)
		}
		if o.authenticator == "webroot" && !set(flgWebrootPath, flgWebrootMap) {
			o.webrootMap = map[string]string{}
			for _, kv := range p.WebrootMap {
				o.webrootMap[kv.Key] = kv.Value
			}
			if len(p.WebrootPath) > 0 {
				last := p.WebrootPath[len(p.WebrootPath)-1]
				for _, d := range o.domains {
					if _, ok := o.webrootMap[d]; !ok {
						o.webrootMap[d] = last
					}
				}
			}
		}
	}
	loadDNSParams(l.Conf, &o)
	if o.authenticator == "tls-alpn" && l.Conf != nil {
		if v, ok := l.Conf.Param(paramTLSALPNPort); ok && len(v.Items) > 0 && !set(flgTLSALPNPort) {
			if n, err := strconv.Atoi(v.Items[0]); err == nil {
				o.tlsALPNPort = n
			}
		}
		if v, ok := l.Conf.Param(paramTLSALPNAddr); ok && len(v.Items) > 0 && !set(flgTLSALPNAddr) {
			o.tlsALPNAddr = v.Items[0]
		}
	}
	if !set(flgHTTP01Port) && p.HTTP01Port != 0 {
		o.http01Port = p.HTTP01Port
	}
	if !set(flgHTTP01Addr) {
		o.http01Addr = p.HTTP01Address
	}
	if !set(flgManualAuth) {
		o.manualAuth = p.ManualAuthHook
	}
	if !set(flgManualCleanup) {
		o.manualCleanup = p.ManualCleanupHook
	}
	if !set(flgPrefChalls) && len(p.PrefChalls) > 0 {
		pc, err := parsePrefChalls(strings.Join(p.PrefChalls, ","))
		if err != nil {
			return nil, fmt.Errorf("%s: pref_challs: %w", l.ConfPath, err)
		}
		o.prefChalls = pc
	}
	if !set(flgKeyType) {
		switch {
		case p.KeyType != "":
			o.keyType = strings.ToLower(p.KeyType)
		default:
			// Older confs have no key_type: keep the current key's type.
			switch k := l.Key.(type) {
			case *rsa.PrivateKey:
				o.keyType = "rsa"
				if !set(flgRSAKeySize) {
					o.rsaKeySize = k.N.BitLen()
				}
			case *ecdsa.PrivateKey:
				o.keyType = "ecdsa"
			}
		}
	}
	if !set(flgRSAKeySize) && p.RSAKeySize != 0 {
		o.rsaKeySize = p.RSAKeySize
	}
	if !set(flgCurve) && p.EllipticCurve != "" {
		o.curve = strings.ToLower(p.EllipticCurve)
	}
	// A conf is input like the command line: a value we cannot honour is an
	// error naming the file, never a silent fallback to another key.
	if o.keyType != "ecdsa" && o.keyType != "rsa" {
		return nil, fmt.Errorf("%s: key_type = %q: want ecdsa or rsa (fix it with 'acmectl reconfigure --cert-name %s --key-type ecdsa')", l.ConfPath, o.keyType, l.Name)
	}
	if o.keyType == "rsa" && (o.rsaKeySize < 2048 || o.rsaKeySize > 8192 || o.rsaKeySize%8 != 0) {
		return nil, fmt.Errorf("%s: rsa_key_size = %d: want 2048 to 8192", l.ConfPath, o.rsaKeySize)
	}
	switch o.curve {
	case "secp256r1", "secp384r1", "secp521r1", "":
	default:
		if o.keyType == "ecdsa" {
			return nil, fmt.Errorf("%s: elliptic_curve = %q: want secp256r1, secp384r1 or secp521r1", l.ConfPath, o.curve)
		}
	}
	if !set(flgPreHook) {
		o.preHook = p.PreHook
	}
	if !set(flgPostHook) {
		o.postHook = p.PostHook
	}
	if !set(flgDeployHook) {
		o.deployHook = p.RenewHook
	}
	if !set(flgPrefChain) {
		o.preferredChain = p.PreferredChain
	}
	if !set(flgPrefProfile, flgReqProfile) {
		o.prefProfile, o.reqProfile = p.PreferredProfile, p.RequiredProfile
	}
	if !set(flgMustStaple) {
		o.mustStaple = p.MustStaple
	}
	if !set(flgSubset) {
		o.subset = p.AllowSubsetOfNames
	}
	if !set(flgReuseKey, flgNoReuseKey) {
		o.reuseKey = p.ReuseKey
	}
	if base.noReuseKey {
		o.reuseKey = false
	}
	return &o, nil
}

// summary prints certbot's end-of-run report and returns an error when any
// lineage failed.
func (r *renewRun) summary(outcomes *outcomeList) error {
	e := r.e
	var renewed, failed, parseFailed []*renewOutcome
	skipped := 0
	outcomes.each(func(oc *renewOutcome) {
		switch oc.status {
		case "renewed":
			renewed = append(renewed, oc)
		case "skipped":
			skipped++
		case "failed":
			failed = append(failed, oc)
		default:
			parseFailed = append(parseFailed, oc)
		}
	})
	dry := e.o.dryRun
	if e.o.quiet && len(renewed)+len(failed)+len(parseFailed) == 0 {
		return nil
	}
	w := e.stdout
	fmt.Fprintf(w, "\n%s\n", dashes)
	if skipped > 0 {
		fmt.Fprintln(w, "The following certificates are not due for renewal yet:")
		outcomes.each(func(oc *renewOutcome) {
			if oc.status == "skipped" {
				fmt.Fprintf(w, "  %s expires on %s (skipped)\n", r.fullchain(oc), time.Unix(oc.expiry, 0).UTC().Format("2006-01-02"))
			}
		})
	}
	sim := ""
	if dry {
		sim = "simulated "
	}
	switch {
	case len(renewed)+len(failed) == 0:
		fmt.Fprintf(w, "No %srenewals were attempted.\n", sim)
	case len(failed) == 0:
		if dry {
			fmt.Fprintln(w, "Congratulations, all simulated renewals succeeded:")
		} else {
			fmt.Fprintln(w, "Congratulations, all renewals succeeded:")
		}
		for _, oc := range renewed {
			fmt.Fprintf(w, "  %s (success)\n", r.fullchain(oc))
		}
	case len(renewed) == 0:
		fmt.Fprintf(w, "All %srenewals failed. The following certificates could not be renewed:\n", sim)
		for _, oc := range failed {
			fmt.Fprintf(w, "  %s (failure)\n", r.fullchain(oc))
		}
	default:
		fmt.Fprintf(w, "The following %srenewals succeeded:\n", sim)
		for _, oc := range renewed {
			fmt.Fprintf(w, "  %s (success)\n", r.fullchain(oc))
		}
		fmt.Fprintf(w, "\nThe following %srenewals failed:\n", sim)
		for _, oc := range failed {
			fmt.Fprintf(w, "  %s (failure)\n", r.fullchain(oc))
		}
	}
	if len(parseFailed) > 0 {
		fmt.Fprintf(w, "\nAdditionally, the following renewal configurations were invalid:\n")
		for _, oc := range parseFailed {
			fmt.Fprintf(w, "  %s (parsefail)\n", r.fullchain(oc))
		}
	}
	fmt.Fprintln(w, dashes)
	if n := r.hooks.Failures(); n > 0 && len(failed)+len(parseFailed) == 0 {
		return fmt.Errorf("%d hook(s) failed", n)
	}
	if len(failed)+len(parseFailed) > 0 {
		names := make([]string, 0, len(failed)+len(parseFailed))
		for _, oc := range append(failed, parseFailed...) {
			names = append(names, oc.name)
		}
		sort.Strings(names)
		return fmt.Errorf("%d renew failure(s), %d parse failure(s) (%s)", len(failed), len(parseFailed), strings.Join(names, ", "))
	}
	return nil
}

// fullchain is the lineage's live fullchain.pem, as certbot's summary names it.
func (r *renewRun) fullchain(oc *renewOutcome) string {
	return r.st.LiveDir(oc.name) + string(filepath.Separator) + "fullchain.pem"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ariClient returns the run's client for server (no account: renewalInfo is a GET).
func (r *renewRun) ariClient(server string) (*acme.Client, error) {
	r.ariMu.Lock()
	defer r.ariMu.Unlock()
	if cl := r.ariClients[server]; cl != nil {
		return cl, nil
	}
	cl, err := r.e.newClient(server, nil, "")
	if err != nil {
		return nil, err
	}
	if r.ariClients == nil {
		r.ariClients = map[string]*acme.Client{}
	}
	r.ariClients[server] = cl
	return cl, nil
}

// ariAsk is a lineage the listing leaves to the CA's ARI answer.
type ariAsk struct {
	in    dueInput
	cl    *acme.Client
	id    string    // ARI CertID of the listed certificate
	known *ariKnown // the answer, once asked
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
// ARI answer is missing it returns what to ask (checkARI asks without loading
// the lineage). Otherwise, or when in doubt, the full check runs.
func (r *renewRun) fromListing(ctx context.Context, li *storage.LineageInfo) (notDue bool, ask *ariAsk) {
	o, c := r.e.o, li.Conf
	if o.force || o.dryRun || c == nil || li.NotAfter.IsZero() {
		return false, nil
	}
	now := r.e.now()
	in, err := confDueInput(c, li.NotBefore, li.NotAfter, now)
	if err != nil {
		return false, nil
	}
	if in.Autorenew && (c.ARIRetryAfter.IsZero() || !now.Before(c.ARIRetryAfter)) {
		server, err := resolveServer(lineageServer(o, c))
		if err != nil {
			return false, nil
		}
		cl, err := r.ariClient(server)
		if err != nil {
			return false, nil
		}
		dir, err := cl.Directory(ctx)
		if err != nil {
			return false, nil
		}
		if dir.RenewalInfoURL != "" {
			serial, ok := new(big.Int).SetString(li.Serial, 16)
			if !ok {
				return false, nil
			}
			id, err := acme.ARICertIDOf(li.AuthorityKeyID, serial)
			if err != nil {
				return false, nil
			}
			return false, &ariAsk{in: in, cl: cl, id: id}
		}
	}
	due, _ := isDue(in)
	return !due, nil
}

// checkARI asks the CA for the listed certificate's renewal window, saves
// when to ask next, and settles li as not due when it is not — without
// loading or locking the lineage but for the conf update. It returns false
// when li is due (ask.known then holds the answer for renewOne).
func (r *renewRun) checkARI(ctx context.Context, li *storage.LineageInfo, oc *renewOutcome, ask *ariAsk) bool {
	pick, retry, ok := r.askARI(ctx, li.Name, func() (*acme.RenewalInfo, error) { return ask.cl.RenewalInfoByID(ctx, ask.id) })
	if ok {
		at := r.e.now().Add(retry)
		if err := r.st.SetARIRetryAfter(ctx, li.Name, at); err != nil {
			r.e.log.LogAttrs(ctx, slog.LevelWarn, "could not save ari_retry_after", slog.String("lineage", li.Name), slog.String("error", err.Error()))
		}
	}
	in := ask.in
	in.ARITime = pick
	due, why := isDue(in)
	r.e.log.LogAttrs(ctx, slog.LevelInfo, "renewal decision", slog.String("lineage", li.Name), slog.Bool("due", due), slog.String("reason", why))
	if due {
		ask.known = &ariKnown{serial: li.Serial, pick: pick}
		return false
	}
	r.skip(oc)
	return true
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
