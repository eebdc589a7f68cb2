// Package argparse reads a command line by the rules certbot's parser follows:
// Python's argparse (3.11) as certbot's HelpfulArgumentParser configures it
// (certbot/_internal/cli/helpful.py). It is the front door of acmectl's
// command line, so that every argv certbot accepts means the same here:
//
//   - the verb is the first word anywhere in argv that names one ("auth" is
//     certonly, "everything" is run) and is removed before parsing; no verb
//     is "run" (HelpfulArgumentParser.determine_verb);
//   - long options may be abbreviated to any unambiguous prefix
//     (--preferred-chal is --preferred-challenges); an ambiguous prefix is
//     argparse's "ambiguous option: --we could match --webroot, ..." error;
//   - --opt=value, -dexample.com, -d=example.com and clusters such as -qn or
//     -vvv work as in argparse;
//   - a value is always the next word unless it starts with "-" (then
//     "expected one argument"), except negative numbers and words with a space;
//   - store actions: the last occurrence wins, whatever spelling it used
//     (-a standalone ... --authenticator webroot); store_true/store_false
//     pairs share a destination (--reuse-key / --no-reuse-key);
//   - certbot's own actions: -d (comma lists, sanity-checked, duplicates
//     dropped), --ip-address, --preferred-challenges (aliases, appended),
//     --deploy-hook/--renew-hook, --reason, -w/--webroot-path with the -d flags
//     that follow it, --webroot-map;
//   - help: "help [TOPIC]", "-h/--help [TOPIC]" anywhere, and --version.
//
// The options come from a declarative Spec (option strings, action, dest,
// type, choices, default), so the command line can be generated from one
// parameter table. Certbot returns certbot 5.x's full option set.
//
// The package does not read cli.ini, does not apply certbot's post-parsing
// checks (--staging against --server, --csr against the verb, hook
// validation) and never touches the network; except for --csr (read_file)
// and -w/--webroot-map (which certbot checks to be directories), it does not
// touch the disk either.
package argparse

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Action is what an option does when it appears (argparse's action=, plus
// certbot's own Action classes).
type Action uint8

const (
	// Store keeps the one value that follows; the last occurrence wins.
	Store Action = iota + 1
	// StoreTrue, StoreFalse and StoreConst set a fixed value.
	StoreTrue
	StoreFalse
	StoreConst
	// AppendConst appends Const to a list (--authenticators, --installers).
	AppendConst
	// Count adds one per occurrence (-v, -vvv).
	Count
	// Help stops parsing and asks for help on the topic chosen by the prescan.
	Help
	// Version stops parsing and asks for the version.
	Version
	// Deprecated is accepted, takes no value and is reported in
	// Result.Deprecated (certbot's util.DeprecatedArgumentAction).
	Deprecated
	// Domains is certbot's _DomainsAction: a comma list, each name checked by
	// enforce_domain_sanity and appended unless already present.
	Domains
	// IPAddresses is certbot 5.3's _IPAddressAction (--ip-address): a comma
	// list of IP addresses, normalized and appended unless already present.
	IPAddresses
	// PrefChallenges is _PrefChallAction: a comma list with the aliases
	// http and dns, appended to the list.
	PrefChallenges
	// DeployHook is _DeployHookAction: sets deploy_hook and renew_hook.
	DeployHook
	// RenewHook is _RenewHookAction: sets renew_hook only.
	RenewHook
	// Reason is _EncodeReasonAction: a case-insensitive choice stored as the
	// RFC 5280 reason code.
	Reason
	// WebrootPath is the webroot plugin's _WebrootPathAction: appends a
	// directory and maps the -d names given since the previous -w to the
	// previous one.
	WebrootPath
	// WebrootMap is _WebrootMapAction: a JSON object {"a.com,b.com": "/dir"}.
	WebrootMap
)

// Type converts a value before the action stores it (argparse's type=).
type Type uint8

const (
	// String keeps the word as given.
	String Type = iota
	// Int is Python's int(): optional sign, digits, single underscores.
	Int
	// NonNegativeInt is certbot's nonnegative_int.
	NonNegativeInt
	// AbsPath is os.path.abspath.
	AbsPath
	// ReadFile is certbot's read_file: the absolute path, which must be a
	// readable file (its contents are not kept).
	ReadFile
	// UserAgentComment is certbot's _user_agent_comment_type: no parentheses.
	UserAgentComment
)

// Value kinds a flag's argument completes to (for shell completion).
const (
	CompleteNone      = ""
	CompleteFile      = "file"
	CompleteDir       = "dir"
	CompleteCertName  = "certname"
	CompleteCommand   = "command"
	CompleteAuth      = "authenticator"
	CompleteInstaller = "installer"
)

// Option is one command-line option: what certbot passes to add_argument.
type Option struct {
	// Flags are the option strings in certbot's order ("-d", "--domains",
	// "--domain"); the order shows in error messages.
	Flags []string
	// Dest is the namespace key (argparse's dest), shared by options that
	// set the same thing (--reuse-key and --no-reuse-key: reuse_key).
	Dest   string
	Action Action
	Type   Type
	// Choices restricts the value (argparse's choices).
	Choices []string
	// Const is what StoreConst and AppendConst store.
	Const any
	// Default is the value before any option is seen: nil, string, int,
	// bool, []string or map[string]string. The first option of a Dest sets it.
	// A string default goes through Type when the option is not given, as
	// argparse does (--cert-path's "./cert.pem" becomes absolute).
	Default any
	// VerbDefault replaces Default for some verbs (certbot's paths_parser:
	// --cert-path is ./cert.pem for certonly).
	VerbDefault map[string]any
	// Hidden options are left out of help and completion (argparse.SUPPRESS
	// even under --help all).
	Hidden bool
	// Topics are the help topics that list the option; nil is "optional
	// arguments" (only in --help all).
	Topics []string
	// Complete says what the value completes to (CompleteFile, ...).
	Complete string
	// Help is a one-line description (filled from the parameter table).
	Help string
	// Note records where acmectl's spec departs from certbot 5.x and why.
	Note string
	// Extension marks an option certbot does not have (acmectl's own). An
	// abbreviation matches extension options only when it matches none of
	// certbot's, so adding one never changes what a prefix certbot resolves
	// (or refuses as ambiguous) means: --renew-b stays --renew-by-default
	// beside --renew-before-expiry, --auto stays --auto-hsts beside
	// --autorenew (PrefixConflicts finds none).
	Extension bool
}

// TakesValue reports whether the option consumes a value.
func (o *Option) TakesValue() bool {
	switch o.Action {
	case StoreTrue, StoreFalse, StoreConst, AppendConst, Count, Help, Version, Deprecated:
		return false
	}
	return true
}

// Name is argparse's name for the option in messages: the flags joined by "/".
func (o *Option) Name() string { return strings.Join(o.Flags, "/") }

// Spec is a whole command line: certbot's verbs, help topics and options.
type Spec struct {
	// Prog is the program name in usage errors ("certbot").
	Prog string
	// Verbs maps each verb word to the verb it runs ("auth" → "certonly").
	Verbs map[string]string
	// VerbOrder lists the verb words in certbot's order (help topics).
	VerbOrder []string
	// DefaultVerb runs when argv names none ("run").
	DefaultVerb string
	// Topics are the extra help topics ("all", "security", ..., "manage").
	Topics []string
	// CommandTopics list the verbs ("commands", "verbs", ...).
	CommandTopics []string
	// Plugins are plugin names, which are help topics too.
	Plugins []string
	// Options in registration order.
	Options []Option
	// Normalize replaces certbot's check of each item of a list option by
	// dest: "domains" (-d, --webroot-map's names; certbot's
	// enforce_domain_sanity) and "ip_addresses" (--ip-address). The function
	// gets one trimmed item of a comma list and returns it normalized, "" to
	// drop it, or the error to stop with. acmectl checks names its own,
	// stricter way there (IDNs to punycode, single labels refused).
	Normalize map[string]func(string) (string, error)
	// Help holds the texts of help output (Help, Man); nil prints the
	// options only.
	Help *HelpText
	// ExtraChallenges are challenge types --preferred-challenges accepts
	// besides certbot's (acmectl: dns-persist-01).
	ExtraChallenges []string
}

// Parser parses argv against a Spec. It is safe for concurrent use.
type Parser struct {
	spec       Spec
	byFlag     map[string]*Option
	flagOrder  []string // every option string in registration order
	defaults   map[string]any
	helpTopics map[string]bool
	negOpts    bool // some option string looks like a negative number
}

// New checks spec and returns its parser. It fails on an option string
// defined twice or not starting with "-", as argparse does.
func New(spec Spec) (*Parser, error) {
	p := &Parser{
		spec:       spec,
		byFlag:     map[string]*Option{},
		defaults:   map[string]any{},
		helpTopics: map[string]bool{},
	}
	for i := range p.spec.Options {
		o := &p.spec.Options[i]
		if len(o.Flags) == 0 || o.Dest == "" || o.Action == 0 {
			return nil, fmt.Errorf("argparse: option %d (%v): flags, dest and action are required", i, o.Flags)
		}
		for _, f := range o.Flags {
			if len(f) < 2 || f[0] != '-' {
				return nil, fmt.Errorf("argparse: option string %q must start with '-'", f)
			}
			if _, dup := p.byFlag[f]; dup {
				return nil, fmt.Errorf("argparse: conflicting option string: %s", f)
			}
			p.byFlag[f] = o
			p.flagOrder = append(p.flagOrder, f)
			if negativeNumber(f) {
				p.negOpts = true
			}
		}
		if _, ok := p.defaults[o.Dest]; !ok && o.Action != Help && o.Action != Version {
			p.defaults[o.Dest] = o.Default
		}
	}
	for _, t := range spec.Topics {
		p.helpTopics[t] = true
	}
	for _, t := range spec.VerbOrder {
		p.helpTopics[t] = true
	}
	for _, t := range spec.CommandTopics {
		p.helpTopics[t] = true
	}
	for _, t := range spec.Plugins {
		p.helpTopics[t] = true
	}
	return p, nil
}

// MustNew is New for package-level specs known to be valid.
func MustNew(spec Spec) *Parser {
	p, err := New(spec)
	if err != nil {
		panic(err)
	}
	return p
}

// Spec returns the parser's spec (shared: do not modify).
func (p *Parser) Spec() *Spec { return &p.spec }

// Lookup returns the option with exactly this option string.
func (p *Parser) Lookup(flag string) (*Option, bool) {
	o, ok := p.byFlag[flag]
	return o, ok
}

// Flags returns every option string in registration order.
func (p *Parser) Flags() []string { return slices.Clone(p.flagOrder) }

// Default returns dest's default value (a fresh copy).
func (p *Parser) Default(dest string) any { return cloneValue(p.defaults[dest]) }

// HelpRequest is a request for help instead of a run.
type HelpRequest struct {
	// Topic is "" for the short overview, "commands" for the list of verbs,
	// or a topic, verb or plugin name ("all", "certonly", "nginx"); "auth"
	// and "everything" are given as "certonly" and "run".
	Topic string
}

// Result is what argv asked for.
type Result struct {
	// Verb after aliases; "help" when -h/--help appears anywhere (certbot's
	// determine_verb does not look further then).
	Verb string
	// Help is set when help was asked for; nothing else is to be done.
	Help *HelpRequest
	// Version is set when --version was reached; nothing else is to be done.
	Version bool
	// Values holds every dest, defaults included.
	Values map[string]any
	// Set holds the dests an option on the command line set (certbot's
	// ArgumentSource.COMMAND_LINE); a dest set to its default counts.
	Set map[string]bool
	// Deprecated lists deprecated option strings that were used.
	Deprecated []string
}

// String returns a string value ("" for nil).
func (r *Result) String(dest string) string {
	s, _ := r.Values[dest].(string)
	return s
}

// Bool returns a boolean value (false for nil).
func (r *Result) Bool(dest string) bool {
	b, _ := r.Values[dest].(bool)
	return b
}

// Int returns an int value (0 for nil).
func (r *Result) Int(dest string) int {
	n, _ := r.Values[dest].(int)
	return n
}

// List returns a list value.
func (r *Result) List(dest string) []string {
	l, _ := r.Values[dest].([]string)
	return l
}

// Map returns a map value (webroot_map).
func (r *Result) Map(dest string) map[string]string {
	m, _ := r.Values[dest].(map[string]string)
	return m
}

// UsageError is argparse's parser.error: certbot prints its usage and
// "certbot: error: MSG" on stderr and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ConfigError is a certbot error raised while parsing (a malformed -d name,
// a missing webroot): certbot prints MSG and exits 1.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// argError is argparse's ArgumentError: "argument -d/--domains: MSG".
func argError(o *Option, format string, a ...any) error {
	return &UsageError{Msg: "argument " + o.Name() + ": " + fmt.Sprintf(format, a...)}
}

// Parse reads args (argv without the program name). It returns a
// *UsageError or a *ConfigError when argv is wrong; a Result with Help or
// Version set when argv asks for them.
func (p *Parser) Parse(args []string) (*Result, error) {
	args = slices.Clone(args)
	if len(args) > 0 && args[0] == "help" {
		args[0] = "--help"
	}
	res := &Result{Values: map[string]any{}, Set: map[string]bool{}}
	res.Verb, args = p.determineVerb(args)

	helpArg := p.helpPrescan(args)
	switch {
	case helpArg == "\x00true":
		res.Help = &HelpRequest{}
		return res, nil
	case slices.Contains(p.spec.CommandTopics, helpArg):
		res.Help = &HelpRequest{Topic: "commands"}
		return res, nil
	}
	defaults := p.defaultsFor(res.Verb, helpArg)
	for dest, v := range defaults {
		res.Values[dest] = cloneValue(v)
	}
	st := &state{p: p, res: res, helpArg: helpArg, seen: map[*Option]bool{}}
	if err := st.parse(args); err != nil {
		return nil, err
	}
	if res.Help != nil || res.Version {
		return res, nil
	}
	// argparse converts the string default of every option not given.
	for i := range p.spec.Options {
		o := &p.spec.Options[i]
		d, ok := defaults[o.Dest].(string)
		if !ok || st.seen[o] || res.Set[o.Dest] || o.Type == String || !o.TakesValue() {
			continue
		}
		v, err := convert(o, d)
		if err != nil {
			return nil, err
		}
		res.Values[o.Dest] = v
	}
	return res, nil
}

// defaultsFor returns the defaults for verb (for help, the topic's).
func (p *Parser) defaultsFor(verb, helpArg string) map[string]any {
	if verb == "help" {
		verb = helpTopic(helpArg)
	}
	out, cloned := p.defaults, false
	for i := range p.spec.Options {
		o := &p.spec.Options[i]
		if v, ok := o.VerbDefault[verb]; ok {
			if !cloned {
				out, cloned = maps.Clone(p.defaults), true
			}
			out[o.Dest] = v
		}
	}
	return out
}

// determineVerb is HelpfulArgumentParser.determine_verb.
func (p *Parser) determineVerb(args []string) (string, []string) {
	if slices.Contains(args, "-h") || slices.Contains(args, "--help") {
		return "help", args
	}
	for i, a := range args {
		if v, ok := p.spec.Verbs[a]; ok {
			return v, slices.Delete(args, i, i+1)
		}
	}
	return p.spec.DefaultVerb, args
}

// helpPrescan is prescan_for_flag("-h") and ("--help"): the topic after the
// first -h or --help, "\x00true" for help without a topic, "" for none.
func (p *Parser) helpPrescan(args []string) string {
	scan := func(flag string) (string, bool) {
		i := slices.Index(args, flag)
		if i < 0 {
			return "", false
		}
		if i+1 < len(args) && p.helpTopics[args[i+1]] {
			return args[i+1], true
		}
		return "\x00true", true
	}
	h1, ok1 := scan("-h")
	h2, ok2 := scan("--help")
	switch {
	case ok1 && h1 != "\x00true":
		return h1
	case ok2 && h2 != "\x00true":
		return h2
	case ok1 || ok2:
		return "\x00true"
	}
	return ""
}

// helpTopic maps the prescan's topic as determine_help_topics does.
func helpTopic(t string) string {
	switch t {
	case "\x00true":
		return ""
	case "auth":
		return "certonly"
	case "everything":
		return "run"
	}
	return t
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case map[string]string:
		return maps.Clone(x)
	}
	return v
}

// negativeNumber is argparse's _negative_number_matcher: ^-\d+$|^-\d*\.\d+$.
func negativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	body := s[1:]
	if dot := strings.IndexByte(body, '.'); dot >= 0 {
		return allDigits(body[:dot], true) && allDigits(body[dot+1:], false)
	}
	return allDigits(body, false)
}

func allDigits(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
