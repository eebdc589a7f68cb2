package acme

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ObtainRequest describes one issuance.
type ObtainRequest struct {
	Identifiers []Identifier
	// CSR is the DER certificate request; its key must be the certificate key.
	CSR []byte
	// MakeCSR, when CSR is nil, is called for the CSR when finalization needs
	// it, so the certificate key can be generated while the order is
	// authorized (an RSA 4096 key takes a second or more).
	MakeCSR func(ctx context.Context) ([]byte, error)
	// Solvers answer challenges, keyed by challenge type ("http-01", "dns-01",
	// "tls-alpn-01", "dns-persist-01" — the last must be a PersistSolver).
	Solvers map[string]Solver
	// SolverFor, when set, is asked for a solver when a pending authorization
	// needs one that Solvers does not hold. It is called after the order is
	// created and never for an authorization that is already valid, so
	// nothing is prepared (no listener bound, no webroot file written, no
	// hook run) when nothing is pending: with Sectigo's pre-validated names
	// that is the usual case (acmesh-official/acme.sh PR #4150). It is asked
	// per pending authorization, for the types the CA offers there in
	// Preference order (a wildcard: dns-01 and dns-persist-01 only), and may return the same
	// Solver for several. (nil, nil) means "none of this type": the next type
	// is tried; when no type is left the authorization fails with a
	// *NoSolverError. An error ends the issuance before anything is presented.
	// It may be called concurrently for different authorizations.
	SolverFor func(ctx context.Context, challengeType string, id Identifier, wildcard bool) (Solver, error)
	// Preference orders challenge types; empty means DefaultPreference.
	Preference []string
	// Profile is sent when the directory lists profiles (see NewOrder).
	Profile string
	// Replaces is the ARI CertID of the certificate this one replaces (RFC 9773 §5).
	Replaces            string
	NotBefore, NotAfter time.Time
	// PreferredChain picks the chain whose topmost issuer CN matches (certbot's --preferred-chain).
	PreferredChain string
	// ExtraNames decides about names in the certificate that were not
	// requested; the zero value accepts only the names a CA's product adds
	// for free (see ExtraNamesRelated).
	ExtraNames ExtraNamesPolicy
	// BeforeFinalize, if set, is called once with the order URL and the CSR
	// (DER) just before finalize is sent, so the caller can record them with
	// the certificate key and resume the order (ResumeOrder) after a crash or
	// a lost answer instead of ordering anew: Sectigo mints a certificate per
	// finalized order (esnet/acme-proxy#56). If it fails, finalize is not
	// sent and Obtain returns its error.
	BeforeFinalize func(ctx context.Context, orderURL string, csr []byte) error
}

// ExtraNamesPolicy decides about names in an issued certificate that were not
// requested. A certificate lacking a requested name, or for another key, is
// always refused.
type ExtraNamesPolicy int

const (
	// ExtraNamesRelated accepts only the names a CA's product adds for free:
	// "www." + a requested name, a requested "www." name without it, and the
	// base name of a requested wildcard (Sectigo's single-domain and wildcard
	// products do this through resellers). Any other extra name is refused as
	// a hostile or broken CA.
	ExtraNamesRelated ExtraNamesPolicy = iota
	// ExtraNamesAny accepts any superset of the requested names.
	ExtraNamesAny
	// ExtraNamesRefuse accepts exactly the requested names.
	ExtraNamesRefuse
)

// NoSolverError: a pending authorization offers no challenge the client can
// answer. It is decided after the order is created, from what the CA offers
// for that authorization (rmbolger/Posh-ACME#691: a name Sectigo used to
// pre-validate came back pending with dns-01), and is wrapped in an
// *AuthorizationError.
type NoSolverError struct {
	Identifier Identifier
	Wildcard   bool
	// Offered are the challenge types the CA offers for the authorization.
	Offered []string
	// Configured are the types the client holds solvers for (Solvers), and
	// Declined those SolverFor was asked for and had none.
	Configured, Declined []string
}

func (e *NoSolverError) Error() string {
	name := e.Identifier.Value
	if e.Wildcard {
		name = "*." + strings.TrimPrefix(name, "*.")
	}
	have := append(append([]string(nil), e.Configured...), e.Declined...)
	sort.Strings(have)
	conf := "none"
	if len(have) > 0 {
		conf = strings.Join(have, ", ")
	}
	offered := strings.Join(e.Offered, ", ")
	if offered == "" {
		offered = "no challenge"
	}
	known := false
	for _, t := range e.Offered {
		if t == ChallengeHTTP01 || t == ChallengeDNS01 || t == ChallengeTLSALPN01 || t == ChallengeDNSPersist01 {
			known = true
		}
	}
	switch {
	case !known:
		return fmt.Sprintf("acme: %s needs validation, but the CA offers only %s, which no client answers (complete the domain validation at the CA); configured: %s", name, offered, conf)
	case e.Wildcard && slices.Contains(e.Offered, ChallengeDNSPersist01):
		return fmt.Sprintf("acme: the wildcard %s needs a dns-01 or dns-persist-01 solver (the CA offers %s; configured: %s)", name, offered, conf)
	case e.Wildcard:
		return fmt.Sprintf("acme: the wildcard %s needs a dns-01 solver (the CA offers %s; configured: %s)", name, offered, conf)
	}
	return fmt.Sprintf("acme: no configured solver for %s (the CA offers %s; configured: %s)", name, offered, conf)
}

// wildcardType reports whether a challenge type can prove a wildcard
// authorization (RFC 8555 §7.1.3: dns-01; draft-ietf-acme-dns-persist §5:
// dns-persist-01 with policy=wildcard).
func wildcardType(typ string) bool { return typ == ChallengeDNS01 || typ == ChallengeDNSPersist01 }

// DefaultPreference is the challenge order used when ObtainRequest.Preference is empty.
var DefaultPreference = []string{ChallengeHTTP01, ChallengeDNS01, ChallengeTLSALPN01, ChallengeDNSPersist01}

// maxParallel bounds concurrent authorization fetches, waits and polls.
const maxParallel = 8

type pendingChallenge struct {
	authz   *Authorization
	ch      Challenge
	solver  Solver
	keyAuth string
}

// Obtain runs a whole issuance (§7.4): new order → fetch authorizations (already
// valid ones are skipped before any solver is touched) → pick a challenge per
// pending authorization in preference order (unknown types ignored; wildcards
// only by dns-01 or dns-persist-01) → check every dns-persist-01 record
// (PersistSolver) → present all others → wait (DNS propagation) → tell the CA
// → poll → clean up (always, also on error or cancellation) → finalize once →
// download and check the certificate against the request.
//
// Errors: *AuthorizationError values (joined, sorted) when identifiers fail
// validation; *Problem / *RateLimitError from the CA; a plain error when the CA's
// answers do not match the request (hostile or broken CA).
func (c *Client) Obtain(ctx context.Context, req ObtainRequest) (*Certificate, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.orderTimeout())
		defer cancel()
	}
	csr := &csrSource{req: &req}
	if req.MakeCSR == nil || req.CSR != nil {
		if err := csr.get(ctx); err != nil {
			return nil, err
		}
	}
	want, err := identifierSet(req.Identifiers)
	if err != nil {
		return nil, err
	}
	order, err := c.newOrderFor(ctx, req, want)
	if err != nil {
		return nil, err
	}
	if order.Status == StatusPending {
		if err := c.authorize(ctx, order, want, req); err != nil {
			return nil, err
		}
	}
	if err := csr.get(ctx); err != nil {
		return nil, err
	}
	if order.Status != StatusValid {
		if req.BeforeFinalize != nil {
			if err := req.BeforeFinalize(ctx, order.URL, req.CSR); err != nil {
				return nil, fmt.Errorf("record order %s before finalize: %w", order.URL, err)
			}
		}
		if order, err = c.FinalizeOrder(ctx, order, req.CSR); err != nil {
			return nil, err
		}
	}
	return c.download(ctx, order, csr.parsed, want, req.PreferredChain, req.ExtraNames)
}

func (c *Client) orderTimeout() time.Duration {
	if c.OrderTimeout > 0 {
		return c.OrderTimeout
	}
	return 15 * time.Minute
}

// csrSource yields the request's CSR once: the given one, or MakeCSR's.
type csrSource struct {
	req    *ObtainRequest
	parsed *x509.CertificateRequest
}

func (s *csrSource) get(ctx context.Context) error {
	if s.parsed != nil {
		return nil
	}
	if s.req.CSR == nil && s.req.MakeCSR != nil {
		der, err := s.req.MakeCSR(ctx)
		if err != nil {
			return fmt.Errorf("acme: make CSR: %w", err)
		}
		s.req.CSR = der
	}
	p, err := x509.ParseCertificateRequest(s.req.CSR)
	if err != nil {
		return fmt.Errorf("acme: parse CSR: %w", err)
	}
	s.parsed = p
	return nil
}

// newOrderFor creates the order and checks it against the request. A
// renewal order the CA refuses because of "replaces" is placed once more
// without it: alreadyReplaced (RFC 9773 §5; acmez ObtainCertificate), or a
// malformed problem to a newOrder that carried it — Sectigo answered ARI's
// replaces with 400 malformed and an empty detail (win-acme/win-acme#2607).
func (c *Client) newOrderFor(ctx context.Context, req ObtainRequest, want map[string]bool) (*Order, error) {
	or := OrderRequest{Identifiers: req.Identifiers, NotBefore: req.NotBefore, NotAfter: req.NotAfter, Profile: req.Profile, Replaces: req.Replaces}
	order, err := c.NewOrder(ctx, or)
	if err != nil && c.refusedReplaces(ctx, or, err) {
		c.logger().LogAttrs(ctx, slog.LevelWarn, "the CA refused the order's replaces; ordering without it",
			slog.String("replaces", req.Replaces), attrErr(err))
		or.Replaces = ""
		order, err = c.NewOrder(ctx, or)
	}
	if err != nil {
		return nil, err
	}
	if err := checkOrderIdentifiers(order, want); err != nil {
		return nil, err
	}
	if order.Status == StatusInvalid {
		if order.Error != nil {
			return nil, fmt.Errorf("acme: new order %s is invalid: %w", order.URL, order.Error)
		}
		return nil, fmt.Errorf("acme: new order %s is invalid", order.URL)
	}
	return order, nil
}

// refusedReplaces reports whether err is the CA refusing the replaces field
// of a newOrder that carried one (NewOrder sends it only when the directory
// has renewalInfo).
func (c *Client) refusedReplaces(ctx context.Context, or OrderRequest, err error) bool {
	if or.Replaces == "" {
		return false
	}
	if IsProblem(err, ProblemAlreadyReplaced) {
		return true
	}
	if !IsProblem(err, ProblemMalformed) {
		return false
	}
	dir, derr := c.Directory(ctx)
	return derr == nil && dir.RenewalInfoURL != ""
}

// download fetches the certificate of a valid order, picks the chain and
// checks it against the request.
func (c *Client) download(ctx context.Context, order *Order, csr *x509.CertificateRequest, want map[string]bool, preferred string, extra ExtraNamesPolicy) (*Certificate, error) {
	cert, err := c.FetchCertificate(ctx, order.CertificateURL)
	if err != nil {
		return nil, err
	}
	if cert, err = c.selectChain(ctx, cert, preferred); err != nil {
		return nil, err
	}
	cert.OrderURL = order.URL
	if cert.ExtraNames, err = checkIssued(cert, csr, want, extra); err != nil {
		return nil, err
	}
	if len(cert.ExtraNames) > 0 {
		c.logger().LogAttrs(ctx, slog.LevelWarn, "the certificate names more than was requested", slog.String("extra_names", strings.Join(cert.ExtraNames, ",")))
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "certificate issued", attrOrderURL(order.URL), attrURL(cert.URL))
	return cert, nil
}

// authorize satisfies every pending authorization of the order.
func (c *Client) authorize(ctx context.Context, order *Order, want map[string]bool, req ObtainRequest) error {
	authzs := make([]*Authorization, len(order.AuthorizationURLs))
	errs := forEach(ctx, len(authzs), func(ctx context.Context, i int) error {
		a, err := c.GetAuthorization(ctx, order.AuthorizationURLs[i])
		authzs[i] = a
		return err
	})
	if err := joinSorted(errs); err != nil {
		return err
	}
	pending, err := c.planAuthorizations(ctx, authzs, want, req)
	if err != nil || len(pending) == 0 {
		return err
	}
	if err := planSolvers(ctx, pending); err != nil {
		return err
	}
	return c.solveAll(ctx, pending)
}

// planAuthorizations picks a challenge and a solver for every pending
// authorization; valid ones are skipped before any solver is asked for.
func (c *Client) planAuthorizations(ctx context.Context, authzs []*Authorization, want map[string]bool, req ObtainRequest) ([]pendingChallenge, error) {
	prefs := req.Preference
	if len(prefs) == 0 {
		prefs = DefaultPreference
	}
	var pending []pendingChallenge
	var planErrs []error
	for _, a := range authzs {
		if err := c.checkRequested(ctx, a, want); err != nil {
			return nil, err
		}
		switch a.Status {
		case StatusValid:
			c.logger().LogAttrs(ctx, slog.LevelInfo, "authorization already valid; skipping challenge", attrIdentifier(a.Identifier.Value))
			continue
		case StatusPending:
		default:
			planErrs = append(planErrs, &AuthorizationError{Identifier: a.Identifier, URL: a.URL, Err: a.failure()})
			continue
		}
		p, err := c.pickChallenge(ctx, a, prefs, req)
		if err != nil {
			planErrs = append(planErrs, &AuthorizationError{Identifier: a.Identifier, URL: a.URL, Err: err, Local: true})
			continue
		}
		pending = append(pending, p)
	}
	if err := joinSorted(planErrs); err != nil {
		return nil, err
	}
	return pending, nil
}

// checkRequested refuses an authorization for a name that was not ordered.
func (c *Client) checkRequested(ctx context.Context, a *Authorization, want map[string]bool) error {
	if want[identKey(a.Identifier, a.Wildcard)] {
		return nil
	}
	// Sectigo marks pre-validated authorizations "wildcard": true whatever
	// was ordered (grindsa/acme2certifier#122). A valid authorization needs
	// no solver, so the flag does not matter: match it on the name alone.
	if a.Status != StatusValid || !want[identKey(a.Identifier, !a.Wildcard)] {
		return fmt.Errorf("acme: the CA sent an authorization for %q, which was not requested: refused", a.Identifier.Value)
	}
	c.logger().LogAttrs(ctx, slog.LevelInfo, "valid authorization with a wildcard flag that does not match the order; accepted",
		attrIdentifier(a.Identifier.Value), slog.Bool("wildcard", a.Wildcard))
	return nil
}

// planSolvers tells each Planner every identifier it will serve, in
// Present order.
func planSolvers(ctx context.Context, pending []pendingChallenge) error {
	planned := map[Solver][]string{}
	var planners []Solver
	for _, p := range pending {
		if _, ok := p.solver.(Planner); ok {
			if _, seen := planned[p.solver]; !seen {
				planners = append(planners, p.solver)
			}
			planned[p.solver] = append(planned[p.solver], p.authz.Identifier.Value)
		}
	}
	for _, s := range planners {
		if err := s.(Planner).Plan(ctx, planned[s]); err != nil {
			return fmt.Errorf("prepare challenges: %w", err)
		}
	}
	return nil
}

// solveAll solves the pending challenges: those of solvers that hold one
// challenge at a time (lego's rfc2136 and exec replace the TXT record set)
// one authorization after another, all others together.
func (c *Client) solveAll(ctx context.Context, pending []pendingChallenge) error {
	var batch, seq []pendingChallenge
	var pause time.Duration
	for _, p := range pending {
		if sq, ok := p.solver.(Sequencer); ok {
			if one, d := sq.Sequential(); one {
				seq = append(seq, p)
				pause = max(pause, d)
				continue
			}
		}
		batch = append(batch, p)
	}
	if err := c.solve(ctx, batch); err != nil {
		return err
	}
	for i, p := range seq {
		if i > 0 && pause > 0 {
			if err := c.sleep(ctx, pause); err != nil {
				return err
			}
		}
		if err := c.solve(ctx, []pendingChallenge{p}); err != nil {
			return err
		}
	}
	return nil
}

// solve presents every challenge, then waits for all (DNS propagation), then
// tells the CA and polls, and cleans up whatever was presented, whatever happens,
// with a context that outlives cancellation.
func (c *Client) solve(ctx context.Context, pending []pendingChallenge) error {
	if len(pending) == 0 {
		return nil
	}
	var presented []pendingChallenge
	defer func() { c.cleanUp(ctx, presented) }()
	// dns-persist-01 first, all of them (in parallel: each is a DNS
	// lookup), errors joined: each names a record to fix, and nothing else
	// has been prepared yet.
	var persist []pendingChallenge
	for _, p := range pending {
		if _, ok := p.solver.(PersistSolver); ok && p.ch.Type == ChallengeDNSPersist01 {
			persist = append(persist, p)
		}
	}
	presented = append(presented, persist...)
	errs := forEach(ctx, len(persist), func(ctx context.Context, i int) error {
		p := persist[i]
		c.logger().LogAttrs(ctx, slog.LevelInfo, "checking persistent record", attrIdentifier(p.authz.Identifier.Value), attrChallengeType(p.ch.Type))
		// A CA that writes the wildcard into the identifier (see pickChallenge)
		// is read the same way: base name, wildcard set.
		name, star := strings.CutPrefix(p.authz.Identifier.Value, "*.")
		if err := p.solver.(PersistSolver).PresentPersist(ctx, name, star || p.authz.Wildcard, append([]string(nil), p.ch.IssuerDomainNames...), c.AccountURL); err != nil {
			return &AuthorizationError{Identifier: p.authz.Identifier, URL: p.authz.URL, Err: fmt.Errorf("present %s challenge: %w", p.ch.Type, err), Local: true}
		}
		return nil
	})
	if err := joinSorted(errs); err != nil {
		return err
	}
	for _, p := range pending {
		if p.ch.Type == ChallengeDNSPersist01 {
			continue
		}
		presented = append(presented, p)
		c.logger().LogAttrs(ctx, slog.LevelInfo, "presenting challenge", attrIdentifier(p.authz.Identifier.Value), attrChallengeType(p.ch.Type))
		if err := p.solver.Present(ctx, p.authz.Identifier.Value, p.ch.Token, p.keyAuth); err != nil {
			return &AuthorizationError{Identifier: p.authz.Identifier, URL: p.authz.URL, Err: fmt.Errorf("present %s challenge: %w", p.ch.Type, err), Local: true}
		}
	}
	errs = forEach(ctx, len(pending), func(ctx context.Context, i int) error {
		p := pending[i]
		if w, ok := p.solver.(Waiter); ok && p.ch.Type != ChallengeDNSPersist01 {
			if err := w.Wait(ctx, p.authz.Identifier.Value, p.ch.Token, p.keyAuth); err != nil {
				return &AuthorizationError{Identifier: p.authz.Identifier, URL: p.authz.URL, Err: fmt.Errorf("wait for %s challenge: %w", p.ch.Type, err), Local: true}
			}
		}
		return nil
	})
	if err := joinSorted(errs); err != nil {
		return err
	}
	errs = forEach(ctx, len(pending), func(ctx context.Context, i int) error {
		p := pending[i]
		if err := c.Accept(ctx, &p.ch); err != nil {
			// The answer may have been lost after the CA acted (it then refuses a
			// second response): if the challenge moved on, carry on waiting.
			a, gerr := c.GetAuthorization(ctx, p.authz.URL)
			if gerr != nil || !a.challengeStarted(p.ch.URL) {
				return &AuthorizationError{Identifier: p.authz.Identifier, URL: p.authz.URL, Err: err}
			}
		}
		_, err := c.WaitAuthorization(ctx, p.authz.URL)
		var ae *AuthorizationError
		if err != nil && !errors.As(err, &ae) {
			err = &AuthorizationError{Identifier: p.authz.Identifier, URL: p.authz.URL, Err: err}
		}
		return err
	})
	if err := joinSorted(errs); err != nil {
		return err
	}
	c.cleanUp(ctx, presented)
	presented = nil
	return nil
}

func (c *Client) pickChallenge(ctx context.Context, a *Authorization, prefs []string, req ObtainRequest) (pendingChallenge, error) {
	var offered, declined []string
	for _, ch := range a.Challenges {
		offered = append(offered, ch.Type)
	}
	// A CA that names the wildcard in the identifier instead of setting
	// "wildcard" (§7.1.4 forbids it) gets the same rule: dns-01 or
	// dns-persist-01 only.
	wildcard := a.Wildcard || strings.HasPrefix(a.Identifier.Value, "*.")
	for _, typ := range prefs {
		if wildcard && !wildcardType(typ) {
			continue
		}
		var ch *Challenge
		for i := range a.Challenges {
			if a.Challenges[i].Type == typ {
				ch = &a.Challenges[i]
				break
			}
		}
		if ch == nil {
			continue
		}
		s := req.Solvers[typ]
		if s == nil && req.SolverFor != nil {
			var err error
			if s, err = req.SolverFor(ctx, typ, Identifier{Type: a.Identifier.Type, Value: strings.TrimPrefix(a.Identifier.Value, "*.")}, wildcard); err != nil {
				return pendingChallenge{}, fmt.Errorf("prepare the %s challenge: %w", typ, err)
			}
			if s == nil {
				declined = append(declined, typ)
			}
		}
		if s == nil {
			continue
		}
		if ch.URL == "" {
			return pendingChallenge{}, fmt.Errorf("acme: %s challenge has no URL", typ)
		}
		if typ == ChallengeDNSPersist01 {
			// No token: the record names the account instead.
			if _, ok := s.(PersistSolver); !ok {
				return pendingChallenge{}, fmt.Errorf("acme: the solver for %s does not implement PersistSolver", typ)
			}
			return pendingChallenge{authz: a, ch: *ch, solver: s}, nil
		}
		ka, err := KeyAuthorization(c.Key.Public(), ch.Token)
		if err != nil {
			return pendingChallenge{}, err
		}
		return pendingChallenge{authz: a, ch: *ch, solver: s, keyAuth: ka}, nil
	}
	var have []string
	for typ, s := range req.Solvers {
		if s != nil {
			have = append(have, typ)
		}
	}
	sort.Strings(have)
	return pendingChallenge{}, &NoSolverError{Identifier: a.Identifier, Wildcard: wildcard, Offered: offered, Configured: have, Declined: declined}
}

func (c *Client) cleanUp(ctx context.Context, presented []pendingChallenge) {
	if len(presented) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	for _, p := range presented {
		if err := p.solver.CleanUp(cctx, p.authz.Identifier.Value, p.ch.Token, p.keyAuth); err != nil {
			c.logger().LogAttrs(ctx, slog.LevelWarn, "challenge clean-up failed", attrIdentifier(p.authz.Identifier.Value), attrChallengeType(p.ch.Type), attrErr(err))
		}
	}
}

// forEach runs fn for 0..n-1 with at most maxParallel at once and returns the errors by index.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) []error {
	errs := make([]error, n)
	if n == 1 {
		errs[0] = fn(ctx, 0)
		return errs
	}
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(ctx, i)
		}()
	}
	wg.Wait()
	return errs
}

// identKey normalises an identifier for comparison; wildcard authorizations carry
// the base name with wildcard=true (§7.1.4).
func identKey(id Identifier, wildcard bool) string {
	v := strings.ToLower(strings.TrimSuffix(id.Value, "."))
	if wildcard && !strings.HasPrefix(v, "*.") {
		v = "*." + v
	}
	if id.Type == "ip" {
		if ip := net.ParseIP(v); ip != nil {
			v = ip.String()
		}
	}
	return id.Type + ":" + v
}

func identifierSet(ids []Identifier) (map[string]bool, error) {
	if len(ids) == 0 {
		return nil, errors.New("acme: no identifiers to order")
	}
	m := map[string]bool{}
	for _, id := range ids {
		if id.Type != "dns" && id.Type != "ip" {
			return nil, fmt.Errorf("acme: identifier type %q not supported", id.Type)
		}
		m[identKey(id, false)] = true
	}
	return m, nil
}

func checkOrderIdentifiers(o *Order, want map[string]bool) error {
	for _, id := range o.Identifiers {
		if !want[identKey(id, false)] {
			return fmt.Errorf("acme: the CA's order %s names %q, which was not requested: refused", o.URL, id.Value)
		}
	}
	if len(o.AuthorizationURLs) > 4*len(want)+4 {
		return fmt.Errorf("acme: the CA's order %s has %d authorizations for %d identifiers: refused", o.URL, len(o.AuthorizationURLs), len(want))
	}
	return nil
}

// checkIssued verifies the leaf is for our key and names every requested
// identifier; it returns the extra names policy lets through (sorted).
func checkIssued(cert *Certificate, csr *x509.CertificateRequest, want map[string]bool, policy ExtraNamesPolicy) ([]string, error) {
	chain, err := ParseChain(cert.PEM)
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	lk, err := x509.MarshalPKIXPublicKey(leaf.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("acme: issued certificate key: %w", err)
	}
	ck, err := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("acme: CSR key: %w", err)
	}
	if !bytes.Equal(lk, ck) {
		return nil, errors.New("acme: the issued certificate is not for the requested key: refused")
	}
	got := map[string]bool{}
	for _, n := range leaf.DNSNames {
		got[identKey(Identifier{Type: "dns", Value: n}, false)] = true
	}
	for _, ip := range leaf.IPAddresses {
		got[identKey(Identifier{Type: "ip", Value: ip.String()}, false)] = true
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, strings.SplitN(k, ":", 2)[1])
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("acme: the issued certificate does not cover %s: refused", strings.Join(missing, ", "))
	}
	for k := range got {
		if want[k] {
			continue
		}
		name := strings.SplitN(k, ":", 2)[1]
		if policy == ExtraNamesRefuse || policy == ExtraNamesRelated && !relatedName(k, want) {
			return nil, fmt.Errorf("acme: the issued certificate names %s, which was not requested: refused", name)
		}
		extra = append(extra, name)
	}
	sort.Strings(extra)
	return extra, nil
}

// relatedName reports whether the dns key k is a name a CA's product adds
// for free to the requested ones: www.<name>, <name> for www.<name>, or the
// base name of *.<name>.
func relatedName(k string, want map[string]bool) bool {
	n, ok := strings.CutPrefix(k, "dns:")
	if !ok {
		return false
	}
	if base, ok := strings.CutPrefix(n, "www."); ok && want["dns:"+base] {
		return true
	}
	return want["dns:www."+n] || want["dns:*."+n]
}
