package manager

import (
	"context"
	"fmt"
	"github.com/acmectl/acmectl/challenge/dns01"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/hook"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/challenge/tlsalpn01"
)

// solverSet is the solvers for one issuance plus what must run after it.
type solverSet struct {
	solvers    map[string]acme.Solver
	preference []string
	// release closes listeners and frees the port lock; always call it.
	release func()
}

// portLocks serializes issuances that need the same listening port (parallel
// renewals of standalone lineages), per run.
type portLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (p *portLocks) lock(key string) func() {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]*sync.Mutex{}
	}
	l, ok := p.m[key]
	if !ok {
		l = &sync.Mutex{}
		p.m[key] = l
	}
	p.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// buildSolvers makes the solvers for o.Authenticator.
func (m *Manager) buildSolvers(ctx context.Context, o *Config, domains []string) (*solverSet, error) {
	set := &solverSet{solvers: map[string]acme.Solver{}, preference: o.PrefChalls, release: func() {}}
	for _, d := range domains {
		if strings.HasPrefix(d, "*.") && o.Authenticator != "manual" && !strings.HasPrefix(o.Authenticator, "dns-") {
			return nil, Usagef("%s is a wildcard: wildcards need the dns-01 challenge (--dns PROVIDER or --manual --preferred-challenges dns)", d)
		}
	}
	var err error
	switch a := o.Authenticator; {
	case a == "standalone":
		err = m.standaloneSolver(ctx, o, set)
	case a == "tls-alpn":
		err = m.tlsALPNSolver(ctx, o, set)
	case a == "webroot":
		err = webrootSolver(o, append(append([]string(nil), domains...), o.IPs...), set)
	case a == "manual":
		err = m.manualSolvers(o, domains, set)
	case strings.HasPrefix(a, "dns-"):
		var s acme.Solver
		if s, err = m.dnsSolver(o, strings.TrimPrefix(a, "dns-")); err == nil {
			set.solvers[acme.ChallengeDNS01] = s
			set.preference = []string{acme.ChallengeDNS01}
		}
	case m.Authenticators[a] != nil:
		var pref []string
		set.solvers, pref, set.release, err = m.Authenticators[a](ctx, o, domains)
		if len(set.preference) == 0 {
			set.preference = pref
		}
	case a == "":
		err = NeedFlag("no way to answer the CA's challenges was chosen", needAuthenticator)
	default:
		err = Usagef("unknown authenticator %q", a)
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// standaloneSolver serves http-01 from a built-in server; parallel
// issuances needing the same port take turns.
func (m *Manager) standaloneSolver(ctx context.Context, o *Config, set *solverSet) error {
	unlock := m.ports.lock(fmt.Sprintf("http:%s:%d", o.HTTP01Addr, o.HTTP01Port))
	s := http01.NewStandalone(o.HTTP01Addr, o.HTTP01Port)
	s.Logger = m.log()
	if err := s.Start(ctx); err != nil {
		unlock()
		return fmt.Errorf("standalone http-01 server on port %d: %w", o.HTTP01Port, err)
	}
	set.solvers[acme.ChallengeHTTP01] = s
	set.release = func() { s.Close(); unlock() }
	set.preference = []string{acme.ChallengeHTTP01}
	return nil
}

// tlsALPNSolver serves tls-alpn-01 from a built-in TLS server.
func (m *Manager) tlsALPNSolver(ctx context.Context, o *Config, set *solverSet) error {
	unlock := m.ports.lock(fmt.Sprintf("tls:%s:%d", o.TLSALPNAddr, o.TLSALPNPort))
	s := tlsalpn01.NewStandalone(o.TLSALPNAddr, o.TLSALPNPort)
	if err := s.Start(ctx); err != nil {
		unlock()
		return fmt.Errorf("tls-alpn-01 server on port %d: %w", o.TLSALPNPort, err)
	}
	set.solvers[acme.ChallengeTLSALPN01] = s
	set.release = func() { s.Close(); unlock() }
	set.preference = []string{acme.ChallengeTLSALPN01}
	return nil
}

// webrootSolver writes http-01 tokens into each name's webroot.
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
	set.solvers[acme.ChallengeHTTP01] = w
	set.preference = []string{acme.ChallengeHTTP01}
	return nil
}

// manualSolvers answer http-01 and dns-01 with the manual hooks (through
// the one hook runner's environment rules).
func (m *Manager) manualSolvers(o *Config, domains []string, set *solverSet) error {
	if o.ManualAuth == "" {
		return NeedFlag("--manual needs a script to publish the challenge", "--manual-auth-hook COMMAND")
	}
	r := m.hookRunner()
	h := hook.NewHTTP01(o.ManualAuth, o.ManualCleanup)
	h.Logger, h.Secrets, h.Redact = m.log(), r.Secrets, r.Redact
	d := hook.NewDNS01(o.ManualAuth, o.ManualCleanup)
	d.Logger, d.Secrets, d.Redact = m.log(), r.Secrets, r.Redact
	set.solvers[acme.ChallengeHTTP01] = h
	set.solvers[acme.ChallengeDNS01] = d
	if len(set.preference) == 0 {
		set.preference = []string{acme.ChallengeHTTP01}
		for _, dn := range domains {
			if strings.HasPrefix(dn, "*.") {
				set.preference = []string{acme.ChallengeDNS01}
			}
		}
	}
	return nil
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
