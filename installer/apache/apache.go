// Package apache is the Apache installer and http-01 authenticator, after
// certbot's apache plugin on Debian (certbot_apache/_internal: configurator.py,
// http_01.py, override_debian.py): virtual hosts as Apache itself reports them
// (apache2ctl -t -D DUMP_VHOSTS), the SSL twin <site>-le-ssl.conf, a2enmod and
// sites-enabled links, certbot's checkpoints.
//
// It is not an Apache configuration editor: it edits the virtual hosts Apache
// reports, ports.conf, and the files it creates. Disabled sites are not
// considered (certbot offers them in a menu).
package apache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/installer"
)

// Config is the Apache installer's configuration (certbot's --apache-* flags,
// Debian defaults).
type Config struct {
	ServerRoot        string // --apache-server-root; /etc/apache2
	VhostRoot         string // --apache-vhost-root; "" = beside the original vhost file
	Ctl               string // --apache-ctl; apache2ctl
	Enmod, Dismod     string // --apache-enmod/--apache-dismod; a2enmod, a2dismod
	LeVhostExt        string // --apache-le-vhost-ext; -le-ssl.conf
	ChallengeLocation string // --apache-challenge-location; the server root
	LogsRoot          string // --apache-logs-root; /var/log/apache2
	HandleModules     *bool  // --apache-handle-modules; true on Debian
	HandleSites       *bool  // --apache-handle-sites; true on Debian
	ConfigDir         string // --config-dir
	WorkDir           string // --work-dir
	HTTPPort          int    // --http-01-port
	HTTPSPort         int    // --https-port
	StaplingCache     string // SSLStaplingCache argument; certbot's shmcb:/var/run/apache2/stapling_cache(128000)
	// Env adds environment variables for apache2ctl, a2enmod and a2dismod
	// (APACHE_STATE_DIRECTORY, ...); APACHE_CONFDIR is set from ServerRoot.
	Env        []string
	Logger     *slog.Logger
	ReloadWait time.Duration
}

// Apache implements installer.Installer for Apache httpd.
type Apache struct {
	cfg     Config
	rev     *installer.Reverter
	lock    *installer.Lock
	files   map[string]*File
	vhosts  []*VHost
	modules map[string]bool
	pidPath string

	mu       sync.Mutex
	pending  []challenge
	applied  bool
	applyErr error
}

type challenge struct{ domain, token, keyAuth string }

var _ installer.Installer = (*Apache)(nil)

// VHost is one <VirtualHost> Apache runs.
type VHost struct {
	Node    *Node
	File    *File
	Addrs   []string // the section's arguments: *:80, 127.0.0.1:8080, _default_:443
	Name    string   // ServerName
	Aliases []string // ServerAlias
	SSL     bool
}

// Where is "file:line".
func (v *VHost) Where() string { return fmt.Sprintf("%s:%d", v.File.Path, v.Node.Line) }

// Names are ServerName and the aliases.
func (v *VHost) Names() []string {
	var out []string
	if v.Name != "" {
		out = append(out, v.Name)
	}
	return append(out, v.Aliases...)
}

func (v *VHost) port(p string) bool {
	for _, a := range v.Addrs {
		if _, port, ok := strings.Cut(a[strings.LastIndexByte(a, ']')+1:], ":"); ok && port == p || a == "*" || !strings.Contains(a, ":") {
			return true
		}
	}
	return false
}

// New returns an Apache installer; call Prepare first.
func New(cfg Config) *Apache {
	t := true
	if cfg.ServerRoot == "" {
		cfg.ServerRoot = "/etc/apache2"
	}
	if cfg.Ctl == "" {
		cfg.Ctl = "apache2ctl"
	}
	if cfg.Enmod == "" {
		cfg.Enmod = "a2enmod"
	}
	if cfg.Dismod == "" {
		cfg.Dismod = "a2dismod"
	}
	if cfg.LeVhostExt == "" {
		cfg.LeVhostExt = "-le-ssl.conf"
	}
	if cfg.ChallengeLocation == "" {
		cfg.ChallengeLocation = cfg.ServerRoot
	}
	if cfg.LogsRoot == "" {
		cfg.LogsRoot = "/var/log/apache2"
	}
	if cfg.HandleModules == nil {
		cfg.HandleModules = &t
	}
	if cfg.HandleSites == nil {
		cfg.HandleSites = &t
	}
	if cfg.ConfigDir == "" {
		cfg.ConfigDir = "/etc/letsencrypt"
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = "/var/lib/letsencrypt"
	}
	if cfg.HTTPPort == 0 {
		cfg.HTTPPort = 80
	}
	if cfg.HTTPSPort == 0 {
		cfg.HTTPSPort = 443
	}
	if cfg.StaplingCache == "" {
		cfg.StaplingCache = "shmcb:/var/run/apache2/stapling_cache(128000)"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReloadWait == 0 {
		cfg.ReloadWait = 10 * time.Second
	}
	return &Apache{cfg: cfg, rev: &installer.Reverter{WorkDir: cfg.WorkDir, Logger: cfg.Logger}}
}

// Name implements installer.Installer.
func (a *Apache) Name() string { return "apache" }

// OptionsFile is options-ssl-apache.conf in the config dir.
func (a *Apache) OptionsFile() string {
	return filepath.Join(a.cfg.ConfigDir, installer.OptionsSSLApacheName)
}

// env points apache2ctl, a2enmod and a2dismod at the server root (Debian's
// scripts read APACHE_CONFDIR).
func (a *Apache) env() []string {
	if filepath.Clean(a.cfg.ServerRoot) == "/etc/apache2" {
		return a.cfg.Env
	}
	return append([]string{"APACHE_CONFDIR=" + a.cfg.ServerRoot}, a.cfg.Env...)
}

func (a *Apache) run(ctx context.Context, argv ...string) (string, error) {
	return installer.Run(ctx, a.env(), argv...)
}

// Prepare implements installer.Installer.
func (a *Apache) Prepare(ctx context.Context) error {
	if fi, err := os.Stat(a.cfg.ServerRoot); err != nil || !fi.IsDir() {
		return fmt.Errorf("apache: the server root %s (--apache-server-root) is not a directory", a.cfg.ServerRoot)
	}
	lk, err := installer.Begin("apache", a.cfg.Ctl, "--apache-ctl", a.cfg.ServerRoot, a.rev)
	if err != nil {
		return err
	}
	a.lock = lk
	if err := a.ConfigTest(ctx); err != nil {
		return err
	}
	if err := a.load(ctx); err != nil {
		return err
	}
	if err := os.MkdirAll(a.cfg.ConfigDir, 0o755); err != nil {
		return fmt.Errorf("apache: %w", err)
	}
	return installer.InstallVersionControlled(a.OptionsFile(), filepath.Join(a.cfg.ConfigDir, installer.OptionsSSLApacheDigestName),
		installer.OptionsSSLApache, installer.OptionsSSLApacheHashes, a.cfg.Logger)
}

// PrepareRollback implements installer.Installer.
func (a *Apache) PrepareRollback(ctx context.Context) error {
	lk, err := installer.Begin("apache", a.cfg.Ctl, "--apache-ctl", a.cfg.ServerRoot, a.rev)
	if err != nil {
		return err
	}
	a.lock = lk
	return nil
}

// Close implements installer.Installer.
func (a *Apache) Close() error { return a.lock.Unlock() }

// ConfigTest implements installer.Installer (apache2ctl configtest).
func (a *Apache) ConfigTest(ctx context.Context) error {
	if _, err := a.run(ctx, a.cfg.Ctl, "configtest"); err != nil {
		return fmt.Errorf("apache: configuration test failed: %w", err)
	}
	return nil
}

// Compiled when Apache is first asked, not at every acmectl start-up.
var (
	vhostRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\((/[^()]+):(\d+)\)`) })
	moduleRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*(\S+_module) \(`) })
	pidRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^PidFile: "?([^"\n]+)"?`) })
)

// load asks Apache (one run: DUMP_VHOSTS, DUMP_MODULES, DUMP_RUN_CFG) which
// virtual hosts and modules it runs and where its pid file is, and parses the
// files holding the virtual hosts.
func (a *Apache) load(ctx context.Context) error {
	out, err := a.run(ctx, a.cfg.Ctl, "-t", "-D", "DUMP_VHOSTS", "-D", "DUMP_MODULES", "-D", "DUMP_RUN_CFG")
	if err != nil {
		return fmt.Errorf("apache: list virtual hosts and modules: %w", err)
	}
	a.modules = map[string]bool{}
	for _, m := range moduleRE().FindAllStringSubmatch(out, -1) {
		a.modules[m[1]] = true
	}
	if m := pidRE().FindStringSubmatch(out); m != nil {
		a.pidPath = m[1]
		if !filepath.IsAbs(a.pidPath) {
			a.pidPath = filepath.Join(a.cfg.ServerRoot, a.pidPath)
		}
	}
	if i := strings.Index(out, "ServerRoot:"); i >= 0 {
		out = out[:i] // DUMP_RUN_CFG names files too; the vhosts come before it
	}
	a.files = map[string]*File{}
	a.vhosts = nil
	seen := map[string]bool{}
	for _, m := range vhostRE().FindAllStringSubmatch(out, -1) {
		line, _ := strconv.Atoi(m[2])
		key := installer.RealPath(m[1]) + ":" + m[2]
		if seen[key] {
			continue
		}
		seen[key] = true
		f, err := a.file(m[1])
		if err != nil {
			return err
		}
		n := findSection(f.Nodes, "VirtualHost", line)
		if n == nil {
			return &installer.ConfigError{File: f.Path, Line: line, Err: errors.New("apache reports a VirtualHost here that the file does not hold")}
		}
		a.vhosts = append(a.vhosts, a.vhost(f, n))
	}
	return nil
}

func (a *Apache) file(p string) (*File, error) {
	p = installer.RealPath(p)
	if f := a.files[p]; f != nil {
		return f, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, &installer.ConfigError{File: p, Err: err}
	}
	f, err := ParseFile(p, string(b))
	if err != nil {
		return nil, &installer.ConfigError{File: p, Err: err}
	}
	a.files[p] = f
	return f, nil
}

func findSection(ns []*Node, name string, line int) *Node {
	for _, n := range ns {
		if n.Section && strings.EqualFold(n.Name, name) && n.Line == line {
			return n
		}
		if n.Section {
			if r := findSection(n.Children, name, line); r != nil {
				return r
			}
		}
	}
	return nil
}

func (a *Apache) vhost(f *File, n *Node) *VHost {
	v := &VHost{Node: n, File: f, Addrs: n.Args}
	walk(n.Children, func(c *Node) {
		switch strings.ToLower(c.Name) {
		case "servername":
			if len(c.Args) > 0 {
				v.Name = stripScheme(c.Args[0])
			}
		case "serveralias":
			v.Aliases = append(v.Aliases, c.Args...)
		case "sslengine":
			if len(c.Args) > 0 && strings.EqualFold(c.Args[0], "on") {
				v.SSL = true
			}
		case "include", "includeoptional":
			if len(c.Args) > 0 && installer.RealPath(c.Args[0]) == installer.RealPath(a.OptionsFile()) {
				v.SSL = true // SSLEngine on comes with certbot's options file
			}
		}
	})
	return v
}

// stripScheme drops "https://" and ":port" from a ServerName.
func stripScheme(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if h, _, ok := strings.Cut(s, ":"); ok {
		s = h
	}
	return s
}

func walk(ns []*Node, fn func(*Node)) {
	for _, n := range ns {
		fn(n)
		if n.Section && !strings.EqualFold(n.Name, "VirtualHost") {
			walk(n.Children, fn)
		}
	}
}

// Reload implements installer.Installer: configtest, then apache2ctl graceful,
// then a wait for the new generation of children.
func (a *Apache) Reload(ctx context.Context) error {
	if err := a.ConfigTest(ctx); err != nil {
		return err
	}
	master := installer.ReadPID(a.pidPath)
	before := installer.Children(master)
	if _, err := a.run(ctx, a.cfg.Ctl, "graceful"); err != nil {
		return fmt.Errorf("apache: reload failed: %w", err)
	}
	start := time.Now()
	if !installer.WaitNewWorkers(ctx, master, before, "", a.cfg.ReloadWait) {
		a.cfg.Logger.Warn("apache reloaded, but new children were not seen in time", slog.Int("master_pid", master))
	}
	a.cfg.Logger.Debug("apache reloaded", slog.Int("master_pid", master), slog.Duration("waited", time.Since(start)))
	return nil
}

// Recover implements installer.Installer.
func (a *Apache) Recover(ctx context.Context) error {
	if err := a.rev.Recover(); err != nil {
		return fmt.Errorf("apache: %w", err)
	}
	return a.load(ctx)
}

// Rollback implements installer.Installer.
func (a *Apache) Rollback(ctx context.Context, k int) error {
	edited, err := a.rev.Rollback(k)
	for _, f := range edited {
		a.cfg.Logger.Warn("file changed since its checkpoint; rollback undid those changes too", slog.String("file", f))
	}
	if err != nil {
		return fmt.Errorf("apache: %w", err)
	}
	return a.load(ctx)
}

// Save implements installer.Installer.
func (a *Apache) Save(title string) (bool, error) {
	if !a.rev.Pending() {
		return false, nil
	}
	if err := a.rev.Finalize(title); err != nil {
		return false, fmt.Errorf("apache: %w", err)
	}
	return true, nil
}

// write checkpoints and writes every changed file; new files are registered
// before they are written.
func (a *Apache) write(ctx context.Context, temp bool, notes string) error {
	var changed, news []*File
	for _, f := range a.files {
		if !f.Changed() {
			continue
		}
		if err := installer.CheckWritable(f.Path); err != nil {
			_ = a.load(ctx)
			return err
		}
		if f.isNew {
			news = append(news, f)
		} else {
			changed = append(changed, f)
		}
	}
	if len(changed)+len(news) == 0 {
		return nil
	}
	var paths []string
	for _, f := range changed {
		paths = append(paths, f.Path)
	}
	if err := a.rev.AddFiles(temp, notes, paths...); err != nil {
		_ = a.load(ctx)
		return fmt.Errorf("apache: %w", err)
	}
	for _, f := range news {
		if err := a.rev.AddNewFiles(temp, f.Path); err != nil {
			_ = a.load(ctx)
			return fmt.Errorf("apache: %w", err)
		}
	}
	for _, f := range append(changed, news...) {
		if err := installer.WriteFile(f.Path, []byte(f.Dump()), 0o644); err != nil {
			_ = a.load(ctx)
			return fmt.Errorf("apache: write %s: %w", f.Path, err)
		}
		f.orig, f.isNew = f.Dump(), false
	}
	return nil
}

// enableMod is Debian's enable_mod: a2enmod with the module's dependencies,
// each registered with its a2dismod undo command.
func (a *Apache) enableMod(ctx context.Context, mod string, temp bool) error {
	if a.modules[mod+"_module"] {
		return nil
	}
	if !*a.cfg.HandleModules {
		return fmt.Errorf("apache: module %s is needed; enable it (a2enmod %s) and run again", mod, mod)
	}
	deps := map[string][]string{"ssl": {"setenvif", "mime", "socache_shmcb"}}[mod]
	for _, m := range append(deps, mod) {
		if a.modules[m+"_module"] {
			continue
		}
		undo := []string{a.cfg.Dismod, "-q", "-f", m}
		if e := a.env(); e != nil {
			undo = append(append([]string{"env"}, e...), undo...)
		}
		if err := a.rev.AddUndoCommand(temp, undo...); err != nil {
			return fmt.Errorf("apache: %w", err)
		}
		if _, err := a.run(ctx, a.cfg.Enmod, "-q", m); err != nil {
			return fmt.Errorf("apache: enable module %s: %w", m, err)
		}
		a.modules[m+"_module"] = true
	}
	return nil
}

// inNames is certbot's domain_in_names: exact or fnmatch wildcard, any case.
func inNames(names []string, target string) bool {
	target = strings.ToLower(target)
	for _, n := range names {
		n = strings.ToLower(n)
		if strings.Contains(n, "[") {
			continue
		}
		if ok, _ := path.Match(n, target); ok || n == target {
			return true
		}
	}
	return false
}

// bestVHost is certbot's _find_best_vhost: 6 name+TLS, 5 wildcard+TLS, 3 name,
// 2 wildcard; the first of the highest wins.
func bestVHost(vhosts []*VHost, target string) *VHost {
	var best *VHost
	bestPts := 0
	for _, v := range vhosts {
		pts := 0
		switch {
		case slices.ContainsFunc(v.Names(), func(n string) bool { return strings.EqualFold(n, target) }):
			pts = 3
		case inNames(v.Names(), target):
			pts = 2
		default:
			continue
		}
		if v.SSL {
			pts += 3
		}
		if pts > bestPts {
			best, bestPts = v, pts
		}
	}
	return best
}

// conflicts: a name given in two virtual hosts on one address and sslness.
func conflicts(vhosts []*VHost, name string) error {
	seen := map[string]*VHost{}
	for _, v := range vhosts {
		if !slices.ContainsFunc(v.Names(), func(n string) bool { return strings.EqualFold(n, name) }) {
			continue
		}
		for _, ad := range v.Addrs {
			k := ad + strconv.FormatBool(v.SSL)
			if o := seen[k]; o != nil && o != v {
				return &installer.ConfigError{File: v.File.Path, Line: v.Node.Line,
					Err: fmt.Errorf("ServerName/ServerAlias %s is also claimed by the VirtualHost at %s on %s; Apache uses only the first, remove one", name, o.Where(), ad)}
			}
			seen[k] = v
		}
	}
	return nil
}

func (a *Apache) noMatch(name string) error {
	var where []string
	for _, v := range a.vhosts {
		where = append(where, fmt.Sprintf("%s (%s)", v.Where(), strings.Join(v.Names(), " ")))
	}
	return fmt.Errorf("apache: no enabled VirtualHost answers %s; add \"ServerAlias %s\" to the right one (virtual hosts: %s)", name, name, strings.Join(where, "; "))
}
