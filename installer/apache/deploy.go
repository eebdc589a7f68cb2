package apache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/acmectl/acmectl/installer"
)

// Deploy implements installer.Installer (certbot's deploy_cert with
// choose_vhost, make_vhost_ssl, _deploy_cert, enable_site).
func (a *Apache) Deploy(ctx context.Context, names []string, l installer.Lineage) error {
	if l.Fullchain == "" || l.Key == "" {
		return errors.New("apache: the fullchain and key paths are needed (Apache 2.4.8 and later)")
	}
	fail := func(err error) error {
		_ = a.rev.Recover()
		_ = a.load(ctx)
		return err
	}
	var notes strings.Builder
	for _, name := range names {
		if err := conflicts(a.vhosts, name); err != nil {
			return fail(err)
		}
		targets := a.targets(name)
		if len(targets) == 0 {
			return fail(a.noMatch(name))
		}
		for _, v := range targets {
			if !v.SSL {
				sv, err := a.makeSSL(ctx, v)
				if err != nil {
					return fail(err)
				}
				v = sv
			}
			if !strings.HasPrefix(name, "*.") && !inNames(v.Names(), name) {
				addAlias(v, name)
			}
			setCert(v, l, a.OptionsFile())
			fmt.Fprintf(&notes, "Changed vhost at %s\n\tSSLCertificateFile %s\n\tSSLCertificateKeyFile %s\n", v.Where(), l.Fullchain, l.Key)
		}
	}
	return a.write(ctx, false, notes.String())
}

func addAlias(v *VHost, name string) {
	ind := bodyIndent(v.Node)
	if v.Name == "" {
		v.Node.Children = append(v.Node.Children, newLine(v.File, ind, "ServerName", name))
		v.Name = name
		return
	}
	v.Node.Children = append(v.Node.Children, newLine(v.File, ind, "ServerAlias", name))
	v.Aliases = append(v.Aliases, name)
}

// setCert points the vhost's SSLCertificateFile and SSLCertificateKeyFile at
// the lineage where they are (certbot's _deploy_cert sets them in place), adds
// the ones missing and the options include at the end, and drops
// SSLCertificateChainFile (Apache 2.4.8+ takes the full chain). A vhost
// already pointing at the lineage is left byte for byte.
func setCert(v *VHost, l installer.Lineage, options string) {
	hasInclude, haveFile, haveKey := false, false, false
	var keep []*Node
	for _, c := range v.Node.Children {
		switch strings.ToLower(c.Name) {
		case "sslcertificatefile":
			if haveFile {
				continue
			}
			haveFile = true
			setArg(c, l.Fullchain)
		case "sslcertificatekeyfile":
			if haveKey {
				continue
			}
			haveKey = true
			setArg(c, l.Key)
		case "sslcertificatechainfile":
			continue
		case "include", "includeoptional":
			if len(c.Args) > 0 && c.Args[0] == options {
				hasInclude = true
			}
		}
		keep = append(keep, c)
	}
	ind := bodyIndent(v.Node)
	if !haveFile {
		keep = append(keep, newLine(v.File, ind, "SSLCertificateFile", l.Fullchain))
	}
	if !haveKey {
		keep = append(keep, newLine(v.File, ind, "SSLCertificateKeyFile", l.Key))
	}
	if !hasInclude {
		keep = append(keep, newLine(v.File, ind, "Include", options))
	}
	v.Node.Children = keep
	v.SSL = true
}

// setArg makes n's single argument value, keeping its indentation.
func setArg(n *Node, value string) {
	if len(n.Args) == 1 && n.Args[0] == value {
		return
	}
	ind := n.Raw[:len(n.Raw)-len(strings.TrimLeft(n.Raw, " \t"))]
	*n = *newLine(n.File, ind, n.Name, value)
}

// targets are the virtual hosts Deploy configures for name: every one in a
// wildcard's scope, or the best match.
func (a *Apache) targets(name string) []*VHost {
	if !strings.HasPrefix(name, "*.") {
		if v := bestVHost(a.vhosts, name); v != nil {
			return []*VHost{v}
		}
		return nil
	}
	var out []*VHost
	for _, v := range a.vhosts {
		if inNames(v.Names(), "x"+strings.TrimPrefix(name, "*")) || inNames([]string{name}, v.Name) {
			out = append(out, v)
		}
	}
	return out
}

// Deployed implements installer.Installer.
func (a *Apache) Deployed(names []string, l installer.Lineage) bool {
	for _, name := range names {
		vs := a.targets(name)
		if len(vs) == 0 {
			return false
		}
		for _, v := range vs {
			if !v.SSL || !hasArg(v, "SSLCertificateFile", l.Fullchain) || !hasArg(v, "SSLCertificateKeyFile", l.Key) {
				return false
			}
		}
	}
	return true
}

func hasArg(v *VHost, name, value string) bool {
	for _, c := range v.Node.Children {
		if strings.EqualFold(c.Name, name) && len(c.Args) == 1 && c.Args[0] == value {
			return true
		}
	}
	return false
}

// Names implements installer.Installer: every ServerName and ServerAlias
// that is not a wildcard.
func (a *Apache) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range a.vhosts {
		for _, n := range v.Names() {
			n = strings.ToLower(n)
			if n == "" || strings.ContainsAny(n, "*?[") || !strings.Contains(n, ".") || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// twinPath is certbot's _get_ssl_vhost_path.
func (a *Apache) twinPath(orig string) string {
	p := installer.RealPath(orig)
	if a.cfg.VhostRoot != "" {
		if _, err := os.Stat(a.cfg.VhostRoot); err == nil {
			p = filepath.Join(installer.RealPath(a.cfg.VhostRoot), filepath.Base(p))
		}
	}
	return strings.TrimSuffix(p, ".conf") + a.cfg.LeVhostExt
}

// makeSSL is certbot's make_vhost_ssl: the vhost copied into <site>-le-ssl.conf
// inside <IfModule mod_ssl.c>, on the https port, with rewrite rules to https
// commented out; mod_ssl enabled, Listen for the port, the site enabled.
func (a *Apache) makeSSL(ctx context.Context, v *VHost) (*VHost, error) {
	if err := a.enableMod(ctx, "ssl", false); err != nil {
		return nil, err
	}
	if err := a.ensureListen(strconv.Itoa(a.cfg.HTTPSPort), true); err != nil {
		return nil, err
	}
	tp := a.twinPath(v.File.Path)
	var sb strings.Builder
	sb.WriteString("<IfModule mod_ssl.c>\n")
	port := strconv.Itoa(a.cfg.HTTPSPort)
	var addrs []string
	for _, ad := range v.Addrs {
		host := ad
		if i := strings.LastIndexByte(ad, ':'); i > strings.LastIndexByte(ad, ']') {
			host = ad[:i]
		}
		addrs = append(addrs, host+":"+port)
	}
	sb.WriteString("<VirtualHost " + strings.Join(addrs, " ") + ">\n")
	sifted := false
	var body strings.Builder
	dumpNodes(&body, v.Node.Children)
	lines := strings.SplitAfter(body.String(), "\n")
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		t := strings.ToLower(strings.TrimSpace(ln))
		if strings.HasPrefix(t, "rewritecond") || strings.HasPrefix(t, "rewriterule") {
			chunk := []string{ln}
			for !strings.HasPrefix(strings.ToLower(strings.TrimSpace(chunk[len(chunk)-1])), "rewriterule") && i+1 < len(lines) {
				i++
				chunk = append(chunk, lines[i])
			}
			f := strings.Fields(chunk[len(chunk)-1])
			if len(f) >= 3 && strings.HasPrefix(strings.Trim(f[2], `"'`), "https://") {
				if !sifted {
					sb.WriteString("# Some rewrite rules in this file were disabled on your HTTPS site,\n# because they have the potential to create redirection loops.\n")
					sifted = true
				}
				for _, c := range chunk {
					sb.WriteString("# " + c)
				}
				continue
			}
			for _, c := range chunk {
				sb.WriteString(c)
			}
			continue
		}
		sb.WriteString(ln)
	}
	sb.WriteString("</VirtualHost>\n</IfModule>\n")
	f := a.files[tp]
	if f == nil {
		old, err := os.ReadFile(tp)
		if err == nil { // certbot appends to an existing twin
			if f, err = ParseFile(tp, string(old)); err != nil {
				return nil, &installer.ConfigError{File: tp, Err: err}
			}
		} else {
			f = &File{Path: tp, isNew: true}
		}
		a.files[tp] = f
	}
	add, err := ParseFile(tp, sb.String())
	if err != nil {
		return nil, fmt.Errorf("apache: copy %s: %w", v.Where(), err)
	}
	base := strings.Count(f.Dump(), "\n")
	for _, n := range add.Nodes {
		shift(n, base, f)
	}
	f.Nodes = append(f.Nodes, add.Nodes...)
	sv := a.vhost(f, add.Nodes[0].Children[0])
	a.vhosts = append(a.vhosts, sv)
	if err := a.enableSite(tp); err != nil {
		return nil, err
	}
	return sv, nil
}

func shift(n *Node, by int, f *File) {
	n.Line += by
	n.File = f
	for _, c := range n.Children {
		shift(c, by, f)
	}
}

// enableSite is Debian's enable_site: a link in sites-enabled when the original
// site is enabled through one.
func (a *Apache) enableSite(twin string) error {
	if !*a.cfg.HandleSites {
		return nil
	}
	avail := filepath.Join(a.cfg.ServerRoot, "sites-available")
	enabled := filepath.Join(a.cfg.ServerRoot, "sites-enabled")
	if filepath.Dir(twin) != installer.RealPath(avail) {
		return nil // beside a file Apache already includes by glob
	}
	link := filepath.Join(enabled, filepath.Base(twin))
	if _, err := os.Readlink(link); err == nil && installer.RealPath(link) == twin {
		return nil
	}
	if err := a.rev.AddNewFiles(false, link); err != nil {
		return fmt.Errorf("apache: %w", err)
	}
	if err := os.Symlink(twin, link); err != nil {
		return fmt.Errorf("apache: enable site %s by linking %s: %w", twin, link, err)
	}
	return nil
}

// ensureListen is certbot's ensure_listen for ports.conf: a Listen for port on
// every address Apache listens on, for https inside <IfModule mod_ssl.c>.
func (a *Apache) ensureListen(port string, https bool) error {
	pc := filepath.Join(a.cfg.ServerRoot, "ports.conf")
	if _, err := os.Stat(pc); err != nil {
		pc = filepath.Join(a.cfg.ServerRoot, "apache2.conf")
	}
	f, err := a.file(pc)
	if err != nil {
		return err
	}
	var listens []string
	walk(f.Nodes, func(n *Node) {
		if strings.EqualFold(n.Name, "Listen") && len(n.Args) > 0 {
			listens = append(listens, n.Args[0])
		}
	})
	for _, l := range listens {
		if l == port || strings.HasSuffix(l, ":"+port) {
			return nil
		}
	}
	svc := port
	if https && port != "443" {
		svc = port + " https"
	}
	var add []string
	if len(listens) == 0 {
		add = append(add, svc)
	}
	for _, l := range listens {
		if i := strings.LastIndexByte(l, ':'); i > strings.LastIndexByte(l, ']') {
			add = append(add, l[:i]+":"+svc)
		} else if !contains(add, svc) {
			add = append(add, svc)
		}
	}
	if !https {
		for _, l := range add {
			f.Nodes = append(f.Nodes, newLine(f, "", "Listen", strings.Fields(l)...))
		}
		return nil
	}
	sec := &Node{Raw: "<IfModule mod_ssl.c>\n", Name: "IfModule", Args: []string{"mod_ssl.c"}, Section: true, Close: "</IfModule>\n", File: f}
	for _, l := range add {
		sec.Children = append(sec.Children, newLine(f, "    ", "Listen", strings.Fields(l)...))
	}
	if d := f.Dump(); d != "" && !strings.HasSuffix(d, "\n") {
		f.Nodes = append(f.Nodes, &Node{Raw: "\n", File: f})
	}
	f.Nodes = append(f.Nodes, sec)
	return nil
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}
