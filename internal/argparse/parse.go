package argparse

import (
	"strings"
)

// found is _parse_optional's answer for one word that is an option.
type found struct {
	opt      *Option // nil: looks like an option, but none matches
	flag     string
	explicit *string // the value attached with '=' or to a short option
}

// parseOptional is argparse's _parse_optional: nil when word is a value
// (a positional, in argparse's terms).
func (p *Parser) parseOptional(word string) (*found, error) {
	if word == "" || word[0] != '-' {
		return nil, nil
	}
	if o, ok := p.byFlag[word]; ok {
		return &found{opt: o, flag: word}, nil
	}
	if len(word) == 1 {
		return nil, nil
	}
	if name, val, ok := strings.Cut(word, "="); ok {
		if o, ok := p.byFlag[name]; ok {
			return &found{opt: o, flag: name, explicit: &val}, nil
		}
	}
	matches := p.optionTuples(word)
	if len(matches) > 1 {
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = m.flag
		}
		return nil, usagef("ambiguous option: %s could match %s", word, strings.Join(names, ", "))
	}
	if len(matches) == 1 {
		return &matches[0], nil
	}
	if negativeNumber(word) && !p.negOpts {
		return nil, nil
	}
	if strings.Contains(word, " ") {
		return nil, nil
	}
	return &found{flag: word}, nil
}

// optionTuples is argparse's _get_option_tuples: prefix matches of a long
// option ("--we"), or a short option with its value attached ("-dx.com").
// Two option strings of one option both count, as in Python 3.11.
// Extension options match only a prefix that matches no other option.
func (p *Parser) optionTuples(word string) []found {
	var out []found
	if strings.HasPrefix(word, "--") {
		prefix, val, hasVal := strings.Cut(word, "=")
		for _, ext := range []bool{false, true} {
			for _, f := range p.flagOrder {
				if o := p.byFlag[f]; o.Extension == ext && strings.HasPrefix(f, prefix) {
					fd := found{opt: o, flag: f}
					if hasVal {
						v := val
						fd.explicit = &v
					}
					out = append(out, fd)
				}
			}
			if len(out) > 0 {
				break
			}
		}
		return out
	}
	short, rest := word[:2], word[2:]
	for _, f := range p.flagOrder {
		switch {
		case f == short:
			v := rest
			out = append(out, found{opt: p.byFlag[f], flag: f, explicit: &v})
		case strings.HasPrefix(f, word):
			out = append(out, found{opt: p.byFlag[f], flag: f})
		}
	}
	return out
}

// state is one parse in progress.
type state struct {
	p       *Parser
	res     *Result
	helpArg string
	// domainBeforeWebroot is _WebrootPathAction._domain_before_webroot.
	domainBeforeWebroot bool
	extras              []string
	seen                map[*Option]bool
	stop                bool // help or version reached
}

// parse is argparse's _parse_known_args followed by parse_args' check
// for unrecognized arguments.
func (st *state) parse(args []string) error {
	// Classify every word first, as argparse does: an ambiguous prefix
	// anywhere fails before any option takes effect.
	pattern := make([]byte, len(args))
	opts := make(map[int]*found)
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			pattern[i] = '-'
			for j := i + 1; j < len(args); j++ {
				pattern[j] = 'A'
			}
			break
		}
		f, err := st.p.parseOptional(args[i])
		if err != nil {
			return err
		}
		if f == nil {
			pattern[i] = 'A'
			continue
		}
		pattern[i] = 'O'
		opts[i] = f
	}
	maxOpt := -1
	for i := range opts {
		maxOpt = max(maxOpt, i)
	}
	start := 0
	for start <= maxOpt {
		next := start
		for ; next < len(args); next++ {
			if _, ok := opts[next]; ok {
				break
			}
		}
		if start != next {
			// No positionals: the words between options are extras.
			st.extras = append(st.extras, args[start:next]...)
			start = next
		}
		stop, err := st.consumeOptional(args, pattern, opts[start], start)
		if err != nil {
			return err
		}
		if st.stop {
			return nil
		}
		start = stop
	}
	st.extras = append(st.extras, args[start:]...)
	if len(st.extras) > 0 {
		return usagef("unrecognized arguments: %s", strings.Join(st.extras, " "))
	}
	return nil
}

type taken struct {
	opt  *Option
	flag string
	vals []string
}

// consumeOptional is argparse's consume_optional.
func (st *state) consumeOptional(args []string, pattern []byte, f *found, start int) (int, error) {
	if f.opt == nil {
		st.extras = append(st.extras, args[start])
		return start + 1, nil
	}
	opt, flag, explicit := f.opt, f.flag, f.explicit
	var todo []taken
	stop := start + 1
	for {
		if explicit != nil {
			if !opt.TakesValue() {
				if flag[1] != '-' && *explicit != "" {
					// A cluster: -qn is -q -n.
					todo = append(todo, taken{opt: opt, flag: flag})
					next := "-" + (*explicit)[:1]
					rest := (*explicit)[1:]
					o, ok := st.p.byFlag[next]
					if !ok {
						return 0, argError(opt, "ignored explicit argument %s", pyRepr(*explicit))
					}
					opt, flag = o, next
					if rest == "" {
						explicit = nil
					} else {
						explicit = &rest
					}
					continue
				}
				return 0, argError(opt, "ignored explicit argument %s", pyRepr(*explicit))
			}
			todo = append(todo, taken{opt: opt, flag: flag, vals: []string{*explicit}})
			break
		}
		if !opt.TakesValue() {
			todo = append(todo, taken{opt: opt, flag: flag})
			break
		}
		if start+1 >= len(args) || pattern[start+1] != 'A' {
			return 0, argError(opt, "expected one argument")
		}
		todo = append(todo, taken{opt: opt, flag: flag, vals: []string{args[start+1]}})
		stop = start + 2
		break
	}
	for _, t := range todo {
		if err := st.takeAction(t); err != nil {
			return 0, err
		}
		if st.stop {
			return stop, nil
		}
	}
	return stop, nil
}

// takeAction converts the value and applies the option's action.
func (st *state) takeAction(t taken) error {
	o := t.opt
	st.seen[o] = true
	vals := st.res.Values
	var raw string
	var val any
	if len(t.vals) == 1 {
		raw = t.vals[0]
		v, err := convert(o, raw)
		if err != nil {
			return err
		}
		if err := checkChoice(o, v); err != nil {
			return err
		}
		val = v
	}
	switch o.Action {
	case Help:
		st.res.Help = &HelpRequest{Topic: helpTopic(st.helpArg)}
		st.stop = true
		return nil
	case Version:
		st.res.Version = true
		st.stop = true
		return nil
	case Deprecated:
		st.res.Deprecated = append(st.res.Deprecated, o.Flags[0])
		return nil
	}
	st.res.Set[o.Dest] = true
	switch o.Action {
	case Store:
		vals[o.Dest] = val
	case StoreTrue:
		vals[o.Dest] = true
	case StoreFalse:
		vals[o.Dest] = false
	case StoreConst:
		vals[o.Dest] = o.Const
	case AppendConst:
		l, _ := vals[o.Dest].([]string)
		c, _ := o.Const.(string)
		vals[o.Dest] = append(l, c)
	case Count:
		n, _ := vals[o.Dest].(int)
		vals[o.Dest] = n + 1
	case Domains:
		return st.addDomains(raw)
	case IPAddresses:
		return st.addIPs(o, raw)
	case PrefChallenges:
		return st.prefChallenges(o, raw)
	case DeployHook:
		// _DeployHookAction: a --renew-hook given before must agree.
		dep, ren := vals["deploy_hook"], vals["renew_hook"]
		if dep != ren && ren != any(raw) {
			return argError(o, "conflicts with --renew-hook value")
		}
		vals["deploy_hook"], vals["renew_hook"] = raw, raw
		st.res.Set["renew_hook"] = true
	case RenewHook:
		if dep := vals["deploy_hook"]; dep != nil && dep != any(raw) {
			return argError(o, "conflicts with --deploy-hook value")
		}
		vals["renew_hook"] = raw
	case Reason:
		vals[o.Dest] = reasonCodes[strings.ToLower(raw)]
	case WebrootPath:
		return st.webrootPath(o, val.(string))
	case WebrootMap:
		return st.webrootMap(raw)
	}
	return nil
}

// Match is what one word of a command line is, read without applying it.
type Match struct {
	// Option is the option the word ends with (the last of a cluster such
	// as -qd); nil for an unknown or ambiguous option.
	Option *Option
	// Flag is the option string matched ("--preferred-challenges" for
	// "--preferred-chal=dns").
	Flag string
	// Value is the value attached with "=" or to a short option.
	Value    string
	HasValue bool
	// NeedsValue: the option takes the next word as its value.
	NeedsValue bool
}

// Classify reads word as argparse would (exact option, --opt=value, an
// unambiguous prefix, a short cluster) without applying anything. It
// reports false for a word that is a value. Completion uses it; it never
// fails: an ambiguous prefix is an option with a nil Option.
func (p *Parser) Classify(word string) (Match, bool) {
	f, err := p.parseOptional(word)
	if err != nil {
		return Match{Flag: word}, true
	}
	if f == nil {
		return Match{}, false
	}
	if f.opt == nil {
		return Match{Flag: f.flag}, true
	}
	opt, flag, explicit := f.opt, f.flag, f.explicit
	for explicit != nil && !opt.TakesValue() && flag[1] != '-' && *explicit != "" {
		next := "-" + (*explicit)[:1]
		o, ok := p.byFlag[next]
		if !ok {
			return Match{Flag: flag}, true
		}
		rest := (*explicit)[1:]
		opt, flag = o, next
		if rest == "" {
			explicit = nil
		} else {
			explicit = &rest
		}
	}
	m := Match{Option: opt, Flag: flag}
	if explicit != nil {
		m.Value, m.HasValue = *explicit, true
	} else {
		m.NeedsValue = opt.TakesValue()
	}
	return m, true
}
