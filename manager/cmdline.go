package manager

// The command line is generated from the parameter table: certbot 5.x's
// options (argparse.Certbot(): option strings, dests, actions, types,
// choices and defaults, in certbot's registration order, oracle-tested
// against certbot) each belong to one table entry, which gives them
// acmectl's help text and meaning; the table's own parameters (acmectl's
// extensions) follow as argparse.Extension options, so that none of them
// changes what an abbreviation certbot resolves means. LoadConfig then reads
// the parse result through Parsed, by parameter name.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/argparse"
)

// flags returns the option strings of p: "--name", then each alias
// ("-d", "--domain").
func (p *Param) flags() []string {
	out := []string{"--" + p.Name}
	for _, a := range p.Aliases {
		if len(a) == 1 {
			out = append(out, "-"+a)
		} else {
			out = append(out, "--"+a)
		}
	}
	return out
}

// extensionOption is the option of a parameter certbot does not have.
func (p *Param) extensionOption() argparse.Option {
	o := argparse.Option{Flags: p.flags(), Dest: p.ArgDest, Help: p.Usage, Hidden: p.Hidden, Extension: true,
		Topics: p.Cmds, Complete: p.Complete}
	if len(o.Topics) == 0 {
		o.Topics = []string{categoryTopic[p.Category]}
	}
	if o.Dest == "" {
		o.Dest = strings.ReplaceAll(p.Name, "-", "_")
	}
	switch p.Kind {
	case KindBool:
		o.Action = argparse.StoreTrue
	case KindCount:
		o.Action = argparse.Count
	default:
		o.Action = argparse.Store
		if p.Default != "" {
			o.Default = p.Default
		}
	}
	return o
}

// categoryTopic is the help topic of an option certbot does not have.
var categoryTopic = map[string]string{
	CatPaths: "paths", CatOutput: "", CatServer: "security", CatCert: "certonly", CatKey: "security",
	CatChall: "plugins", CatHooks: "renew", CatRenew: "renew", CatRevoke: "revoke", CatListing: "certificates",
}

var (
	cmdlineOnce sync.Once
	cmdline     argparse.Spec
	cmdlineErr  error
	// optionOf maps a parameter name to the option that reads it.
	optionOf map[string]*argparse.Option
)

// CommandLine returns acmectl's command line: certbot's options, each with
// the help of the table entry it belongs to, then the table's own options.
// The spec is built once and shared: callers must not modify it. A certbot
// option with no table entry, or a table entry whose option strings match
// two certbot options, is a programming error (panic); the tests keep the
// table whole.
func CommandLine() argparse.Spec {
	cmdlineOnce.Do(buildCommandLine)
	if cmdlineErr != nil {
		panic(cmdlineErr)
	}
	return cmdline
}

func buildCommandLine() {
	spec := argparse.Certbot()
	spec.Normalize = map[string]func(string) (string, error){
		"domains": func(d string) (string, error) {
			if d == "" {
				return "", nil
			}
			n, err := NormalizeDomain(d)
			if err != nil {
				return "", Usagef("--domain: %w", err)
			}
			return n, nil
		},
		"ip_addresses": func(s string) (string, error) {
			l, err := NormalizeIPs([]string{s})
			if len(l) == 0 {
				return "", err
			}
			return l[0], err
		},
	}
	spec.ExtraChallenges = []string{acme.ChallengeDNSPersist01}
	help := helpText
	help.Topics = maps.Clone(helpText.Topics)
	for _, n := range CertbotDNSPlugins {
		help.Topics["dns-"+n] = "Obtain certificates using a DNS TXT record, through lego's DNS provider for " + n + ", with certbot's dns-" + n + " credentials file."
	}
	spec.Help = &help
	spec.Topics = append(slices.Clone(spec.Topics), "cluster")
	// Sized up front: this runs at every start, where each page of memory
	// a run touches first costs more than the work done in it.
	byFlag := make(map[string]*Param, len(ParamByName)+len(Params))
	for i := range Params {
		for _, f := range Params[i].flags() {
			byFlag[f] = Params[i]
		}
	}
	owned := make(map[*Param]bool, len(spec.Options))
	for i := range spec.Options {
		o := &spec.Options[i]
		p := byFlag[o.Flags[0]]
		switch o.Action {
		case argparse.Help:
			o.Help = "show this help message and exit; -h TOPIC for a topic (all, commands, a subcommand or plugin)"
			continue
		case argparse.Version:
			o.Help = "print the version (as certbot: certbot's version first)"
			continue
		}
		if p == nil {
			cmdlineErr = fmt.Errorf("manager: certbot's %s has no entry in the parameter table", o.Name())
			return
		}
		for _, f := range o.Flags {
			if byFlag[f] != p {
				cmdlineErr = fmt.Errorf("manager: certbot's %s spans table entries %s and %v", o.Name(), p.Name, byFlag[f])
				return
			}
		}
		o.Help, o.Hidden = p.Usage, o.Hidden || p.Hidden
		if p.Complete != "" {
			o.Complete = p.Complete
		}
		owned[p] = true
	}
	spec.Options = slices.Grow(spec.Options, len(Params)-len(owned))
	for _, p := range Params {
		if !owned[p] {
			spec.Options = append(spec.Options, p.extensionOption())
		}
	}
	optionOf = make(map[string]*argparse.Option, len(Params))
	for i := range spec.Options {
		o := &spec.Options[i]
		if p := byFlag[o.Flags[0]]; p != nil {
			optionOf[p.Name] = o
		}
	}
	cmdline = spec
}

// Parsed is the Flags of a command line parsed with CommandLine: each
// parameter reads its option's dest. The pair options certbot gives one
// dest (--reuse-key/--no-reuse-key) read as the flag that won: Bool of
// "no-reuse-key" is true when the last of the two was --no-reuse-key.
type Parsed struct{ R *argparse.Result }

var _ Flags = Parsed{}

func (f Parsed) opt(name string) *argparse.Option {
	cmdlineOnce.Do(buildCommandLine)
	return optionOf[name]
}

// IsSet reports whether the option's dest was set by a word of argv (the
// command line or cli.ini).
func (f Parsed) IsSet(name string) bool {
	o := f.opt(name)
	return o != nil && f.R.Set[o.Dest]
}

// Bool reads a store_true option as its dest's value and a store_false
// option as "given and won".
func (f Parsed) Bool(name string) bool {
	o := f.opt(name)
	if o == nil {
		return false
	}
	v, ok := f.R.Values[o.Dest].(bool)
	if o.Action == argparse.StoreFalse {
		return ok && !v && f.R.Set[o.Dest]
	}
	return ok && v
}

// Count reads a count option (-v).
func (f Parsed) Count(name string) int {
	if o := f.opt(name); o != nil {
		return f.R.Int(o.Dest)
	}
	return 0
}

// String reads a value as text: numbers in decimal, lists comma-joined,
// --reason as its name.
func (f Parsed) String(name string) string {
	o := f.opt(name)
	if o == nil {
		return ""
	}
	switch v := f.R.Values[o.Dest].(type) {
	case string:
		return v
	case int:
		if o.Action == argparse.Reason {
			for n, code := range RevocationReasons {
				if code == v {
					return n
				}
			}
		}
		return strconv.Itoa(v)
	case []string:
		return strings.Join(v, ",")
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// StringSlice reads a list option (-d, -w, --ip-address), or an
// extension's list parameter stored as one value (--dns-resolver).
func (f Parsed) StringSlice(name string) []string {
	o := f.opt(name)
	if o == nil {
		return nil
	}
	if v, ok := f.R.Values[o.Dest].(string); ok && v != "" {
		return []string{v}
	}
	return slices.Clone(f.R.List(o.Dest))
}

// WebrootMap is the name → webroot map certbot's -w/-d pairing and
// --webroot-map built while parsing.
func (f Parsed) WebrootMap() map[string]string { return f.R.Map("webroot_map") }
