// Package dns01 answers ACME dns-01 challenges (RFC 8555 §8.4) through the DNS
// providers of github.com/go-acme/lego/v4 (v4.35.2), chosen by name as with
// `lego --dns NAME`, and waits until the TXT record is visible on every
// authoritative name server of the zone before the CA is told.
//
// Providers read their settings from their own environment variables (see lego's
// documentation for each one) or from a certbot-style credentials file
// (LoadCredentials). The default build has a curated set of providers
// (Providers lists them); building with -tags alldns links every lego provider.
// The cloud providers of the curated set (route53, gcloud, azuredns) run in a
// child process when the binary embeds the plugin (-tags dnsembed, as
// `make build` does; package dnsplugin), so that their SDKs' package
// initialisation does not slow every start of the binary; a plain go build
// links them.
//
// Wildcards: package acme strips "*." from a wildcard identifier and passes the
// base name, so Present("example.com") also serves "*.example.com" (both use the
// TXT name _acme-challenge.example.com). Only dns-01 can prove a wildcard;
// CheckWildcards tells the caller early when the chosen challenge types cannot.
//
// Process-wide state: lego keeps its recursive resolver list and DNS timeout in
// package variables. New sets them from Options.Resolvers and Options.DNSTimeout,
// so use one set of resolvers per process. Credentials from a file become
// environment variables of this process.
package dns01

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	legodns01 "github.com/go-acme/lego/v4/challenge/dns01"

	"github.com/acmectl/acmectl/internal/secretfile"
)

// Provider is a lego DNS provider (lego's challenge.Provider): Present creates
// the TXT record _acme-challenge.<domain> with base64url(SHA-256(keyAuth)) and
// CleanUp deletes it. lego providers take no context.
type Provider = challenge.Provider

// PluginName is the DNS plugin's process name: acmectl started under it
// (argv[0]) serves the DNS plugin (ServePlugin) instead of its commands.
const PluginName = "acmectl-dns"

// EnvDNSHost names, for the cluster's build of acmectl (-tags dnshost), the
// acmectl whose embedded DNS plugin it uses.
const EnvDNSHost = "ACMECTL_DNS_HOST"

// Defaults for the propagation check when neither Options nor the provider's
// Timeout method say otherwise.
const (
	DefaultPropagationTimeout = 2 * time.Minute
	DefaultPollInterval       = 2 * time.Second
	DefaultDNSTimeout         = 5 * time.Second
)

// Options configure a Solver. The zero value checks propagation against the
// authoritative servers found through /etc/resolv.conf.
type Options struct {
	// CredentialsFile is a certbot-style credentials file (LoadCredentials); its
	// settings are exported to the environment before the provider is built.
	// For gcloud (certbot's dns-google) a JSON file is the service account
	// key itself, passed as GCE_SERVICE_ACCOUNT_FILE.
	CredentialsFile string
	// Env are more settings for the provider's environment (dns-google's
	// project: GCE_PROJECT); the credentials file wins.
	Env map[string]string
	// PropagationWait, when positive, replaces the propagation check with a
	// fixed sleep (certbot's --dns-<plugin>-propagation-seconds).
	PropagationWait time.Duration
	// PropagationTimeout bounds the propagation check; zero means the provider's
	// own timeout (lego's <PROVIDER>_PROPAGATION_TIMEOUT) or DefaultPropagationTimeout.
	PropagationTimeout time.Duration
	// PollInterval is the pause between checks; zero means the provider's or
	// DefaultPollInterval.
	PollInterval time.Duration
	// Resolvers ("host" or "host:port") find the zone, its name servers and
	// CNAMEs; empty means those of /etc/resolv.conf. Also given to lego (process-wide).
	Resolvers []string
	// NameserverPort is the port of the authoritative servers queried by the
	// check; zero means 53. Tests point it at a loopback server.
	NameserverPort int
	// DNSTimeout bounds one DNS query; zero means DefaultDNSTimeout.
	DNSTimeout time.Duration
	// Logger receives the check's progress. Nil discards.
	Logger *slog.Logger
}

// Solver presents dns-01 records through a lego provider and waits for them to
// propagate. It implements the Solver and Waiter contracts of package acme and is
// safe for concurrent use (as far as the provider is).
type Solver struct {
	name      string
	provider  Provider
	opts      Options
	resolvers []string

	mu      sync.Mutex
	present map[string]string // TXT fqdn → identifier presented there (replacing providers only)
}

// replacesRRset lists providers whose Present replaces the whole TXT record set
// of the name (lego's rfc2136 sends "delete RRset, add RR"), so that two
// challenges for one name (example.com and *.example.com) cannot be presented
// at the same time.
var replacesRRset = map[string]bool{"rfc2136": true}

// New builds the provider called name ("cloudflare", "route53", "rfc2136", ...;
// see Providers) after applying Options.CredentialsFile. An unknown name, a
// refused credentials file or a provider configuration error is returned as is,
// naming the provider.
func New(name string, opts Options) (*Solver, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil, errors.New("dns-01: no DNS provider given (--dns NAME)")
	}
	if err := knownProvider(name); err != nil {
		return nil, fmt.Errorf("dns-01: %w", err)
	}
	creds := map[string]string{}
	for k, v := range opts.Env {
		creds[k] = v
	}
	if opts.CredentialsFile != "" {
		file, err := loadCredentialsFile(opts.CredentialsFile, name)
		if err != nil {
			return nil, err
		}
		for k, v := range file {
			creds[k] = v
		}
	}
	for k, v := range creds {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("dns-01: set %s: %w", k, err)
		}
	}
	// Resolvers first: some providers look the zone up while being built.
	s, err := newSolver(name, nil, opts)
	if err != nil {
		return nil, err
	}
	p, err := newProvider(name, s.opts, s.resolvers)
	if err != nil {
		return nil, fmt.Errorf("dns-01: provider %s: %w", name, err)
	}
	s.provider = p
	return s, nil
}

// loadCredentialsFile reads CredentialsFile for provider name.
func loadCredentialsFile(path, name string) (map[string]string, error) {
	if name == "gcloud" {
		b, err := secretfile.Read(path, "dns-01 credentials", maxCredentialsSize)
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			return map[string]string{"GCE_SERVICE_ACCOUNT_FILE": path}, nil
		}
	}
	return LoadCredentials(path, name)
}

// NewWithProvider wraps an already built provider; name is used in messages.
// Options.CredentialsFile is ignored.
func NewWithProvider(name string, p Provider, opts Options) (*Solver, error) {
	if p == nil {
		return nil, fmt.Errorf("dns-01: provider %s is nil", name)
	}
	return newSolver(name, p, opts)
}

func newSolver(name string, p Provider, opts Options) (*Solver, error) {
	resolvers := opts.Resolvers
	if len(resolvers) == 0 {
		resolvers = systemResolvers()
		if len(resolvers) == 0 {
			return nil, errors.New("dns-01: no resolvers: /etc/resolv.conf lists none; give --dns-resolvers")
		}
	}
	resolvers = legodns01.ParseNameservers(resolvers)
	if len(opts.Resolvers) > 0 {
		_ = legodns01.AddRecursiveNameservers(resolvers)(nil)
	}
	if opts.DNSTimeout <= 0 {
		opts.DNSTimeout = DefaultDNSTimeout
	}
	_ = legodns01.AddDNSTimeout(opts.DNSTimeout)(nil)
	if opts.NameserverPort == 0 {
		opts.NameserverPort = 53
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Solver{name: name, provider: p, opts: opts, resolvers: resolvers}, nil
}

// Name returns the provider name.
func (s *Solver) Name() string { return s.name }

// Present creates the TXT record for domain (the base name for a wildcard).
// lego providers cannot be cancelled: ctx is checked before the call only.
func (s *Solver) Present(ctx context.Context, domain, token, keyAuth string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dns-01 %s: present %s: %w", s.name, domain, err)
	}
	domain = strings.TrimPrefix(domain, "*.")
	if replacesRRset[s.name] {
		fqdn, _ := Record(domain, keyAuth)
		s.mu.Lock()
		if s.present == nil {
			s.present = map[string]string{}
		}
		if _, busy := s.present[fqdn]; busy {
			s.mu.Unlock()
			return fmt.Errorf("dns-01 %s: %s already holds a challenge of this order and provider %s replaces the whole TXT record set; "+
				"order %s and *.%s separately, or use another provider", s.name, fqdn, s.name, domain, domain)
		}
		s.present[fqdn] = domain
		s.mu.Unlock()
	}
	if err := s.provider.Present(domain, token, keyAuth); err != nil {
		return fmt.Errorf("dns-01 %s: create TXT record for %s: %w", s.name, domain, err)
	}
	return nil
}

// Sequential reports whether the lego provider asks to solve one challenge at a
// time, and the pause it wants between two (lego's sequential interface; rfc2136
// and exec do). Package acme presents all challenges before validating any, so a
// caller that honours this must run one order per identifier or serialise itself.
func (s *Solver) Sequential() (bool, time.Duration) {
	if p, ok := s.provider.(interface{ Sequential() time.Duration }); ok {
		return true, p.Sequential()
	}
	return false, 0
}

// CleanUp deletes the TXT record Present created. It runs even when ctx is done
// (lego providers take no context).
func (s *Solver) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	domain = strings.TrimPrefix(domain, "*.")
	if replacesRRset[s.name] {
		fqdn, _ := Record(domain, keyAuth)
		s.mu.Lock()
		delete(s.present, fqdn)
		s.mu.Unlock()
	}
	if err := s.provider.CleanUp(domain, token, keyAuth); err != nil {
		return fmt.Errorf("dns-01 %s: delete TXT record for %s: %w", s.name, domain, err)
	}
	return nil
}

// Record returns the TXT record name (FQDN with final dot, after following
// CNAMEs through the resolvers) and value for domain and keyAuth, as lego's
// dns01.GetChallengeInfo computes them.
func Record(domain, keyAuth string) (fqdn, value string) {
	info := legodns01.GetChallengeInfo(strings.TrimPrefix(domain, "*."), keyAuth)
	return info.EffectiveFQDN, info.Value
}

// Wait returns once the TXT record for domain is visible on every authoritative
// name server of its zone, or after Options.PropagationWait when that is set. It
// fails when the timeout passes first (naming the server that lacks the record)
// or ctx is done.
func (s *Solver) Wait(ctx context.Context, domain, token, keyAuth string) error {
	domain = strings.TrimPrefix(domain, "*.")
	if s.opts.PropagationWait > 0 {
		s.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "waiting for DNS propagation",
			slog.String("identifier", domain), slog.Duration("wait", s.opts.PropagationWait))
		return sleep(ctx, s.opts.PropagationWait)
	}
	timeout, interval := s.opts.PropagationTimeout, s.opts.PollInterval
	if pt, ok := s.provider.(challenge.ProviderTimeout); ok {
		t, i := pt.Timeout()
		if timeout <= 0 {
			timeout = t
		}
		if interval <= 0 {
			interval = i
		}
	}
	if timeout <= 0 {
		timeout = DefaultPropagationTimeout
	}
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	fqdn, value := Record(domain, keyAuth)
	deadline := time.Now().Add(timeout)
	// last is what the last whole check saw: a check cut short by the
	// deadline only says "deadline exceeded", which names no server or value.
	var last error
	for attempt := 1; ; attempt++ {
		checkCtx, cancel := context.WithDeadline(ctx, deadline)
		err := s.checkPropagation(checkCtx, fqdn, value)
		cut := checkCtx.Err() != nil
		cancel()
		if err == nil {
			s.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "TXT record propagated",
				slog.String("identifier", domain), slog.String("fqdn", fqdn), slog.Int("attempt", attempt))
			return nil
		}
		s.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "TXT record not propagated yet",
			slog.String("identifier", domain), slog.Int("attempt", attempt), slog.String("error", err.Error()))
		if !cut || last == nil {
			last = err
		}
		if time.Now().Add(interval).After(deadline) {
			return fmt.Errorf("dns-01 %s: TXT record %s not on every authoritative server after %s (raise the propagation timeout, or set --dns-propagation-seconds): %w", s.name, fqdn, timeout, last)
		}
		if sleepErr := sleep(ctx, interval); sleepErr != nil {
			return fmt.Errorf("dns-01 %s: wait for %s: %w (last check: %w)", s.name, fqdn, sleepErr, last)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SplitWildcard returns name without a leading "*." and whether it had one.
func SplitWildcard(name string) (base string, wildcard bool) {
	base, wildcard = strings.CutPrefix(name, "*.")
	return base, wildcard
}

// CheckWildcards returns an error naming the first wildcard name when
// challengeTypes (the types the caller has solvers for) lacks "dns-01": only
// dns-01 can prove a wildcard (RFC 8555 §7.1.3).
func CheckWildcards(names []string, challengeTypes []string) error {
	if slices.Contains(challengeTypes, "dns-01") {
		return nil
	}
	for _, n := range names {
		if _, w := SplitWildcard(n); w {
			return fmt.Errorf("%s is a wildcard name: it can only be validated with dns-01 (use --dns NAME or a --manual hook with --preferred-challenges dns)", n)
		}
	}
	return nil
}
