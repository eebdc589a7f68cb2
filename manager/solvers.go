package manager

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/challenge/dnspersist"
	"github.com/acmectl/acmectl/challenge/hook"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/challenge/tlsalpn01"
)

// solverSet answers the challenges of one issuance. It is made from the
// configuration before anything is ordered, checking only what can be
// checked without acting (an unknown authenticator, a webroot that is not a
// directory, a DNS provider's credentials), and prepares a solver — binds a
// listener, runs an installer's authenticator, or accepts the manual hooks —
// only when the CA asks for a pending authorization that needs it
// (acme.ObtainRequest.SolverFor). With Sectigo's pre-validated names nothing
// is pending, so a port held by the web server, a wildcard without a dns-01
// solver or --manual without a hook are no reason to fail
// (shared/reference/sectigo.md §3 rows 5–7).
type solverSet struct {
	m          *Manager
	c          *Config
	preference []string
	// types are the challenge types the authenticator answers; nil asks
	// prepare (an installer's authenticator says what it has).
	types []string
	// ready holds the solvers that need no preparation (webroot, DNS).
	ready map[string]acme.Solver
	// prepare makes the solvers on first need; nil when ready is all.
	prepare func(ctx context.Context) (map[string]acme.Solver, func(), error)

	mu       sync.Mutex
	prepared bool
	err      error
	releases []func()
}

// release closes listeners, frees the port and undoes an installer's
// authenticator; always call it.
func (s *solverSet) release() {
	s.mu.Lock()
	rs := s.releases
	s.releases = nil
	s.mu.Unlock()
	for i := len(rs) - 1; i >= 0; i-- {
		rs[i]()
	}
}

// solverFor is acme.ObtainRequest.SolverFor: the solver for a pending
// authorization, prepared on first need; (nil, nil) when the authenticator
// does not answer typ.
func (s *solverSet) solverFor(ctx context.Context, typ string, id acme.Identifier, wildcard bool) (acme.Solver, error) {
	if sv := s.ready[typ]; sv != nil {
		return sv, nil // also dns-persist-01's, beside any authenticator's types
	}
	if s.types != nil && !contains(s.types, typ) {
		return nil, nil
	}
	name := id.Value
	if wildcard {
		name = "*." + name
	}
	if s.c.Authenticator == "manual" && s.c.ManualAuth == "" {
		return nil, NeedFlag(fmt.Sprintf("%s needs validation (%s) and --manual has no script to publish the challenge", name, typ), "--manual-auth-hook COMMAND")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.prepared && s.prepare != nil {
		s.prepared = true
		var solvers map[string]acme.Solver
		var release func()
		solvers, release, s.err = s.prepare(ctx)
		if release != nil {
			s.releases = append(s.releases, release)
		}
		if s.err == nil {
			for t, sv := range solvers {
				s.ready[t] = sv
			}
		}
	}
	if s.err != nil {
		return nil, fmt.Errorf("%s needs validation over %s: %w", name, typ, s.err)
	}
	return s.ready[typ], nil
}

// portLocks serializes issuances that need the same listening port (parallel
// renewals of standalone lineages), per run; a wait ends with ctx.
type portLocks struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func (p *portLocks) lock(ctx context.Context, key string) (func(), error) {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]chan struct{}{}
	}
	l, ok := p.m[key]
	if !ok {
		l = make(chan struct{}, 1)
		p.m[key] = l
	}
	p.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for another issuance using %s: %w", key, ctx.Err())
	}
}

// buildSolvers makes the solver set for o.Authenticator (nothing is bound,
// written or run yet), and the dns-persist-01 solver when that challenge
// is preferred. With dns-persist-01 the only preferred challenge, no
// authenticator is built: nothing listens, is written or is called.
func (m *Manager) buildSolvers(o *Config, domains []string) (*solverSet, error) {
	set := &solverSet{m: m, c: o, ready: map[string]acme.Solver{}, preference: o.PrefChalls}
	if PersistPreferred(o) {
		set.ready[acme.ChallengeDNSPersist01] = m.persistSolver(o, domains)
		if PersistOnly(o) {
			set.types = []string{acme.ChallengeDNSPersist01}
			return set, nil
		}
	}
	var err error
	switch a := o.Authenticator; {
	case a == "standalone":
		set.types, set.prepare = []string{acme.ChallengeHTTP01}, m.standaloneSolver(o)
	case a == "tls-alpn":
		set.types, set.prepare = []string{acme.ChallengeTLSALPN01}, m.tlsALPNSolver(o)
	case a == "webroot":
		set.types = []string{acme.ChallengeHTTP01}
		err = webrootSolver(o, append(append([]string(nil), domains...), o.IPs...), set)
	case a == "manual":
		set.types = []string{acme.ChallengeHTTP01, acme.ChallengeDNS01}
		m.manualSolvers(o, set)
	case strings.HasPrefix(a, "dns-"):
		set.types = []string{acme.ChallengeDNS01}
		var s acme.Solver
		if s, err = m.dnsSolver(o, strings.TrimPrefix(a, "dns-")); err == nil {
			set.ready[acme.ChallengeDNS01] = s
		}
	case m.Authenticators[a] != nil:
		auth := m.Authenticators[a]
		set.prepare = func(ctx context.Context) (map[string]acme.Solver, func(), error) {
			solvers, _, release, err := auth(ctx, o, domains)
			return solvers, release, err
		}
	case isWeb(a):
		set.types, set.prepare = []string{acme.ChallengeHTTP01}, m.webSolver(o)
	case a == "":
		err = NeedFlag("no way to answer the CA's challenges was chosen", needAuthenticator)
	default:
		err = Usagef("unknown authenticator %q", a)
	}
	if err != nil {
		return nil, err
	}
	if len(set.preference) == 0 {
		set.preference = set.types
	}
	return set, nil
}

// standaloneSolver serves http-01 from a built-in server, bound on first
// need; parallel issuances needing the same port take turns.
func (m *Manager) standaloneSolver(o *Config) func(context.Context) (map[string]acme.Solver, func(), error) {
	return func(ctx context.Context) (map[string]acme.Solver, func(), error) {
		unlock, err := m.ports.lock(ctx, fmt.Sprintf("port %s:%d", o.HTTP01Addr, o.HTTP01Port))
		if err != nil {
			return nil, nil, err
		}
		s := http01.NewStandalone(o.HTTP01Addr, o.HTTP01Port)
		s.Logger = m.log()
		if err := s.Start(ctx); err != nil {
			unlock()
			return nil, nil, fmt.Errorf("standalone http-01 server on port %d: %w", o.HTTP01Port, err)
		}
		return map[string]acme.Solver{acme.ChallengeHTTP01: s}, func() { s.Close(); unlock() }, nil
	}
}

// tlsALPNSolver serves tls-alpn-01 from a built-in TLS server, bound on
// first need.
func (m *Manager) tlsALPNSolver(o *Config) func(context.Context) (map[string]acme.Solver, func(), error) {
	return func(ctx context.Context) (map[string]acme.Solver, func(), error) {
		unlock, err := m.ports.lock(ctx, fmt.Sprintf("tls port %s:%d", o.TLSALPNAddr, o.TLSALPNPort))
		if err != nil {
			return nil, nil, err
		}
		s := tlsalpn01.NewStandalone(o.TLSALPNAddr, o.TLSALPNPort)
		if err := s.Start(ctx); err != nil {
			unlock()
			return nil, nil, fmt.Errorf("tls-alpn-01 server on port %d: %w", o.TLSALPNPort, err)
		}
		return map[string]acme.Solver{acme.ChallengeTLSALPN01: s}, func() { s.Close(); unlock() }, nil
	}
}

// webrootSolver writes http-01 tokens into each name's webroot (only when
// a challenge is presented); the roots are checked now.
func webrootSolver(o *Config, domains []string, set *solverSet) error {
	roots := map[string]string{}
	for d, r := range o.WebrootMap {
		if n, err := NormalizeDomain(d); err == nil {
			roots[strings.TrimPrefix(n, "*.")] = r
		}
		roots[strings.ToLower(d)] = r
	}
	for _, d := range domains {
		if _, ok := roots[d]; !ok {
			return Usagef("no webroot for %s; give -w PATH before -d %s, or --webroot-map", d, d)
		}
	}
	w, err := http01.NewWebroot(roots)
	if err != nil {
		return &UsageError{err}
	}
	set.ready[acme.ChallengeHTTP01] = w
	return nil
}

// manualSolvers answer http-01 and dns-01 with the manual hooks (through
// the one hook runner's environment rules). Without --manual-auth-hook
// they are missing, and a pending authorization fails naming the flag.
func (m *Manager) manualSolvers(o *Config, set *solverSet) {
	if o.ManualAuth == "" {
		return
	}
	r := m.hookRunner()
	h := hook.NewHTTP01(o.ManualAuth, o.ManualCleanup)
	h.Logger, h.Secrets, h.Redact = m.log(), r.Secrets, r.Redact
	d := hook.NewDNS01(o.ManualAuth, o.ManualCleanup)
	d.Logger, d.Secrets, d.Redact = m.log(), r.Secrets, r.Redact
	set.ready[acme.ChallengeHTTP01] = h
	set.ready[acme.ChallengeDNS01] = d
}

// dnsSolver returns the dns-01 solver for a certbot DNS plugin name
// ("cloudflare", "google") or a lego provider name ("route53", "exec", ...),
// configured from the provider's own environment variables or
// --dns-credentials / --dns-<plugin>-credentials (certbot's credentials file).
func (m *Manager) dnsSolver(o *Config, plugin string) (acme.Solver, error) {
	provider, err := dns01.ProviderFor(plugin)
	if err != nil {
		return nil, err
	}
	var env map[string]string
	if o.DNSProject != "" {
		env = map[string]string{"GCE_PROJECT": o.DNSProject}
	}
	s, err := dns01.New(provider, dns01.Options{
		CredentialsFile: o.DNSCredentials,
		Env:             env,
		PropagationWait: time.Duration(o.DNSPropagation) * time.Second,
		Logger:          m.log(),
	})
	if err != nil {
		return nil, &UsageError{err}
	}
	return s, nil
}

// persistSolver checks each name's dns-persist-01 record before the CA is
// asked (from --dns-resolver, else the names' authoritative servers), and
// reports a persistUntil within 30 days as a warning event.
func (m *Manager) persistSolver(o *Config, domains []string) *dnspersist.Solver {
	return &dnspersist.Solver{
		Names:    domains,
		Resolver: persistResolver(o),
		Now:      m.now,
		Logger:   m.log(),
		Report: func(v dnspersist.Verdict) {
			if v.OK() && v.Warning != "" {
				m.emit(Event{Kind: EventWarning, Names: []string{v.Name}, Reason: v.Name + ": " + v.RecordName + ": " + v.Warning + "; " + v.Fix})
			}
		},
	}
}

// persistResolver reads records from --dns-resolver when given (asked
// directly), else from the names' authoritative servers.
func persistResolver(o *Config) *dnspersist.Resolver {
	return &dnspersist.Resolver{Servers: o.DNSResolvers, Direct: len(o.DNSResolvers) > 0}
}

// explainNoSolver turns a pending authorization no configured solver can
// answer (*acme.NoSolverError, decided after the order was created) into one
// line naming the name, what the CA offers and what to configure.
func explainNoSolver(c *Config, err error) error {
	ns := noSolverErrors(err)
	if len(ns) == 0 {
		return err
	}
	e := ns[0]
	name := e.Identifier.Value
	if e.Wildcard {
		name = "*." + strings.TrimPrefix(name, "*.")
	}
	offered := strings.Join(e.Offered, ", ")
	if offered == "" {
		offered = "no challenge"
	}
	var msg string
	switch {
	case !offersKnown(e.Offered):
		msg = fmt.Sprintf("%s needs validation, but the CA offers only %s, which no ACME client can answer: complete the domain's validation at the CA (Sectigo: DCV in SCM)", name, offered)
	case e.Wildcard && contains(e.Offered, acme.ChallengeDNSPersist01):
		msg = fmt.Sprintf("the wildcard %s needs validation and wildcards need dns-01 or dns-persist-01 (the CA offers %s), which %s does not answer: use --preferred-challenges dns-persist-01 after publishing the record of 'acmectl dns-persist records -d %s', or --dns PROVIDER", name, offered, authenticatorFlag(c), name)
	case e.Wildcard:
		msg = fmt.Sprintf("the wildcard %s needs validation and wildcards need dns-01 (the CA offers %s), which %s does not answer: use --dns PROVIDER, or --manual --preferred-challenges dns --manual-auth-hook COMMAND", name, offered, authenticatorFlag(c))
	default:
		msg = fmt.Sprintf("%s needs validation; the CA offers %s and %s answers %s: %s", name, offered, authenticatorFlag(c), strings.Join(answered(c), ", "), noSolverHint(c, e.Offered))
	}
	if len(ns) > 1 {
		msg += fmt.Sprintf(" (and %d more name(s) alike)", len(ns)-1)
	}
	return &explainedError{msg: msg, err: err}
}

// noSolverErrors lists the *acme.NoSolverError values in err, in order.
func noSolverErrors(err error) []*acme.NoSolverError {
	var out []*acme.NoSolverError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *acme.NoSolverError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

func offersKnown(types []string) bool {
	for _, t := range types {
		if t == acme.ChallengeHTTP01 || t == acme.ChallengeDNS01 || t == acme.ChallengeTLSALPN01 || t == acme.ChallengeDNSPersist01 {
			return true
		}
	}
	return false
}

// answered are the challenge types the configuration answers, in order.
func answered(c *Config) []string {
	var types []string
	switch a := c.Authenticator; {
	case a == "standalone", a == "webroot":
		types = []string{acme.ChallengeHTTP01}
	case a == "tls-alpn":
		types = []string{acme.ChallengeTLSALPN01}
	case a == "manual":
		types = []string{acme.ChallengeHTTP01, acme.ChallengeDNS01}
	case strings.HasPrefix(a, "dns-"):
		types = []string{acme.ChallengeDNS01}
	default:
		types = []string{acme.ChallengeHTTP01}
	}
	switch {
	case PersistOnly(c):
		types = []string{acme.ChallengeDNSPersist01}
	case PersistPreferred(c):
		types = append(types, acme.ChallengeDNSPersist01)
	}
	if len(c.PrefChalls) > 0 {
		var both []string
		for _, t := range types {
			if contains(c.PrefChalls, t) {
				both = append(both, t)
			}
		}
		types = both
	}
	if len(types) == 0 {
		return []string{"nothing (--preferred-challenges excludes it)"}
	}
	return types
}

// authenticatorFlag names the authenticator as the operator chose it.
func authenticatorFlag(c *Config) string {
	if PersistOnly(c) {
		return "--preferred-challenges dns-persist-01"
	}
	if d, ok := strings.CutPrefix(c.Authenticator, "dns-"); ok {
		return "--dns " + d
	}
	return "--" + c.Authenticator
}

// noSolverHint says what would answer one of the offered types.
func noSolverHint(c *Config, offered []string) string {
	if len(c.PrefChalls) > 0 {
		for _, t := range offered {
			if contains(answeredUnfiltered(c), t) && !contains(c.PrefChalls, t) {
				return "add " + strings.TrimSuffix(t, "-01") + " to --preferred-challenges"
			}
		}
	}
	switch {
	case contains(offered, acme.ChallengeDNS01):
		return "use --dns PROVIDER, or --manual --preferred-challenges dns --manual-auth-hook COMMAND"
	case contains(offered, acme.ChallengeHTTP01):
		return "use --standalone or --webroot -w PATH"
	}
	return "use --tls-alpn"
}

func answeredUnfiltered(c *Config) []string {
	cp := *c
	cp.PrefChalls = nil
	return answered(&cp)
}

// explainedError is an error the engine rewords for the operator; the
// cause stays in the chain (errors.As finds the acme types).
type explainedError struct {
	msg string
	err error
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }
