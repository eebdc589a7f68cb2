// Package nginx is the nginx installer and http-01 authenticator, after
// certbot's nginx plugin (certbot_nginx/_internal: configurator.py, parser.py,
// http_01.py): it reads the configuration as nginx does, adds what certbot adds
// with certbot's "# managed by Certbot" comments, and keeps certbot's
// checkpoints so either tool can roll back the other's changes.
//
// It is not a general nginx configuration editor: it touches server blocks of the
// http context only, and only the directives certbot touches.
package nginx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/installer"
)

// Config is the nginx installer's configuration (certbot's --nginx-* flags and
// the global directories).
type Config struct {
	ServerRoot string // --nginx-server-root; default /etc/nginx; the main file is nginx.conf in it
	Ctl        string // --nginx-ctl; default "nginx"
	ConfigDir  string // --config-dir; default /etc/letsencrypt
	WorkDir    string // --work-dir; default /var/lib/letsencrypt
	HTTPPort   int    // --http-01-port; default 80
	HTTPSPort  int    // --https-port; default 443
	Logger     *slog.Logger
	// ReloadWait bounds the wait for new workers after a reload (default 10 s).
	ReloadWait time.Duration
}

// Nginx implements installer.Installer for nginx.
type Nginx struct {
	cfg  Config
	rev  *installer.Reverter
	tree *Tree
	lock *installer.Lock

	mu       sync.Mutex
	pending  []challenge // presented, in order
	applied  bool        // the temporary checkpoint holds them and nginx was reloaded
	applyErr error
	probes   map[string]string // token → host:port to check locally
}

type challenge struct{ domain, token, keyAuth string }

var _ installer.Installer = (*Nginx)(nil)

// New returns an nginx installer; call Prepare before anything else.
func New(cfg Config) *Nginx {
	if cfg.ServerRoot == "" {
		cfg.ServerRoot = "/etc/nginx"
	}
	if cfg.Ctl == "" {
		cfg.Ctl = "nginx"
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReloadWait == 0 {
		cfg.ReloadWait = 10 * time.Second
	}
	return &Nginx{cfg: cfg, rev: &installer.Reverter{WorkDir: cfg.WorkDir, Logger: cfg.Logger}, probes: map[string]string{}}
}

// Name implements installer.Installer.
func (n *Nginx) Name() string { return "nginx" }

// MainFile is nginx.conf under the server root.
func (n *Nginx) MainFile() string { return filepath.Join(n.cfg.ServerRoot, "nginx.conf") }

// OptionsFile is the TLS options file in the config dir.
func (n *Nginx) OptionsFile() string {
	return filepath.Join(n.cfg.ConfigDir, installer.OptionsSSLNginxName)
}

// DHParams is the DH parameters file in the config dir.
func (n *Nginx) DHParams() string { return filepath.Join(n.cfg.ConfigDir, installer.SSLDHParamsName) }

// ChallengeFile is the temporary file holding challenge server blocks.
func (n *Nginx) ChallengeFile() string {
	return filepath.Join(n.cfg.ConfigDir, "le_http_01_cert_challenge.conf")
}

// Tree is the configuration as last read.
func (n *Nginx) Tree() *Tree { return n.tree }

// Prepare implements installer.Installer.
func (n *Nginx) Prepare(ctx context.Context) error {
	if _, err := os.Stat(n.MainFile()); err != nil {
		return fmt.Errorf("nginx: no nginx.conf in the server root %s (--nginx-server-root): %w", n.cfg.ServerRoot, err)
	}
	lk, err := installer.Begin("nginx", n.cfg.Ctl, "--nginx-ctl", n.cfg.ServerRoot, n.rev)
	if err != nil {
		return err
	}
	n.lock = lk
	if err := n.ConfigTest(ctx); err != nil {
		return err
	}
	if err := n.load(); err != nil {
		return err
	}
	if out, err := installer.Run(ctx, nil, n.cfg.Ctl, "-c", n.MainFile(), "-V"); err == nil && !strings.Contains(out, "--with-http_ssl_module") {
		return errors.New("nginx: the nginx build lacks the SSL module (--with-http_ssl_module)")
	}
	if err := os.MkdirAll(n.cfg.ConfigDir, 0o755); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	if err := installer.InstallVersionControlled(n.OptionsFile(), filepath.Join(n.cfg.ConfigDir, installer.OptionsSSLNginxDigestName),
		installer.OptionsSSLNginx, installer.OptionsSSLNginxHashes, n.cfg.Logger); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	if err := installer.InstallVersionControlled(n.DHParams(), filepath.Join(n.cfg.ConfigDir, installer.SSLDHParamsDigestName),
		installer.SSLDHParams, installer.SSLDHParamsHashes, n.cfg.Logger); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	return nil
}

// PrepareRollback implements installer.Installer.
func (n *Nginx) PrepareRollback(ctx context.Context) error {
	lk, err := installer.Begin("nginx", n.cfg.Ctl, "--nginx-ctl", n.cfg.ServerRoot, n.rev)
	n.lock = lk
	return err
}

func (n *Nginx) load() error {
	t, err := Load(n.MainFile())
	if err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	n.tree = t
	return nil
}

// Close implements installer.Installer.
func (n *Nginx) Close() error { return n.lock.Unlock() }

// ConfigTest implements installer.Installer.
func (n *Nginx) ConfigTest(ctx context.Context) error {
	if _, err := installer.Run(ctx, nil, n.cfg.Ctl, "-c", n.MainFile(), "-t"); err != nil {
		return fmt.Errorf("nginx: configuration test failed: %w", err)
	}
	return nil
}

// pidFile is the main-context pid directive, or the compiled-in path.
func (n *Nginx) pidFile(ctx context.Context) string {
	if n.tree != nil {
		for _, d := range n.tree.Files[n.tree.Main].Block.Items {
			if d.Name() == "pid" && len(d.Args()) == 1 {
				p := d.Args()[0]
				if !filepath.IsAbs(p) {
					p = filepath.Join(n.cfg.ServerRoot, p)
				}
				return p
			}
		}
	}
	out, _ := installer.Run(ctx, nil, n.cfg.Ctl, "-V")
	if m := regexp.MustCompile(`--pid-path=(\S+)`).FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return "/run/nginx.pid"
}

// Reload implements installer.Installer: nginx -t, then nginx -s reload (or a
// start when nginx is not running, as certbot's nginx_restart), then a wait
// until the old workers stopped taking connections.
func (n *Nginx) Reload(ctx context.Context) error {
	if err := n.ConfigTest(ctx); err != nil {
		return err
	}
	master := installer.ReadPID(n.pidFile(ctx))
	before := installer.Children(master)
	if _, err := installer.Run(ctx, nil, n.cfg.Ctl, "-c", n.MainFile(), "-s", "reload"); err != nil {
		n.cfg.Logger.Warn("nginx reload failed, starting nginx", slog.String("error", err.Error()))
		if _, err2 := installer.Run(ctx, nil, n.cfg.Ctl, "-c", n.MainFile()); err2 != nil {
			return fmt.Errorf("nginx: restart failed: %w", err2)
		}
		return nil
	}
	start := time.Now()
	if !installer.WaitNewWorkers(ctx, master, before, "shutting down", n.cfg.ReloadWait) {
		n.cfg.Logger.Warn("nginx reloaded, but new workers were not seen in time", slog.Int("master_pid", master))
	}
	n.cfg.Logger.Debug("nginx reloaded", slog.Int("master_pid", master), slog.Duration("waited", time.Since(start)))
	return nil
}

// Recover implements installer.Installer.
func (n *Nginx) Recover(ctx context.Context) error {
	if err := n.rev.Recover(); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	return n.load()
}

// Rollback implements installer.Installer.
func (n *Nginx) Rollback(ctx context.Context, k int) error {
	edited, err := n.rev.Rollback(k)
	for _, f := range edited {
		n.cfg.Logger.Warn("file changed since its checkpoint; rollback undid those changes too", slog.String("file", f))
	}
	if err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	return n.load()
}

// Save implements installer.Installer.
func (n *Nginx) Save(title string) (bool, error) {
	if !n.rev.Pending() {
		return false, nil
	}
	if err := n.rev.Finalize(title); err != nil {
		return false, fmt.Errorf("nginx: %w", err)
	}
	return true, nil
}

// write saves every changed file into the checkpoint and then writes it. On a
// failure the files already written are put back and the tree is reread.
func (n *Nginx) write(temp bool, notes string) error {
	changed := n.tree.Changed()
	var paths []string
	for _, f := range changed {
		if err := installer.CheckWritable(f.Path); err != nil {
			_ = n.load()
			return err
		}
		paths = append(paths, f.Path)
	}
	if len(paths) == 0 {
		return nil
	}
	if err := n.rev.AddFiles(temp, notes, paths...); err != nil {
		_ = n.load()
		return fmt.Errorf("nginx: %w", err)
	}
	for _, f := range changed {
		if err := installer.WriteFile(f.Path, []byte(f.Block.Dump()), 0o644); err != nil {
			_ = n.load()
			return fmt.Errorf("nginx: write %s: %w", f.Path, err)
		}
		f.orig = f.Block.Dump()
	}
	return nil
}

// Deploy implements installer.Installer (certbot's deploy_cert for each name).
func (n *Nginx) Deploy(ctx context.Context, names []string, l installer.Lineage) error {
	if l.Fullchain == "" || l.Key == "" {
		return errors.New("nginx: the nginx installer needs the fullchain and key paths")
	}
	var notes strings.Builder
	for _, name := range names {
		vhosts, err := n.chooseVHosts(name, true)
		if err != nil {
			_ = n.load()
			return err
		}
		for _, v := range vhosts {
			if !v.SSL {
				if err := n.makeSSL(v, l); err != nil {
					_ = n.load()
					return err
				}
			}
			for _, d := range []*Directive{
				newDirective(v.Dir.File, "ssl_certificate", l.Fullchain),
				newDirective(v.Dir.File, "ssl_certificate_key", l.Key),
			} {
				if err := n.updateOrAdd(v, d); err != nil {
					_ = n.load()
					return err
				}
			}
			fmt.Fprintf(&notes, "Changed vhost at %s\n\tssl_certificate %s\n\tssl_certificate_key %s\n", v.Where(), l.Fullchain, l.Key)
			n.cfg.Logger.Info("deploying certificate", slog.String("identifier", name), slog.String("server_block", v.Where()))
		}
	}
	return n.write(false, notes.String())
}

// chooseVHosts is certbot's choose_vhosts: the best TLS-preferring match, a
// copy of the default server when nothing matches (create), every block in
// scope for a wildcard name. A name in two blocks on one address is an error.
func (n *Nginx) chooseVHosts(name string, create bool) ([]*VHost, error) {
	all := n.tree.VHosts()
	if strings.HasPrefix(name, "*.") {
		byName := map[string]*VHost{}
		var order []string
		for _, v := range all {
			for _, sn := range v.Names {
				if !inWildcardScope(sn, name) {
					continue
				}
				if cur, ok := byName[sn]; !ok {
					byName[sn] = v
					order = append(order, sn)
				} else if v.SSL && !cur.SSL {
					byName[sn] = v
				}
			}
		}
		var out []*VHost
		seen := map[*VHost]bool{}
		for _, sn := range order {
			if v := byName[sn]; !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			return nil, n.noMatch(name, all)
		}
		return out, nil
	}
	if err := conflicts(name, all); err != nil {
		return nil, err
	}
	if v := best(rank(all, name, true)); v != nil {
		return []*VHost{v}, nil
	}
	if !create {
		return nil, n.noMatch(name, all)
	}
	v, err := n.fromDefault(name, strconv.Itoa(n.cfg.HTTPSPort), true)
	if err != nil {
		return nil, err
	}
	return []*VHost{v}, nil
}

func (n *Nginx) noMatch(name string, all []*VHost) error {
	var where []string
	for _, v := range all {
		where = append(where, fmt.Sprintf("%s (server_name %s)", v.Where(), strings.Join(v.Names, " ")))
	}
	return fmt.Errorf("nginx: no server block in %s answers %s and there is no single default server to copy; add %q to the server_name of the right block (server blocks: %s)",
		n.MainFile(), name, name, strings.Join(where, "; "))
}

// conflicts reports a name given exactly in two server blocks sharing a listen
// address (nginx warns "conflicting server name" and ignores the second).
func conflicts(name string, all []*VHost) error {
	seen := map[string]*VHost{}
	for _, v := range all {
		if k, _ := bestMatch(name, v.Names); k != matchExact {
			continue
		}
		addrs := v.Addrs
		if len(addrs) == 0 {
			addrs = []Addr{{Port: "80"}}
		}
		for _, a := range addrs {
			if o := seen[a.key()]; o != nil && o != v {
				return &installer.ConfigError{File: v.Dir.File.Path, Line: v.Dir.Line,
					Err: fmt.Errorf("server_name %s is also claimed by the server block at %s on %s; nginx uses only the first, remove one", name, o.Where(), strings.TrimPrefix(a.key(), ":"))}
			}
			seen[a.key()] = v
		}
	}
	return nil
}

// fromDefault copies the default server for port (any single default server
// when mismatch is allowed) and names it name (certbot's
// _vhost_from_duplicated_default).
func (n *Nginx) fromDefault(name, port string, allowMismatch bool) (*VHost, error) {
	all := n.tree.VHosts()
	var defs, portDefs []*VHost
	for _, v := range all {
		for _, a := range v.Addrs {
			if a.Default {
				defs = append(defs, v)
				if a.Port == port {
					portDefs = append(portDefs, v)
				}
				break
			}
		}
	}
	var tmpl *VHost
	switch {
	case len(portDefs) == 1:
		tmpl = portDefs[0]
	case len(defs) == 1 && allowMismatch:
		tmpl = defs[0]
	default:
		return nil, n.noMatch(name, all)
	}
	d, err := duplicate(tmpl, nil, true)
	if err != nil {
		return nil, err
	}
	remove(&VHost{Dir: d}, "server_name", nil)
	nv := &VHost{Dir: d, Parent: tmpl.Parent}
	insert(nv, newDirective(d.File, "server_name", name), false)
	for _, v := range n.tree.VHosts() {
		if v.Dir == d {
			return v, nil
		}
	}
	return nil, errors.New("nginx: the copied server block was not found")
}

// makeSSL is certbot's _make_server_ssl: TLS listeners on the https port, the
// options include and DH parameters. The listener keeps the block's own
// address (certbot listens on all addresses; a block bound to one address
// gets its TLS listener on that address).
func (n *Nginx) makeSSL(v *VHost, l installer.Lineage) error {
	port := strconv.Itoa(n.cfg.HTTPSPort)
	f := v.Dir.File
	if len(v.Addrs) == 0 {
		insert(v, newDirective(f, "listen", "80"), false)
	}
	ipv6only := false
	for _, o := range n.tree.VHosts() {
		for _, a := range o.Addrs {
			if a.IPv6Only && a.Port == port {
				ipv6only = true
			}
		}
	}
	var listens []*Directive
	hosts := map[string]bool{}
	for _, a := range v.Addrs {
		if a.SSL || hosts[a.Host] {
			continue
		}
		hosts[a.Host] = true
		switch {
		case a.IPv6 && a.Host == "[::]":
			d := newDirective(f, "listen", "[::]:"+port, "ssl")
			if !ipv6only {
				d.Words = append(d.Words, Word{Pre: " ", Raw: "ipv6only=on"})
				ipv6only = true
			}
			listens = append(listens, d)
		case a.Host == "":
			listens = append(listens, newDirective(f, "listen", port, "ssl"))
		default:
			listens = append(listens, newDirective(f, "listen", a.Host+":"+port, "ssl"))
		}
	}
	if len(v.Addrs) == 0 {
		listens = append(listens, newDirective(f, "listen", port, "ssl"))
	}
	// certbot's order: IPv6 listener first.
	for i := 1; i < len(listens); i++ {
		if strings.HasPrefix(listens[i].Words[1].Raw, "[") && !strings.HasPrefix(listens[0].Words[1].Raw, "[") {
			listens[0], listens[i] = listens[i], listens[0]
		}
	}
	for _, d := range listens {
		if err := n.add(v, d, false); err != nil {
			return err
		}
	}
	for _, d := range []*Directive{
		newDirective(f, "ssl_certificate", l.Fullchain),
		newDirective(f, "ssl_certificate_key", l.Key),
		newDirective(f, "include", n.OptionsFile()),
		newDirective(f, "ssl_dhparam", n.DHParams()),
	} {
		if err := n.add(v, d, false); err != nil {
			return err
		}
	}
	return nil
}

// Deployed implements installer.Installer: every name's server block (as
// Deploy would choose it, without creating one) has TLS and points at l.
func (n *Nginx) Deployed(names []string, l installer.Lineage) bool {
	for _, name := range names {
		vhosts, err := n.chooseVHosts(name, false)
		if err != nil || len(vhosts) == 0 {
			return false
		}
		for _, v := range vhosts {
			if !v.SSL || !directiveIs(v.find("ssl_certificate"), l.Fullchain) || !directiveIs(v.find("ssl_certificate_key"), l.Key) {
				return false
			}
		}
	}
	return true
}

func directiveIs(d *Directive, value string) bool {
	return d != nil && len(d.Args()) == 1 && d.Args()[0] == value
}

// Names implements installer.Installer (certbot's get_all_names without the
// reverse DNS of addresses): the exact server_name values of every block.
func (n *Nginx) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range n.tree.VHosts() {
		for _, sn := range v.Names {
			sn = strings.ToLower(strings.Trim(sn, `"'`))
			if sn == "" || sn == "_" || strings.ContainsAny(sn, "*~$") || strings.HasPrefix(sn, ".") || !strings.Contains(sn, ".") || seen[sn] {
				continue
			}
			seen[sn] = true
			out = append(out, sn)
		}
	}
	slices.Sort(out)
	return out
}
