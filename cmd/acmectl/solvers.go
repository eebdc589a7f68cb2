package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

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

// buildSolvers makes the solvers for o.authenticator.
func buildSolvers(ctx context.Context, e *env, o *options, domains []string) (*solverSet, error) {
	set := &solverSet{solvers: map[string]acme.Solver{}, preference: o.prefChalls, release: func() {}}
	for _, d := range domains {
		if strings.HasPrefix(d, "*.") && o.authenticator != "manual" && !strings.HasPrefix(o.authenticator, "dns-") {
			return nil, usageErrorf("%s is a wildcard: wildcards need the dns-01 challenge (--dns PROVIDER or --manual --preferred-challenges dns)", d)
		}
	}
	switch a := o.authenticator; {
	case a == "standalone":
		unlock := e.ports.lock(fmt.Sprintf("http:%s:%d", o.http01Addr, o.http01Port))
		s := http01.NewStandalone(o.http01Addr, o.http01Port)
		s.Logger = e.log
		if err := s.Start(ctx); err != nil {
			unlock()
			return nil, fmt.Errorf("standalone http-01 server on port %d: %w", o.http01Port, err)
		}
		set.solvers[acme.ChallengeHTTP01] = s
		set.release = func() { s.Close(); unlock() }
		set.preference = []string{acme.ChallengeHTTP01}
	case a == "tls-alpn":
		unlock := e.ports.lock(fmt.Sprintf("tls:%s:%d", o.tlsALPNAddr, o.tlsALPNPort))
		s := tlsalpn01.NewStandalone(o.tlsALPNAddr, o.tlsALPNPort)
		if err := s.Start(ctx); err != nil {
			unlock()
			return nil, fmt.Errorf("tls-alpn-01 server on port %d: %w", o.tlsALPNPort, err)
		}
		set.solvers[acme.ChallengeTLSALPN01] = s
		set.release = func() { s.Close(); unlock() }
		set.preference = []string{acme.ChallengeTLSALPN01}
	case a == "webroot":
		roots := map[string]string{}
		for d, r := range o.webrootMap {
			if n, err := normalizeDomain(d); err == nil {
				roots[strings.TrimPrefix(n, "*.")] = r
			}
			roots[strings.ToLower(d)] = r
		}
		for _, d := range domains {
			if _, ok := roots[d]; !ok {
				return nil, usageErrorf("no webroot for %s; give -w PATH before -d %s, or --webroot-map", d, d)
			}
		}
		w, err := http01.NewWebroot(roots)
		if err != nil {
			return nil, &usageError{err}
		}
		set.solvers[acme.ChallengeHTTP01] = w
		set.preference = []string{acme.ChallengeHTTP01}
	case a == "manual":
		if o.manualAuth == "" {
			return nil, errNeedFlag("--manual needs a script to publish the challenge", "--manual-auth-hook COMMAND")
		}
		h := hook.NewHTTP01(o.manualAuth, o.manualCleanup)
		h.Logger = e.log
		d := hook.NewDNS01(o.manualAuth, o.manualCleanup)
		d.Logger = e.log
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
	case strings.HasPrefix(a, "dns-"):
		s, err := dnsSolver(ctx, e, o, strings.TrimPrefix(a, "dns-"))
		if err != nil {
			return nil, err
		}
		set.solvers[acme.ChallengeDNS01] = s
		set.preference = []string{acme.ChallengeDNS01}
	case a == "":
		return nil, errNeedFlag("no way to answer the CA's challenges was chosen", "--standalone, --webroot -w PATH, --manual --manual-auth-hook CMD, --dns PROVIDER or --tls-alpn")
	default:
		return nil, usageErrorf("unknown authenticator %q", a)
	}
	return set, nil
}
