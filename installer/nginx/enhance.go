package nginx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/acmectl/acmectl/installer"
)

// Header values certbot sets (certbot_nginx constants.py HSTS_ARGS; the UIR
// value is certbot_apache's UIR_ARGS, which the nginx plugin lacks).
var headers = map[installer.Enhancement][2]string{
	installer.HSTS: {"Strict-Transport-Security", `"max-age=31536000"`},
	installer.UIR:  {"Content-Security-Policy", `"upgrade-insecure-requests"`},
}

// Enhance implements installer.Installer (certbot's enhance with
// _enable_redirect, _set_http_header, _enable_ocsp_stapling).
func (n *Nginx) Enhance(ctx context.Context, names []string, e installer.Enhancement, l installer.Lineage) error {
	present := 0
	for _, name := range names {
		var err error
		switch e {
		case installer.Redirect:
			err = n.redirect(name)
		case installer.HSTS, installer.UIR:
			err = n.header(name, e)
		case installer.StapleOCSP:
			err = n.staple(name, l)
		default:
			err = fmt.Errorf("%w: %s", installer.ErrNotSupported, e)
		}
		if errors.Is(err, installer.ErrAlreadyPresent) {
			present++
			continue
		}
		if err != nil {
			_ = n.load()
			return err
		}
	}
	if err := n.write(false, fmt.Sprintf("Enhancement %s for %s\n", e, strings.Join(names, ", "))); err != nil {
		return err
	}
	if present == len(names) {
		return fmt.Errorf("nginx: %s: %w", e, installer.ErrAlreadyPresent)
	}
	return nil
}

// redirectBlock is certbot's _redirect_block_for_domain.
func (n *Nginx) redirectBlock(f *File, name, ind string) *Directive {
	sym, host := "=", name
	if strings.HasPrefix(name, "*.") {
		sym = "~"
		host = "^" + strings.ReplaceAll(strings.ReplaceAll(name, ".", `\.`), "*", "[^.]+") + "$"
	}
	target := "https://$host$request_uri"
	if n.cfg.HTTPSPort != 443 {
		target = "https://$host:" + strconv.Itoa(n.cfg.HTTPSPort) + "$request_uri"
	}
	ret := newDirective(f, "return", "301", target)
	ret.Trailer = ""
	ret.Pre = "\n" + ind + "    "
	d := &Directive{File: f, Words: []Word{{Raw: "if"}, {Pre: " ", Raw: "($host"}, {Pre: " ", Raw: sym}, {Pre: " ", Raw: host + ")"}},
		Gap: " ", Block: &Block{Items: []*Directive{ret}, Tail: "\n" + ind}, Trailer: Managed}
	return d
}

func hasRedirect(v *VHost, name string) bool {
	for _, d := range v.Dir.Block.Items {
		if d.Name() != "if" || d.Block == nil || len(d.Words) != 4 {
			continue
		}
		if strings.TrimSuffix(d.Words[3].Raw, ")") == name || strings.Contains(d.Words[3].Raw, strings.ReplaceAll(strings.TrimPrefix(name, "*"), ".", `\.`)) {
			for _, r := range d.Block.Items {
				if r.Name() == "return" && len(r.Args()) == 2 && r.Args()[0] == "301" && strings.HasPrefix(r.Args()[1], "https://$host") {
					return true
				}
			}
		}
	}
	return false
}

// redirect is certbot's _enable_redirect for one name: the best plain-HTTP block
// on the http port gets the redirect; a block serving both gets split first.
func (n *Nginx) redirect(name string) error {
	port := strconv.Itoa(n.cfg.HTTPPort)
	var plain []*VHost
	for _, v := range n.tree.VHosts() {
		if v.listening(port, false) {
			plain = append(plain, v)
		}
	}
	var vhosts []*VHost
	if strings.HasPrefix(name, "*.") {
		for _, v := range plain {
			for _, sn := range v.Names {
				if inWildcardScope(sn, name) {
					vhosts = append(vhosts, v)
					break
				}
			}
		}
	} else if v := best(rank(plain, name, false)); v != nil {
		vhosts = append(vhosts, v)
	}
	if len(vhosts) == 0 {
		n.cfg.Logger.Info("no matching insecure server block listening on the http port; no redirect added", "identifier", name, "port", port)
		return nil
	}
	for _, v := range vhosts {
		if v.SSL {
			hv, err := n.split(v, map[string]bool{"listen": true, "server_name": true})
			if err != nil {
				return err
			}
			insert(hv, newDirective(hv.Dir.File, "return", "404"), false)
			v = hv
		}
		if hasRedirect(v, name) {
			return fmt.Errorf("nginx: redirect for %s in %s: %w", name, v.Where(), installer.ErrAlreadyPresent)
		}
		ind := indent(v.Dir.Block, lineIndent(v.Dir))
		insert(v, n.redirectBlock(v.Dir.File, name, ind), true)
	}
	return nil
}

// split is certbot's _split_block: a copy keeps the plain listeners (and only
// the given directives, when set), the original keeps the TLS ones. It returns
// the plain copy.
func (n *Nginx) split(v *VHost, only map[string]bool) (*VHost, error) {
	d, err := duplicate(v, only, false)
	if err != nil {
		return nil, err
	}
	hv := &VHost{Dir: d, Parent: v.Parent}
	isSSL := func(x *Directive) bool {
		for _, a := range x.Args()[1:] {
			if a == "ssl" {
				return true
			}
		}
		return false
	}
	for _, name := range []string{"ssl_certificate", "ssl_certificate_key", "ssl_dhparam"} {
		remove(hv, name, nil)
	}
	remove(hv, "listen", isSSL)
	remove(hv, "include", func(x *Directive) bool { return len(x.Args()) == 1 && x.Args()[0] == n.OptionsFile() })
	remove(v, "listen", func(x *Directive) bool { return !isSSL(x) })
	for _, nv := range n.tree.VHosts() {
		if nv.Dir == d {
			return nv, nil
		}
	}
	return hv, nil
}

func hasHeader(v *VHost, header string) bool {
	for _, d := range v.Included {
		if d.Name() == "add_header" && len(d.Args()) > 0 && strings.EqualFold(d.Args()[0], header) {
			return true
		}
	}
	return false
}

// header is certbot's _set_http_header: add_header … always in the TLS block.
func (n *Nginx) header(name string, e installer.Enhancement) error {
	h := headers[e]
	vhosts, err := n.chooseVHosts(name, false)
	if err != nil {
		return err
	}
	for _, v := range vhosts {
		if !v.SSL {
			return fmt.Errorf("nginx: the server block at %s for %s has no TLS listener; install a certificate first", v.Where(), name)
		}
		if hasHeader(v, h[0]) {
			return fmt.Errorf("nginx: existing %s header in %s: %w", h[0], v.Where(), installer.ErrAlreadyPresent)
		}
		mixed := false
		for _, a := range v.Addrs {
			if !a.SSL {
				mixed = true
			}
		}
		if mixed {
			if _, err := n.split(v, nil); err != nil {
				return err
			}
			for _, nv := range n.tree.VHosts() {
				if nv.Dir == v.Dir {
					v = nv
				}
			}
		}
		if err := n.add(v, newDirective(v.Dir.File, "add_header", h[0], h[1], "always"), false); err != nil {
			return err
		}
	}
	return nil
}

// staple is certbot's _enable_ocsp_stapling.
func (n *Nginx) staple(name string, l installer.Lineage) error {
	if l.Chain == "" {
		return errors.New("nginx: the chain path is required to enable OCSP stapling")
	}
	vhosts, err := n.chooseVHosts(name, false)
	if err != nil {
		return err
	}
	for _, v := range vhosts {
		if !v.SSL {
			return fmt.Errorf("nginx: the server block at %s for %s has no TLS listener; install a certificate first", v.Where(), name)
		}
		if d := v.find("ssl_stapling"); d != nil && len(d.Args()) == 1 && d.Args()[0] == "on" {
			if t := v.find("ssl_trusted_certificate"); t != nil && len(t.Args()) == 1 && t.Args()[0] == l.Chain {
				return fmt.Errorf("nginx: OCSP stapling in %s: %w", v.Where(), installer.ErrAlreadyPresent)
			}
		}
		for _, d := range []*Directive{
			newDirective(v.Dir.File, "ssl_trusted_certificate", l.Chain),
			newDirective(v.Dir.File, "ssl_stapling", "on"),
			newDirective(v.Dir.File, "ssl_stapling_verify", "on"),
		} {
			if err := n.add(v, d, false); err != nil {
				return fmt.Errorf("nginx: an error occurred while enabling OCSP stapling for %s: %w", name, err)
			}
		}
	}
	return nil
}
