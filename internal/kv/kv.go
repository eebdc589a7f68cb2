// Package kv is the one reader of "key = value" files acmectl shares: certbot's
// cli.ini, the credentials files of certbot's DNS plugins and of SCM, and
// systemd unit files. It splits lines into entries (comments, blank lines,
// sections and quotes handled as Options say) and leaves the meaning of keys to
// the caller. It is not the renewal-conf parser: renewal confs are configobj
// files with nested sections and lists, which package storage reads and writes
// back preserving their layout.
package kv

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Entry is one key/value line.
type Entry struct {
	Section    string // the last "[section]" above it ("" before any)
	Key, Value string
	Line       int
}

// Options selects the dialect.
type Options struct {
	// Separators are the bytes that may end the key; empty means "=".
	// cli.ini (ConfigArgParse) takes "=: \t".
	Separators string
	// BareKeys allows a line with no separator: a key with an empty value.
	// Otherwise such a line is an error.
	BareKeys bool
	// InlineComments ends a value at " #" or " ;".
	InlineComments bool
	// Unquote drops one pair of surrounding ' or " quotes from values.
	Unquote bool
	// MaxLine bounds one line (default 1 MiB).
	MaxLine int
}

// LineError is a line that is not key/value.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads r. Blank lines and lines starting with '#' or ';' are skipped;
// "[name]" sets the section of the entries that follow; a BOM on the first
// line is dropped. Keys and values are trimmed of surrounding space.
func Parse(r io.Reader, o Options) ([]Entry, error) {
	seps := o.Separators
	if seps == "" {
		seps = "="
	}
	maxLine := o.MaxLine
	if maxLine <= 0 {
		maxLine = 1 << 20
	}
	var out []Entry
	section := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		e, err := parseLine(line, seps, o)
		if err != nil {
			return nil, &LineError{Line: n, Msg: err.Error()}
		}
		e.Section, e.Line = section, n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseLine(line, seps string, o Options) (Entry, error) {
	key, value := line, ""
	i := strings.IndexAny(line, seps)
	switch {
	case i >= 0:
		key, value = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		// "key : value" / "key = value" when a space came first.
		if len(value) > 0 && strings.ContainsRune(seps, ' ') && (value[0] == '=' || value[0] == ':') && !strings.ContainsAny(line[:i+1], "=:") {
			value = strings.TrimSpace(value[1:])
		}
	case !o.BareKeys:
		return Entry{}, fmt.Errorf("want key = value")
	}
	if o.InlineComments {
		value = stripInlineComment(value)
	}
	if o.Unquote {
		value = Unquote(value)
	}
	return Entry{Key: key, Value: value}, nil
}

// Unquote drops one pair of matching surrounding ' or " quotes.
func Unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

func stripInlineComment(v string) string {
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// Last returns the value of the last entry named key ("" when none), as
// systemd reads a unit file's repeated keys.
func Last(entries []Entry, key string) string {
	v := ""
	for _, e := range entries {
		if e.Key == key {
			v = e.Value
		}
	}
	return v
}
