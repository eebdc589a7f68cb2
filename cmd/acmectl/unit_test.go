package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/storage"
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

	f := &fakeFlags{cmdline: map[string]bool{flgKeyType: true}}
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

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{"Example.COM", "example.com", ""},
		{"example.com.", "example.com", ""},
		{"*.example.com", "*.example.com", ""},
		{"bücher.example", "xn--bcher-kva.example", ""},
		{"ＥＸＡＭＰＬＥ.com", "example.com", ""},
		{"a.*.example.com", "", "wildcard"},
		{"*example.com", "", "wildcard"},
		{"localhost", "", "two labels"},
		{"a..example.com", "", ""},
		{"exa mple.com", "", "not a valid"},
		{"-a.example.com", "", ""},
		{"192.0.2.1", "", "--ip-address"},
		{"[2001:db8::1]", "", "--ip-address"},
		{strings.Repeat("a", 64) + ".com", "", ""},
		{"", "", "empty"},
	}
	for _, tc := range tests {
		got, err := normalizeDomain(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("normalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("normalizeDomain(%q) = %q, want an error", tc.in, got)
		} else if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("normalizeDomain(%q) error %q lacks %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestNormalizeDomainsAndIPs(t *testing.T) {
	got, err := normalizeDomains([]string{"b.com,a.com", "B.com", " c.com "})
	if err != nil || !reflect.DeepEqual(got, []string{"b.com", "a.com", "c.com"}) {
		t.Errorf("normalizeDomains = %v, %v", got, err)
	}
	if _, err := normalizeDomains([]string{"ok.com,bad..com"}); exitCode(err) != exitUsage {
		t.Errorf("bad name: exit code %d, want %d", exitCode(err), exitUsage)
	}
	ips, err := normalizeIPs([]string{"192.0.2.1,2001:DB8::1", "::ffff:192.0.2.1"})
	if err != nil || !reflect.DeepEqual(ips, []string{"192.0.2.1", "2001:db8::1"}) {
		t.Errorf("normalizeIPs = %v, %v", ips, err)
	}
	if _, err := normalizeIPs([]string{"example.com"}); err == nil {
		t.Error("normalizeIPs(example.com): no error")
	}
	if n := lineageNameFor([]string{"*.a.com", "b.com"}, nil); n != "a.com" {
		t.Errorf("lineageNameFor = %q", n)
	}
}

func TestIsDue(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	na90 := nb.Add(90 * 24 * time.Hour)
	na6 := nb.Add(6 * 24 * time.Hour)
	at := func(d time.Duration) time.Time { return nb.Add(d) }
	day := 24 * time.Hour
	tests := []struct {
		name string
		in   dueInput
		want bool
	}{
		{"fresh 90d", dueInput{Now: at(day), NotBefore: nb, NotAfter: na90, Autorenew: true}, false},
		{"just before 2/3", dueInput{Now: at(59 * day), NotBefore: nb, NotAfter: na90, Autorenew: true}, false},
		{"at 2/3", dueInput{Now: at(60 * day), NotBefore: nb, NotAfter: na90, Autorenew: true}, true},
		{"6d cert before half", dueInput{Now: at(2 * day), NotBefore: nb, NotAfter: na6, Autorenew: true}, false},
		{"6d cert past half", dueInput{Now: at(3*day + time.Hour), NotBefore: nb, NotAfter: na6, Autorenew: true}, true},
		{"force", dueInput{Now: at(day), NotBefore: nb, NotAfter: na90, Force: true}, true},
		{"dry run", dueInput{Now: at(day), NotBefore: nb, NotAfter: na90, DryRun: true, Autorenew: true}, true},
		{"autorenew off", dueInput{Now: at(89 * day), NotBefore: nb, NotAfter: na90}, false},
		{"rbe reached", dueInput{Now: at(70 * day), NotBefore: nb, NotAfter: na90, Autorenew: true, HasRBE: true, RenewBeforeExpiry: 30 * day}, true},
		{"rbe not reached beats 2/3", dueInput{Now: at(61 * day), NotBefore: nb, NotAfter: na90, Autorenew: true, HasRBE: true, RenewBeforeExpiry: 10 * day}, false},
		{"ari passed", dueInput{Now: at(10 * day), NotBefore: nb, NotAfter: na90, Autorenew: true, ARITime: at(9 * day)}, true},
		{"ari future beats 2/3", dueInput{Now: at(61 * day), NotBefore: nb, NotAfter: na90, Autorenew: true, ARITime: at(70 * day)}, false},
		{"early ari beats later rbe", dueInput{Now: at(20 * day), NotBefore: nb, NotAfter: na90, Autorenew: true, ARITime: at(19 * day), HasRBE: true, RenewBeforeExpiry: 30 * day}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := isDue(tc.in)
			if got != tc.want {
				t.Errorf("isDue = %v (%s), want %v", got, why, tc.want)
			}
		})
	}
}

func TestARIPick(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(48 * time.Hour)
	for range 1000 {
		p := ariPick(start, end, r)
		if p.Before(start) || !p.Before(end) {
			t.Fatalf("ariPick = %v, outside [%v, %v)", p, start, end)
		}
	}
	if p := ariPick(end, start, r); !p.Equal(end) {
		t.Errorf("inverted window: %v", p)
	}
}

func TestParseInterval(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30 days", 30 * day, false},
		{"30", 30 * day, false},
		{"1 week", 7 * day, false},
		{"12 hours", 12 * time.Hour, false},
		{"1w 2d", 9 * day, false},
		{"10days", 10 * day, false},
		{"3650 days", 3650 * day, false},
		{"", 0, true},
		{"soon", 0, true},
		{"3 fortnights", 0, true},
		{"-1", 0, true},
	}
	for _, tc := range tests {
		got, err := parseInterval(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseInterval(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestResolveServer(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"", "https://acme-v02.api.letsencrypt.org/directory", false},
		{"letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory", false},
		{"sectigo-ov", "https://acme.sectigo.com/v2/OV", false},
		{"Sectigo-EV", "https://acme.sectigo.com/v2/EV", false},
		{"sectigo-incommon-ecc-ov", "https://acme.sectigo.com/v2/InCommonECCOV", false},
		{"zerossl", "https://acme.zerossl.com/v2/DV90", false},
		{"google", "https://dv.acme-v02.api.pki.goog/directory", false},
		{"buypass", "https://api.buypass.com/acme/directory", false},
		// A URL is the directory itself: nothing appended.
		{"https://acme.sectigo.com/v2/OV", "https://acme.sectigo.com/v2/OV", false},
		{"https://127.0.0.1:14000/dir", "https://127.0.0.1:14000/dir", false},
		{"http://localhost:4001/directory", "http://localhost:4001/directory", false},
		{"http://acme.example.com/dir", "", true},
		{"ftp://x/dir", "", true},
		{"lets-encrypt", "", true},
	}
	for _, tc := range tests {
		got, err := resolveServer(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("resolveServer(%q) = %q, %v; want %q, err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("resolveServer(%q): exit code %d", tc.in, exitCode(err))
		}
	}
	if len(aliasNames()) != 11 {
		t.Errorf("alias count = %d, want 11", len(aliasNames()))
	}
}

func TestDocsAliasTableInSync(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatalf("docs/cli.md: %v", err)
	}
	if !strings.Contains(string(b), aliasTableMarkdown()) {
		t.Errorf("docs/cli.md does not contain the current alias table:\n%s", aliasTableMarkdown())
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

func TestHooksEnvAndDirectories(t *testing.T) {
	cfg := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	for _, kind := range []string{"pre", "deploy", "post"} {
		d := filepath.Join(cfg, "renewal-hooks", kind)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "b"), []byte("#!/bin/sh\necho "+kind+"-b \"$RENEWED_LINEAGE|$RENEWED_DOMAINS|$FAILED_DOMAINS\" >> "+out+"\n"), 0o755)
		os.WriteFile(filepath.Join(d, "a"), []byte("#!/bin/sh\necho "+kind+"-a >> "+out+"\n"), 0o755)
		os.WriteFile(filepath.Join(d, "c~"), []byte("#!/bin/sh\necho backup >> "+out+"\n"), 0o755)
		os.WriteFile(filepath.Join(d, "d-noexec"), []byte("#!/bin/sh\necho noexec >> "+out+"\n"), 0o644)
	}
	var stderr bytes.Buffer
	h := newHooks(cfg, false, &stderr, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	h.Pre(ctx, "echo pre-cmd >> "+out)
	h.Pre(ctx, "echo pre-cmd >> "+out) // once
	h.AddPost("echo post-cmd \"$RENEWED_DOMAINS/$FAILED_DOMAINS\" >> " + out)
	h.AddPost("echo post-cmd \"$RENEWED_DOMAINS/$FAILED_DOMAINS\" >> " + out) // once
	h.Deploy(ctx, `echo deploy-cmd "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >> `+out, "/etc/le/live/a", []string{"a.com", "www.a.com"})
	h.Post(ctx, []string{"a.com", "www.a.com"}, []string{"b.com"})
	b, _ := os.ReadFile(out)
	want := "pre-a\npre-b ||\npre-cmd\n" +
		"deploy-a\ndeploy-b /etc/le/live/a|a.com www.a.com|\ndeploy-cmd /etc/le/live/a|a.com www.a.com\n" +
		"post-a\npost-b |a.com www.a.com|b.com\npost-cmd a.com www.a.com/b.com\n"
	if string(b) != want {
		t.Errorf("hook runs =\n%s\nwant\n%s", b, want)
	}
	if h.Failures() != 0 {
		t.Errorf("failures = %d", h.Failures())
	}
	h.Deploy(ctx, "exit 7", "/x", nil)
	if h.Failures() != 1 || !strings.Contains(stderr.String(), "failed") {
		t.Errorf("failing hook: failures=%d stderr=%q", h.Failures(), stderr.String())
	}
	// --no-directory-hooks.
	os.Remove(out)
	h2 := newHooks(cfg, true, &stderr, slog.New(slog.DiscardHandler))
	h2.Pre(ctx, "")
	h2.Post(ctx, nil, nil)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("directory hooks ran with --no-directory-hooks")
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

func TestLoadEAB(t *testing.T) {
	key := "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	f := filepath.Join(t.TempDir(), "k")
	os.WriteFile(f, []byte(key+"\n"), 0o600)
	t.Setenv(envEABHMACKey, key)
	tests := []struct {
		name, kid, key, file, alg string
		ok                        bool
	}{
		{"flag", "k", key, "", "", true},
		{"file", "k", "", f, "HS384", true},
		{"env", "k", "", "", "", true},
		{"none", "", "", "", "", true},
		{"both", "k", key, f, "", false},
		{"key without kid", "", key, "", "", false},
		{"bad alg", "k", key, "", "HS1", false},
		{"bad key", "k", "***", "", "", false},
	}
	for _, tc := range tests {
		eab, err := loadEAB(tc.kid, tc.key, tc.file, tc.alg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err == nil && tc.kid != "" && (eab == nil || eab.KeyID != tc.kid || len(eab.HMACKey) == 0) {
			t.Errorf("%s: eab = %v", tc.name, eab)
		}
		if eab != nil && strings.Contains(eab.String(), key) {
			t.Errorf("%s: EAB String() shows the key", tc.name)
		}
	}
	t.Setenv(envEABHMACKey, "")
	if _, err := loadEAB("k", "", "", ""); err == nil || !strings.Contains(err.Error(), envEABHMACKey) {
		t.Errorf("kid without key: %v", err)
	}
}

func TestHumanList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b, and c"}} {
		if got := humanList(tc.in); got != tc.want {
			t.Errorf("humanList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestProgressHandler(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressHandler(&buf)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	log := slog.New(p)
	log.Debug("waiting", slog.String("for", "order X (processing)"), slog.Duration("retry_in", time.Second))
	if buf.Len() != 0 {
		t.Errorf("short wait printed %q", buf.String())
	}
	now = now.Add(5 * time.Second)
	log.Debug("waiting", slog.String("for", "order X (processing)"), slog.Duration("retry_in", 2*time.Second))
	log.Debug("something else")
	if got := buf.String(); !strings.Contains(got, "Waiting for order X (processing): 5s elapsed, next check in 2s") {
		t.Errorf("progress = %q", got)
	}
}

func TestPromptsOnlyWhenInteractive(t *testing.T) {
	mk := func(input string, tty, nonInteractive bool) (*env, *bytes.Buffer) {
		var errw bytes.Buffer
		return &env{o: &options{nonInteractive: nonInteractive}, stderr: &errw, stdinTTY: tty,
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
	if err := errNeedFlag("no certificate chosen", "--cert-name NAME"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "pass --cert-name NAME") {
		t.Errorf("errNeedFlag = %v", err)
	}
}

func testCert(t *testing.T, names ...string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(cryptorand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestLineageOptionsCommandLineWins(t *testing.T) {
	cert, key := testCert(t, "a.example.com", "www.a.example.com")
	conf := &storage.RenewalConf{Params: storage.RenewalParams{
		Server: "https://ca.example/dir", Account: "acct1", Authenticator: "webroot",
		WebrootPath: []string{"/var/www/a"}, WebrootMap: []storage.KV{{Key: "a.example.com", Value: "/var/www/a"}},
		KeyType: "rsa", RSAKeySize: 3072, RenewHook: "reload", PreHook: "pre", PreferredChain: "Root X",
		ReuseKey: true, PrefChalls: []string{"http-01"},
	}}
	l := &storage.Lineage{Name: "a", Cert: cert, Key: key, Conf: conf, ConfPath: "/x/a.conf"}
	base := &options{set: map[string]bool{}, server: defaultServerURL, keyType: "ecdsa", curve: "secp256r1", rsaKeySize: 2048,
		http01Port: 80, authenticator: ""}
	o, err := lineageOptions(base, l)
	if err != nil {
		t.Fatal(err)
	}
	if o.server != "https://ca.example/dir" || o.account != "acct1" || o.authenticator != "webroot" ||
		o.keyType != "rsa" || o.rsaKeySize != 3072 || o.deployHook != "reload" || o.preHook != "pre" ||
		o.preferredChain != "Root X" || !o.reuseKey || !reflect.DeepEqual(o.domains, []string{"a.example.com", "www.a.example.com"}) {
		t.Errorf("saved params not applied: %+v", o)
	}
	if o.webrootMap["www.a.example.com"] != "/var/www/a" || o.webrootMap["a.example.com"] != "/var/www/a" {
		t.Errorf("webroot map = %v", o.webrootMap)
	}
	// The command line (or cli.ini) wins.
	base.set = map[string]bool{flgServer: true, flgDeployHook: true, flgKeyType: true, flgStandalone: true, flgNoReuseKey: true}
	base.server, base.deployHook, base.keyType, base.authenticator, base.noReuseKey = "https://other/dir", "other", "ecdsa", "standalone", true
	o, err = lineageOptions(base, l)
	if err != nil {
		t.Fatal(err)
	}
	if o.server != "https://other/dir" || o.deployHook != "other" || o.keyType != "ecdsa" || o.authenticator != "standalone" || o.reuseKey {
		t.Errorf("command line did not win: server=%s hook=%s key=%s auth=%s reuse=%v", o.server, o.deployHook, o.keyType, o.authenticator, o.reuseKey)
	}
	// A certbot installer plugin is refused with the way out.
	conf.Params.Authenticator = "nginx"
	base.set = map[string]bool{}
	if _, err := lineageOptions(base, l); err == nil || !strings.Contains(err.Error(), "reconfigure") {
		t.Errorf("nginx authenticator: err = %v", err)
	}
}

func TestRenewalConfFromOptions(t *testing.T) {
	o := &options{set: map[string]bool{}, server: "https://ca/dir", authenticator: "standalone", keyType: "ecdsa", curve: "secp384r1",
		http01Port: 8080, http01Addr: "127.0.0.1", deployHook: "reload", webrootMap: nil, reuseKey: true,
		configDir: "/c", workDir: "/w", logsDir: "/l", renewBeforeExpiry: "30 days"}
	c := renewalConf(o, nil, "acct")
	p := c.Params
	if p.Account != "acct" || p.Server != "https://ca/dir" || p.Authenticator != "standalone" || p.KeyType != "ecdsa" ||
		p.EllipticCurve != "secp384r1" || p.RSAKeySize != 0 || p.HTTP01Port != 8080 || p.HTTP01Address != "127.0.0.1" ||
		p.RenewHook != "reload" || !p.ReuseKey || c.RenewBeforeExpiry != "30 days" || p.ConfigDir != "/c" {
		t.Errorf("renewalConf = %+v (rbe %q)", p, c.RenewBeforeExpiry)
	}
	o2 := *o
	o2.authenticator, o2.webrootMap, o2.keyType, o2.rsaKeySize = "webroot", map[string]string{"b.com": "/www/b", "a.com": "/www/a"}, "rsa", 4096
	c2 := renewalConf(&o2, c, "acct")
	p2 := c2.Params
	if p2.HTTP01Port != 0 || p2.EllipticCurve != "" || p2.RSAKeySize != 4096 ||
		!reflect.DeepEqual(p2.WebrootMap, []storage.KV{{Key: "a.com", Value: "/www/a"}, {Key: "b.com", Value: "/www/b"}}) ||
		!reflect.DeepEqual(p2.WebrootPath, []string{"/www/a", "/www/b"}) {
		t.Errorf("webroot conf = %+v", p2)
	}
	if b, err := c2.Marshal(); err != nil || !strings.Contains(string(b), "[[webroot_map]]") {
		t.Errorf("Marshal: %v\n%s", err, b)
	}
	// Unicode names are saved in the ASCII form certbot matches -d against.
	o3 := o2
	o3.webrootMap = map[string]string{"Bücher.Example": "/www/b", "*.bücher.example": "/www/w"}
	p3 := renewalConf(&o3, nil, "acct").Params
	if want := []storage.KV{{Key: "*.xn--bcher-kva.example", Value: "/www/w"}, {Key: "xn--bcher-kva.example", Value: "/www/b"}}; !reflect.DeepEqual(p3.WebrootMap, want) {
		t.Errorf("webroot_map of Unicode names = %v, want %v", p3.WebrootMap, want)
	}
}
