package complete

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acmectl/acmectl/internal/argparse"
)

func testSource(t *testing.T) (Source, string) {
	t.Helper()
	dir := t.TempDir()
	ren := filepath.Join(dir, "renewal")
	if err := os.MkdirAll(ren, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.example.com.conf", "b.example.net.conf", "notes.txt", ".hidden.conf"} {
		if err := os.WriteFile(filepath.Join(ren, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Source{
		Parser:           argparse.MustNew(argparse.Certbot()),
		CertNames:        CertNamesFromDir,
		DNSProviders:     []string{"cloudflare", "route53"},
		DefaultConfigDir: "/nonexistent",
		Commands:         []Candidate{{Value: "schedule"}},
		Values:           map[string][]Candidate{"server": {{Value: "letsencrypt"}, {Value: "sectigo-ov"}}},
	}, dir
}

func values(a Answer) []string {
	var out []string
	for _, c := range a.Candidates {
		out = append(out, c.Value)
	}
	return out
}

func TestComplete(t *testing.T) {
	src, dir := testSource(t)
	tests := []struct {
		words string // "|" separates words; the last is under the cursor
		want  []string
		dir   Directive
	}{
		{words: "certonly|--we", want: []string{"--webroot", "--webroot-path", "--webroot-map"}},
		{words: "--preferred-chal", want: []string{"--preferred-challenges"}},
		{words: "", want: []string{"auth", "certificates", "certonly", "delete", "enhance", "everything", "help", "install", "plugins", "reconfigure", "register", "renew", "revoke", "rollback", "run", "schedule", "show_account", "unregister", "update_account", "update_symlinks"}},
		{words: "ce", want: []string{"certificates", "certonly"}},
		{words: "-n|re", want: []string{"reconfigure", "register", "renew", "revoke"}},
		{words: "renew|x", want: nil},
		{words: "renew|--cert-name|", want: nil},
		{words: "renew|--config-dir|" + dir + "|--cert-name|", want: []string{"a.example.com", "b.example.net"}},
		{words: "--config-dir=" + dir + "|renew|--cert-n|b", want: []string{"b.example.net"}},
		{words: "--config-dir=" + dir + "|delete|--cert-name=a", want: []string{"--cert-name=a.example.com"}},
		{words: "--key-type|", want: []string{"ecdsa", "rsa"}},
		{words: "--key-type=r", want: []string{"--key-type=rsa"}},
		{words: "revoke|--reason|k", want: []string{"keycompromise"}},
		{words: "-a|dns-c", want: []string{"dns-cloudflare"}},
		{words: "-a|", want: []string{"apache", "dns-cloudflare", "dns-digitalocean", "dns-dnsimple", "dns-dnsmadeeasy", "dns-gehirn", "dns-google", "dns-linode", "dns-luadns", "dns-nsone", "dns-ovh", "dns-rfc2136", "dns-route53", "dns-sakuracloud", "manual", "nginx", "standalone", "webroot"}},
		{words: "-i|", want: []string{"apache", "nginx", "null"}},
		{words: "--preferred-challenges|h", want: []string{"http", "http-01"}},
		{words: "--server|s", want: []string{"sectigo-ov"}},
		{words: "--dns-cloudflare-credentials|", dir: DirectiveFile},
		{words: "--csr=x", dir: DirectiveFile},
		{words: "-w|/var", dir: DirectiveDir},
		{words: "--deploy-hook|sys", dir: DirectiveCommand},
		{words: "-qd|", want: nil},
		{words: "-n|--dns-cl", want: []string{"--dns-cloudflare", "--dns-cloudflare-propagation-seconds", "--dns-cloudflare-credentials"}},
		{words: "help|ng", want: []string{"nginx"}},
		{words: "--help|cert", want: []string{"certificates", "certonly"}},
		{words: "--|--we", want: nil},
		{words: "--no-reuse", want: []string{"--no-reuse-key"}},
		{words: "--no-ver", want: []string{"--no-verify-ssl"}},
		{words: "--manual-p", want: nil}, // hidden (deprecated)
	}
	for _, tt := range tests {
		words := strings.Split(tt.words, "|")
		a := Complete(src, words)
		if got := values(a); !slices.Equal(got, tt.want) {
			t.Errorf("Complete(%q) = %q, want %q", words, got, tt.want)
		}
		if a.Directive != tt.dir {
			t.Errorf("Complete(%q) directive = %q, want %q", words, a.Directive, tt.dir)
		}
	}
}

func TestRunProtocol(t *testing.T) {
	src, _ := testSource(t)
	src.Parser = argparse.MustNew(argparse.Spec{Options: []argparse.Option{
		{Flags: []string{"--alpha"}, Dest: "alpha", Action: argparse.StoreTrue, Help: "first\tletter"},
		{Flags: []string{"--alpine"}, Dest: "alpine", Action: argparse.Store, Complete: argparse.CompleteFile},
	}})
	var b bytes.Buffer
	if err := Run(&b, src, []string{"--al"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "--alpha\tfirst letter\n--alpine\n:\n"; got != want {
		t.Errorf("Run(--al) = %q, want %q", got, want)
	}
	b.Reset()
	if err := Run(&b, src, []string{"--alpine", ""}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), ":file\n"; got != want {
		t.Errorf("Run(--alpine '') = %q, want %q", got, want)
	}
}

func TestCertNamesFromDir(t *testing.T) {
	_, dir := testSource(t)
	if got, want := CertNamesFromDir(dir), []string{"a.example.com", "b.example.net"}; !slices.Equal(got, want) {
		t.Errorf("CertNamesFromDir = %q, want %q", got, want)
	}
	if got := CertNamesFromDir(filepath.Join(dir, "missing")); got != nil {
		t.Errorf("CertNamesFromDir(missing) = %q, want nil", got)
	}
}

// shellEnv builds the fake acmectl (answers __complete, marks anything
// else), a certbot symlink to it, and a "python certbot" that must never
// run. It returns the bin dir, the marker paths and a config dir.
var (
	fakebinOnce sync.Once
	fakebinDir  string
	fakebinErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fakebinDir != "" {
		os.RemoveAll(fakebinDir)
	}
	os.Exit(code)
}

type shellEnv struct {
	bin, pyBin, marker, pyMarker, configDir string
}

func newShellEnv(t *testing.T) shellEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary and runs shells")
	}
	_, cfg := testSource(t)
	dir := t.TempDir()
	e := shellEnv{bin: filepath.Join(dir, "bin"), pyBin: filepath.Join(dir, "pybin"),
		marker: filepath.Join(dir, "executed"), pyMarker: filepath.Join(dir, "python-certbot-ran"), configDir: cfg}
	if err := os.MkdirAll(e.pyBin, 0o755); err != nil {
		t.Fatal(err)
	}
	fakebinOnce.Do(func() {
		d, err := os.MkdirTemp("", "fakebin")
		if err != nil {
			fakebinErr = err
			return
		}
		fakebinDir = d
		build := exec.Command("go", "build", "-o", filepath.Join(d, "acmectl"), "./testdata/fakebin")
		if out, err := build.CombinedOutput(); err != nil {
			fakebinErr = fmt.Errorf("build fakebin: %v\n%s", err, out)
		}
	})
	if fakebinErr != nil {
		t.Fatal(fakebinErr)
	}
	if err := os.MkdirAll(e.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(fakebinDir, "acmectl"), filepath.Join(e.bin, "acmectl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("acmectl", filepath.Join(e.bin, "certbot")); err != nil {
		t.Fatal(err)
	}
	py := "#!/bin/sh\necho ran > " + e.pyMarker + "\n"
	if err := os.WriteFile(filepath.Join(e.pyBin, "certbot"), []byte(py), 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e shellEnv) env(path string) []string {
	return append(os.Environ(), "PATH="+path+":/usr/bin:/bin", "FAKEBIN_MARKER="+e.marker,
		"FAKEBIN_CONFIG_DIR="+e.configDir, "HOME="+filepath.Dir(e.bin), "XDG_CONFIG_HOME="+filepath.Dir(e.bin))
}

func (e shellEnv) checkNothingRan(t *testing.T) {
	t.Helper()
	for _, m := range []string{e.marker, e.pyMarker} {
		if b, err := os.ReadFile(m); err == nil {
			t.Fatalf("completion executed a command: %s", b)
		}
	}
}

func writeScript(t *testing.T, shell string) string {
	t.Helper()
	s, err := Script(shell, "acmectl", []string{"acmectl", "certbot"})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "completion."+shell)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// scriptCases are command lines typed up to the cursor and what the shell
// should offer; the prog is acmectl or the certbot symlink.
var scriptCases = []struct {
	line string
	want []string
}{
	{"acmectl certonly --we", []string{"--webroot", "--webroot-map", "--webroot-path"}},
	{"certbot certonly --we", []string{"--webroot", "--webroot-map", "--webroot-path"}},
	{"certbot renew -n --cert-name ", []string{"a.example.com", "b.example.net"}},
	{"acmectl -a dns-r", []string{"dns-rfc2136", "dns-route53"}},
	{"certbot --key-type=e", []string{"--key-type=ecdsa"}},
	{"acmectl certi", []string{"certificates"}},
}

func TestBashScript(t *testing.T) {
	e := newShellEnv(t)
	script := writeScript(t, "bash")
	for _, c := range scriptCases {
		run := `source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; _acmectl_complete; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.CommandContext(t.Context(), "bash", "--norc", "--noprofile", "-c", run, "bash", script, c.line)
		cmd.Env = e.env(e.bin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash %q: %v", c.line, err)
		}
		got := lines(out)
		slices.Sort(got)
		// bash hands "--key-type=e" to readline as "e" after the "=".
		want := c.want
		if strings.Contains(c.line, "=") {
			want = nil
			for _, w := range c.want {
				want = append(want, w[strings.LastIndex(w, "=")+1:])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("bash %q = %q, want %q", c.line, got, want)
		}
	}
	// A certbot that is not acmectl is never run.
	cmd := exec.CommandContext(t.Context(), "bash", "--norc", "--noprofile", "-c",
		`source "$1"; COMP_LINE="certbot renew --"; COMP_POINT=${#COMP_LINE}; _acmectl_complete; echo "${#COMPREPLY[@]}"`, "bash", script)
	cmd.Env = e.env(e.pyBin)
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("bash with Python's certbot: %q, %v; want no candidates", out, err)
	}
	e.checkNothingRan(t)
}

func TestFishScript(t *testing.T) {
	e := newShellEnv(t)
	script := writeScript(t, "fish")
	for _, c := range scriptCases {
		cmd := exec.CommandContext(t.Context(), "fish", "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, c.line)
		cmd.Env = e.env(e.bin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("fish %q: %v", c.line, err)
		}
		var got []string
		for _, l := range lines(out) {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("fish %q = %q, want %q", c.line, got, c.want)
		}
	}
	cmd := exec.CommandContext(t.Context(), "fish", "--no-config", "-c", `source $argv[1]; complete -C "certbot renew --cert-"`, script)
	cmd.Env = e.env(e.pyBin)
	if out, err := cmd.Output(); err != nil || len(lines(out)) != 0 {
		t.Errorf("fish with Python's certbot: %q, %v; want no candidates", out, err)
	}
	e.checkNothingRan(t)
}

// TestZshScript drives the zsh function with the completion system's
// builtins replaced by functions that print what they were given.
func TestZshScript(t *testing.T) {
	e := newShellEnv(t)
	script := writeScript(t, "zsh")
	stubs := `
compdef() { :; }
compset() { return 0; }
_describe() { local -a arr; arr=("${(@P)4}"); print -l -- "${(@)arr%%:*}"; }
_files() { print -- "FILES $*"; }
_command_names() { print -- "COMMANDS"; }
`
	for _, c := range append(scriptCases, struct {
		line string
		want []string
	}{"acmectl --csr ", []string{"FILES "}}) {
		run := stubs + `source $1; words=(${(z)2}); [[ $2 == *' ' ]] && words+=(''); CURRENT=${#words}; _acmectl_complete`
		cmd := exec.CommandContext(t.Context(), "zsh", "-f", "-c", run, "zsh", script, c.line)
		cmd.Env = e.env(e.bin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("zsh %q: %v", c.line, err)
		}
		got := lines(out)
		want := c.want
		if strings.Contains(c.line, "=") {
			want = nil
			for _, w := range c.want {
				want = append(want, w[strings.Index(w, "=")+1:])
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("zsh %q = %q, want %q", c.line, got, want)
		}
	}
	cmd := exec.CommandContext(t.Context(), "zsh", "-f", "-c", stubs+`source $1; words=(certbot renew --); CURRENT=3; _acmectl_complete; echo rc=$?`, "zsh", script)
	cmd.Env = e.env(e.pyBin)
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "rc=1" {
		t.Errorf("zsh with Python's certbot: %q, %v; want nothing offered", out, err)
	}
	e.checkNothingRan(t)
}

func TestScriptUnknownShell(t *testing.T) {
	if _, err := Script("tcsh", "acmectl", []string{"acmectl"}); err == nil {
		t.Error("Script(tcsh) = nil error")
	}
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
