package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/manager"
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
	t.Setenv(envSystemConfig, sys)
	t.Setenv(envXDGConfig, xdg)

	f := &fakeFlags{cmdline: map[string]bool{"key-type": true}}
	warns, err := applyConfig(f, explicit)
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
	if _, err := applyConfig(&fakeFlags{}, filepath.Join(dir, "missing.ini")); err == nil {
		t.Error("missing -c file: no error")
	}
	os.WriteFile(explicit, []byte("\nagree-tos = perhaps\n"), 0o644)
	if _, err := applyConfig(&fakeFlags{}, explicit); err == nil || !strings.Contains(err.Error(), "explicit.ini:2") {
		t.Errorf("bad bool: err = %v", err)
	}
}

func TestLogRotation(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		f, err := openLog(dir, 3)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	for i := 1; i <= 5; i++ {
		write("run" + strconv.Itoa(i))
	}
	want := map[string]string{"letsencrypt.log": "run5", "letsencrypt.log.1": "run4", "letsencrypt.log.2": "run3", "letsencrypt.log.3": "run2"}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(want) {
		t.Errorf("files = %d, want %d", len(ents), len(want))
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, "letsencrypt.log"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v", fi.Mode().Perm())
	}
	// 0 backups appends to one file.
	dir2 := t.TempDir()
	for range 2 {
		f, err := openLog(dir2, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("x")
		f.Close()
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "letsencrypt.log")); string(b) != "xx" {
		t.Errorf("append mode: %q", b)
	}
}

func TestNormalizeArgs(t *testing.T) {
	cmds := newApp().Commands
	tests := []struct{ in, want []string }{
		{[]string{"certbot", "certonly", "-d", "a.com"}, []string{"certbot", "certonly", "-d", "a.com"}},
		{[]string{"certbot", "-n", "-d", "a.com", "certonly", "--standalone"}, []string{"certbot", "certonly", "-n", "-d", "a.com", "--standalone"}},
		// A value that looks like a command or a flag stays a value.
		{[]string{"x", "--cert-name", "renew", "renew"}, []string{"x", "renew", "--cert-name", "renew"}},
		{[]string{"x", "--eab-hmac-key", "-abc", "certonly"}, []string{"x", "certonly", "--eab-hmac-key", "-abc"}},
		{[]string{"x", "--email=a@b.c", "update_account"}, []string{"x", "update_account", "--email=a@b.c"}},
		{[]string{"x", "-d", "a.com", "--standalone"}, []string{"x", "run", "-d", "a.com", "--standalone"}},
		{[]string{"x", "--version"}, []string{"x", "--version"}},
		{[]string{"x"}, []string{"x"}},
	}
	for _, tc := range tests {
		if got := normalizeArgs(tc.in, cmds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExitCodesAndOneLine(t *testing.T) {
	if c := exitCode(nil); c != 0 {
		t.Errorf("nil: %d", c)
	}
	if c := exitCode(errors.New("x")); c != 1 {
		t.Errorf("plain: %d", c)
	}
	if c := exitCode(fmtWrap(usageErrorf("bad"))); c != 2 {
		t.Errorf("wrapped usage: %d", c)
	}
	if s := oneLine("a\n  b\r\n\nc "); s != "a; b; c" {
		t.Errorf("oneLine = %q", s)
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("ctx"), err) }

func TestProgressObserver(t *testing.T) {
	var buf bytes.Buffer
	p := newTextObserver(&buf, &buf, false, true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wait := func(elapsed, next time.Duration) {
		p.Event(manager.Event{Kind: manager.EventWaiting, Time: now.Add(elapsed),
			Wait: &manager.Wait{What: "order X (processing)", Elapsed: elapsed, Next: next}})
	}
	wait(0, time.Second)
	if buf.Len() != 0 {
		t.Errorf("short wait printed %q", buf.String())
	}
	wait(5*time.Second, 2*time.Second)
	if got := buf.String(); !strings.Contains(got, "Waiting for order X (processing): 5s elapsed, next check in 2s") {
		t.Errorf("progress = %q", got)
	}
	buf.Reset()
	wait(6*time.Second, 2*time.Second) // at most one line per 5 s
	if buf.Len() != 0 {
		t.Errorf("second line within 5 s: %q", buf.String())
	}
	q := newTextObserver(&buf, &buf, true, false)
	q.Event(manager.Event{Kind: manager.EventWaiting, Time: now, Wait: &manager.Wait{What: "x", Elapsed: time.Minute}})
	q.Event(manager.Event{Kind: manager.EventLineageSkipped, Lineage: "a"})
	if buf.Len() != 0 {
		t.Errorf("-q printed %q", buf.String())
	}
}

func TestPromptsOnlyWhenInteractive(t *testing.T) {
	mk := func(input string, tty, nonInteractive bool) (*env, *bytes.Buffer) {
		var errw bytes.Buffer
		return &env{o: &manager.Config{NonInteractive: nonInteractive}, stderr: &errw, stdinTTY: tty,
			stdin: bufio.NewReader(strings.NewReader(input))}, &errw
	}
	tests := []struct {
		name                string
		input               string
		tty, nonInteractive bool
		def, want           bool
		asked               bool
	}{
		{"yes", "y\n", true, false, false, true, true},
		{"no", "no\n", true, false, true, false, true},
		{"empty takes default", "\n", true, false, true, true, true},
		{"retry after junk", "maybe\nY\n", true, false, false, true, true},
		{"-n never asks", "n\n", true, true, true, true, false},
		{"no terminal never asks", "n\n", false, false, true, true, false},
	}
	for _, tc := range tests {
		e, errw := mk(tc.input, tc.tty, tc.nonInteractive)
		got, err := e.confirm("Delete?", tc.def)
		if err != nil || got != tc.want {
			t.Errorf("%s: confirm = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if asked := strings.Contains(errw.String(), "Delete?"); asked != tc.asked {
			t.Errorf("%s: asked = %v, want %v", tc.name, asked, tc.asked)
		}
	}
	if err := manager.NeedFlag("no certificate chosen", "--cert-name NAME"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "pass --cert-name NAME") {
		t.Errorf("NeedFlag = %v", err)
	}
}
