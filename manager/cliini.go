package manager

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmectl/acmectl/internal/argparse"
)

// DefaultSystemCLIIni is certbot's system-wide cli.ini; EnvSystemCLIIni
// overrides its path (tests, packagers; empty: none).
const (
	DefaultSystemCLIIni = "/etc/letsencrypt/cli.ini"
	EnvSystemCLIIni     = "ACMECTL_SYSTEM_CLI_INI"
)

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

// CLIArgs returns args with the settings of the cli.ini files added the
// way certbot's ConfigArgParse adds them (argparse.WithConfigFiles): each
// "key = value" becomes the word "--key=value" before the command line
// unless the command line (or a later file) has the option, so a cli.ini
// key obeys every command-line rule, prefixes included; a key that names no
// option is certbot's usage error, with the file and line. Files are
// CLIIniFiles with -c/--config from args. A default file that cannot be read
// is skipped with a warning (certbot stops with a traceback); a -c file that
// cannot be read is a usage error.
func CLIArgs(p *argparse.Parser, args []string) (out, warnings []string, err error) {
	if len(args) > 0 && args[0] == "help" {
		// certbot's HelpfulArgumentParser does this before ConfigArgParse
		// puts cli.ini's words in front ("certbot help certonly").
		args = append([]string{"--help"}, args[1:]...)
	}
	explicit := p.ConfigFileArg(args)
	if strings.HasPrefix(explicit, "~/") {
		if home, herr := os.UserHomeDir(); herr == nil {
			explicit = filepath.Join(home, explicit[2:])
		}
	}
	var files []*argparse.ConfigFile
	for _, f := range CLIIniFiles(explicit) {
		b, rerr := os.ReadFile(f)
		switch {
		case rerr == nil:
		case f == explicit:
			return nil, warnings, Usagef("Unable to open config file: %s. Error: %s", f, errText(rerr))
		case errors.Is(rerr, fs.ErrNotExist):
			continue
		default:
			warnings = append(warnings, fmt.Sprintf("cannot read %s: %s; skipped", f, errText(rerr)))
			continue
		}
		cf, perr := argparse.ParseConfigFile(f, strings.TrimPrefix(string(b), "\ufeff"))
		if perr != nil {
			return nil, warnings, &UsageError{perr}
		}
		for _, it := range cf.Items {
			if !prefixOfOption(p, it.Key) {
				return nil, warnings, Usagef("unrecognized arguments: --%s=%s (%s line %d)", strings.Trim(it.Key, "-"), it.Value, f, it.Line)
			}
		}
		files = append(files, cf)
	}
	out, err = p.WithConfigFiles(args, files)
	if err != nil {
		return nil, warnings, &UsageError{err}
	}
	return out, warnings, nil
}

// prefixOfOption reports whether --key abbreviates at least one option
// (argparse then resolves it, or calls it ambiguous).
func prefixOfOption(p *argparse.Parser, key string) bool {
	w := "--" + strings.Trim(key, "-")
	for _, f := range p.Flags() {
		if strings.HasPrefix(f, w) {
			return true
		}
	}
	return false
}

// errText is the reason of a file error without the path ("permission denied").
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
