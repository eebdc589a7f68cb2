package manager

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// issuePlan is one issuance: new lineage, new version of an existing one, or
// a dry run of either.
type issuePlan struct {
	c            *Config // effective configuration (renew: merged with the lineage's)
	name         string
	domains, ips []string
	existing     *storage.Lineage // nil for a new lineage
}

// IssueResult is a certificate obtained (and saved unless it was a dry run).
type IssueResult struct {
	Lineage   string
	Cert      *x509.Certificate
	Names     []string
	LiveDir   string // "" on a dry run
	Fullchain string
	Privkey   string
	AccountID string
}

// checkSavable proves, before anything is run or requested, that the
// renewal conf this issuance would write can be written: a value the conf
// cannot hold fails here, not after the CA issued the certificate.
func (p *issuePlan) checkSavable() error {
	if p.c.DryRun {
		return nil
	}
	var prev *storage.RenewalConf
	if p.existing != nil {
		prev = p.existing.Conf
	}
	if _, err := renewalConf(p.c, prev, "account").Marshal(); err != nil {
		return Usagef("the renewal conf of %s could not hold these options (%w); nothing was requested from the CA", p.name, err)
	}
	return nil
}

// obtain runs one issuance and saves it (unless a dry run). A CA found
// unreachable earlier in the run is not contacted again (*CAUnreachableError);
// one that is found unreachable now is remembered (noteCAError).
func (m *Manager) obtain(ctx context.Context, p *issuePlan) (*IssueResult, error) {
	if err := p.checkSavable(); err != nil {
		return nil, err
	}
	if err := m.unreachableCA(p.c.Server); err != nil {
		return nil, err
	}
	res, err := m.obtainFrom(ctx, p)
	m.noteCAError(ctx, p.c.Server, err)
	return res, err
}

// obtainFrom is obtain's issuance. An order an earlier run of the lineage
// left in flight is collected first (inflight.go). A failure comes back
// explained (*IssueError) when there is more to say than the error.
func (m *Manager) obtainFrom(ctx context.Context, p *issuePlan) (_ *IssueResult, err error) {
	c := p.c
	var cl *acme.Client
	defer func() {
		if err != nil {
			err = m.explain(ctx, cl, c, p.name, err)
		}
	}()
	// The solvers' configuration is checked before anything is registered or
	// ordered; they are prepared only for a pending authorization.
	solvers, err := m.buildSolvers(c, p.domains)
	if err != nil {
		return nil, err
	}
	defer solvers.release()
	cl, acct, err := m.accountClient(ctx, c.Server, c.Account, true)
	if err != nil {
		return nil, err
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		return nil, err
	}
	reuse, keyOf := certKey(p)
	fl := m.inFlightFor(p, acct)
	// One bound for the whole order, whatever the CA does (--issuance-timeout
	// bounds the finalize; this the rest).
	limit := 10*time.Minute + c.IssuanceTimeout
	octx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cert, key, err := fl.resume(octx, cl)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		keyOf = func() (crypto.Signer, error) { return key, nil }
		reuse = p.existing != nil && p.existing.Key != nil && sameKey(p.existing.Key, key)
	} else if cert, err = m.obtainSubset(octx, cl, dir, p, keyOf, solvers, fl); err != nil {
		if octx.Err() != nil && ctx.Err() == nil {
			err = &orderTimeoutError{limit: limit, err: err}
		}
		return nil, fl.failed(ctx, err)
	}
	res, leafPEM, chainPEM, err := m.issued(ctx, p, cert, acct)
	if err != nil {
		return nil, fl.failed(ctx, err)
	}
	if c.DryRun {
		return res, nil
	}
	// The CA issued: a deadline or a signal from now on must not cost the
	// certificate (the save's lock wait has its own bound).
	if err := m.save(context.WithoutCancel(ctx), p, res, leafPEM, chainPEM, reuse, keyOf); err != nil {
		return nil, fl.saveFailed(context.WithoutCancel(ctx), err)
	}
	fl.done(ctx)
	return res, nil
}

// issued splits the CA's chain (after --chain-drop-issuer) into the leaf and
// the chain and reports names the certificate has beyond those requested.
func (m *Manager) issued(ctx context.Context, p *issuePlan, cert *acme.Certificate, acct *storage.Account) (*IssueResult, []byte, []byte, error) {
	full := m.dropChainIssuer(ctx, p, cert)
	leafPEM, chainPEM, err := acme.SplitChain(full)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("split the certificate chain from %s: %w", cert.URL, err)
	}
	leaf, err := pemutil.ParseCert(leafPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse the CA's certificate: %w", err)
	}
	if len(cert.ExtraNames) > 0 {
		m.log().LogAttrs(ctx, slog.LevelWarn, "the certificate names more than was requested", slog.String("lineage", p.name),
			slog.String("extra_names", strings.Join(cert.ExtraNames, ",")))
		m.emit(Event{Kind: EventWarning, Lineage: p.name, Names: cert.ExtraNames,
			Reason: "the CA's certificate also names " + HumanList(cert.ExtraNames) + ", which was not requested (a CA product may add www. or the base name); it was accepted"})
	}
	return &IssueResult{Lineage: p.name, Cert: leaf, Names: CertNames(leaf), AccountID: acct.ID}, leafPEM, chainPEM, nil
}

// dropChainIssuer applies --chain-drop-issuer to the chain as served. A name
// that cannot apply (it issued the leaf) leaves the chain as served, with a
// warning: the certificate is already issued and is saved either way.
func (m *Manager) dropChainIssuer(ctx context.Context, p *issuePlan, cert *acme.Certificate) []byte {
	cn := p.c.ChainDropIssuer
	if cn == "" {
		return cert.PEM
	}
	out, n, err := acme.DropChainIssuer(cert.PEM, cn)
	switch {
	case err != nil:
		m.emit(Event{Kind: EventWarning, Lineage: p.name, Reason: fmt.Sprintf("--chain-drop-issuer %q: %v; the chain is saved as the CA served it", cn, err)})
		return cert.PEM
	case n == 0:
		m.log().LogAttrs(ctx, slog.LevelInfo, "no certificate of the chain is issued by the CA to drop", slog.String("chain_drop_issuer", cn))
	default:
		m.log().LogAttrs(ctx, slog.LevelInfo, "dropped certificates from the chain", slog.String("chain_drop_issuer", cn), slog.Int("dropped", n))
	}
	return out
}

// certKey returns the certificate key: the lineage's own under --reuse-key
// (when its type still matches), else a new one generated while the order
// is authorized (the CSR waits for it at finalization).
func certKey(p *issuePlan) (reuse bool, keyOf func() (crypto.Signer, error)) {
	c := p.c
	if p.existing != nil && p.existing.Key != nil && c.ReuseKey && !c.NewKey && keyMatchesConfig(p.existing.Key, c) {
		return true, func() (crypto.Signer, error) { return p.existing.Key, nil }
	}
	type keyResult struct {
		key crypto.Signer
		err error
	}
	ch := make(chan keyResult, 1)
	go func() {
		k, err := newCertKey(c.KeyType, c.RSAKeySize, c.Curve)
		ch <- keyResult{k, err}
	}()
	return false, sync.OnceValues(func() (crypto.Signer, error) {
		r := <-ch
		if r.err != nil {
			return nil, fmt.Errorf("generate certificate key: %w", r.err)
		}
		return r.key, nil
	})
}

// obtainSubset runs the order; with --allow-subset-of-names it runs it once
// more without the names that failed validation.
func (m *Manager) obtainSubset(ctx context.Context, cl *acme.Client, dir *acme.Directory, p *issuePlan,
	keyOf func() (crypto.Signer, error), solvers *solverSet, fl *inFlight) (*acme.Certificate, error) {
	domains, ips := p.domains, p.ips
	for attempt := 0; ; attempt++ {
		cert, err := m.obtainOnce(ctx, cl, dir, p, keyOf, domains, ips, solvers, fl)
		if err == nil {
			return cert, nil
		}
		if !p.c.Subset || attempt > 0 {
			return nil, err
		}
		failures := nameFailures(err)
		var failed []string
		for _, f := range failures {
			failed = append(failed, f.Name)
		}
		if len(failed) == 0 {
			return nil, err
		}
		domains, ips = without(domains, failed), without(ips, failed)
		if len(domains)+len(ips) == 0 {
			return nil, err
		}
		m.emit(Event{Kind: EventSubsetRetry, Lineage: p.name, Names: failed, Failures: failures})
	}
}

// save writes the new version and the renewal conf.
func (m *Manager) save(ctx context.Context, p *issuePlan, res *IssueResult, leafPEM, chainPEM []byte, reuse bool, keyOf func() (crypto.Signer, error)) error {
	v := &storage.Version{CertPEM: leafPEM, ChainPEM: chainPEM, ReuseKey: reuse, KeepVersions: p.c.ArchiveVersions}
	if !reuse {
		key, err := keyOf()
		if err != nil {
			return err
		}
		if v.KeyPEM, err = pemutil.EncodePrivateKey(key); err != nil {
			return err
		}
	}
	var prev *storage.RenewalConf
	if p.existing != nil {
		prev = p.existing.Conf
	}
	conf := renewalConf(p.c, prev, res.AccountID)
	var (
		l   *storage.Lineage
		err error
	)
	if p.existing != nil {
		l, err = m.Store.SaveVersion(ctx, p.name, v, conf)
	} else {
		l, err = m.Store.CreateLineage(ctx, p.name, v, conf)
	}
	if err != nil {
		return fmt.Errorf("save certificate %s: %w", p.name, err)
	}
	res.LiveDir = filepath.Dir(l.FullchainPath)
	res.Fullchain, res.Privkey = l.FullchainPath, l.KeyPath
	m.log().LogAttrs(ctx, slog.LevelInfo, "certificate saved", slog.String("lineage", p.name),
		slog.Int("version", l.Version), slog.Time("not_after", res.Cert.NotAfter))
	m.emit(Event{Kind: EventCertificateSaved, Lineage: p.name, Names: res.Names, NotAfter: res.Cert.NotAfter})
	return nil
}

// obtainOnce runs the order for the names. The CA's refusal of "replaces"
// (alreadyReplaced, or Sectigo's malformed: win-acme/win-acme#2607) is
// answered by acme.Obtain ordering once more without it.
func (m *Manager) obtainOnce(ctx context.Context, cl *acme.Client, dir *acme.Directory, p *issuePlan,
	keyOf func() (crypto.Signer, error), domains, ips []string, solvers *solverSet, fl *inFlight) (*acme.Certificate, error) {
	c := p.c
	req := obtainRequest(c, solvers)
	req.Identifiers = identifiers(domains, ips)
	req.MakeCSR = func(context.Context) ([]byte, error) {
		key, err := keyOf()
		if err != nil {
			return nil, err
		}
		return makeCSR(key, domains, ips, c.MustStaple)
	}
	req.BeforeFinalize = fl.record(keyOf, domains, ips)
	profile, err := m.pickProfile(ctx, dir, c)
	if err != nil {
		return nil, err
	}
	req.Profile = profile
	names := append(append([]string(nil), domains...), ips...)
	req.Replaces = replacesID(p, dir, names)
	m.emit(Event{Kind: EventIssuing, Lineage: p.name, Names: names, Renewal: p.existing != nil})
	if c.DryRun {
		m.freshAuthorizations(ctx, cl, req.Identifiers, req.Profile, p.name)
	}
	cert, err := cl.Obtain(ctx, req)
	if err != nil {
		return nil, explainNoSolver(c, fmt.Errorf("obtain a certificate for %s from %s: %w", strings.Join(names, ","), c.Server, err))
	}
	return cert, nil
}

// replacesID is the ARI CertID of the certificate this order replaces (RFC
// 9773 §5), or "": only for a real issuance that renews an existing lineage
// at a CA with ARI, and only when the new order shares at least one
// identifier with the certificate it replaces — a CA may refuse the order
// otherwise (Pebble: "at least one identifier in the new order and existing
// order must match"), and a certificate whose names all changed replaces
// nothing. A dry run replaces nothing either: it must not mark the lineage's
// certificate as replaced at the CA.
func replacesID(p *issuePlan, dir *acme.Directory, names []string) string {
	if p.c.DryRun || p.existing == nil || p.existing.Cert == nil || dir.RenewalInfoURL == "" {
		return ""
	}
	shared := false
	for _, n := range CertNames(p.existing.Cert) {
		shared = shared || contains(names, n)
	}
	if !shared {
		return ""
	}
	id, err := acme.ARICertID(p.existing.Cert)
	if err != nil {
		return ""
	}
	return id
}

// obtainRequest is what every issuance asks of acme.Obtain: solvers
// prepared only for pending authorizations, the chain preference, and any
// superset of the requested names accepted (issue 15: Sectigo's products
// add www. or the base name; the engine warns about them).
func obtainRequest(c *Config, solvers *solverSet) acme.ObtainRequest {
	return acme.ObtainRequest{
		SolverFor:      solvers.solverFor,
		Preference:     solvers.preference,
		PreferredChain: c.PreferredChain,
		ExtraNames:     acme.ExtraNamesAny,
	}
}

// pickProfile applies --required-profile (the CA must offer it) and
// --preferred-profile (used when offered).
func (m *Manager) pickProfile(ctx context.Context, dir *acme.Directory, c *Config) (string, error) {
	switch {
	case c.ReqProfile != "":
		if _, ok := dir.Meta.Profiles[c.ReqProfile]; !ok {
			return "", fmt.Errorf("the CA at %s does not offer the required profile %q (it offers: %s)", c.Server, c.ReqProfile, profileNames(dir))
		}
		return c.ReqProfile, nil
	case c.PrefProfile != "":
		if _, ok := dir.Meta.Profiles[c.PrefProfile]; ok {
			return c.PrefProfile, nil
		}
		m.log().LogAttrs(ctx, slog.LevelWarn, "preferred profile not offered; using the CA's default",
			slog.String("profile", c.PrefProfile))
	}
	return "", nil
}

func profileNames(dir *acme.Directory) string {
	var n []string
	for k := range dir.Meta.Profiles {
		n = append(n, k)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

func without(list, drop []string) []string {
	var out []string
	for _, x := range list {
		if !contains(drop, x) && !contains(drop, strings.TrimPrefix(x, "*.")) {
			out = append(out, x)
		}
	}
	return out
}

// sameKey reports whether a and b are the same key.
func sameKey(a, b crypto.Signer) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	pa, ok := a.Public().(eq)
	return ok && pa.Equal(b.Public())
}
