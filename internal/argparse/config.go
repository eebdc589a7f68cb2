package argparse

// Config files the way certbot reads them: ConfigArgParse 1.5
// (configargparse.py, Debian's python3-configargparse) in front of
// argparse. Each "key = value" of a cli.ini becomes a command-line word
// ("--key=value", "--flag" for a true boolean) added before argv, so that
// every rule of the command line — prefixes, last-one-wins, certbot's
// actions, the errors — applies to config files too.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// ConfigItem is one "key = value" line of a config file.
type ConfigItem struct {
	Key   string
	Value string
	// List holds the items of a "[a, b]" value (IsList).
	List   []string
	IsList bool
	Line   int
}

// ConfigFile is a parsed config file.
type ConfigFile struct {
	Name  string
	Items []ConfigItem
}

// configLine is DefaultConfigFileParser's line pattern; Python's
// ([\'"]?)…\3 back-reference is spelled out as three alternatives, tried in
// the order Python's backtracking tries them. Compiled on first use: most
// runs have no cli.ini, and start-up is every run's cost.
var configLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?P<key>[^:=;#\s]+)\s*` +
		`(?:(?P<equal>[:=\s])\s*(?:'(?P<v1>.+?)?'|"(?P<v2>.+?)?"|(?P<v3>.+?)?))?` +
		`\s*(?:\s[;#]\s*(?P<comment>.*?)\s*)?$`)
})

// ParseConfigFile is ConfigArgParse's DefaultConfigFileParser: "key = value",
// "key: value", "key value" or a bare "key" (true); "#" and ";" comments,
// "[section]" and "---" lines skipped; a "[a, b]" value is a list. A key
// given twice keeps its first position and its last value. A line it cannot
// read is a *UsageError, as certbot reports it.
func ParseConfigFile(name, data string) (*ConfigFile, error) {
	f := &ConfigFile{Name: name}
	index := map[string]int{}
	for i, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.ContainsRune("#;[", rune(line[0])) || strings.HasPrefix(line, "---") {
			continue
		}
		m := configLine().FindStringSubmatch(line)
		if m == nil {
			return nil, usagef("Unexpected line %d in %s: %s", i, name, line)
		}
		it := ConfigItem{Key: m[1], Line: i + 1}
		equal, hasValue := m[2], false
		for _, v := range m[3:6] {
			if v != "" {
				it.Value, hasValue = v, true
			}
		}
		switch {
		case !hasValue && equal != "" && equal != " ":
			it.Value = ""
		case !hasValue:
			it.Value = "true"
		}
		if v := it.Value; strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
			it.List, it.IsList = configList(v), true
		}
		if j, ok := index[it.Key]; ok {
			it.Line = f.Items[j].Line
			f.Items[j] = it
			continue
		}
		index[it.Key] = len(f.Items)
		f.Items = append(f.Items, it)
	}
	return f, nil
}

// configList reads "[a, b]" as JSON, else as ConfigArgParse's legacy comma
// list.
func configList(v string) []string {
	var js []any
	if json.Unmarshal([]byte(v), &js) == nil {
		out := make([]string, len(js))
		for i, x := range js {
			out[i] = pyStr(x)
		}
		return out
	}
	var out []string
	for _, e := range strings.Split(v[1:len(v)-1], ",") {
		out = append(out, strings.TrimSpace(e))
	}
	return out
}

// pyStr is Python's str() of a JSON value.
func pyStr(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// ConfigFileArg is ConfigArgParse's look for -c/--config in argv (a parser
// that knows only that option, so "--conf x" counts): the last path given,
// or "".
func (p *Parser) ConfigFileArg(args []string) string {
	var path string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case a == "-c" || len(name) > 2 && strings.HasPrefix("--config", name):
			if hasVal {
				path = val
			} else if i+1 < len(args) && (args[i+1] == "" || args[i+1][0] != '-') {
				path = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "-c") && !strings.HasPrefix(a, "--"):
			path = strings.TrimPrefix(a[2:], "=")
		}
	}
	return path
}

// WithConfigFiles returns argv with the items of files added as
// ConfigArgParse adds them, files in increasing precedence (system,
// user, then -c): an item is dropped when one of its option's exact option
// strings is already on the command line or came from a later file;
// otherwise it becomes words before argv — "--key=value" with the option's
// last option string, "--key" for a true boolean, nothing for a false one,
// one word per item of a list for an unknown key. A key that names no
// option becomes "--key=value" too, so that argparse's prefix matching
// applies to it and an unknown one fails as "unrecognized arguments". With
// -h or --help in argv no file is read (ConfigArgParse's
// skip_config_file_parsing). Errors are *UsageError with ConfigArgParse's
// texts.
func (p *Parser) WithConfigFiles(args []string, files []*ConfigFile) ([]string, error) {
	if slices.Contains(args, "-h") || slices.Contains(args, "--help") {
		return args, nil
	}
	args = slices.Clone(args)
	for i := len(files) - 1; i >= 0; i-- {
		var words []string
		for _, it := range files[i].Items {
			// Known keys are long option strings, with or without "--".
			o := p.byFlag["--"+strings.TrimPrefix(it.Key, "--")]
			strs := []string{"--" + strings.Trim(it.Key, "-")}
			if o != nil {
				strs = o.Flags
			}
			if onCommandLine(args, strs) {
				continue
			}
			w, err := configWords(o, strs, it)
			if err != nil {
				return nil, err
			}
			words = append(words, w...)
		}
		args = append(words, args...)
	}
	return args, nil
}

// configWords is convert_item_to_command_line_arg.
func configWords(o *Option, strs []string, it ConfigItem) ([]string, error) {
	key := strs[len(strs)-1]
	if o != nil && !o.TakesValue() && o.Action != Help && o.Action != Version && o.Action != Deprecated {
		switch strings.ToLower(it.Value) {
		case "true", "yes", "1":
			return []string{key}, nil
		case "false", "no", "0":
			return nil, nil
		}
		if o.Action == Count {
			if n, ok := pyInt(it.Value); ok && n >= 0 {
				return slices.Repeat([]string{o.Flags[0]}, n), nil
			}
		}
		return nil, usagef("Unexpected value for %s: '%s'. Expecting 'true', 'false', 'yes', 'no', '1' or '0'", it.Key, it.Value)
	}
	if it.IsList {
		if o != nil {
			quoted := make([]string, len(it.List))
			for i, v := range it.List {
				quoted[i] = pyRepr(v)
			}
			return nil, usagef("%s can't be set to a list '[%s]' unless its action type is changed to 'append' or nargs is set to '*', '+', or > 1", it.Key, strings.Join(quoted, ", "))
		}
		var out []string
		for _, v := range it.List {
			out = append(out, key+"="+v)
		}
		return out, nil
	}
	return []string{key + "=" + it.Value}, nil
}

// onCommandLine is ConfigArgParse's already_on_command_line: an exact
// option string, alone or before "=".
func onCommandLine(args, strs []string) bool {
	for _, a := range args {
		if a != "" && a[0] == '-' {
			a, _, _ = strings.Cut(a, "=")
		}
		if slices.Contains(strs, a) {
			return true
		}
	}
	return false
}
