package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/challenge/dnspersist"
	"github.com/acmectl/acmectl/storage"
)

// PersistAccount is the account and CA the dns-persist-01 records name.
type PersistAccount struct {
	Server     string `json:"server"`
	AccountID  string `json:"account_id"`
	AccountURL string `json:"account_url"`
	// IssuerDomainNames are the CA's (its directory's issuerDomainNames,
	// else its caaIdentities); the records name the first, or
	// --persist-issuer.
	IssuerDomainNames []string `json:"issuer_domain_names"`
	// Names are the names the records prove.
	Names []string `json:"names"`
}

// PersistRecords is what DNSPersistRecords composed.
type PersistRecords struct {
	PersistAccount
	Records []dnspersist.Record `json:"records"`
	// Published names the records created through a DNS provider (--dns).
	Published []string `json:"published,omitempty"`
	// Provider is the --dns provider that created them.
	Provider string `json:"provider,omitempty"`
}

// PersistCheck is what DNSPersistCheck found, one verdict per name.
type PersistCheck struct {
	PersistAccount
	Verdicts []dnspersist.Verdict `json:"verdicts"`
}

// Failed counts the names the CA would refuse.
func (p *PersistCheck) Failed() int {
	n := 0
	for _, v := range p.Verdicts {
		if !v.OK() {
			n++
		}
	}
	return n
}

// DNSPersistRecords composes the dns-persist-01 records that let the
// account (Config.Account, else the only one at Config.Server) prove
// Config.Domains — or, with --cert-name and no -d, the lineage's names with
// its server and account — with no DNS change at issuance. It reads the
// CA's directory and confirms the account with the CA, but orders nothing.
// With --dns PROVIDER it also creates the records once (rfc2136 and exec
// can; other lego providers only write _acme-challenge records); the
// provider's credentials are used for this call only, never saved.
func (m *Manager) DNSPersistRecords(ctx context.Context) (*PersistRecords, error) {
	pa, c, err := m.persistAccount(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := dnspersist.Records(dnspersist.Request{AccountURL: pa.AccountURL, IssuerDomainNames: pa.IssuerDomainNames,
		Issuer: c.PersistIssuer, Names: pa.Names, Wildcard: c.PersistWildcard, PersistUntil: c.PersistUntil})
	if err != nil {
		return nil, &UsageError{err}
	}
	out := &PersistRecords{PersistAccount: *pa, Records: recs}
	if m.Config.setByUser(authenticatorFlags...) {
		if !strings.HasPrefix(c.Authenticator, "dns-") {
			return nil, Usagef("dns-persist records creates records only through --dns PROVIDER (rfc2136 or exec); --%s does not apply", c.Authenticator)
		}
		out.Provider = strings.TrimPrefix(c.Authenticator, "dns-")
		if out.Published, err = m.publishPersist(ctx, c, recs); err != nil {
			return out, err
		}
	}
	return out, nil
}

// DNSPersistCheck reads each name's dns-persist-01 record (from
// --dns-resolver, else the names' authoritative servers) and says whether
// the CA would accept it for the account: issuer, account URL, policy for
// wildcards, persistUntil (a warning within 30 days). It changes nothing.
func (m *Manager) DNSPersistCheck(ctx context.Context) (*PersistCheck, error) {
	pa, c, err := m.persistAccount(ctx)
	if err != nil {
		return nil, err
	}
	out := &PersistCheck{PersistAccount: *pa}
	exp := dnspersist.Expect{IssuerDomainNames: pa.IssuerDomainNames, AccountURL: pa.AccountURL, At: m.now()}
	out.Verdicts = dnspersist.CheckNames(ctx, persistResolver(c), pa.Names, exp)
	return out, nil
}

// persistAccount finds the names, the account and the CA's issuer domain
// names for the dns-persist verbs; c is the configuration they use (the
// lineage's with --cert-name).
func (m *Manager) persistAccount(ctx context.Context) (*PersistAccount, *Config, error) {
	c := m.Config
	if len(c.Domains) == 0 && c.CertName != "" {
		l, err := m.Store.LoadLineage(ctx, c.CertName)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, nil, Usagef("no certificate named %s (see 'acmectl certificates'); or give the names with -d", c.CertName)
			}
			return nil, nil, err
		}
		if c, err = lineageConfig(c, l); err != nil {
			return nil, nil, err
		}
	}
	if len(c.IPs) > 0 {
		return nil, nil, Usagef("dns-persist-01 proves DNS names only; drop --ip-address %s", strings.Join(c.IPs, ","))
	}
	if len(c.Domains) == 0 {
		return nil, nil, NeedFlag("no domain names were given", "--domain NAME (or --cert-name NAME)")
	}
	cl, acct, err := m.accountClient(ctx, c.Server, c.Account, false)
	if err != nil {
		return nil, nil, err
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	pa := &PersistAccount{Server: c.Server, AccountID: acct.ID, AccountURL: acct.URL, Names: c.Domains}
	// The CA decides which URL the record must name: ask it (this also
	// refuses a deactivated or unknown account before a record is published).
	got, err := cl.LookupAccount(ctx)
	switch {
	case acme.IsProblem(err, acme.ProblemAccountDoesNotExist):
		return nil, nil, fmt.Errorf("the CA at %s does not know account %s (deactivated, or registered elsewhere): register a new one ('acmectl register --server %s') and publish its records", c.Server, acct.ID, c.Server)
	case err != nil:
		return nil, nil, fmt.Errorf("confirm account %s with the CA: %w", acct.ID, err)
	case got.Status != "" && got.Status != "valid":
		return nil, nil, fmt.Errorf("account %s is %s at the CA: its records would prove nothing; register a new account", acct.ID, got.Status)
	case got.URL != "" && got.URL != acct.URL:
		m.log().LogAttrs(ctx, slog.LevelWarn, "the CA names the account by another URL than the one saved; the records use the CA's",
			slog.String("saved", acct.URL), slog.String("ca", got.URL))
		pa.AccountURL = got.URL
	}
	pa.IssuerDomainNames = dir.Meta.PersistIssuerDomainNames()
	if len(pa.IssuerDomainNames) == 0 {
		if c.PersistIssuer == "" {
			return nil, nil, fmt.Errorf("the CA at %s announces no issuer domain names (neither issuerDomainNames nor caaIdentities in its directory), so it may not offer dns-persist-01; if its documentation names one, pass --persist-issuer NAME", c.Server)
		}
		pa.IssuerDomainNames = []string{strings.ToLower(strings.TrimSuffix(c.PersistIssuer, "."))}
	}
	if err := dnspersist.CheckIssuerDomainNames(pa.IssuerDomainNames); err != nil {
		return nil, nil, fmt.Errorf("the CA at %s: %w", c.Server, err)
	}
	return pa, c, nil
}

// publishPersist creates the records through --dns PROVIDER, once: rfc2136
// (DNS UPDATE) and exec (lego's program contract) can write any TXT record;
// lego's other providers write only _acme-challenge records. Settings come
// from the provider's environment variables or --dns-credentials; nothing is
// saved.
func (m *Manager) publishPersist(ctx context.Context, c *Config, recs []dnspersist.Record) ([]string, error) {
	provider := strings.TrimPrefix(c.Authenticator, "dns-")
	creds := map[string]string{}
	if c.DNSCredentials != "" {
		var err error
		if creds, err = dns01.LoadCredentials(c.DNSCredentials, provider); err != nil {
			return nil, &UsageError{err}
		}
	}
	get := func(k string) string {
		if v, ok := creds[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	var (
		pub dnspersist.Publisher
		err error
	)
	switch provider {
	case "rfc2136":
		pub, err = dnspersist.NewRFC2136(get)
	case "exec":
		environ := os.Environ()
		for k, v := range creds {
			environ = append(environ, k+"="+v)
		}
		pub, err = dnspersist.NewExec(get, environ)
	default:
		return nil, Usagef("--dns %s: lego's %s provider can only write _acme-challenge records; create the records below in its console, or use --dns rfc2136 or --dns exec", provider, provider)
	}
	if err != nil {
		return nil, &UsageError{err}
	}
	var done []string
	for _, r := range recs {
		if err := pub.Publish(ctx, r); err != nil {
			return done, fmt.Errorf("create %s: %w", r.Name, err)
		}
		m.log().LogAttrs(ctx, slog.LevelInfo, "dns-persist-01 record created", slog.String("record_name", r.Name), slog.String("provider", provider))
		done = append(done, r.Name)
	}
	return done, nil
}
