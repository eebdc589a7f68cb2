package apache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/acmectl/acmectl/installer"
)

// certbot_apache constants.py: REWRITE_HTTPS_ARGS, HSTS_ARGS, UIR_ARGS.
var (
	rewriteHTTPS = []string{"^", "https://%{SERVER_NAME}%{REQUEST_URI}", "[END,NE,R=permanent]"}
	oldRewrites  = [][]string{
		{"^", "https://%{SERVER_NAME}%{REQUEST_URI}", "[L,QSA,R=permanent]"},
		{"^", "https://%{SERVER_NAME}%{REQUEST_URI}", "[END,QSA,R=permanent]"},
		{"^", "https://%{SERVER_NAME}%{REQUEST_URI}", "[L,NE,R=permanent]"},
	}
	headerArgs = map[installer.Enhancement][]string{
		installer.HSTS: {"always", "set", "Strict-Transport-Security", `"max-age=31536000"`},
		installer.UIR:  {"always", "set", "Content-Security-Policy", "upgrade-insecure-requests"},
	}
)

// Enhance implements installer.Installer (certbot's enhance on the TLS vhosts
// of each name).
func (a *Apache) Enhance(ctx context.Context, names []string, e installer.Enhancement, l installer.Lineage) error {
	present := 0
	for _, name := range names {
		var vhosts []*VHost
		for _, v := range a.vhosts {
			if v.SSL && inNames(v.Names(), name) || v.SSL && strings.HasPrefix(name, "*.") && inNames([]string{name}, v.Name) {
				vhosts = append(vhosts, v)
			}
		}
		if len(vhosts) == 0 {
			_ = a.load(ctx)
			return fmt.Errorf("apache: no TLS VirtualHost for %s to apply %s to; install a certificate first", name, e)
		}
		if !strings.HasPrefix(name, "*.") {
			vhosts = []*VHost{bestVHost(vhosts, name)}
		}
		for _, v := range vhosts {
			var err error
			switch e {
			case installer.Redirect:
				err = a.redirect(ctx, v)
			case installer.HSTS, installer.UIR:
				err = a.header(ctx, v, e)
			case installer.StapleOCSP:
				err = a.staple(ctx, v)
			default:
				err = fmt.Errorf("%w: %s", installer.ErrNotSupported, e)
			}
			if errors.Is(err, installer.ErrAlreadyPresent) {
				present++
				continue
			}
			if err != nil {
				_ = a.rev.Recover()
				_ = a.load(ctx)
				return err
			}
		}
	}
	if err := a.write(ctx, false, fmt.Sprintf("Enhancement %s for %s\n", e, strings.Join(names, ", "))); err != nil {
		return err
	}
	if present > 0 && present >= len(names) {
		return fmt.Errorf("apache: %s: %w", e, installer.ErrAlreadyPresent)
	}
	return nil
}

// httpVHost is certbot's _get_http_vhost: the plain vhost with the same names.
func (a *Apache) httpVHost(sv *VHost) *VHost {
	var generic *VHost
	for _, v := range a.vhosts {
		if v.SSL {
			continue
		}
		if strings.EqualFold(v.Name, sv.Name) && slices.Equal(v.Aliases, sv.Aliases) {
			return v
		}
		if generic == nil && inNames(v.Names(), sv.Name) {
			generic = v
		}
	}
	return generic
}

func (a *Apache) redirect(ctx context.Context, sv *VHost) error {
	if err := a.enableMod(ctx, "rewrite", false); err != nil {
		return err
	}
	hv := a.httpVHost(sv)
	if hv == nil {
		return a.redirectVHost(sv)
	}
	engineOn := false
	for _, c := range hv.Node.Children {
		switch strings.ToLower(c.Name) {
		case "rewriterule":
			if slices.Equal(c.Args, a.rewriteArgs()) {
				return fmt.Errorf("apache: redirect in %s: %w", hv.Where(), installer.ErrAlreadyPresent)
			}
			for _, o := range oldRewrites {
				if slices.Equal(c.Args, o) {
					c.Raw = strings.Replace(c.Raw, o[2], rewriteHTTPS[2], 1)
					c.Args = slices.Clone(rewriteHTTPS)
					return fmt.Errorf("apache: redirect in %s (updated to the current rule): %w", hv.Where(), installer.ErrAlreadyPresent)
				}
			}
		case "rewriteengine":
			engineOn = len(c.Args) > 0 && strings.EqualFold(c.Args[0], "on")
		}
	}
	ind := bodyIndent(hv.Node)
	var add []*Node
	if !engineOn {
		add = append(add, newLine(hv.File, ind, "RewriteEngine", "on"))
	}
	names := sv.Names()
	for i, n := range names {
		args := []string{"%{SERVER_NAME}", "=" + n}
		last := i == len(names)-1
		if strings.ContainsAny(n, "*?") {
			// certbot compares a wildcard alias literally, so its names never
			// redirect; match them as Apache matches ServerAlias.
			re := "^" + strings.NewReplacer(".", `\.`, "*", ".*", "?", ".").Replace(n) + "$"
			args = []string{"%{SERVER_NAME}", re, "[NC,OR]"}
			if last {
				args[2] = "[NC]"
			}
		} else if !last {
			args = append(args, "[OR]")
		}
		add = append(add, newLine(hv.File, ind, "RewriteCond", args...))
	}
	add = append(add, newLine(hv.File, ind, "RewriteRule", a.rewriteArgs()...))
	hv.Node.Children = append(hv.Node.Children, add...)
	return nil
}

// rewriteArgs: certbot's rule; a non-default https port is kept in the target.
func (a *Apache) rewriteArgs() []string {
	if a.cfg.HTTPSPort == 443 {
		return rewriteHTTPS
	}
	return []string{"^", "https://%{SERVER_NAME}:" + strconv.Itoa(a.cfg.HTTPSPort) + "%{REQUEST_URI}", rewriteHTTPS[2]}
}

func (a *Apache) header(ctx context.Context, sv *VHost, e installer.Enhancement) error {
	if err := a.enableMod(ctx, "headers", false); err != nil {
		return err
	}
	args := headerArgs[e]
	re := regexp.MustCompile(`(?i)(?:[ "]|^)` + regexp.QuoteMeta(args[2]) + `(?:[ "]|$)`)
	for _, c := range sv.Node.Children {
		if strings.EqualFold(c.Name, "Header") && re.MatchString(strings.Join(c.Args, " ")) {
			return fmt.Errorf("apache: existing %s header in %s: %w", args[2], sv.Where(), installer.ErrAlreadyPresent)
		}
	}
	sv.Node.Children = append(sv.Node.Children, newLine(sv.File, bodyIndent(sv.Node), "Header", args...))
	return nil
}

func (a *Apache) staple(ctx context.Context, sv *VHost) error {
	if err := a.enableMod(ctx, "socache_shmcb", false); err != nil {
		return err
	}
	on := false
	for _, c := range sv.Node.Children {
		if strings.EqualFold(c.Name, "SSLUseStapling") && len(c.Args) > 0 && strings.EqualFold(c.Args[0], "on") {
			on = true
		}
	}
	if !on {
		sv.Node.Children = append(sv.Node.Children, newLine(sv.File, bodyIndent(sv.Node), "SSLUseStapling", "on"))
	}
	// SSLStaplingCache is server-wide: one, in the vhost's file, inside <IfModule mod_ssl.c>.
	f := sv.File
	var ifmod *Node
	for _, n := range f.Nodes {
		if n.Section && strings.EqualFold(n.Name, "IfModule") && len(n.Args) > 0 && strings.EqualFold(n.Args[0], "mod_ssl.c") {
			ifmod = n
		}
		if n.Section {
			n.Children = slices.DeleteFunc(n.Children, func(c *Node) bool { return strings.EqualFold(c.Name, "SSLStaplingCache") })
		}
	}
	if ifmod == nil {
		ifmod = &Node{Raw: "<IfModule mod_ssl.c>\n", Name: "IfModule", Args: []string{"mod_ssl.c"}, Section: true, Close: "</IfModule>\n", File: f}
		f.Nodes = append(f.Nodes, ifmod)
	}
	ifmod.Children = append(ifmod.Children, newLine(f, "", "SSLStaplingCache", a.cfg.StaplingCache))
	if on {
		return fmt.Errorf("apache: OCSP stapling in %s: %w", sv.Where(), installer.ErrAlreadyPresent)
	}
	return nil
}

// redirectVHost is certbot's _create_redirect_vhost for a TLS vhost without a
// plain-HTTP twin: le-redirect-<name>.conf in the vhost root, a VirtualHost on
// the http port with the TLS one's names that only redirects. certbot leaves
// the file in sites-available, not enabled (certbot #3137), so it redirects
// nothing on Debian; we enable it as the SSL twin is enabled, and add the
// Listen it needs.
func (a *Apache) redirectVHost(sv *VHost) error {
	port := strconv.Itoa(a.cfg.HTTPPort)
	if err := a.ensureListen(port, false); err != nil {
		return err
	}
	name := "le-redirect.conf"
	if sv.Name != "" && len(sv.Name) < 255-len(name)-1 {
		name = "le-redirect-" + sv.Name + ".conf"
	}
	p := filepath.Join(a.vhostRoot(sv), name)
	if f := a.files[installer.RealPath(p)]; f != nil || fileExists(p) {
		return fmt.Errorf("apache: %s exists but Apache does not run it; enable it or remove it, then run again", p)
	}
	var addrs []string
	for _, ad := range sv.Addrs {
		host := ad
		if i := strings.LastIndexByte(ad, ':'); i > strings.LastIndexByte(ad, ']') {
			host = ad[:i]
		}
		addrs = append(addrs, host+":"+port)
	}
	serverName, alias := "", ""
	if sv.Name != "" {
		serverName = "ServerName " + sv.Name
	}
	if len(sv.Aliases) > 0 {
		alias = "ServerAlias " + strings.Join(sv.Aliases, " ")
	}
	text := fmt.Sprintf("<VirtualHost %s>\n%s \n%s \nServerSignature Off\n\nRewriteEngine On\nRewriteRule %s\n\nErrorLog %s/redirect.error.log\nLogLevel warn\n</VirtualHost>\n",
		strings.Join(addrs, " "), serverName, alias, strings.Join(a.rewriteArgs(), " "), a.cfg.LogsRoot)
	f, err := ParseFile(p, text)
	if err != nil {
		return fmt.Errorf("apache: %w", err)
	}
	f.isNew = true
	a.files[p] = f
	a.vhosts = append(a.vhosts, a.vhost(f, f.Nodes[0]))
	return a.enableSite(p)
}

// vhostRoot is where new vhost files go: --apache-vhost-root, else Debian's
// sites-available, else beside the TLS vhost.
func (a *Apache) vhostRoot(sv *VHost) string {
	if a.cfg.VhostRoot != "" {
		return installer.RealPath(a.cfg.VhostRoot)
	}
	if d := filepath.Join(a.cfg.ServerRoot, "sites-available"); fileExists(d) {
		return installer.RealPath(d)
	}
	return filepath.Dir(sv.File.Path)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
