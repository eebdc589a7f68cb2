package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// InstallResult is what Run, Install or Enhance did.
type InstallResult struct {
	// Obtained is Run's issuance (NotDue when the existing certificate was
	// kept and installed again); nil for Install and Enhance.
	Obtained *CertonlyResult
	// Lineage is the lineage installed ("" for Install from --cert-path).
	Lineage   string
	Installer string
	// Names are the names the server now serves the certificate for.
	Names []string
	// Enhancements are the enhancements requested (already present ones
	// included).
	Enhancements []installer.Enhancement
	// Checkpoints is how many checkpoints the installer finalized.
	Checkpoints int
	// ConfUpdated: the lineage's renewal conf now names the installer (so
	// renewals reload the server).
	ConfUpdated bool
}

// Run is certbot's run: choose the web server (--nginx, --apache, -i, or
// ask), prepare it before anything is asked of the CA, obtain the
// certificate as certonly does (or keep a lineage that is not due), then
// install it with the enhancements — --redirect by default, as certbot
// 1.4 and later (no question; --no-redirect turns it off) — and reload. A
// failed installation is rolled back and the server reloaded with the
// configuration it had; the error says so. With -i null it is certonly.
func (m *Manager) Run(ctx context.Context) (*InstallResult, error) {
	defer m.closeWebServers()
	c := m.Config
	if c.DryRun {
		return nil, Usagef("--dry-run currently only works with the 'certonly' or 'renew' subcommands")
	}
	if c.Installer == "null" {
		res, err := m.certonly(ctx)
		return &InstallResult{Obtained: res}, err
	}
	if err := checkAutoHSTS(c); err != nil {
		return nil, err
	}
	if err := m.pickRunPlugins(); err != nil {
		return nil, err
	}
	ws, err := m.webServer(ctx, c, c.Installer)
	if err != nil {
		return nil, err
	}
	if err := m.askNamesFrom(ws.in); err != nil {
		return nil, err
	}
	m.installing = true
	res, err := m.certonly(ctx)
	if err != nil {
		return nil, err
	}
	lineage := res.Kept
	if r := res.IssueResult; r != nil {
		lineage = r.Lineage
		m.emit(Event{Kind: EventInstaller, Lineage: lineage, Names: r.Names, NotAfter: r.Cert.NotAfter,
			Reason: fmt.Sprintf("\nSuccessfully received certificate.\nCertificate is saved at: %s\nKey is saved at:         %s\nThis certificate expires on %s.\nThese files will be updated when the certificate renews.\n",
				r.Fullchain, r.Privkey, r.Cert.NotAfter.UTC().Format("2006-01-02"))})
	}
	l, err := m.Store.LoadLineage(ctx, lineage)
	if err != nil {
		return nil, fmt.Errorf("the certificate was saved, but reading %s back failed: %w", lineage, err)
	}
	out, err := m.installInto(ctx, ws, c, lineage, dnsNames(CertNames(l.Cert)), installer.LiveLineage(c.ConfigDir, lineage), true)
	if out != nil {
		out.Obtained = res
	}
	return out, err
}

// pickRunPlugins is certbot's plugin selection for run: --nginx/--apache
// set both halves; -a nginx alone installs with nginx too; another
// authenticator without an installer is refused as certbot refuses it; no
// plugin at all asks (or takes the only web server installed). A dns-01,
// manual, standalone, webroot or tls-alpn authenticator without an
// installer fails as certbot's choose_configurator_plugins (2.1 and 5.x).
func (m *Manager) pickRunPlugins() error {
	c := m.Config
	switch {
	case c.Installer != "":
	case isWeb(c.Authenticator):
		c.Installer = c.Authenticator
	case c.Authenticator != "":
		// certbot's MissingCommandlineFlag (exit 1), plugins/selection.py.
		//lint:ignore ST1005 certbot's text
		return fmt.Errorf(`With the %s plugin, you probably want to use the "certonly" command, eg: acmectl certonly --%s (alternatively, add a --installer flag: --installer nginx or --installer apache; see "acmectl --help plugins")`, c.Authenticator, c.Authenticator)
	default:
		ws, err := m.chooseConfigurator("run")
		if err != nil {
			return err
		}
		c.Installer = ws
	}
	if c.Authenticator == "" {
		c.Authenticator = c.Installer
	}
	return nil
}

// askNamesFrom asks certbot's "Which names would you like to activate HTTPS
// for?" from the names the server configuration holds, when none were given.
func (m *Manager) askNamesFrom(in installer.Installer) error {
	c := m.Config
	if len(c.Domains)+len(c.IPs) > 0 || c.CertName != "" || !m.interactive() {
		return nil
	}
	names := in.Names()
	if len(names) == 0 {
		return nil // certonly asks for them by hand
	}
	var q strings.Builder
	q.WriteString("Which names would you like to activate HTTPS for?\n")
	for i, n := range names {
		fmt.Fprintf(&q, "%d: %s\n", i+1, n)
	}
	q.WriteString("Select the appropriate numbers separated by commas and/or spaces, or leave input blank to select all options shown: ")
	ans, err := m.ask(q.String())
	if err != nil {
		return err
	}
	picked, err := pickNumbers(ans, names)
	if err != nil {
		return err
	}
	c.Domains, err = NormalizeDomains(picked)
	return err
}

// pickNumbers reads "1, 3" (or nothing: all) against list.
func pickNumbers(ans string, list []string) ([]string, error) {
	fields := strings.Fields(strings.ReplaceAll(ans, ",", " "))
	if len(fields) == 0 {
		return list, nil
	}
	var out []string
	for _, f := range fields {
		var i int
		if _, err := fmt.Sscan(f, &i); err != nil || i < 1 || i > len(list) {
			return nil, Usagef("%q is not one of the numbers 1 to %d", f, len(list))
		}
		if !contains(out, list[i-1]) {
			out = append(out, list[i-1])
		}
	}
	return out, nil
}

// requested are the enhancements the parameters ask for; redirect is on by
// default for run and install (redirectDefault), off for enhance.
func (c *Config) requested(redirectDefault bool) []installer.Enhancement {
	var out []installer.Enhancement
	if c.Enhance.Redirect == "yes" || c.Enhance.Redirect == "" && redirectDefault {
		out = append(out, installer.Redirect)
	}
	if c.Enhance.HSTS {
		out = append(out, installer.HSTS)
	}
	if c.Enhance.UIR {
		out = append(out, installer.UIR)
	}
	if c.Enhance.Staple {
		out = append(out, installer.StapleOCSP)
	}
	return out
}

// installInto deploys l for names with the enhancements and reloads (a
// failure rolls back and reloads the previous configuration), then records
// the installer in the lineage's renewal conf when there is a lineage.
func (m *Manager) installInto(ctx context.Context, ws *webServer, c *Config, lineage string, names []string, l installer.Lineage, redirectDefault bool) (*InstallResult, error) {
	if len(names) == 0 {
		return nil, Usagef("the certificate names no DNS name to install it for (IP addresses cannot be configured)")
	}
	out := &InstallResult{Lineage: lineage, Installer: ws.kind, Names: names, Enhancements: c.requested(redirectDefault)}
	m.emit(Event{Kind: EventInstaller, Installer: ws.kind, Lineage: lineage, Names: names, Reason: "Deploying certificate"})
	n, err := installer.Install(ctx, ws.in, names, l, installer.InstallOptions{Enhancements: out.Enhancements}, true)
	if err != nil {
		return nil, &WebServerError{Server: ws.kind, Err: err}
	}
	out.Checkpoints = n
	m.installed(out)
	if lineage != "" {
		if out.ConfUpdated, err = m.recordInstaller(ctx, c, lineage); out.ConfUpdated {
			m.emit(Event{Kind: EventInstaller, Installer: ws.kind, Lineage: lineage,
				Reason: fmt.Sprintf("Renewals of %s now reload %s (installer = %s in its renewal configuration).", lineage, ws.kind, ws.kind)})
		}
	}
	return out, err
}

// installed reports a successful installation or enhancement (certbot's
// "Congratulations! You have successfully enabled HTTPS on ...").
func (m *Manager) installed(out *InstallResult) {
	var es []string
	for _, x := range out.Enhancements {
		es = append(es, string(x))
	}
	if len(es) > 0 {
		m.emit(Event{Kind: EventInstaller, Installer: out.Installer, Lineage: out.Lineage, Names: out.Names,
			Reason: fmt.Sprintf("Enhancements for %s: %s (%s).", HumanList(out.Names), strings.Join(es, ", "), out.Installer)})
	}
	https := make([]string, len(out.Names))
	for i, n := range out.Names {
		https[i] = "https://" + n
	}
	m.emit(Event{Kind: EventInstaller, Installer: out.Installer, Lineage: out.Lineage, Names: out.Names,
		Reason: "Congratulations! You have successfully enabled HTTPS on " + HumanList(https)})
}

// recordInstaller saves the installer and its options in the lineage's
// renewal conf, so that its renewals reload the server (certbot's install
// leaves the conf alone; an operator who installs into nginx expects the
// renewals to reload it). It reports whether the conf changed.
func (m *Manager) recordInstaller(ctx context.Context, c *Config, name string) (bool, error) {
	unlock, err := m.Store.LockLineage(ctx, name)
	if err != nil {
		return false, err
	}
	defer unlock()
	conf, err := m.Store.LoadRenewalConf(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read the renewal conf of %s: %w", name, err)
	}
	before, _ := conf.Marshal()
	next := *conf
	for _, p := range Params {
		if !installerParam(p) || p.Conf == "" || p.Field == nil || !(p.overridden(c) || p.Name == "installer") {
			continue
		}
		v := fieldValue(p.saved(c))
		if p.When != nil && !p.When(c) {
			v = storage.Value{}
		}
		next.SetParamValue(p.Conf, v)
	}
	after, err := next.Marshal()
	if err != nil || string(after) == string(before) {
		return false, err
	}
	if err := m.Store.SaveRenewalConf(ctx, name, &next); err != nil {
		return false, fmt.Errorf("save the installer in the renewal conf of %s: %w", name, err)
	}
	return true, nil
}

// installerParam reports whether p is one of the installer's parameters (not
// the authenticator's).
func installerParam(p *Param) bool {
	if p.Name == "installer" || p.Name == "https-port" {
		return true
	}
	return strings.HasPrefix(p.Name, "nginx-") || strings.HasPrefix(p.Name, "apache-")
}

// Install is certbot's install: put an existing lineage (--cert-name, asked
// for when interactive) or --cert-path/--key-path files into the web server
// for its names (or -d), with the enhancements (--redirect by default), and
// reload. The installer is -i/--nginx/--apache, else the one the lineage's
// renewal conf names (with its saved options), else asked for; the
// lineage's renewal conf then names it, so that renewals reload the server.
func (m *Manager) Install(ctx context.Context) (*InstallResult, error) {
	defer m.closeWebServers()
	if err := checkAutoHSTS(m.Config); err != nil {
		return nil, err
	}
	lineage, l, names, lc, err := m.installTarget(ctx, "install", "Which certificate would you like to install?")
	if err != nil {
		return nil, err
	}
	if err := m.pickInstaller(lc, "install"); err != nil {
		return nil, err
	}
	ws, err := m.webServer(ctx, lc, lc.Installer)
	if err != nil {
		return nil, err
	}
	if d := m.Config.Domains; len(d) > 0 {
		names = d
	}
	return m.installInto(ctx, ws, lc, lineage, dnsNames(names), l, true)
}

// pickInstaller settles the installer for install, enhance and rollback:
// -i, --nginx, --apache (or the lineage's), or ask.
func (m *Manager) pickInstaller(c *Config, verb string) error {
	if isWeb(c.Installer) {
		return nil
	}
	if c.Installer == "null" {
		return Usagef("%s needs a web server: --nginx or --apache", verb)
	}
	ws, err := m.chooseConfigurator(verb)
	c.Installer = ws
	return err
}

// installTarget finds what install or enhance works on: the lineage
// --cert-name names (or the one the operator picks), with the configuration
// its renewal conf gives (the command line winning), or for install the
// --cert-path/--key-path files.
func (m *Manager) installTarget(ctx context.Context, verb, question string) (string, installer.Lineage, []string, *Config, error) {
	c := m.Config
	if verb == "install" && c.CertName == "" && c.CertPath != "" && c.KeyPath != "" {
		l, names, err := filesTarget(c)
		return "", l, names, c, err
	}
	name, err := m.chooseLineage(ctx, verb, question)
	if err != nil {
		return "", installer.Lineage{}, nil, nil, err
	}
	l, err := m.Store.LoadLineage(ctx, name)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			err = fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", name)
		}
		return "", installer.Lineage{}, nil, nil, err
	}
	lc, err := lineageConfig(c, l)
	if err != nil {
		return "", installer.Lineage{}, nil, nil, err
	}
	return name, installer.LiveLineage(c.ConfigDir, name), dnsNames(CertNames(l.Cert)), lc, nil
}

// filesTarget is install from --cert-path, --key-path (and --fullchain-path,
// --chain-path): no lineage, names from -d or the certificate.
func filesTarget(c *Config) (installer.Lineage, []string, error) {
	pem, err := os.ReadFile(c.CertPath)
	if err != nil {
		return installer.Lineage{}, nil, fmt.Errorf("error while reading certificate from path %s: %w", c.CertPath, err)
	}
	if _, err := os.Stat(c.KeyPath); err != nil {
		return installer.Lineage{}, nil, fmt.Errorf("error while reading private key from path %s: %w", c.KeyPath, err)
	}
	cert, err := pemutil.ParseCert(pem)
	if err != nil {
		return installer.Lineage{}, nil, fmt.Errorf("%s: %w", c.CertPath, err)
	}
	full := c.FullchainPath
	if full == "" {
		full = c.CertPath // the file may hold the chain too; nginx and Apache 2.4.8+ read it whole
	}
	return installer.Lineage{Cert: c.CertPath, Key: c.KeyPath, Fullchain: full, Chain: c.ChainPath}, CertNames(cert), nil
}

// chooseLineage is --cert-name, or certbot's menu of lineages when
// interactive.
func (m *Manager) chooseLineage(ctx context.Context, verb, question string) (string, error) {
	if n := m.Config.CertName; n != "" {
		return n, nil
	}
	if !m.interactive() {
		return "", NeedFlag(verb+" needs a certificate", "--cert-name NAME (see 'acmectl certificates')")
	}
	var names []string
	err := m.Store.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
		if li.Err == nil {
			names = append(names, li.Name)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list certificates: %w", err)
	}
	if len(names) == 0 {
		return "", errors.New("no certificates found; obtain one first (acmectl run or certonly)")
	}
	var q strings.Builder
	q.WriteString(question + "\n")
	for i, n := range names {
		fmt.Fprintf(&q, "%d: %s\n", i+1, n)
	}
	fmt.Fprintf(&q, "Select the appropriate number [1-%d] then [enter]: ", len(names))
	ans, err := m.ask(q.String())
	if err != nil {
		return "", err
	}
	picked, err := pickNumbers(ans, names)
	if err != nil || len(picked) != 1 {
		return "", Usagef("pick one certificate")
	}
	return picked[0], nil
}

// Enhance is certbot's enhance: apply --redirect, --hsts, --uir and
// --staple-ocsp (at least one; redirect only when asked) to the server
// blocks of a lineage's names (or -d), each in its checkpoint, then reload
// once. The installer is chosen as for Install.
func (m *Manager) Enhance(ctx context.Context) (*InstallResult, error) {
	defer m.closeWebServers()
	if err := checkAutoHSTS(m.Config); err != nil {
		return nil, err
	}
	es := m.Config.requested(false)
	if len(es) == 0 {
		return nil, NeedFlag("no enhancements requested", "--redirect, --hsts, --uir or --staple-ocsp")
	}
	name, l, names, lc, err := m.installTarget(ctx, "enhance", "Which certificate would you like to use to enhance your configuration?")
	if err != nil {
		return nil, err
	}
	if err := m.pickInstaller(lc, "enhance"); err != nil {
		return nil, err
	}
	if d := m.Config.Domains; len(d) > 0 {
		names = d
	}
	ws, err := m.webServer(ctx, lc, lc.Installer)
	if err != nil {
		return nil, err
	}
	n, err := installer.Enhance(ctx, ws.in, names, l, es, true)
	if err != nil {
		return nil, &WebServerError{Server: ws.kind, Err: err}
	}
	out := &InstallResult{Lineage: name, Installer: ws.kind, Names: names, Enhancements: es, Checkpoints: n}
	m.installed(out)
	return out, nil
}

// Rollback is certbot's rollback: undo the newest --checkpoints of the web
// server's configuration (acmectl's and certbot's, one checkpoint list) and
// reload it. It works on a configuration that fails its test (that may be
// why it is rolled back).
func (m *Manager) Rollback(ctx context.Context) (string, error) {
	c := m.Config
	if err := m.pickInstaller(c, "rollback"); err != nil {
		return "", err
	}
	in, _ := newInstaller(c, c.Installer, m.log())
	if err := in.PrepareRollback(ctx); err != nil {
		return c.Installer, &WebServerError{Server: c.Installer, Err: err}
	}
	defer in.Close()
	if err := in.Rollback(ctx, c.Checkpoints); err != nil {
		return c.Installer, &WebServerError{Server: c.Installer, Err: err}
	}
	if err := in.Reload(ctx); err != nil {
		return c.Installer, &WebServerError{Server: c.Installer, Err: fmt.Errorf("rolled back, but the reload failed: %w", err)}
	}
	m.emit(Event{Kind: EventInstaller, Installer: c.Installer,
		Reason: fmt.Sprintf("Rolled back %d checkpoint(s) of the %s configuration and reloaded %s.", c.Checkpoints, c.Installer, c.Installer)})
	return c.Installer, nil
}
