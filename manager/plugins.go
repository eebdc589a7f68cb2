package manager

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// webServerPlugins are certbot's installers (webserver.go).
var webServerPlugins = []string{WebApache, WebNginx}

// selectPlugins is certbot's plugins/selection.cli_plugin_requests: the
// authenticator and installer asked for by --configurator, -i, -a and the
// selector flags, in that order (then acmectl's --tls-alpn and --dns), each
// request for a role that already has a different one failing with
// certbot's text. -i null asks for certbot's null installer (none; run
// is then certonly).
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
	if inst != "" && inst != "null" && !contains(webServerPlugins, inst) {
		//lint:ignore ST1005 certbot's text
		return fmt.Errorf("The requested %s plugin does not appear to be installed (--installer %s: acmectl's installers are nginx and apache, or null for none)", inst, inst)
	}
	c.Authenticator, c.Installer = auth, inst
	return nil
}

// CheckVerb applies certbot's checks of the parsed command line that
// depend on the verb (cli/helpful.py parse_args): renew is non-interactive
// and refuses --force-interactive; --dry-run works with certonly and renew
// only (and reconfigure, which is a dry run).
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
	return nil
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
		{Name: WebApache, Description: "Apache Web Server plugin", Authenticator: true, Installer: true},
		{Name: WebNginx, Description: "Nginx Web Server plugin", Authenticator: true, Installer: true},
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
