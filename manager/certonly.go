package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/storage"
)

// CertonlyResult is what Certonly did.
type CertonlyResult struct {
	// NotDue: the lineage exists with these names and is not due; nothing
	// was done (--keep-until-expiring, or the operator declined).
	NotDue bool
	*IssueResult
	// HookFailures counts the hooks that failed.
	HookFailures int
}

// Certonly obtains a certificate for Config.Domains/IPs into a lineage: the
// one named by Config.CertName, else the one with the same names (or, with
// --expand, a subset of them), else a new one. It runs the pre, deploy and
// post hooks, and saves nothing on a dry run. It never installs anything.
func (m *Manager) Certonly(ctx context.Context) (*CertonlyResult, error) {
	c := m.Config
	if m.clusterMode() {
		return m.certonlyCluster(ctx)
	}
	existing, err := m.namedLineage(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.askNamesAndAuthenticator(); err != nil {
		return nil, err
	}
	names := append(append([]string(nil), c.Domains...), c.IPs...)
	if existing == nil && !c.Duplicate && c.CertName == "" {
		if existing, err = m.lineageToExtend(ctx, names); err != nil {
			return nil, err
		}
	}
	name := c.CertName
	if existing != nil {
		name = existing.Name
	}
	if name == "" || (existing == nil && c.Duplicate) {
		name, err = m.Store.UniqueLineageName(ctx, c.CertName, names)
		if err != nil {
			return nil, &UsageError{err}
		}
	}
	if notDue, err := m.keepExisting(existing, names); err != nil || notDue {
		return &CertonlyResult{NotDue: notDue}, err
	}
	ctx, unlock, err := m.lockLineage(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if existing != nil {
		// Re-read under the lock: another run may have renewed it.
		if l, err := m.Store.LoadLineage(ctx, name); err == nil {
			existing = l
		}
	}
	return m.issueWithHooks(ctx, &issuePlan{c: c, name: name, domains: c.Domains, ips: c.IPs, existing: existing})
}

// askNamesAndAuthenticator asks certbot's questions for what the command
// line left out (or names the flag to pass when it may not ask).
func (m *Manager) askNamesAndAuthenticator() error {
	c := m.Config
	if len(c.Domains)+len(c.IPs) == 0 {
		if !m.interactive() {
			return NeedFlag("no domain names were given", "--domain NAME")
		}
		ans, err := m.ask("Please enter the domain name(s) you would like on your certificate (comma and/or space separated): ")
		if err != nil {
			return err
		}
		if c.Domains, err = NormalizeDomains(strings.Fields(strings.ReplaceAll(ans, ",", " "))); err != nil {
			return err
		}
		if len(c.Domains) == 0 {
			return errors.New("no domain names were given")
		}
	}
	if c.Authenticator != "" {
		return nil
	}
	if !m.interactive() {
		return NeedFlag("no way to answer the CA's challenges was chosen", needAuthenticator)
	}
	ans, err := m.ask("How would you like to authenticate with the ACME CA?\n1: Spin up a temporary webserver (standalone)\n2: Place files in webroot directory (webroot)\nSelect the appropriate number [1-2] then [enter]: ")
	if err != nil {
		return err
	}
	switch ans {
	case "1":
		c.Authenticator = "standalone"
	case "2":
		root, err := m.ask("Input the webroot for " + strings.Join(c.Domains, ", ") + ": ")
		if err != nil {
			return err
		}
		c.Authenticator = "webroot"
		c.WebrootMap = map[string]string{}
		for _, d := range c.Domains {
			c.WebrootMap[d] = root
		}
	default:
		return errors.New("no authenticator chosen")
	}
	return nil
}

// needAuthenticator names the flags that choose an authenticator.
const needAuthenticator = "--standalone, --webroot -w PATH, --manual --manual-auth-hook CMD, --dns PROVIDER or --tls-alpn"

// namedLineage loads the lineage --cert-name names (nil when none or new);
// its names are the request's when none were given.
func (m *Manager) namedLineage(ctx context.Context) (*storage.Lineage, error) {
	c := m.Config
	if c.CertName == "" {
		return nil, nil
	}
	l, err := m.Store.LoadLineage(ctx, c.CertName)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load certificate %s: %w", c.CertName, err)
	}
	if len(c.Domains)+len(c.IPs) == 0 {
		c.Domains, c.IPs = SplitNames(CertNames(l.Cert))
	}
	return l, nil
}

// lineageToExtend is the lineage with exactly these names, or — after
// --expand or the operator's yes — one with a subset of them.
func (m *Manager) lineageToExtend(ctx context.Context, names []string) (*storage.Lineage, error) {
	l, subset, err := m.FindLineageByNames(ctx, names)
	if err != nil || l == nil || !subset || m.Config.Expand {
		return l, err
	}
	if !m.interactive() {
		return nil, NeedFlag(fmt.Sprintf("certificate %s has a subset of the requested names", l.Name), "--expand (or --cert-name NAME / --duplicate)")
	}
	ok, err := m.confirm(fmt.Sprintf("You have an existing certificate (%s) that contains a portion of the domains you requested. Expand it with the new names?", l.Name), true)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("user chose not to expand the certificate")
	}
	return l, nil
}

// keepExisting reports whether an existing lineage with exactly these names
// that is not due stays as it is (certbot's "Certificate not yet due").
func (m *Manager) keepExisting(existing *storage.Lineage, names []string) (bool, error) {
	c := m.Config
	if existing == nil || existing.Cert == nil || !SameSet(CertNames(existing.Cert), names) || c.Force || c.DryRun {
		return false, nil
	}
	due, _ := isDue(dueInput{Now: m.now(), NotBefore: existing.Cert.NotBefore, NotAfter: existing.Cert.NotAfter, Autorenew: true})
	if due && !c.Keep {
		return false, nil
	}
	if c.Keep || !m.interactive() {
		return true, nil
	}
	ok, err := m.confirm("You have an existing certificate that has exactly the same domains or certificate name you requested and isn't close to expiry. Renew & replace the certificate (may be subject to CA rate limits)?", false)
	return !ok, err
}

// issueWithHooks runs the pre hooks, the issuance, the deploy hooks and the
// post hooks of one certonly.
func (m *Manager) issueWithHooks(ctx context.Context, p *issuePlan) (*CertonlyResult, error) {
	if err := p.checkSavable(); err != nil {
		return nil, err
	}
	c := p.c
	names := append(append([]string(nil), p.domains...), p.ips...)
	h := m.newHooks()
	h.Pre(ctx, c.PreHook)
	h.AddPost(c.PostHook)
	res, err := m.obtain(ctx, p)
	if err != nil {
		h.Post(ctx, nil, names)
		return nil, err
	}
	if !c.DryRun || c.RunDeployHooks {
		h.Deploy(ctx, p.name, c.DeployHook, res.LiveDir, res.Names)
	}
	m.install(ctx, h, p.name, res)
	m.reloadInstaller(ctx, h)
	h.Post(ctx, res.Names, nil)
	return &CertonlyResult{IssueResult: res, HookFailures: h.Failures()}, nil
}

// FindLineageByNames returns the lineage whose certificate has exactly names
// (subset false) or a strict subset of them (subset true); nil when none.
func (m *Manager) FindLineageByNames(ctx context.Context, names []string) (*storage.Lineage, bool, error) {
	var exact, subsetName string
	errFound := errors.New("found")
	err := m.Store.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
		if li.Err != nil {
			return nil
		}
		if SameSet(li.Domains, names) {
			exact = li.Name
			return errFound
		}
		if subsetName == "" && SubsetOf(li.Domains, names) {
			subsetName = li.Name
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, false, fmt.Errorf("list certificates: %w", err)
	}
	name, subset := exact, false
	if name == "" {
		name, subset = subsetName, true
	}
	if name == "" {
		return nil, false, nil
	}
	l, err := m.Store.LoadLineage(ctx, name)
	if err != nil {
		return nil, false, err
	}
	return l, subset, nil
}

// Reconfigure changes a lineage's renewal parameters: the merged options
// are proven by a dry-run issuance against the lineage's CA, and only then
// is the renewal conf saved (nothing else is).
func (m *Manager) Reconfigure(ctx context.Context) (*IssueResult, error) {
	c := m.Config
	if c.CertName == "" {
		return nil, NeedFlag("no certificate chosen", "--cert-name NAME")
	}
	if len(c.Domains) > 0 {
		return nil, Usagef("reconfigure does not change a certificate's names; use certonly --cert-name %s -d ...", c.CertName)
	}
	unlock, err := m.Store.LockLineage(ctx, c.CertName)
	if err != nil {
		return nil, err
	}
	defer unlock()
	l, err := m.Store.LoadLineage(ctx, c.CertName)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", c.CertName)
		}
		return nil, err
	}
	lc, err := lineageConfig(c, l)
	if err != nil {
		return nil, err
	}
	saved := *lc
	saved.DryRun = false
	conf := renewalConf(&saved, l.Conf, "account")
	if _, err := conf.Marshal(); err != nil {
		return nil, Usagef("the renewal conf of %s could not hold these options (%w); nothing was changed", l.Name, err)
	}
	lc.DryRun = true
	h := m.newHooks()
	h.Pre(ctx, lc.PreHook)
	h.AddPost(lc.PostHook)
	m.emit(Event{Kind: EventReconfigureTest, Lineage: l.Name, Server: lc.Server})
	res, err := m.obtain(ctx, &issuePlan{c: lc, name: l.Name, domains: lc.Domains, ips: lc.IPs, existing: l})
	if err != nil {
		h.Post(ctx, nil, CertNames(l.Cert))
		return nil, fmt.Errorf("the new options failed a test issuance; nothing was changed: %w", err)
	}
	if c.RunDeployHooks {
		h.Deploy(ctx, l.Name, lc.DeployHook, res.LiveDir, res.Names)
	}
	h.Post(ctx, res.Names, nil)
	if err := m.Store.SaveRenewalConf(ctx, l.Name, renewalConf(&saved, l.Conf, res.AccountID)); err != nil {
		return nil, fmt.Errorf("save renewal options of %s: %w", l.Name, err)
	}
	return res, nil
}
