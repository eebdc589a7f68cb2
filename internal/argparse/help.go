package argparse

// Help output with certbot's structure (HelpfulArgumentParser with
// argparse's HelpFormatter): "usage:", the description, then the groups of
// the topic asked for.

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// HelpText is the prose of help output; the options come from the Spec.
type HelpText struct {
	// Usage is the line after "usage:" per verb; "" is the default
	// ("certbot [SUBCOMMAND] [options] [-d DOMAIN] [-d DOMAIN] ...").
	// "PROG" is replaced by the program name.
	Usage map[string]string
	// Overview follows the usage line of the short help and of "all".
	Overview string
	// Topics describe each group: a verb, topic or plugin → its text.
	Topics map[string]string
	// Commands are the one-line summaries "help commands" lists, in order.
	Commands [][2]string
	// More closes the short help (how to get more).
	More string
}

const helpWidth, helpCol = 78, 24

// WriteHelp prints help on topic ("" for the short help, "all", "commands",
// a verb, topic or plugin name) for the program prog.
func (p *Parser) WriteHelp(w io.Writer, prog, topic string) error {
	h := p.spec.Help
	if h == nil {
		h = &HelpText{}
	}
	var b strings.Builder
	usage := h.Usage[topic]
	if usage == "" {
		usage = h.Usage[""]
	}
	fmt.Fprintf(&b, "usage: \n  %s\n\n", strings.ReplaceAll(usage, "PROG", prog))
	switch topic {
	case "":
		b.WriteString(strings.ReplaceAll(h.Overview, "PROG", prog))
		b.WriteString(strings.ReplaceAll(h.More, "PROG", prog))
	case "commands":
		b.WriteString("The full list of available SUBCOMMANDS is:\n\n")
		long := 0
		for _, c := range h.Commands {
			long = max(long, len(c[0]))
		}
		for _, c := range h.Commands {
			fmt.Fprintf(&b, "%-*s     %s\n", long, c[0], c[1])
		}
		fmt.Fprintf(&b, "\nYou can get more help on a specific subcommand with --help SUBCOMMAND\n")
	default:
		if topic == "all" {
			b.WriteString(strings.ReplaceAll(h.Overview, "PROG", prog))
			b.WriteString("\n")
		}
		for _, g := range p.helpGroups(topic) {
			b.WriteString(g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// group is one help group: a topic's options ("" is "options:").
type group struct {
	topic string
	opts  []*Option
}

// groups returns the groups help on topic shows, in certbot's order
// (HelpfulArgumentParser.add): with "all" an option is in the group of its
// first topic, otherwise in topic's group when topic is one of its topics.
func (p *Parser) groups(topic string) []group {
	byTopic := map[string][]*Option{}
	for i := range p.spec.Options {
		o := &p.spec.Options[i]
		topics := o.Topics
		if len(topics) == 0 {
			topics = []string{""}
		}
		switch {
		case o.Hidden:
		case o.Action == Help || o.Dest == "config_file":
			byTopic[""] = append(byTopic[""], o) // argparse's own: always shown
		case topic == "all":
			byTopic[topics[0]] = append(byTopic[topics[0]], o)
		case slices.Contains(topics, topic):
			byTopic[topic] = append(byTopic[topic], o)
		}
	}
	order := []string{"", topic}
	if topic == "all" {
		order = append([]string{""}, p.spec.Topics[1:]...)
		order = append(order, p.spec.VerbOrder...)
		order = append(order, "plugins")
		order = append(order, p.spec.Plugins...)
		// Topics only extensions use (acmectl's own commands) come last.
		var extra []string
		for t := range byTopic {
			if !slices.Contains(order, t) {
				extra = append(extra, t)
			}
		}
		slices.Sort(extra)
		order = append(order, extra...)
	}
	var out []group
	seen := map[string]bool{}
	for _, t := range order {
		if seen[t] || t != "" && p.topicText(t) == "" && len(byTopic[t]) == 0 {
			continue
		}
		seen[t] = true
		out = append(out, group{t, byTopic[t]})
	}
	return out
}

func (p *Parser) topicText(t string) string {
	if p.spec.Help == nil {
		return ""
	}
	return p.spec.Help.Topics[t]
}

// helpGroups renders "options:" and the groups shown for topic.
func (p *Parser) helpGroups(topic string) []string {
	var out []string
	for _, g := range p.groups(topic) {
		var b strings.Builder
		if g.topic == "" {
			b.WriteString("options:\n")
		} else {
			fmt.Fprintf(&b, "%s:\n", g.topic)
			if d := p.topicText(g.topic); d != "" {
				b.WriteString(wrap(d, helpWidth, "  ") + "\n")
			}
			if len(g.opts) > 0 {
				b.WriteString("\n")
			}
		}
		for _, o := range g.opts {
			b.WriteString(optionHelp(o))
		}
		b.WriteString("\n")
		out = append(out, b.String())
	}
	return out
}

// Invocation is how help shows the option: "-d DOMAIN, --domains DOMAIN".
func (o *Option) Invocation() string {
	if !o.TakesValue() {
		return strings.Join(o.Flags, ", ")
	}
	mv := strings.ToUpper(o.Dest)
	if o.Dest == "domains" {
		mv = "DOMAIN"
	}
	parts := make([]string, len(o.Flags))
	for i, f := range o.Flags {
		parts[i] = f + " " + mv
	}
	return strings.Join(parts, ", ")
}

// DefaultText is the option's default as help shows it ("" for none).
func (o *Option) DefaultText() string {
	switch d := o.Default.(type) {
	case string:
		return d
	case int:
		if o.Action != Count {
			return fmt.Sprint(d)
		}
	}
	return ""
}

func optionHelp(o *Option) string {
	inv := "  " + o.Invocation()
	text := o.Help
	if d := o.DefaultText(); d != "" && !strings.Contains(text, "(default") {
		text = strings.TrimSpace(text + " (default: " + d + ")")
	}
	if text == "" {
		return inv + "\n"
	}
	body := wrap(text, helpWidth, strings.Repeat(" ", helpCol))
	if len(inv) <= helpCol-2 {
		return inv + strings.Repeat(" ", helpCol-len(inv)) + strings.TrimLeft(body, " ") + "\n"
	}
	return inv + "\n" + body + "\n"
}

// wrap fills text to width with every line indented by indent; blank lines
// separate paragraphs.
func wrap(text string, width int, indent string) string {
	var lines []string
	for _, para := range strings.Split(text, "\n\n") {
		line := indent
		for _, word := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(word) > width {
				lines = append(lines, line)
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += word
		}
		lines = append(lines, line, "")
	}
	return strings.Join(lines[:len(lines)-1], "\n")
}

// WriteMan writes a man page (roff) of the whole command line: the
// overview, every command (certbot's verbs and extra ones) and every
// visible option by group. section is the man section ("1").
func (p *Parser) WriteMan(w io.Writer, prog, section, version string, extra [][2]string) error {
	h := p.spec.Help
	if h == nil {
		h = &HelpText{}
	}
	var b strings.Builder
	esc := func(s string) string {
		s = strings.ReplaceAll(s, `\`, `\e`)
		s = strings.ReplaceAll(s, "-", `\-`)
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
				l = `\&` + l
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	fmt.Fprintf(&b, ".TH %s %s \"\" \"%s %s\" \"User Commands\"\n", strings.ToUpper(prog), section, prog, esc(version))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- a certbot\\-compatible ACME client\n", prog)
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.nf\n%s\n.fi\n", esc(strings.ReplaceAll(h.Usage[""], "PROG", prog)))
	fmt.Fprintf(&b, ".SH DESCRIPTION\n.nf\n%s.fi\n", esc(strings.ReplaceAll(h.Overview, "PROG", prog)))
	b.WriteString(".SH COMMANDS\n")
	for _, c := range append(slices.Clone(h.Commands), extra...) {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", esc(c[0]), esc(c[1]))
	}
	b.WriteString(".SH OPTIONS\n")
	for _, g := range p.groups("all") {
		name := g.topic
		if name == "" {
			name = "options"
		}
		fmt.Fprintf(&b, ".SS %s\n", esc(name))
		if d := p.topicText(g.topic); d != "" {
			fmt.Fprintf(&b, "%s\n", esc(d))
		}
		for _, o := range g.opts {
			fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", esc(o.Invocation()), esc(o.Help))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
