package manager

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// InstallerPlugin is a web-server plugin in certbot's sense (nginx,
// apache): an authenticator that answers http-01 through the server, and an
// installer that puts certificates into it.
type InstallerPlugin struct {
	// Authenticator answers challenges through the server (--nginx, -a nginx).
	Authenticator Authenticator
	// New builds the installer for c (-i nginx, run, install).
	New func(c *Config) (Installer, error)
}

// Installers are the web-server plugins by certbot's name. The installer
// front-end (issue 17) registers nginx and apache here; until it does, the
// map is empty and every request for them fails with ErrNoInstaller.
var Installers = map[string]*InstallerPlugin{}

// ErrNoInstaller is the error of a request for a web-server plugin acmectl
// does not have: --nginx, --apache, -i nginx, -a apache, and the verbs
// install, enhance and rollback.
var ErrNoInstaller = errors.New("not available in acmectl yet")

// webServerPlugins are certbot's installers.
var webServerPlugins = []string{"apache", "nginx"}

// installerError is the one line for a web-server plugin that is not there.
func installerError(plugin string) error {
	return fmt.Errorf("the %s plugin (--%s, --authenticator %s, --installer %s) is %w; obtain with certonly --webroot -w ROOT (or --standalone) and reload the server with --deploy-hook 'systemctl reload %s'",
		plugin, plugin, plugin, plugin, ErrNoInstaller, map[string]string{"nginx": "nginx", "apache": "apache2"}[plugin])
}

// selectPlugins is certbot's plugins/selection.cli_plugin_requests: the
// authenticator and installer asked for by --configurator, -i, -a and the
// selector flags, in that order (then acmectl's --tls-alpn and --dns), each
// request for a role that already has a different one failing with
// certbot's text. -i null asks for no installer.
func selectPlugins(c *Config) error {
	auth, inst := c.raw.configurator, c.raw.configurator
	set := func(prev *string, now string) error {
		if now == "" {
			return nil
		}
		if *prev != "" && *prev != now {
			//lint:ignore ST1005 certbot's text
			return fmt.Errorf("Too many flags setting configurators/installers/authenticators '%s' -> '%s'", *prev, now)
		}
		*prev = now
		return nil
	}
	if err := set(&inst, c.Installer); err != nil {
		return err
	}
	if err := set(&auth, strings.ToLower(c.Authenticator)); err != nil {
		return err
	}
	sel := c.raw.selectors
	if c.raw.dnsProvider != "" {
		sel = append(sel, "dns-"+strings.ToLower(c.raw.dnsProvider))
	}
	for _, s := range sel {
		if contains(webServerPlugins, s) {
			if err := set(&inst, s); err != nil {
				return err
			}
		}
		if err := set(&auth, s); err != nil {
			return err
		}
	}
	if auth != "" && !validAuthenticator(auth) && !contains(webServerPlugins, auth) {
		//lint:ignore ST1005 certbot's text
		return fmt.Errorf("The requested %s plugin does not appear to be installed (--authenticator %s: acmectl has standalone, webroot, manual, tls-alpn and dns-<plugin>)", auth, auth)
	}
	if inst == "null" {
		inst = ""
	}
	if inst != "" && !contains(webServerPlugins, inst) {
		//lint:ignore ST1005 certbot's text
		return fmt.Errorf("The requested %s plugin does not appear to be installed (--installer %s: acmectl's installers are nginx and apache, or null for none)", inst, inst)
	}
	c.Authenticator, c.Installer = auth, inst
	return nil
}

// CheckPlugins fails with ErrNoInstaller when c asks for a web-server
// plugin that is not registered in Installers; commands that obtain or
// install call it before anything else.
func CheckPlugins(c *Config) error {
	for _, p := range []string{c.Authenticator, c.Installer} {
		if contains(webServerPlugins, p) && Installers[p] == nil {
			return installerError(p)
		}
	}
	return nil
}

// CheckVerb applies certbot's checks of the parsed command line that
// depend on the verb (cli/helpful.py parse_args): renew is non-interactive
// and refuses --force-interactive; --dry-run works with certonly and renew
// only (and reconfigure, which is a dry run); the verbs that obtain or
// install need their plugins (CheckPlugins).
func CheckVerb(c *Config, verb string) error {
	if verb == "renew" {
		if c.ForceInteractive {
			return errors.New("--force-interactive cannot be used with renew")
		}
		c.NonInteractive = true
	}
	if c.DryRun && verb != "certonly" && verb != "renew" && verb != "reconfigure" {
		return fmt.Errorf("--dry-run currently only works with the 'certonly' or 'renew' subcommands ('%s')", verb)
	}
	switch verb {
	case "run", "certonly", "reconfigure":
		return CheckPlugins(c)
	}
	return nil
}

// InstallerVerb is the error of install, enhance and rollback until a
// web-server plugin is registered.
func InstallerVerb(verb string) error {
	if len(Installers) > 0 {
		return nil
	}
	return fmt.Errorf("%s: the nginx and apache installers are %w; obtain with certonly and reload the server with --deploy-hook", verb, ErrNoInstaller)
}

// PluginInfo describes one plugin for the plugins verb.
type PluginInfo struct {
	Name, Description string
	Authenticator     bool
	Installer         bool
}

// Plugins lists the plugins acmectl has, by certbot's names (and
// dns-<provider> for the DNS providers of this build), sorted.
func Plugins(dnsProviders []string) []PluginInfo {
	out := []PluginInfo{
		{Name: "manual", Description: "Authenticate through manual configuration or custom shell scripts (--manual-auth-hook).", Authenticator: true},
		{Name: "null", Description: "Null Installer", Installer: true},
		{Name: "standalone", Description: "Runs an HTTP server locally which serves the necessary validation files under the /.well-known/acme-challenge/ request path.", Authenticator: true},
		{Name: "tls-alpn", Description: "Answers tls-alpn-01 from a temporary TLS server (acmectl).", Authenticator: true},
		{Name: "webroot", Description: "Saves the necessary validation files to a .well-known/acme-challenge/ directory within the nominated webroot path.", Authenticator: true},
	}
	for _, n := range webServerPlugins {
		if Installers[n] != nil {
			out = append(out, PluginInfo{Name: n, Description: n + " Web Server plugin", Authenticator: true, Installer: true})
		}
	}
	for _, p := range dnsProviders {
		out = append(out, PluginInfo{Name: "dns-" + p, Description: "Obtain certificates using a DNS TXT record through " + p + " (lego's provider).", Authenticator: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UpdateSymlinks is certbot's update_symlinks: every lineage's live links
// point into the archive directory its renewal conf names again
// (storage.Tree.UpdateSymlinks). It returns the lineages updated; a store
// without live links fails.
func (m *Manager) UpdateSymlinks(ctx context.Context) ([]string, error) {
	s, ok := m.Store.(interface {
		UpdateSymlinks(context.Context) ([]string, error)
	})
	if !ok {
		return nil, errors.New("update_symlinks: this store keeps no live symlinks")
	}
	return s.UpdateSymlinks(ctx)
}
