package storage

import (
	"fmt"
	"strings"
)

// This file is a parser and writer for the subset of Python's configobj
// dialect that certbot uses for renewal/<name>.conf: "key = value" lines,
// [section] and [[subsection]] markers, '#' comments, values that are a
// string or a comma-separated list (one element: "a,", none: ","), single,
// double and triple quotes. No escapes, no interpolation (certbot never
// writes either).

// Value is one configobj value: a string, or a list of strings when List.
type Value struct {
	Items []string
	List  bool
}

// String returns the scalar (or the first list item; "" for an empty list).
func (v Value) String() string {
	if len(v.Items) == 0 {
		return ""
	}
	return v.Items[0]
}

// Scalar makes a string value.
func Scalar(s string) Value { return Value{Items: []string{s}} }

// List makes a list value.
func List(items ...string) Value { return Value{Items: append([]string(nil), items...), List: true} }

func (v Value) equal(w Value) bool {
	if v.List != w.List || len(v.Items) != len(w.Items) {
		return false
	}
	for i := range v.Items {
		if v.Items[i] != w.Items[i] {
			return false
		}
	}
	return true
}

type confEntry struct {
	comments []string // comment/blank lines before the entry, verbatim
	key      string
	val      Value
	inline   string // trailing comment, with '#'
}

type confSection struct {
	comments []string
	name     string
	depth    int
	inline   string
	entries  []*confEntry
	subs     []*confSection
}

type confDoc struct {
	root     confSection
	trailing []string
}

// ConfError is a syntax error in a configobj file: File and Line (1-based)
// name where, Msg what.
type ConfError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfError) Error() string {
	f := e.File
	if f == "" {
		f = "renewal conf"
	}
	return fmt.Sprintf("%s:%d: %s", f, e.Line, e.Msg)
}

func (s *confSection) entry(key string) *confEntry {
	for _, e := range s.entries {
		if e.key == key {
			return e
		}
	}
	return nil
}

func (s *confSection) sub(name string) *confSection {
	for _, c := range s.subs {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (s *confSection) get(key string) (Value, bool) {
	if e := s.entry(key); e != nil {
		return e.val, true
	}
	return Value{}, false
}

func (s *confSection) set(key string, v Value) {
	if e := s.entry(key); e != nil {
		if !e.val.equal(v) {
			e.val = v
		}
		return
	}
	s.entries = append(s.entries, &confEntry{key: key, val: v})
}

func (s *confSection) del(key string) {
	for i, e := range s.entries {
		if e.key == key {
			s.entries = append(s.entries[:i], s.entries[i+1:]...)
			return
		}
	}
}

func (s *confSection) delSub(name string) {
	for i, c := range s.subs {
		if c.name == name {
			s.subs = append(s.subs[:i], s.subs[i+1:]...)
			return
		}
	}
}

func (s *confSection) ensureSub(name string) *confSection {
	if c := s.sub(name); c != nil {
		return c
	}
	c := &confSection{name: name, depth: s.depth + 1}
	s.subs = append(s.subs, c)
	return c
}

// maxConfSize bounds what parseConf accepts.
const maxConfSize = 1 << 20

func parseConf(file string, data []byte) (*confDoc, error) {
	if len(data) > maxConfSize {
		return nil, &ConfError{File: file, Line: 1, Msg: "file larger than 1 MiB"}
	}
	text := string(data)
	text = strings.TrimPrefix(text, "\ufeff")
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	doc := &confDoc{}
	stack := []*confSection{&doc.root}
	var pending []string
	errAt := func(i int, format string, a ...any) error {
		return &ConfError{File: file, Line: i + 1, Msg: fmt.Sprintf(format, a...)}
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if strings.ContainsRune(line, 0) {
			return nil, errAt(i, "NUL byte")
		}
		sline := strings.TrimSpace(line)
		if sline == "" || sline[0] == '#' {
			pending = append(pending, line)
			continue
		}
		if sline[0] == '[' {
			depth, name, inline, err := parseSectionMarker(sline)
			if err != nil {
				return nil, errAt(i, "%s", err)
			}
			cur := len(stack) - 1 // depth of the current section
			if depth > cur+1 {
				return nil, errAt(i, "section %q too nested", name)
			}
			parent := stack[depth-1]
			if parent.sub(name) != nil || parent.entry(name) != nil {
				return nil, errAt(i, "duplicate section %q", name)
			}
			sec := &confSection{comments: pending, name: name, depth: depth, inline: inline}
			pending = nil
			parent.subs = append(parent.subs, sec)
			stack = append(stack[:depth], sec)
			continue
		}
		key, rest, err := splitKeyLine(sline)
		if err != nil {
			return nil, errAt(i, "%s", err)
		}
		sec := stack[len(stack)-1]
		if sec.entry(key) != nil || sec.sub(key) != nil {
			return nil, errAt(i, "duplicate key %q", key)
		}
		var val Value
		var inline string
		if strings.HasPrefix(rest, `'''`) || strings.HasPrefix(rest, `"""`) {
			q := rest[:3]
			body := rest[3:]
			if j := strings.Index(body, q); j >= 0 {
				val = Scalar(body[:j])
				inline, err = trailingComment(body[j+3:])
				if err != nil {
					return nil, errAt(i, "%s", err)
				}
			} else {
				parts := []string{body}
				start := i
				for {
					i++
					if i >= len(lines) {
						return nil, errAt(start, "unterminated triple-quoted value")
					}
					l := strings.TrimSuffix(lines[i], "\r")
					if j := strings.Index(l, q); j >= 0 {
						parts = append(parts, l[:j])
						inline, err = trailingComment(l[j+3:])
						if err != nil {
							return nil, errAt(i, "%s", err)
						}
						break
					}
					parts = append(parts, l)
				}
				val = Scalar(strings.Join(parts, "\n"))
			}
		} else {
			val, inline, err = parseValue(rest)
			if err != nil {
				return nil, errAt(i, "%s", err)
			}
		}
		sec.entries = append(sec.entries, &confEntry{comments: pending, key: key, val: val, inline: inline})
		pending = nil
	}
	doc.trailing = pending
	return doc, nil
}

func trailingComment(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return s, nil
	}
	return "", fmt.Errorf("text after closing quote: %q", s)
}

// parseSectionMarker parses "[name]", "[[name]]" with optional quotes and a
// trailing comment.
func parseSectionMarker(s string) (depth int, name, inline string, err error) {
	for depth < len(s) && s[depth] == '[' {
		depth++
	}
	rest := strings.TrimLeft(s[depth:], " \t")
	if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		q := rest[0]
		j := strings.IndexByte(rest[1:], q)
		if j < 0 {
			return 0, "", "", fmt.Errorf("unterminated quote in section marker")
		}
		name = rest[1 : 1+j]
		rest = strings.TrimLeft(rest[2+j:], " \t")
	} else {
		// name runs to the last ']' run before an optional comment
		end := -1
		for k := 0; k < len(rest); k++ {
			if rest[k] == ']' {
				t := strings.TrimLeft(strings.TrimLeft(rest[k:], "]"), " \t")
				if t == "" || t[0] == '#' {
					end = k
					break
				}
			}
		}
		if end < 0 {
			return 0, "", "", fmt.Errorf("invalid section marker %q", s)
		}
		name = strings.TrimRight(rest[:end], " \t")
		rest = rest[end:]
	}
	closing := 0
	for closing < len(rest) && rest[closing] == ']' {
		closing++
	}
	if closing != depth {
		return 0, "", "", fmt.Errorf("cannot compute the section depth of %q", s)
	}
	inline, err = trailingComment(rest[closing:])
	if err != nil {
		return 0, "", "", err
	}
	if name == "" {
		return 0, "", "", fmt.Errorf("empty section name")
	}
	return depth, name, inline, nil
}

// splitKeyLine splits `key = value` (key possibly quoted).
func splitKeyLine(s string) (key, rest string, err error) {
	if s[0] == '"' || s[0] == '\'' {
		j := strings.IndexByte(s[1:], s[0])
		if j < 0 {
			return "", "", fmt.Errorf("unterminated quoted key")
		}
		key = s[1 : 1+j]
		rest = strings.TrimLeft(s[2+j:], " \t")
		if !strings.HasPrefix(rest, "=") {
			return "", "", fmt.Errorf("invalid line %q: want key = value", s)
		}
		return key, strings.TrimSpace(rest[1:]), nil
	}
	j := strings.IndexByte(s, '=')
	if j < 0 {
		return "", "", fmt.Errorf("invalid line %q: want key = value", s)
	}
	key = strings.TrimRight(s[:j], " \t")
	if key == "" {
		return "", "", fmt.Errorf("invalid line %q: empty key", s)
	}
	return key, strings.TrimSpace(s[j+1:]), nil
}

// parseValue parses a single-line value (list_values=True semantics).
func parseValue(s string) (Value, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Scalar(""), "", nil
	}
	if s[0] == '#' {
		return Scalar(""), s, nil
	}
	if s == "," || (s[0] == ',' && strings.HasPrefix(strings.TrimSpace(s[1:]), "#")) || strings.TrimSpace(s[1:]) == "" && s[0] == ',' {
		return Value{List: true, Items: []string{}}, strings.TrimSpace(s[1:]), nil
	}
	items, list, p, err := parseItems(s)
	if err != nil {
		return Value{}, "", err
	}
	inline := ""
	if p < len(s) {
		inline = s[p:]
	}
	if !list {
		return Scalar(items[0]), inline, nil
	}
	return Value{Items: items, List: true}, inline, nil
}

// parseItems reads the comma-separated items of s up to an inline comment;
// p is where the comment (or the end) is.
func parseItems(s string) (items []string, list bool, p int, err error) {
	for {
		p = skipBlanks(s, p)
		if p >= len(s) || s[p] == '#' {
			if !list || len(items) == 0 {
				return nil, false, 0, fmt.Errorf("invalid value %q", s)
			}
			return items, list, p, nil
		}
		item, next, err := parseItem(s, p)
		if err != nil {
			return nil, false, 0, err
		}
		items = append(items, item)
		p = skipBlanks(s, next)
		if p >= len(s) || s[p] == '#' {
			return items, list, p, nil
		}
		if s[p] != ',' {
			return nil, false, 0, fmt.Errorf("invalid value %q", s)
		}
		list = true
		p++
	}
}

// parseItem reads one item at s[p]: quoted, or up to a comma or comment.
func parseItem(s string, p int) (string, int, error) {
	switch c := s[p]; c {
	case '"', '\'':
		j := strings.IndexByte(s[p+1:], c)
		if j < 0 {
			return "", 0, fmt.Errorf("unterminated quote in value %q", s)
		}
		return s[p+1 : p+1+j], p + j + 2, nil
	case ',':
		return "", 0, fmt.Errorf("empty list item in value %q", s)
	}
	j := p
	for j < len(s) && s[j] != ',' && s[j] != '#' {
		j++
	}
	return strings.TrimRight(s[p:j], " \t"), j, nil
}

func skipBlanks(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// quoteItem quotes like configobj's _quote.
func quoteItem(v string, multiline bool) (string, error) {
	if v == "" {
		return `""`, nil
	}
	hasS, hasD := strings.Contains(v, "'"), strings.Contains(v, `"`)
	needTriple := multiline && ((hasS && hasD) || strings.Contains(v, "\n"))
	if strings.Contains(v, "\r") {
		return "", fmt.Errorf("value %q has a carriage return", v)
	}
	if needTriple {
		for _, q := range []string{`"""`, `'''`} {
			if !strings.Contains(v, q) && !strings.HasSuffix(v, q[:1]) {
				return q + v + q, nil
			}
		}
		return "", fmt.Errorf("value %q cannot be quoted", v)
	}
	if strings.ContainsAny(v, "\n\r") {
		return "", fmt.Errorf("list item %q has a newline", v)
	}
	if v == strings.TrimSpace(v) && v[0] != '\'' && v[0] != '"' && v[len(v)-1] != '\'' && v[len(v)-1] != '"' &&
		!strings.ContainsAny(v, ",#") {
		return v, nil
	}
	switch {
	case hasS && hasD:
		return "", fmt.Errorf("value %q has both quote characters", v)
	case hasD:
		return "'" + v + "'", nil
	default:
		return `"` + v + `"`, nil
	}
}

func formatValue(v Value) (string, error) {
	if !v.List {
		return quoteItem(v.String(), true)
	}
	if len(v.Items) == 0 {
		return ",", nil
	}
	parts := make([]string, len(v.Items))
	for i, it := range v.Items {
		q, err := quoteItem(it, false)
		if err != nil {
			return "", err
		}
		parts[i] = q
	}
	if len(parts) == 1 {
		return parts[0] + ",", nil
	}
	return strings.Join(parts, ", "), nil
}

func quoteKey(k string) (string, error) {
	if k == "" || strings.ContainsAny(k, "=#\n\r") || k != strings.TrimSpace(k) ||
		k[0] == '[' || k[0] == '\'' || k[0] == '"' {
		if strings.ContainsAny(k, "\n\r") {
			return "", fmt.Errorf("key %q has a newline", k)
		}
		if !strings.Contains(k, `"`) {
			return `"` + k + `"`, nil
		}
		if !strings.Contains(k, "'") {
			return "'" + k + "'", nil
		}
		return "", fmt.Errorf("key %q cannot be quoted", k)
	}
	return k, nil
}

func (d *confDoc) marshal() ([]byte, error) {
	var b strings.Builder
	if err := writeSection(&b, &d.root); err != nil {
		return nil, err
	}
	for _, c := range d.trailing {
		b.WriteString(c + "\n")
	}
	return []byte(b.String()), nil
}

func writeComments(b *strings.Builder, cs []string) {
	for _, c := range cs {
		b.WriteString(c + "\n")
	}
}

func writeSection(b *strings.Builder, s *confSection) error {
	for _, e := range s.entries {
		writeComments(b, e.comments)
		k, err := quoteKey(e.key)
		if err != nil {
			return err
		}
		v, err := formatValue(e.val)
		if err != nil {
			return fmt.Errorf("key %s: %w", e.key, err)
		}
		b.WriteString(k + " = " + v)
		if e.inline != "" {
			b.WriteString(" " + e.inline)
		}
		b.WriteString("\n")
	}
	for _, c := range s.subs {
		writeComments(b, c.comments)
		if c.name == "" || strings.ContainsAny(c.name, "[]\n\r#'\"") || c.name != strings.TrimSpace(c.name) {
			return fmt.Errorf("section name %q cannot be written", c.name)
		}
		b.WriteString(strings.Repeat("[", c.depth) + c.name + strings.Repeat("]", c.depth))
		if c.inline != "" {
			b.WriteString(" " + c.inline)
		}
		b.WriteString("\n")
		if err := writeSection(b, c); err != nil {
			return err
		}
	}
	return nil
}
