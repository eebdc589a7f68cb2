package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/complete"
)

// TestE2ECompletionRunsNothing (issue 14, Must show 3): for every verb —
// certbot's, none, and acmectl's own commands — the bash, zsh and fish
// completion scripts of the built binary, invoked as acmectl and through a
// certbot symlink, complete flags, verbs and certificate names against a
// tree whose only lineage is due and whose CA is a counting HTTP server, and
// nothing happens: zero requests reach the CA, every file, directory and
// lock file of the config, work and logs dirs (and HOME) is as it was, and
// no command reads the terminal. A control run of "renew" on the same tree
// then does reach the CA, so the setup would see a command that ran.
func TestE2ECompletionRunsNothing(t *testing.T) {
	skipShort(t)
	t.Parallel()
	var requests atomic.Int64
	ca := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "completion must not reach the CA", http.StatusServiceUnavailable)
	}))
	defer ca.Close()
	server := ca.URL + "/dir"

	root := t.TempDir()
	config, work, logs := filepath.Join(root, "config"), filepath.Join(root, "work"), filepath.Join(root, "logs")
	xdg := filepath.Join(root, "xdg") // the user's cli.ini; the shells' own state goes to shellHome
	shellHome := t.TempDir()
	dueLineage(t, config, "a.example.com", server)
	for _, d := range []string{work, logs, filepath.Join(xdg, "letsencrypt")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, body := range map[string]string{
		filepath.Join(config, ".certbot.lock"): "", filepath.Join(work, ".certbot.lock"): "", filepath.Join(logs, ".certbot.lock"): "",
		filepath.Join(logs, "letsencrypt.log"):       "an earlier run\n",
		filepath.Join(xdg, "letsencrypt", "cli.ini"): "server = " + server + "\nnon-interactive = True\nagree-tos = True\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range completionProgs {
		if err := os.Symlink(acmectlBin(t), filepath.Join(bin, n)); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "PATH="+bin+":/usr/bin:/bin", "HOME="+shellHome, "XDG_CONFIG_HOME="+xdg,
		"XDG_DATA_HOME="+shellHome, envSystemConfig+"=", "REQUESTS_CA_BUNDLE=")
	scripts := map[string]string{}
	for _, sh := range complete.Shells {
		s, err := complete.Script(sh, "acmectl", completionProgs)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "completion."+sh)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		scripts[sh] = p
	}

	verbs := append([]string{""}, cmdParser().Spec().VerbOrder...)
	for _, c := range newApp().VisibleCommands() {
		verbs = append(verbs, c.Name)
	}
	before := treeState(t, config, work, logs, filepath.Join(xdg, "letsencrypt"))
	dirs := fmt.Sprintf(" --server %s --config-dir %s --work-dir %s --logs-dir %s", server, config, work, logs)
	runs := 0
	for i, sh := range complete.Shells {
		prog := completionProgs[i%2] // each verb under both names across the shells
		var lines []string
		for _, verb := range verbs {
			v := strings.TrimSpace(prog + " " + verb)
			lines = append(lines,
				v+dirs+" -n --force-renewal --cert-", // a flag prefix
				v+dirs+" --cert-name ",               // lineage names from --config-dir
			)
		}
		got := runCompletion(t, sh, scripts[sh], env, lines)
		runs += len(lines)
		for j := 0; j < len(lines); j += 2 {
			if !slices.Contains(got[j], "--cert-name") || !slices.Contains(got[j+1], "a.example.com") {
				t.Errorf("%s: %q offered %q, %q offered %q; want --cert-name and the lineage a.example.com", sh, lines[j], got[j], lines[j+1], got[j+1])
			}
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("completion sent %d requests to the CA", n)
	}
	after := treeState(t, config, work, logs, filepath.Join(xdg, "letsencrypt"))
	for p, s := range after {
		if before[p] != s {
			t.Errorf("completion changed %s: %s -> %s", p, before[p], s)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("completion removed %s", p)
		}
	}
	t.Logf("%d completions (%d verbs × %d shells × 2 lines): 0 requests, tree unchanged", runs, len(verbs), len(complete.Shells))

	// The control: the same tree and CA notice a command that runs.
	cmd := exec.CommandContext(t.Context(), filepath.Join(bin, "certbot"), "renew", "--no-random-sleep-on-renew", "--config-dir", config, "--work-dir", work, "--logs-dir", logs)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || requests.Load() == 0 {
		t.Errorf("control renew: err %v, %d requests, want a failed renewal that reached the CA\n%s", err, requests.Load(), out)
	}
}

// runCompletion completes each line (the cursor at its end) in shell sh
// with the script loaded, and returns the candidates per line. Stdin is a
// pipe nobody writes to: a command that read the terminal would hang until
// the test's deadline.
func runCompletion(t *testing.T, sh, script string, env, lines []string) [][]string {
	t.Helper()
	var args []string
	switch sh {
	case "bash":
		args = []string{"--norc", "--noprofile", "-c", `source "$1"; shift
for COMP_LINE in "$@"; do COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _acmectl_complete; printf '%s\n' "${COMPREPLY[@]}"; echo ==; done`, "bash", script}
	case "zsh":
		args = []string{"-f", "-c", `compdef() { :; }; compset() { return 0; }
_describe() { local -a arr; arr=("${(@P)4}"); print -l -- "${(@)arr%%:*}"; }
_files() { :; }; _command_names() { :; }
source $1; shift
for line in "$@"; do words=(${(z)line}); [[ $line == *' ' ]] && words+=(''); CURRENT=${#words}; _acmectl_complete; echo '=='; done`, "zsh", script}
	case "fish":
		args = []string{"--no-config", "-c", `source $argv[1]; for l in $argv[2..-1]; complete -C "$l"; echo ==; end`, script}
	}
	cmd := exec.CommandContext(t.Context(), sh, append(args, lines...)...)
	cmd.Env = env
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd.Stdin = r
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s completion of %q: %v\n%s", sh, lines, err, out)
	}
	res := make([][]string, len(lines))
	i := 0
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case l == "==":
			i++
		case l != "" && i < len(res):
			res[i] = append(res[i], strings.SplitN(l, "\t", 2)[0])
		}
	}
	if i != len(lines) {
		t.Fatalf("%s completion of %q answered %d lines\n%s", sh, lines, i, out)
	}
	return res
}

// treeState records every path under roots: type, mode, size,
// modification time (directories too, so a file created and removed again
// shows), link target and content hash.
func treeState(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, root := range roots {
		if err := walkState(root, out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func walkState(root string, out map[string]string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		s := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			s += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			s += " " + hex.EncodeToString(h[:8])
		}
		out[p] = s
		return nil
	})
}

// dueLineage writes a certbot lineage whose certificate expires within the
// hour (so any renew would contact server), standalone on a closed port.
func dueLineage(t *testing.T, config, name, server string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	files := map[string][]byte{"cert": certPEM, "chain": certPEM, "fullchain": append(append([]byte{}, certPEM...), certPEM...),
		"privkey": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})}
	archive, live := filepath.Join(config, "archive", name), filepath.Join(config, "live", name)
	for _, d := range []string{archive, live, filepath.Join(config, "renewal")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, b := range files {
		if err := os.WriteFile(filepath.Join(archive, k+"1.pem"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "archive", name, k+"1.pem"), filepath.Join(live, k+".pem")); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf("version = 2.1.0\narchive_dir = %s\ncert = %s/cert.pem\nprivkey = %s/privkey.pem\nchain = %s/chain.pem\nfullchain = %s/fullchain.pem\n\n[renewalparams]\nauthenticator = standalone\nhttp01_port = 1\nserver = %s\nkey_type = ecdsa\n",
		archive, live, live, live, live, server)
	if err := os.WriteFile(filepath.Join(config, "renewal", name+".conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}
