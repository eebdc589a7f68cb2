package manager

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmectl/acmectl/internal/kv"
)

// DefaultSystemCLIIni is certbot's system-wide cli.ini; EnvSystemCLIIni
// overrides its path (tests, packagers; empty: none).
const (
	DefaultSystemCLIIni = "/etc/letsencrypt/cli.ini"
	EnvSystemCLIIni     = "ACMECTL_SYSTEM_CLI_INI"
)

// iniEntry is one "key = value" line of a cli.ini.
type iniEntry struct {
	Key, Value string
	File       string
	Line       int
}

// parseCLIIni reads certbot's cli.ini dialect (ConfigArgParse's default
// parser): "key = value", "key: value" or "key value"; a bare "key" means
// true; '#' and ';' start comments (whole-line, or after whitespace);
// "[section]" and "---" lines are ignored; surrounding quotes are dropped; a
// value "[a, b]" is a list. Keys are long flag names without "--"; "_" is
// read as "-".
func parseCLIIni(name string, data string) ([]iniEntry, error) {
	entries, err := kv.Parse(strings.NewReader(data), kv.Options{Separators: "=: \t", BareKeys: true, InlineComments: true, Unquote: true})
	if err != nil {
		var le *kv.LineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %s", name, le.Line, le.Msg)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var out []iniEntry
	for _, e := range entries {
		if e.Key == "---" {
			continue
		}
		key := strings.ReplaceAll(strings.TrimLeft(e.Key, "-"), "_", "-")
		if key == "" {
			return nil, fmt.Errorf("%s:%d: no key before the value", name, e.Line)
		}
		out = append(out, iniEntry{Key: strings.ToLower(key), Value: e.Value, File: name, Line: e.Line})
	}
	return out, nil
}

// iniBool reports whether a cli.ini value turns a flag on, and whether it is a
// boolean at all.
func iniBool(v string) (on, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// iniList splits "[a, b]" or "a, b" or "a" into items.
func iniList(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		v = v[1 : len(v)-1]
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.Trim(strings.TrimSpace(p), `"'`)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CLIIniFiles lists the cli.ini files certbot reads, lowest precedence first:
// /etc/letsencrypt/cli.ini, $XDG_CONFIG_HOME/letsencrypt/cli.ini (or
// ~/.config/...), then -c FILE. Missing default files are skipped; a missing
// -c file is an error.
func CLIIniFiles(explicit string) []string {
	sys := DefaultSystemCLIIni
	if v, ok := os.LookupEnv(EnvSystemCLIIni); ok {
		sys = v
	}
	files := []string{}
	if sys != "" {
		files = append(files, sys)
	}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			xdg = filepath.Join(home, ".config")
		}
	}
	if xdg != "" {
		files = append(files, filepath.Join(xdg, "letsencrypt", "cli.ini"))
	}
	if explicit != "" {
		files = append(files, explicit)
	}
	return files
}

// FlagSetter is the part of *cli.Context the config loader needs.
type FlagSetter interface {
	IsSet(name string) bool
	Set(name, value string) error
}

// ApplyCLIIni sets every flag named in the cli.ini files that the command
// line did not set. Later files override earlier ones; the command line wins.
// Unknown keys are returned as warnings (certbot plugins add keys acmectl
// does not have), not errors.
func ApplyCLIIni(c FlagSetter, explicit string) (warnings []string, err error) {
	merged := map[string]iniEntry{}
	var order []string
	for _, f := range CLIIniFiles(explicit) {
		b, rerr := os.ReadFile(f)
		if rerr != nil {
			if f != explicit && errors.Is(rerr, fs.ErrNotExist) {
				continue
			}
			if f != explicit && errors.Is(rerr, fs.ErrPermission) {
				warnings = append(warnings, fmt.Sprintf("cannot read %s: permission denied; skipped", f))
				continue
			}
			return warnings, fmt.Errorf("read config file %s: %w", f, rerr)
		}
		entries, perr := parseCLIIni(f, string(b))
		if perr != nil {
			return warnings, perr
		}
		for _, e := range entries {
			if _, seen := merged[e.Key]; !seen {
				order = append(order, e.Key)
			}
			merged[e.Key] = e
		}
	}
	for _, key := range order {
		e := merged[key]
		spec, ok := ParamByName[key]
		if !ok || key == "config" {
			warnings = append(warnings, fmt.Sprintf("%s:%d: unknown option %q ignored", e.File, e.Line, e.Key))
			continue
		}
		if c.IsSet(spec.Name) {
			continue // the command line wins
		}
		switch spec.Kind {
		case KindBool, KindCount:
			on, isBool := iniBool(e.Value)
			if !isBool {
				return warnings, fmt.Errorf("%s:%d: %s takes true or false, not %q", e.File, e.Line, e.Key, e.Value)
			}
			if on {
				if err := c.Set(spec.Name, "true"); err != nil {
					return warnings, fmt.Errorf("%s:%d: %s: %w", e.File, e.Line, e.Key, err)
				}
			}
		case KindList:
			for _, item := range iniList(e.Value) {
				if err := c.Set(spec.Name, item); err != nil {
					return warnings, fmt.Errorf("%s:%d: %s: %w", e.File, e.Line, e.Key, err)
				}
			}
		default:
			if err := c.Set(spec.Name, e.Value); err != nil {
				return warnings, fmt.Errorf("%s:%d: %s: %w", e.File, e.Line, e.Key, err)
			}
		}
	}
	return warnings, nil
}
