package nginx

import (
	"fmt"
	"strings"
)

// A parsed file keeps every byte: dumping an unchanged tree gives the file back
// byte for byte, and a change touches only the directives it adds, edits or
// removes (comments, blank lines, tabs and alignment stay as the operator wrote
// them). The tokenizer follows nginx's ngx_conf_read_token: words separated by
// blanks, "…" and '…' quoting with backslash escapes, ${var} inside a word, # a
// comment only where a word could start; *_by_lua_block bodies are kept raw.

// Directive is one statement: "name args;" or "name args { … }".
type Directive struct {
	Pre     string  // blanks and comments before the name
	Words   []Word  // the name, then the arguments
	Gap     string  // blanks before ';' or '{'
	Block   *Block  // nil for a simple directive
	Raw     *string // body of a *_by_lua_block, between the braces
	Trailer string  // a comment on the same line after ';' or '}' (" # managed by Certbot")
	Line    int     // line of the name, 1-based
	File    *File
}

// Word is one name or argument as written, with the blanks before it.
type Word struct {
	Pre string
	Raw string
}

// Block is the inside of a { … } or a whole file.
type Block struct {
	Items []*Directive
	Tail  string // blanks and comments before '}' or the end of the file
}

// Name is the directive's name.
func (d *Directive) Name() string {
	if len(d.Words) == 0 {
		return ""
	}
	return d.Words[0].Value()
}

// Args are the unquoted arguments.
func (d *Directive) Args() []string {
	var out []string
	for _, w := range d.Words[1:] {
		out = append(out, w.Value())
	}
	return out
}

// Value unquotes and unescapes the word as nginx does.
func (w Word) Value() string {
	s := w.Raw
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		q := s[0]
		s = s[1 : len(s)-1]
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				switch s[i+1] {
				case q, '\\':
					i++
				case 't':
					b.WriteByte('\t')
					i++
					continue
				case 'r':
					b.WriteByte('\r')
					i++
					continue
				case 'n':
					b.WriteByte('\n')
					i++
					continue
				}
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

// Dump writes the block back as text.
func (b *Block) Dump() string {
	var sb strings.Builder
	b.dump(&sb)
	return sb.String()
}

func (b *Block) dump(sb *strings.Builder) {
	for _, d := range b.Items {
		d.dump(sb)
	}
	sb.WriteString(b.Tail)
}

func (d *Directive) dump(sb *strings.Builder) {
	sb.WriteString(d.Pre)
	if len(d.Words) == 0 { // a directive commented out
		sb.WriteString(d.Trailer)
		return
	}
	for _, w := range d.Words {
		sb.WriteString(w.Pre)
		sb.WriteString(w.Raw)
	}
	sb.WriteString(d.Gap)
	switch {
	case d.Raw != nil:
		sb.WriteByte('{')
		sb.WriteString(*d.Raw)
		sb.WriteByte('}')
	case d.Block != nil:
		sb.WriteByte('{')
		d.Block.dump(sb)
		sb.WriteByte('}')
	default:
		sb.WriteByte(';')
	}
	sb.WriteString(d.Trailer)
}

// String is the directive as one line of text, for messages.
func (d *Directive) String() string {
	var sb strings.Builder
	for i, w := range d.Words {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(w.Raw)
	}
	return sb.String()
}

type parser struct {
	src  string
	pos  int
	line int
	file *File
}

// SyntaxError is a parse error at a line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse parses one file's text.
func Parse(src string, f *File) (*Block, error) {
	p := &parser{src: src, line: 1, file: f}
	b, err := p.block(false)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Line: p.line, Msg: fmt.Sprintf(format, a...)}
}

// blanks consumes whitespace and comments.
func (p *parser) blanks() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return p.src[start:p.pos]
		}
	}
	return p.src[start:p.pos]
}

// trailer consumes blanks and one comment up to (not including) the newline,
// when the comment is on the same line.
func (p *parser) trailer() string {
	i := p.pos
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	if i < len(p.src) && p.src[i] == '#' {
		for i < len(p.src) && p.src[i] != '\n' {
			i++
		}
		s := p.src[p.pos:i]
		p.pos = i
		return s
	}
	return ""
}

func (p *parser) block(inner bool) (*Block, error) {
	b := &Block{}
	for {
		pre := p.blanks()
		if p.pos >= len(p.src) {
			if inner {
				return nil, p.errf("unexpected end of file, expecting \"}\"")
			}
			b.Tail = pre
			return b, nil
		}
		if p.src[p.pos] == '}' {
			if !inner {
				return nil, p.errf("unexpected \"}\"")
			}
			b.Tail = pre
			p.pos++
			return b, nil
		}
		d, err := p.directive(pre)
		if err != nil {
			return nil, err
		}
		b.Items = append(b.Items, d)
	}
}

func (p *parser) directive(pre string) (*Directive, error) {
	d := &Directive{Pre: pre, Line: p.line, File: p.file}
	wpre := ""
	for {
		if p.pos >= len(p.src) {
			return nil, p.errf("unexpected end of file, expecting \";\" or \"}\"")
		}
		c := p.src[p.pos]
		switch c {
		case ';':
			if len(d.Words) == 0 {
				return nil, p.errf("unexpected \";\"")
			}
			d.Gap = wpre
			p.pos++
			d.Trailer = p.trailer()
			return d, nil
		case '{':
			if len(d.Words) == 0 {
				return nil, p.errf("unexpected \"{\"")
			}
			d.Gap = wpre
			p.pos++
			if strings.HasSuffix(d.Name(), "_by_lua_block") {
				raw, err := p.luaBody()
				if err != nil {
					return nil, err
				}
				d.Raw = &raw
			} else {
				b, err := p.block(true)
				if err != nil {
					return nil, err
				}
				d.Block = b
			}
			d.Trailer = p.trailer()
			return d, nil
		case '}':
			return nil, p.errf("unexpected \"}\"")
		}
		w, err := p.word()
		if err != nil {
			return nil, err
		}
		d.Words = append(d.Words, Word{Pre: wpre, Raw: w})
		wpre = p.blanks()
	}
}

func (p *parser) word() (string, error) {
	start := p.pos
	c := p.src[p.pos]
	if c == '"' || c == '\'' {
		p.pos++
		for p.pos < len(p.src) {
			switch p.src[p.pos] {
			case '\\':
				p.pos += 2
				continue
			case '\n':
				p.line++
			case c:
				p.pos++
				return p.src[start:p.pos], nil
			}
			p.pos++
		}
		return "", p.errf("unexpected end of file in a quoted string")
	}
	for p.pos < len(p.src) {
		switch ch := p.src[p.pos]; {
		case ch == '\\':
			p.pos += 2
			if p.pos > len(p.src) {
				p.pos = len(p.src)
			}
			continue
		case ch == '$' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '{':
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return "", p.errf("unterminated ${ variable")
			}
			p.pos += end + 1
			continue
		case ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ';' || ch == '{' || ch == '}':
			return p.src[start:p.pos], nil
		}
		p.pos++
	}
	return p.src[start:p.pos], nil
}

// luaBody reads a Lua block body up to its closing brace, skipping Lua strings
// and comments, as lua-nginx-module's own tokenizer does.
func (p *parser) luaBody() (string, error) {
	start := p.pos
	depth := 0
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
		case c == '-' && strings.HasPrefix(p.src[p.pos:], "--"):
			if lvl, ok := longBracket(p.src[p.pos+2:]); ok {
				p.pos += 2
				p.skipLong(lvl)
				continue
			}
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
			continue
		case c == '[':
			if lvl, ok := longBracket(p.src[p.pos:]); ok {
				p.skipLong(lvl)
				continue
			}
		case c == '"' || c == '\'':
			p.pos++
			for p.pos < len(p.src) && p.src[p.pos] != c {
				if p.src[p.pos] == '\\' {
					p.pos++
				}
				if p.pos < len(p.src) && p.src[p.pos] == '\n' {
					p.line++
				}
				p.pos++
			}
		case c == '{':
			depth++
		case c == '}':
			if depth == 0 {
				body := p.src[start:p.pos]
				p.pos++
				return body, nil
			}
			depth--
		}
		p.pos++
	}
	return "", p.errf("unexpected end of file in a Lua block")
}

// longBracket reports whether s starts with [[ or [=*[ and its level.
func longBracket(s string) (int, bool) {
	if len(s) < 2 || s[0] != '[' {
		return 0, false
	}
	i := 1
	for i < len(s) && s[i] == '=' {
		i++
	}
	if i < len(s) && s[i] == '[' {
		return i - 1, true
	}
	return 0, false
}

func (p *parser) skipLong(level int) {
	closeTok := "]" + strings.Repeat("=", level) + "]"
	end := strings.Index(p.src[p.pos:], closeTok)
	if end < 0 {
		end = len(p.src) - p.pos
	} else {
		end += len(closeTok)
	}
	p.line += strings.Count(p.src[p.pos:p.pos+end], "\n")
	p.pos += end
}
