// Package complete answers shell completion for acmectl without executing
// anything: it reads the words typed so far against the command-line spec
// (internal/argparse) and prints candidates — flags (also from a
// prefix: --we → --webroot, --webroot-path, --webroot-map), verbs, help
// topics, option values (choices, plugin and DNS provider names, certificate
// names) — or tells the shell to complete a file, a directory or a command.
//
// It is not the command line: it never parses for real, opens no log, takes
// no lock, reads no cli.ini and makes no network request. The only thing it
// reads is what Source.CertNames reads (CertNamesFromDir lists
// <config-dir>/renewal/*.conf names with one ReadDir).
//
// The protocol between the shell scripts (Script) and the binary: the shell
// runs "PROG __complete WORD... CUR" (CUR may be empty); the binary prints
// one candidate a line, "value" or "value<TAB>description", and a last line
// with a directive: ":" (nothing more), ":file", ":dir" or ":command" (the
// shell adds its own completion of that kind for the value being typed,
// after any "--opt=" prefix), optionally followed by " nospace".
package complete

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/acmectl/acmectl/internal/argparse"
)

// Command is the hidden entry point the scripts call: PROG __complete ...
const Command = "__complete"

// Directive tells the shell what to add to the candidates.
type Directive string

const (
	DirectiveNone    Directive = ""
	DirectiveFile    Directive = "file"
	DirectiveDir     Directive = "dir"
	DirectiveCommand Directive = "command"
)

// Candidate is one completion.
type Candidate struct {
	Value       string
	Description string
}

// Answer is what to offer for the word being typed.
type Answer struct {
	Candidates []Candidate
	Directive  Directive
	// NoSpace: the shell should not add a space (a candidate ending in "=").
	NoSpace bool
}

// Source is everything completion knows about.
type Source struct {
	// Parser is the command line (argparse.MustNew(argparse.Certbot()) plus
	// acmectl's own options).
	Parser *argparse.Parser
	// Commands are verbs beyond the spec's (acmectl's schedule, doctor, ...),
	// offered where a verb may go.
	Commands []Candidate
	// CertNames lists the lineage names under configDir; it must only read
	// (CertNamesFromDir). Nil offers none.
	CertNames func(configDir string) []string
	// DNSProviders are the DNS provider names (lego's); -a offers
	// dns-<name> for each, and options with Complete "dnsprovider" offer them.
	DNSProviders []string
	// Values completes other options' values by dest (for example server
	// aliases for "server"); nil entries offer nothing.
	Values map[string][]Candidate
	// DefaultConfigDir is where certificate names are read from when the
	// command line has no --config-dir ("/etc/letsencrypt").
	DefaultConfigDir string
}

// CompleteDNSProvider marks an option whose value is a DNS provider name.
const CompleteDNSProvider = "dnsprovider"

// Run answers "PROG __complete WORDS..." on w; words are the typed words
// after the program name, the last being the one under the cursor.
func Run(w io.Writer, src Source, words []string) error {
	a := Complete(src, words)
	var b strings.Builder
	for _, c := range a.Candidates {
		v := strings.NewReplacer("\n", " ", "\t", " ").Replace(c.Value)
		if c.Description != "" {
			fmt.Fprintf(&b, "%s\t%s\n", v, strings.NewReplacer("\n", " ", "\t", " ").Replace(c.Description))
		} else {
			fmt.Fprintf(&b, "%s\n", v)
		}
	}
	b.WriteString(":" + string(a.Directive))
	if a.NoSpace {
		b.WriteString(" nospace")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Complete returns the candidates for the last of words.
func Complete(src Source, words []string) Answer {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	ctx := scan(src.Parser, words[:len(words)-1])
	if ctx.pending != nil {
		return valueAnswer(src, ctx, ctx.pending, "", cur)
	}
	if !ctx.afterDashes && strings.HasPrefix(cur, "-") {
		if m, ok := src.Parser.Classify(cur); ok && m.Option != nil && m.HasValue && m.Option.TakesValue() {
			// --opt=val or -dval: complete the value after its prefix.
			prefix := strings.TrimSuffix(cur, m.Value)
			return valueAnswer(src, ctx, m.Option, prefix, m.Value)
		}
		return flagAnswer(src.Parser, cur)
	}
	if ctx.afterDashes {
		return Answer{}
	}
	if ctx.help || ctx.verb == "help" {
		return filter(helpTopics(src.Parser), cur, Answer{})
	}
	if ctx.verb == "" {
		return filter(verbs(src), cur, Answer{})
	}
	return Answer{}
}

// context is what the words before the cursor say.
type context struct {
	verb        string
	help        bool // the previous word is -h/--help: a topic may follow
	configDir   string
	afterDashes bool
	pending     *argparse.Option // the previous word wants a value
}

func scan(p *argparse.Parser, words []string) context {
	var c context
	spec := p.Spec()
	for i := 0; i < len(words); i++ {
		w := words[i]
		c.help = false
		if c.afterDashes {
			continue
		}
		if w == "--" {
			c.afterDashes = true
			continue
		}
		if i == 0 && w == "help" {
			c.verb = "help"
			continue
		}
		m, isOpt := p.Classify(w)
		if !isOpt {
			if v, ok := spec.Verbs[w]; ok && c.verb == "" {
				c.verb = v
			}
			continue
		}
		if m.Option == nil {
			continue
		}
		switch {
		case m.Option.Action == argparse.Help:
			c.help = true
		case m.NeedsValue:
			if i+1 == len(words) {
				c.pending = m.Option
				continue
			}
			i++
			if m.Option.Dest == "config_dir" {
				c.configDir = words[i]
			}
		case m.HasValue && m.Option.Dest == "config_dir":
			c.configDir = m.Value
		}
	}
	return c
}

// flagAnswer offers the visible option strings that start with cur; a long
// option that takes a value also as "--opt=" when cur already has "=".
func flagAnswer(p *argparse.Parser, cur string) Answer {
	var a Answer
	for _, f := range p.Flags() {
		o, _ := p.Lookup(f)
		if o.Hidden || !strings.HasPrefix(f, cur) {
			continue
		}
		a.Candidates = append(a.Candidates, Candidate{Value: f, Description: o.Help})
	}
	return a
}

// valueAnswer completes the value of o; prefix is "--opt=" when the value
// is attached.
func valueAnswer(src Source, ctx context, o *argparse.Option, prefix, cur string) Answer {
	var cands []Candidate
	dir := DirectiveNone
	switch {
	case len(o.Choices) > 0:
		for _, ch := range o.Choices {
			cands = append(cands, Candidate{Value: ch})
		}
	case o.Action == argparse.PrefChallenges:
		for _, ch := range []string{"http", "dns", "http-01", "dns-01", "tls-alpn-01"} {
			cands = append(cands, Candidate{Value: ch})
		}
	case o.Complete == argparse.CompleteCertName:
		if src.CertNames != nil {
			d := ctx.configDir
			if d == "" {
				d = src.DefaultConfigDir
			}
			for _, n := range src.CertNames(d) {
				cands = append(cands, Candidate{Value: n})
			}
		}
	case o.Complete == argparse.CompleteAuth, o.Complete == argparse.CompleteInstaller:
		cands = plugins(src, o.Complete == argparse.CompleteAuth)
	case o.Complete == CompleteDNSProvider:
		for _, n := range src.DNSProviders {
			cands = append(cands, Candidate{Value: n})
		}
	case o.Complete == argparse.CompleteFile:
		dir = DirectiveFile
	case o.Complete == argparse.CompleteDir:
		dir = DirectiveDir
	case o.Complete == argparse.CompleteCommand:
		dir = DirectiveCommand
	default:
		cands = src.Values[o.Dest]
	}
	a := filter(cands, cur, Answer{Directive: dir})
	if prefix != "" {
		for i := range a.Candidates {
			a.Candidates[i].Value = prefix + a.Candidates[i].Value
		}
	}
	return a
}

// plugins are the -a/-i values: certbot's plugin names, plus dns-<provider>
// for every DNS provider when authenticating.
func plugins(src Source, auth bool) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, Candidate{Value: n})
		}
	}
	for _, n := range src.Parser.Spec().Plugins {
		if auth || n == "nginx" || n == "apache" || n == "null" {
			if !auth || n != "null" {
				add(n)
			}
		}
	}
	if auth {
		for _, n := range src.DNSProviders {
			add("dns-" + n)
		}
	}
	return out
}

func verbs(src Source) []Candidate {
	var out []Candidate
	for _, v := range src.Parser.Spec().VerbOrder {
		out = append(out, Candidate{Value: v})
	}
	out = append(out, Candidate{Value: "help"})
	return append(out, src.Commands...)
}

func helpTopics(p *argparse.Parser) []Candidate {
	s := p.Spec()
	var out []Candidate
	for _, l := range [][]string{s.Topics, s.CommandTopics[1:2], s.VerbOrder, s.Plugins} {
		for _, t := range l {
			out = append(out, Candidate{Value: t})
		}
	}
	return out
}

// filter keeps the candidates that start with cur, sorted and unique.
func filter(cands []Candidate, cur string, a Answer) Answer {
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c.Value, cur) && !seen[c.Value] {
			seen[c.Value] = true
			a.Candidates = append(a.Candidates, c)
		}
	}
	slices.SortStableFunc(a.Candidates, func(x, y Candidate) int { return strings.Compare(x.Value, y.Value) })
	return a
}

// CertNamesFromDir lists the lineage names of a certbot tree: the
// renewal/*.conf file names without ".conf", sorted. It only reads the
// directory: no lock, no conf parsing, nothing written.
func CertNamesFromDir(configDir string) []string {
	ents, err := os.ReadDir(filepath.Join(configDir, "renewal"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".conf") && len(n) > len(".conf") && !strings.HasPrefix(n, ".") && !e.IsDir() {
			out = append(out, strings.TrimSuffix(n, ".conf"))
		}
	}
	slices.Sort(out)
	return out
}
