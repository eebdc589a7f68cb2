package apache

import (
	"fmt"
	"strings"
)

// Apache's configuration is line based: a directive per logical line (a
// trailing backslash continues it), <Section args> … </Section>, # comments on
// their own lines. Every Node keeps its raw text, so an unchanged tree dumps the
// file back byte for byte.

// Node is a directive, a section, or a blank/comment line (Name "").
type Node struct {
	Raw      string // the line(s) as written, with the newline; for a section the opening line
	Name     string
	Args     []string
	Line     int
	Children []*Node // a section's body
	Close    string  // a section's closing line as written
	Section  bool
	File     *File
}

// File is one parsed configuration file.
type File struct {
	Path  string
	Nodes []*Node
	orig  string
	isNew bool
}

// Dump writes the file back.
func (f *File) Dump() string {
	var sb strings.Builder
	dumpNodes(&sb, f.Nodes)
	return sb.String()
}

// Changed reports whether the file differs from what was read.
func (f *File) Changed() bool { return f.isNew || f.Dump() != f.orig }

func dumpNodes(sb *strings.Builder, ns []*Node) {
	for _, n := range ns {
		sb.WriteString(n.Raw)
		if n.Section {
			dumpNodes(sb, n.Children)
			sb.WriteString(n.Close)
		}
	}
}

// ParseFile parses text as the file at path.
func ParseFile(path, text string) (*File, error) {
	f := &File{Path: path, orig: text}
	type frame struct {
		n    *Node
		list *[]*Node
	}
	stack := []frame{{nil, &f.Nodes}}
	line := 1
	for pos := 0; pos < len(text); {
		start, startLine := pos, line
		// one logical line
		for {
			nl := strings.IndexByte(text[pos:], '\n')
			if nl < 0 {
				pos = len(text)
				break
			}
			seg := strings.TrimRight(text[pos:pos+nl], "\r")
			pos += nl + 1
			line++
			if !strings.HasSuffix(seg, "\\") || strings.HasPrefix(strings.TrimSpace(seg), "#") {
				break
			}
		}
		raw := text[start:pos]
		logical := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(raw, "\\\r\n", " "), "\\\n", " "))
		top := stack[len(stack)-1]
		switch {
		case logical == "" || strings.HasPrefix(logical, "#"):
			*top.list = append(*top.list, &Node{Raw: raw, Line: startLine, File: f})
		case strings.HasPrefix(logical, "</"):
			name := strings.TrimSuffix(strings.TrimSpace(logical[2:]), ">")
			if top.n == nil || !strings.EqualFold(name, top.n.Name) {
				return nil, fmt.Errorf("line %d: </%s> without matching <%s>", startLine, name, name)
			}
			top.n.Close = raw
			stack = stack[:len(stack)-1]
		case strings.HasPrefix(logical, "<"):
			inner := strings.TrimSpace(strings.TrimSuffix(logical[1:], ">"))
			if !strings.HasSuffix(logical, ">") {
				return nil, fmt.Errorf("line %d: section %q lacks its closing >", startLine, logical)
			}
			words := splitArgs(inner)
			n := &Node{Raw: raw, Name: words[0], Args: words[1:], Line: startLine, Section: true, File: f}
			*top.list = append(*top.list, n)
			stack = append(stack, frame{n, &n.Children})
		default:
			words := splitArgs(logical)
			*top.list = append(*top.list, &Node{Raw: raw, Name: words[0], Args: words[1:], Line: startLine, File: f})
		}
	}
	if len(stack) > 1 {
		n := stack[len(stack)-1].n
		return nil, fmt.Errorf("line %d: <%s> is not closed", n.Line, n.Name)
	}
	return f, nil
}

// splitArgs splits like ap_getword_conf: blanks separate, "…" and '…' quote
// (the quotes are removed), a backslash escapes a quote.
func splitArgs(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		var b strings.Builder
		if q := s[i]; q == '"' || q == '\'' {
			i++
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				b.WriteByte(s[i])
				i++
			}
		}
		out = append(out, b.String())
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// newLine builds "indent Name args\n".
func newLine(f *File, indent, name string, args ...string) *Node {
	parts := append([]string{name}, args...)
	line := strings.Join(parts, " ")
	return &Node{Raw: indent + line + "\n", Name: name, Args: splitArgs(line)[1:], File: f}
}

// bodyIndent is the indentation used inside section n.
func bodyIndent(n *Node) string {
	for _, c := range n.Children {
		if c.Name != "" {
			return c.Raw[:len(c.Raw)-len(strings.TrimLeft(c.Raw, " \t"))]
		}
	}
	return n.Raw[:len(n.Raw)-len(strings.TrimLeft(n.Raw, " \t"))] + "\t"
}
