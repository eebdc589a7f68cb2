package manager

import (
	"context"

	"github.com/acmectl/acmectl/acme"
)

// Installer puts certificates into a web server (certbot's installer
// plugins: nginx, Apache). The engine calls Deploy after every lineage it
// saved (after the deploy hooks), and Reload once at the end of a run that
// deployed anything, before the post hooks — as certbot restarts its
// installer once per renew run. A nil Installer installs nothing.
type Installer interface {
	Deploy(ctx context.Context, lineage string, res *IssueResult) error
	Reload(ctx context.Context) error
}

// Authenticator answers challenges for an authenticator the engine does not
// build itself (an installer's --nginx/--apache): it returns the solvers
// for the names and a release function the engine always calls.
type Authenticator func(ctx context.Context, c *Config, names []string) (solvers map[string]acme.Solver, preference []string, release func(), err error)

// install runs the installer for one saved lineage: the web server its
// installer names (nginx, apache: reloaded once at the end of the run and,
// when deployMissing, installed again where the configuration lost it), else
// the Installer seam's Deploy. A failure is reported as a hook failure of
// kind "installer" (the certificate is saved).
func (m *Manager) install(ctx context.Context, h *hooks, c *Config, lineage string, res *IssueResult, deployMissing bool) {
	if res.LiveDir == "" {
		return
	}
	if isWeb(c.Installer) {
		if err := m.webRenewed(ctx, c, lineage, res, deployMissing); err != nil {
			h.installed(lineage, "deploy", err)
		}
		return
	}
	if m.Installer == nil {
		return
	}
	err := m.Installer.Deploy(ctx, lineage, res)
	h.installed(lineage, "deploy", err)
}

// reloadInstaller reloads, once, every web server a certificate changed
// under and the Installer seam when it deployed anything.
func (m *Manager) reloadInstaller(ctx context.Context, h *hooks) {
	m.reloadWebServers(ctx, h)
	if m.Installer == nil || !h.deployedAny() {
		return
	}
	h.installed("", "reload", m.Installer.Reload(ctx))
}
