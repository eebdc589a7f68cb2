package manager

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/argparse"
)

// TestCLIArgsPrecedence: ConfigArgParse's rules through the command line's
// parser — later files win, the command line wins, prefixes resolve,
// Debian's preconfigured-renewal is a known option.
func TestCLIArgsPrecedence(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "sys.ini")
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "letsencrypt"), 0o755)
	os.WriteFile(sys, []byte("# Debian's\nmax-log-backups = 0\npreconfigured-renewal = True\nemail = sys@x.com\nkey-type = rsa\n"), 0o644)
	os.WriteFile(filepath.Join(xdg, "letsencrypt", "cli.ini"), []byte("email = xdg@x.com\npreferred-chal = dns\n"), 0o644)
	explicit := filepath.Join(dir, "explicit.ini")
	os.WriteFile(explicit, []byte("email = explicit@x.com\ndomains = a.com, b.com\nagree-tos = false\nstandalone = true\n"), 0o644)
	t.Setenv(EnvSystemCLIIni, sys)
	t.Setenv("XDG_CONFIG_HOME", xdg)
	p := argparse.MustNew(CommandLine())

	args, warns, err := CLIArgs(p, []string{"certonly", "-c", explicit, "--key-type", "ecdsa"})
	if err != nil || len(warns) != 0 {
		t.Fatalf("CLIArgs: %v %v", err, warns)
	}
	res, err := p.Parse(args)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	c, err := LoadConfig(Parsed{res}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyType != "ecdsa" || !slices.Equal(c.Emails, []string{"explicit@x.com"}) || c.MaxLogBackups != 0 || !c.PreconfiguredRenewal ||
		c.AgreeTOS || c.Authenticator != "standalone" || !slices.Equal(c.Domains, []string{"a.com", "b.com"}) || !slices.Equal(c.PrefChalls, []string{"dns-01"}) {
		t.Errorf("from %q: %+v", args, c)
	}

	for _, tc := range []struct{ ini, want string }{
		{"no-such-option = 1\n", "unrecognized arguments: --no-such-option=1 (" + explicit + " line 1)"},
		{"\nagree-tos = perhaps\n", "Unexpected value for agree-tos: 'perhaps'"},
		{"rsa_key_size = 4096\n", "unrecognized arguments: --rsa_key_size=4096"},
	} {
		os.WriteFile(explicit, []byte(tc.ini), 0o644)
		if _, _, err := CLIArgs(p, []string{"-c", explicit}); err == nil || !strings.Contains(err.Error(), tc.want) || !IsUsage(err) {
			t.Errorf("cli.ini %q: err = %v, want a usage error with %q", tc.ini, err, tc.want)
		}
	}
	if _, _, err := CLIArgs(p, []string{"--config", filepath.Join(dir, "missing.ini")}); err == nil || !strings.Contains(err.Error(), "Unable to open config file") {
		t.Errorf("missing -c file: err = %v", err)
	}
}
