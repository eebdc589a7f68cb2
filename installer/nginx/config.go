package nginx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/acmectl/acmectl/installer"
)

// File is one configuration file as read.
type File struct {
	Path  string
	Block *Block
	orig  string
}

// Changed reports whether the tree differs from the file as read.
func (f *File) Changed() bool { return f.Block.Dump() != f.orig }

// Tree is the whole configuration as nginx reads it: the main file and every
// file its include directives name, in nginx's order.
type Tree struct {
	Root  string // the server root, directory of the main file; relative includes resolve here
	Main  string
	Files map[string]*File
	order []string
}

// Load reads main (an absolute path) and every included file. Include paths are
// globs relative to the directory of main (nginx's conf_prefix); a glob that
// matches nothing is fine, a plain path that is missing is an error, as in nginx.
func Load(main string) (*Tree, error) {
	t := &Tree{Root: filepath.Dir(main), Main: main, Files: map[string]*File{}}
	if _, err := t.file(main); err != nil {
		return nil, err
	}
	if err := t.walkIncludes(t.Files[main].Block, map[string]bool{main: true}); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tree) file(path string) (*File, error) {
	if f, ok := t.Files[path]; ok {
		return f, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &installer.ConfigError{File: path, Err: err}
	}
	f := &File{Path: path, orig: string(b)}
	blk, err := Parse(string(b), f)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, &installer.ConfigError{File: path, Line: se.Line, Err: errors.New(se.Msg)}
		}
		return nil, &installer.ConfigError{File: path, Err: err}
	}
	f.Block = blk
	t.Files[path] = f
	t.order = append(t.order, path)
	return f, nil
}

// Resolve expands an include argument to the files nginx would read.
func (t *Tree) Resolve(arg string) ([]string, error) {
	p := arg
	if !filepath.IsAbs(p) {
		p = filepath.Join(t.Root, p)
	}
	if !strings.ContainsAny(p, "*?[") {
		return []string{filepath.Clean(p)}, nil
	}
	m, err := filepath.Glob(p)
	if err != nil {
		return nil, err
	}
	// glob(3) does not match a leading dot with a wildcard; Go's Glob does.
	var out []string
	for _, f := range m {
		if strings.HasPrefix(filepath.Base(f), ".") && !strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

func (t *Tree) walkIncludes(b *Block, stack map[string]bool) error {
	for _, d := range b.Items {
		if d.Block != nil {
			if err := t.walkIncludes(d.Block, stack); err != nil {
				return err
			}
			continue
		}
		if d.Name() != "include" || len(d.Words) != 2 {
			continue
		}
		files, err := t.Resolve(d.Args()[0])
		if err != nil {
			return &installer.ConfigError{File: d.File.Path, Line: d.Line, Err: err}
		}
		for _, p := range files {
			if stack[p] {
				return &installer.ConfigError{File: d.File.Path, Line: d.Line, Err: fmt.Errorf("include loop through %s", p)}
			}
			f, err := t.file(p)
			if err != nil {
				return err
			}
			stack[p] = true
			err = t.walkIncludes(f.Block, stack)
			delete(stack, p)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Walk calls fn for every directive as nginx reads it, with the context path
// (the names of the enclosing blocks: "http", "server", ...), entering included
// files where they are included.
func (t *Tree) Walk(fn func(d *Directive, ctx []string)) {
	t.walk(t.Files[t.Main].Block, nil, fn)
}

func (t *Tree) walk(b *Block, ctx []string, fn func(d *Directive, ctx []string)) {
	for _, d := range b.Items {
		fn(d, ctx)
		if d.Block != nil {
			t.walk(d.Block, append(slices.Clone(ctx), d.Name()), fn)
			continue
		}
		if d.Name() == "include" && len(d.Words) == 2 {
			files, _ := t.Resolve(d.Args()[0])
			for _, p := range files {
				if f := t.Files[p]; f != nil {
					t.walk(f.Block, ctx, fn)
				}
			}
		}
	}
}

// Changed returns the files whose tree differs from what was read.
func (t *Tree) Changed() []*File {
	var out []*File
	for _, p := range t.order {
		if f := t.Files[p]; f.Changed() {
			out = append(out, f)
		}
	}
	return out
}

// Addr is one listen directive's address.
type Addr struct {
	Host     string // "" for all addresses, "[::]" style for IPv6
	Port     string
	SSL      bool
	Default  bool
	IPv6     bool
	IPv6Only bool
	Unix     bool
}

// ParseListen reads a listen directive's arguments (ngx_http_core_listen).
func ParseListen(args []string) (Addr, bool) {
	if len(args) == 0 {
		return Addr{}, false
	}
	a := Addr{}
	s := args[0]
	switch {
	case strings.HasPrefix(s, "unix:"):
		a.Unix = true
	case strings.HasPrefix(s, "["):
		a.IPv6 = true
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Addr{}, false
		}
		a.Host = s[:end+1]
		if rest := s[end+1:]; strings.HasPrefix(rest, ":") {
			a.Port = rest[1:]
		}
	case isPort(s):
		a.Port = s
	default:
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			a.Host, a.Port = s[:i], s[i+1:]
		} else {
			a.Host = s
		}
	}
	if a.Port == "" {
		a.Port = "80"
	}
	if a.Host == "*" || a.Host == "0.0.0.0" {
		a.Host = ""
	}
	for _, p := range args[1:] {
		switch {
		case p == "ssl":
			a.SSL = true
		case p == "default_server" || p == "default":
			a.Default = true
		case p == "ipv6only=on":
			a.IPv6Only = true
		}
	}
	return a, true
}

func isPort(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// key is the socket nginx opens for the address.
func (a Addr) key() string { return a.Host + ":" + a.Port }

// VHost is one server block in the http context.
type VHost struct {
	Dir      *Directive // the server directive
	Parent   *Block     // the block holding Dir
	Names    []string   // server_name arguments, in order
	Addrs    []Addr
	SSL      bool // some address has ssl (or "ssl on")
	sslOn    bool
	Included []*Directive // top-level directives of the block including included files
}

// Where is "file:line" of the server block.
func (v *VHost) Where() string { return fmt.Sprintf("%s:%d", v.Dir.File.Path, v.Dir.Line) }

// listening reports whether the vhost has an address on port with the given
// sslness (certbot's _vhost_listening): no listen means port 80.
func (v *VHost) listening(port string, ssl bool) bool {
	if len(v.Addrs) == 0 {
		return port == "80" && ssl == v.sslOn
	}
	for _, a := range v.Addrs {
		if a.Port == port && (a.SSL || v.sslOn) == ssl {
			return true
		}
	}
	return false
}

// find returns the first directive named name in the vhost (including included
// files' directives).
func (v *VHost) find(name string) *Directive {
	for _, d := range v.Included {
		if d.Name() == name {
			return d
		}
	}
	return nil
}

// VHosts returns every server block of the http context, in nginx's order.
// An address that has ssl in one block has it in every block (nginx opens one
// socket per address), as certbot's _build_addr_to_ssl does.
func (t *Tree) VHosts() []*VHost {
	var out []*VHost
	parents := map[*Directive]*Block{}
	t.Walk(func(d *Directive, ctx []string) {
		if d.Block != nil {
			for _, c := range d.Block.Items {
				parents[c] = d.Block
			}
		}
		if d.Name() == "server" && d.Block != nil && len(ctx) > 0 && ctx[len(ctx)-1] == "http" {
			out = append(out, &VHost{Dir: d})
		}
	})
	// Parents of top-level directives of included files are the files' blocks.
	for _, f := range t.Files {
		for _, c := range f.Block.Items {
			if parents[c] == nil {
				parents[c] = f.Block
			}
		}
	}
	sslAddr := map[string]bool{}
	for _, v := range out {
		v.Parent = parents[v.Dir]
		v.Included = t.expand(v.Dir.Block)
		v.scan()
		for _, a := range v.Addrs {
			if a.SSL || v.sslOn {
				sslAddr[a.key()] = true
			}
		}
	}
	for _, v := range out {
		v.SSL = v.sslOn
		for i := range v.Addrs {
			if sslAddr[v.Addrs[i].key()] {
				v.Addrs[i].SSL = true
			}
			if v.Addrs[i].SSL {
				v.SSL = true
			}
		}
	}
	return out
}

// scan reads the block's listen, server_name and "ssl on" directives.
func (v *VHost) scan() {
	for _, d := range v.Included {
		switch d.Name() {
		case "listen":
			if a, ok := ParseListen(d.Args()); ok && !a.Unix {
				v.Addrs = append(v.Addrs, a)
			}
		case "server_name":
			v.Names = append(v.Names, d.Args()...)
		case "ssl":
			if args := d.Args(); len(args) == 1 && args[0] == "on" {
				v.sslOn = true
			}
		}
	}
}

// expand returns b's directives with include directives replaced by the
// included files' top-level directives.
func (t *Tree) expand(b *Block) []*Directive {
	var out []*Directive
	for _, d := range b.Items {
		out = append(out, d)
		if d.Name() == "include" && len(d.Words) == 2 {
			files, _ := t.Resolve(d.Args()[0])
			for _, p := range files {
				if f := t.Files[p]; f != nil {
					out = append(out, t.expand(f.Block)...)
				}
			}
		}
	}
	return out
}

// parseStandalone parses one file on its own (the TLS options file).
func parseStandalone(path string) (*Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(b), &File{Path: path})
}
