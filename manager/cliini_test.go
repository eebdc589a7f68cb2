package manager

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCLIIni(t *testing.T) {
	in := "\ufeff# comment\n; other comment\n[section]\nemail = a@b.c\nserver: https://x/dir\nagree-tos\nrsa_key_size 4096\n" +
		"domains = [a.com, b.com]\nkey-type = \"rsa\"  # trailing\n---\n--staging = true\n"
	got, err := parseCLIIni("cli.ini", in)
	if err != nil {
		t.Fatal(err)
	}
	want := []iniEntry{
		{"email", "a@b.c", "cli.ini", 4},
		{"server", "https://x/dir", "cli.ini", 5},
		{"agree-tos", "", "cli.ini", 6},
		{"rsa-key-size", "4096", "cli.ini", 7},
		{"domains", "[a.com, b.com]", "cli.ini", 8},
		{"key-type", "rsa", "cli.ini", 9},
		{"staging", "true", "cli.ini", 11},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseCLIIni =\n%+v\nwant\n%+v", got, want)
	}
}

func TestIniBoolAndList(t *testing.T) {
	for _, tc := range []struct {
		in     string
		on, ok bool
	}{{"", true, true}, {"True", true, true}, {"yes", true, true}, {"false", false, true}, {"0", false, true}, {"maybe", false, false}} {
		on, ok := iniBool(tc.in)
		if on != tc.on || ok != tc.ok {
			t.Errorf("iniBool(%q) = %v, %v; want %v, %v", tc.in, on, ok, tc.on, tc.ok)
		}
	}
	if got := iniList("[a.com, 'b.com' ,]"); !reflect.DeepEqual(got, []string{"a.com", "b.com"}) {
		t.Errorf("iniList = %v", got)
	}
}

// fakeFlags records Set calls and answers IsSet from a fixed set.
type fakeFlags struct {
	cmdline map[string]bool
	sets    []string
}

func (f *fakeFlags) IsSet(name string) bool { return f.cmdline[name] }

func (f *fakeFlags) Set(name, value string) error {
	f.sets = append(f.sets, name+"="+value)
	return nil
}

func TestApplyConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "sys.ini")
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "letsencrypt"), 0o755)
	os.WriteFile(sys, []byte("email = sys@x.com\nkey-type = rsa\nmax-log-backups = 3\n"), 0o644)
	os.WriteFile(filepath.Join(xdg, "letsencrypt", "cli.ini"), []byte("email = xdg@x.com\nno-such-option = 1\n"), 0o644)
	explicit := filepath.Join(dir, "explicit.ini")
	os.WriteFile(explicit, []byte("email = explicit@x.com\ndomains = a.com, b.com\nagree-tos = false\nstandalone = true\n"), 0o644)
	t.Setenv(EnvSystemCLIIni, sys)
	t.Setenv("XDG_CONFIG_HOME", xdg)

	f := &fakeFlags{cmdline: map[string]bool{"key-type": true}}
	warns, err := ApplyCLIIni(f, explicit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"email=explicit@x.com", "max-log-backups=3", "domains=a.com", "domains=b.com", "standalone=true"}
	if !reflect.DeepEqual(f.sets, want) {
		t.Errorf("sets = %v, want %v", f.sets, want)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "no-such-option") {
		t.Errorf("warnings = %v", warns)
	}

	// A missing -c file is an error; a bad bool names file and line.
	if _, err := ApplyCLIIni(&fakeFlags{}, filepath.Join(dir, "missing.ini")); err == nil {
		t.Error("missing -c file: no error")
	}
	os.WriteFile(explicit, []byte("\nagree-tos = perhaps\n"), 0o644)
	if _, err := ApplyCLIIni(&fakeFlags{}, explicit); err == nil || !strings.Contains(err.Error(), "explicit.ini:2") {
		t.Errorf("bad bool: err = %v", err)
	}
}
