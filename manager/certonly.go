package manager

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/acmectl/acmectl/storage"
)

// CertonlyResult is what Certonly did.
type CertonlyResult struct {
	// NotDue: the lineage exists with these names and is not due; nothing
	// was done (--keep-until-expiring, or the operator declined). Kept names it.
	NotDue bool
	Kept   string
	*IssueResult
	// HookFailures counts the hooks that failed.
	HookFailures int
}

// Certonly obtains a certificate for Config.Domains/IPs into a lineage: the
// one named by Config.CertName, else the one with the same names (or, with
// --expand, a subset of them), else a new one. It runs the pre, deploy and
// post hooks, and saves nothing on a dry run. It never installs anything.
func (m *Manager) Certonly(ctx context.Context) (*CertonlyResult, error) {
	defer m.closeWebServers()
	return m.certonly(ctx)
}

func (m *Manager) certonly(ctx context.Context) (*CertonlyResult, error) {
	c := m.Config
	m.warnOtherWritable(ctx)
	existing, err := m.namedLineage(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.askNamesAndAuthenticator(); err != nil {
		return nil, err
	}
	names := append(append([]string(nil), c.Domains...), c.IPs...)
	keyChange := false
	switch {
	case existing != nil:
		// --cert-name: the key type first, then the names (certbot's
		// _find_lineage_for_domains_and_certname).
		if keyChange, err = m.adoptLineageKey(c, existing); err != nil {
			return nil, err
		}
		if err := m.confirmNewNames(existing, names); err != nil {
			return nil, err
		}
	case !c.Duplicate && c.CertName == "":
		if existing, keyChange, err = m.lineageToExtend(ctx, names); err != nil {
			return nil, err
		}
	}
	if existing != nil {
		if err := checkReuseKeyConflicts(c, existing); err != nil {
			return nil, err
		}
		completeWebrootMap(c)
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
	if !keyChange {
		if notDue, err := m.keepExisting(ctx, existing, names); err != nil || notDue {
			return &CertonlyResult{NotDue: notDue, Kept: name}, err
		}
	}
	unlock, err := m.Store.LockLineage(ctx, name)
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
	if c.Authenticator != "" || PersistOnly(c) {
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
const needAuthenticator = "--standalone, --webroot -w PATH, --manual --manual-auth-hook CMD, --dns PROVIDER, --tls-alpn or --preferred-challenges dns-persist-01"

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
// --expand or the operator's yes — one with a subset of them; keyChange
// reports a confirmed change of its key type (adoptLineageKey).
func (m *Manager) lineageToExtend(ctx context.Context, names []string) (l *storage.Lineage, keyChange bool, err error) {
	l, subset, err := m.FindLineageByNames(ctx, names)
	if err != nil || l == nil {
		return nil, false, err
	}
	if keyChange, err = m.adoptLineageKey(m.Config, l); err != nil {
		return nil, false, err
	}
	if !subset || m.Config.Expand {
		return l, keyChange, nil
	}
	if !m.interactive() {
		return nil, false, NeedFlag(fmt.Sprintf("certificate %s has a subset of the requested names", l.Name), "--expand (or --cert-name NAME / --duplicate)")
	}
	// certbot main._handle_subset_cert_request (2.1 and 5.x).
	ok, err := m.yesNo(YesNo{Question: fmt.Sprintf("You have an existing certificate that contains a portion of the domains you requested (ref: %s)\n\n"+
		"It contains these names: %s\n\nYou requested these names for the new certificate: %s.\n\n"+
		"Do you want to expand and replace this existing certificate with the new certificate?",
		l.ConfPath, strings.Join(CertNames(l.Cert), ", "), strings.Join(names, ", ")), Yes: "Expand", No: "Cancel"})
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, &CertbotError{Msg: "User chose to cancel the operation and may reinvoke the client.",
			Hint: fmt.Sprintf("To obtain a new certificate that contains these names without replacing your existing certificate for %s, you must use the --duplicate option.\n\nFor example:\n\n%s",
				strings.Join(CertNames(l.Cert), ", "), duplicateCommand(m.Config.raw.args))}
	}
	return l, keyChange, nil
}

// duplicateCommand is the command line to run again with --duplicate (certbot
// prints "certbot --duplicate <its arguments>").
func duplicateCommand(args []string) string {
	if len(args) == 0 {
		return "certbot --duplicate ..."
	}
	return filepath.Base(args[0]) + " --duplicate " + strings.Join(args[1:], " ")
}

// confirmNewNames asks before --cert-name changes a lineage's names (certbot
// main._ask_user_to_confirm_new_names, 2.1 and 5.x): the names added and
// removed, "Update certificate" by default, so -n proceeds;
// --renew-with-new-domains does not ask.
func (m *Manager) confirmNewNames(l *storage.Lineage, names []string) error {
	old := CertNames(l.Cert)
	if SameSet(old, names) || m.Config.RenewNewDomains {
		return nil
	}
	added, removed := setDiff(names, old), setDiff(old, names)
	ok, err := m.yesNo(YesNo{Question: fmt.Sprintf("You are updating certificate %s to include new domain(s): %s\n\n"+
		"You are also removing previously included domain(s): %s\n\nDid you intend to make this change?",
		l.Name, formatNameList("+", added), formatNameList("-", removed)), Yes: "Update certificate", No: "Cancel", Default: true})
	if err != nil {
		return err
	}
	if !ok {
		return &CertbotError{Msg: "Specified mismatched certificate name and domains."}
	}
	return nil
}

// setDiff is the sorted names of a that b lacks.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) && !contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// formatNameList is certbot's _format_list: "\n+ a\n+ b", or "\n(None)".
func formatNameList(ch string, names []string) string {
	if len(names) == 0 {
		return "\n(None)"
	}
	return "\n" + ch + " " + strings.Join(names, "\n"+ch+" ")
}

// keepExisting reports whether an existing lineage with exactly these names
// that is not due stays as it is (certbot's "Certificate not yet due").
func (m *Manager) keepExisting(ctx context.Context, existing *storage.Lineage, names []string) (bool, error) {
	c := m.Config
	if existing == nil || existing.Cert == nil || !SameSet(CertNames(existing.Cert), names) || c.Force || c.DryRun {
		return false, nil
	}
	if m.inFlightNames(ctx)[existing.Name] {
		return false, nil // an order an earlier run finalized waits to be collected
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
	if !m.installing {
		m.install(ctx, h, c, p.name, res, false)
		m.reloadInstaller(ctx, h)
	}
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
	defer m.closeWebServers()
	c := m.Config
	if c.CertName == "" {
		return nil, NeedFlag("no certificate chosen", "--cert-name NAME")
	}
	if len(c.Domains)+len(c.IPs) > 0 {
		// certbot 5.x main.reconfigure.
		return nil, &CertbotError{Msg: "You have specified domains, but this function cannot be used to modify the domains in a certificate. " +
			"If you would like to do so, follow the instructions at https://certbot.org/change-cert-domain. " +
			"Otherwise, remove the domains from the command to continue reconfiguring. " +
			"You can specify which certificate you want on the command line with flag --cert-name instead.",
			Hint: fmt.Sprintf("To change the names of %s: certonly --cert-name %s -d NAME ...", c.CertName, c.CertName)}
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
	if err := checkReuseKeyConflicts(lc, l); err != nil {
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
