package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/installer/apache"
	"github.com/acmectl/acmectl/installer/nginx"
)

// webServers are the run's nginx and Apache installers, one per server root,
// each prepared once (config test, recovery of an interrupted run, the
// server-root lock) and closed when the run ends. The same one answers
// challenges (--nginx as authenticator) and installs.
type webServers struct {
	mu sync.Mutex
	m  map[string]*webServer
}

// webServer is one installer of the run.
type webServer struct {
	kind, key string
	in        installer.Installer
	// turn serializes issuances answering challenges through it: one batch
	// of challenges at a time (parallel renewals take turns).
	turn sync.Mutex

	mu          sync.Mutex
	reload      bool     // a certificate changed under it: reload at the end of the run
	checkpoints int      // finalized by this run's renewals, rolled back if the reload fails
	lineages    []string // the lineages that reload is for
}

// webServer returns the run's prepared installer kind ("nginx", "apache")
// configured from c.
func (m *Manager) webServer(ctx context.Context, c *Config, kind string) (*webServer, error) {
	in, key := newInstaller(c, kind, m.log())
	m.web.mu.Lock()
	defer m.web.mu.Unlock()
	if ws := m.web.m[key]; ws != nil {
		return ws, nil
	}
	if err := in.Prepare(ctx); err != nil {
		_ = in.Close()
		return nil, &WebServerError{Server: kind, Err: err}
	}
	ws := &webServer{kind: kind, key: key, in: in}
	if m.web.m == nil {
		m.web.m = map[string]*webServer{}
	}
	m.web.m[key] = ws
	return ws, nil
}

// closeWebServers releases every installer of the run (server-root locks).
func (m *Manager) closeWebServers() {
	m.web.mu.Lock()
	defer m.web.mu.Unlock()
	for k, ws := range m.web.m {
		_ = ws.in.Close()
		delete(m.web.m, k)
	}
}

// WebServerError is a web server that could not be used or configured
// (no binary, a configuration that fails its test, a file that cannot be
// written, a reload that failed).
type WebServerError struct {
	Server string // "nginx" or "apache"
	Err    error
}

func (e *WebServerError) Error() string { return e.Err.Error() }
func (e *WebServerError) Unwrap() error { return e.Err }

// newInstaller builds the installer from the parameters (certbot's defaults
// for the Debian layout where one is empty) and the key that identifies its
// server in this run.
func newInstaller(c *Config, kind string, log *slog.Logger) (installer.Installer, string) {
	if kind == WebApache {
		o := c.Apache
		cfg := apache.Config{ServerRoot: or(o.ServerRoot, "/etc/apache2"), VhostRoot: o.VhostRoot, Ctl: o.Ctl, Enmod: o.Enmod, Dismod: o.Dismod,
			LeVhostExt: o.LeVhostExt, ChallengeLocation: o.ChallengeLocation, LogsRoot: o.LogsRoot,
			ConfigDir: c.ConfigDir, WorkDir: c.WorkDir, HTTPPort: c.HTTP01Port, HTTPSPort: c.HTTPSPort, Logger: log}
		hm, hs := flagBool(o.HandleModules, true), flagBool(o.HandleSites, true)
		cfg.HandleModules, cfg.HandleSites = &hm, &hs
		if cfg.VhostRoot == "" {
			if d := filepath.Join(cfg.ServerRoot, "sites-available"); dirExists(d) {
				cfg.VhostRoot = d
			}
		}
		return apache.New(cfg), "apache:" + cfg.ServerRoot
	}
	o := c.Nginx
	root := or(o.ServerRoot, "/etc/nginx")
	return nginx.New(nginx.Config{ServerRoot: root, Ctl: o.Ctl, ConfigDir: c.ConfigDir, WorkDir: c.WorkDir,
		HTTPPort: c.HTTP01Port, HTTPSPort: c.HTTPSPort, Logger: log}), "nginx:" + root
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// webSolver answers http-01 through the web server (certbot's nginx and
// apache authenticators): a temporary location / include, tested, reloaded
// and removed. It is prepared on first need (a pending authorization);
// issuances through one server take turns.
func (m *Manager) webSolver(o *Config) func(context.Context) (map[string]acme.Solver, func(), error) {
	return func(ctx context.Context) (map[string]acme.Solver, func(), error) {
		ws, err := m.webServer(ctx, o, o.Authenticator)
		if err != nil {
			return nil, nil, err
		}
		ws.turn.Lock()
		return map[string]acme.Solver{acme.ChallengeHTTP01: ws.in}, ws.turn.Unlock, nil
	}
}

// dnsNames are the names an installer configures: the DNS names of the
// certificate (certbot refuses to deploy IP addresses).
func dnsNames(names []string) []string {
	var out []string
	for _, n := range names {
		if !isIPName(n) {
			out = append(out, n)
		}
	}
	return out
}

func isIPName(n string) bool { return net.ParseIP(n) != nil }

// webRenewed is called for every lineage a renew or certonly run saved whose
// installer is a web server: the server is reloaded once at the end of the
// run; when deployMissing (renew) and the server blocks no longer point at
// the lineage, it is installed again first (Install without its reload; the
// checkpoints are rolled back if the run's reload fails).
func (m *Manager) webRenewed(ctx context.Context, c *Config, lineage string, res *IssueResult, deployMissing bool) error {
	ws, err := m.webServer(ctx, c, c.Installer)
	if err != nil {
		return err
	}
	ws.turn.Lock()
	defer ws.turn.Unlock()
	names := dnsNames(res.Names)
	l := installer.LiveLineage(c.ConfigDir, lineage)
	if deployMissing && len(names) > 0 && !ws.in.Deployed(names, l) {
		m.log().LogAttrs(ctx, slog.LevelInfo, "the server no longer points at the certificate; installing it again",
			slog.String("lineage", lineage), slog.String("installer", ws.kind))
		n, err := installer.Install(ctx, ws.in, names, l, installer.InstallOptions{}, false)
		if err != nil {
			return &WebServerError{Server: ws.kind, Err: err}
		}
		ws.mu.Lock()
		ws.checkpoints += n
		ws.mu.Unlock()
	}
	ws.mu.Lock()
	ws.reload = true
	ws.lineages = append(ws.lineages, lineage)
	ws.mu.Unlock()
	return nil
}

// reloadWebServers reloads every web server a certificate changed under,
// once; a failed reload rolls back what this run installed and reloads the
// previous configuration. Each result is reported as an installer step.
func (m *Manager) reloadWebServers(ctx context.Context, h *hooks) {
	m.web.mu.Lock()
	var list []*webServer
	for _, ws := range m.web.m {
		list = append(list, ws)
	}
	m.web.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].key < list[j].key })
	for _, ws := range list {
		ws.mu.Lock()
		reload, n, lineages := ws.reload, ws.checkpoints, ws.lineages
		ws.reload, ws.checkpoints, ws.lineages = false, 0, nil
		ws.mu.Unlock()
		if !reload {
			continue
		}
		m.emit(Event{Kind: EventInstaller, Installer: ws.kind, Names: lineages, Reason: "Reloading " + ws.kind + " server after certificate renewal"})
		err := ws.in.Reload(ctx)
		if err != nil && n > 0 {
			if rerr := ws.in.Rollback(ctx, n); rerr != nil {
				err = fmt.Errorf("%w (and rolling back this run's %d checkpoint(s) failed: %v)", err, n, rerr)
			} else if rerr := ws.in.Reload(ctx); rerr != nil {
				err = fmt.Errorf("%w (rolled back this run's %d checkpoint(s), but the reload still failed: %v)", err, n, rerr)
			} else {
				err = fmt.Errorf("%w (this run's %d checkpoint(s) rolled back; %s serves the previous configuration)", err, n, ws.kind)
			}
		}
		if err != nil {
			h.installed(strings.Join(lineages, ","), "reload "+ws.kind, &WebServerError{Server: ws.kind, Err: err})
		}
	}
}

// chooseConfigurator picks the web server for run (and install, enhance,
// rollback) when none was named: certbot asks which of its configurators to
// use; without a terminal it takes the only one that is installed here.
func (m *Manager) chooseConfigurator(verb string) (string, error) {
	var avail []string
	if _, err := exec.LookPath("apache2ctl"); err == nil && dirExists("/etc/apache2") {
		avail = append(avail, WebApache)
	}
	if _, err := exec.LookPath("nginx"); err == nil && dirExists("/etc/nginx") {
		avail = append(avail, WebNginx)
	}
	if !m.interactive() {
		if len(avail) == 1 {
			return avail[0], nil
		}
		return "", NeedFlag(fmt.Sprintf("%s needs an installer and %s", verb, installedText(avail)), "--nginx or --apache (or -i nginx / -i apache)")
	}
	if len(avail) == 0 {
		avail = []string{WebApache, WebNginx}
	}
	q := "How would you like to authenticate and install certificates?\n"
	for i, a := range avail {
		q += fmt.Sprintf("%d: %s\n", i+1, map[string]string{WebApache: "Apache Web Server plugin (apache)", WebNginx: "Nginx Web Server plugin (nginx)"}[a])
	}
	ans, err := m.ask(q + fmt.Sprintf("Select the appropriate number [1-%d] then [enter]: ", len(avail)))
	if err != nil {
		return "", err
	}
	for i, a := range avail {
		if ans == fmt.Sprint(i+1) || ans == a {
			return a, nil
		}
	}
	return "", errors.New("no installer chosen")
}

func installedText(avail []string) string {
	if len(avail) == 0 {
		return "neither nginx nor apache2 is installed here"
	}
	return "both nginx and apache2 are installed here"
}
