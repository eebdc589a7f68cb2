package nginx

import (
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/installer"
)

// Managed is the comment certbot puts after every directive it adds
// (certbot_nginx parser.py COMMENT_BLOCK).
const Managed = " # managed by Certbot"

// Directives nginx allows more than once in a server block (certbot's
// REPEATABLE_DIRECTIVES).
var repeatable = map[string]bool{"server_name": true, "listen": true, "include": true, "rewrite": true, "add_header": true, "location": true, "if": true}

// indent returns the indentation used inside b: the last directive's, or the
// parent's plus four spaces.
func indent(b *Block, parentIndent string) string {
	for i := len(b.Items) - 1; i >= 0; i-- {
		pre := b.Items[i].Pre
		if j := strings.LastIndexByte(pre, '\n'); j >= 0 {
			return pre[j+1:]
		}
	}
	return parentIndent + "    "
}

func lineIndent(d *Directive) string {
	if j := strings.LastIndexByte(d.Pre, '\n'); j >= 0 {
		return d.Pre[j+1:]
	}
	return ""
}

// newDirective builds "name args;" with certbot's comment; raw words are used
// as given (quote them yourself).
func newDirective(f *File, words ...string) *Directive {
	d := &Directive{File: f, Trailer: Managed}
	for i, w := range words {
		pre := " "
		if i == 0 {
			pre = ""
		}
		d.Words = append(d.Words, Word{Pre: pre, Raw: w})
	}
	return d
}

func sameWords(a, b *Directive) bool {
	if len(a.Words) != len(b.Words) {
		return false
	}
	for i := range a.Words {
		if a.Words[i].Value() != b.Words[i].Value() {
			return false
		}
	}
	return true
}

func findIn(b *Block, name string, match func(*Directive) bool) int {
	for i, d := range b.Items {
		if d.Name() == name && (match == nil || match(d)) {
			return i
		}
	}
	return -1
}

// insert puts d into the server block at the top or the bottom, indented like
// its neighbours.
func insert(v *VHost, d *Directive, top bool) {
	b := v.Dir.Block
	d.Pre = "\n" + indent(b, lineIndent(v.Dir))
	if d.File == nil {
		d.File = v.Dir.File
	}
	setFile(d, v.Dir.File)
	if top {
		b.Items = append([]*Directive{d}, b.Items...)
		return
	}
	b.Items = append(b.Items, d)
	if !strings.Contains(b.Tail, "\n") {
		b.Tail = "\n" + lineIndent(v.Dir) + strings.TrimLeft(b.Tail, " \t")
	}
}

// add is certbot's _add_directive: a repeatable directive is appended (or put at
// the top); a single one already present with the same value is left; with
// another value it is a conflict. An include is checked against what it brings.
func (n *Nginx) add(v *VHost, d *Directive, top bool) error {
	b := v.Dir.Block
	name := d.Name()
	if name == "include" {
		if err := n.checkIncluded(v, d.Args()[0]); err != nil {
			return err
		}
		if i := findIn(b, "include", func(x *Directive) bool { return sameWords(x, d) }); i >= 0 {
			return nil
		}
	}
	if repeatable[name] {
		insert(v, d, top)
		return nil
	}
	if i := findIn(b, name, nil); i >= 0 {
		if sameWords(b.Items[i], d) {
			return nil
		}
		return &installer.ConfigError{File: v.Dir.File.Path, Line: b.Items[i].Line,
			Err: fmt.Errorf("tried to insert directive %q but found conflicting %q", d.String(), b.Items[i].String())}
	}
	insert(v, d, top)
	return nil
}

// checkIncluded comments out directives of the block that the included file
// sets to the same value and fails on ones it sets differently (nginx would
// refuse a duplicate), as certbot does for its options file.
func (n *Nginx) checkIncluded(v *VHost, path string) error {
	t, err := parseStandalone(path)
	if err != nil {
		return nil // nginx -t will name the problem
	}
	b := v.Dir.Block
	for _, inc := range t.Items {
		if repeatable[inc.Name()] {
			continue
		}
		i := findIn(b, inc.Name(), nil)
		if i < 0 {
			continue
		}
		have := b.Items[i]
		if !sameWords(have, inc) {
			return &installer.ConfigError{File: v.Dir.File.Path, Line: have.Line,
				Err: fmt.Errorf("tried to insert directive %q (from %s) but found conflicting %q", inc.String(), path, have.String())}
		}
		// "# ssl_protocols TLSv1.2; # duplicated in <path>", as certbot writes it.
		have.Pre += "# " + have.String() + "; # duplicated in " + path
		have.Words, have.Gap, have.Trailer = nil, "", ""
	}
	return nil
}

// updateOrAdd replaces the first directive of that name (certbot's
// _update_or_add_directive) or adds it.
func (n *Nginx) updateOrAdd(v *VHost, d *Directive) error {
	b := v.Dir.Block
	if i := findIn(b, d.Name(), nil); i >= 0 {
		have := b.Items[i]
		have.Words = d.Words
		have.Gap = ""
		have.Trailer = Managed
		return nil
	}
	return n.add(v, d, false)
}

// remove drops the server block's directives named name that match.
func remove(v *VHost, name string, match func(*Directive) bool) {
	b := v.Dir.Block
	out := b.Items[:0]
	for _, d := range b.Items {
		if d.Name() == name && (match == nil || match(d)) {
			continue
		}
		out = append(out, d)
	}
	b.Items = out
}

func setFile(d *Directive, f *File) {
	d.File = f
	if d.Block != nil {
		for _, c := range d.Block.Items {
			setFile(c, f)
		}
	}
}

// duplicate copies the server block after the last item of its parent block
// (certbot's duplicate_vhost); only, when set, keeps just those directives.
func duplicate(v *VHost, only map[string]bool, dropSingleton bool) (*Directive, error) {
	var sb strings.Builder
	c := *v.Dir
	c.Pre = ""
	c.dump(&sb)
	blk, err := Parse(sb.String(), v.Dir.File)
	if err != nil || len(blk.Items) != 1 {
		return nil, fmt.Errorf("copy server block %s: %v", v.Where(), err)
	}
	d := blk.Items[0]
	d.Pre = "\n\n" + lineIndent(v.Dir)
	d.Trailer = ""
	if only != nil {
		var keep []*Directive
		for _, x := range d.Block.Items {
			if only[x.Name()] {
				keep = append(keep, x)
			}
		}
		d.Block.Items = keep
		d.Block.Tail = "\n" + lineIndent(v.Dir)
	}
	if dropSingleton {
		// Parameters nginx allows once per address (certbot's exclude list).
		single := map[string]bool{"default_server": true, "default": true, "setfib": true, "fastopen": true, "backlog": true,
			"rcvbuf": true, "sndbuf": true, "accept_filter": true, "deferred": true, "bind": true, "ipv6only": true, "reuseport": true, "so_keepalive": true}
		for _, x := range d.Block.Items {
			if x.Name() != "listen" {
				continue
			}
			var ws []Word
			for i, w := range x.Words {
				k, _, _ := strings.Cut(w.Value(), "=")
				if i >= 2 && single[k] {
					continue
				}
				ws = append(ws, w)
			}
			x.Words = ws
		}
	}
	setFile(d, v.Dir.File)
	v.Parent.Items = append(v.Parent.Items, d)
	return d, nil
}
