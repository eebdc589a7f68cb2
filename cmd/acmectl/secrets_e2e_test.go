package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/acmectl/acmectl/internal/pebbletest"
)

// TestE2EHooksGetNoSecrets (issue 16, item 5): acmectl's own secret
// variables (ACMECTL_EAB_HMAC_KEY, SCM_PASSWORD) reach no hook — pre,
// deploy, post, or a renewal-hooks directory hook — and neither their
// values nor the EAB key given on the command line reach the output or
// letsencrypt.log, even from a hook that prints its environment.
func TestE2EHooksGetNoSecrets(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{EAB: map[string]string{testEABKid: testEABKey}})
	const scmPassword = "scm-password-do-not-leak-4711"
	tr := newTree(t, s)
	tr.env = append(tr.env, envEABHMACKey+"="+testEABKey, "SCM_PASSWORD="+scmPassword)
	dump := t.TempDir()
	deployDir := filepath.Join(tr.config, "renewal-hooks", "deploy")
	if err := os.MkdirAll(deployDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nenv > " + filepath.Join(dump, "dir-deploy.env") + "\nenv\n"
	if err := os.WriteFile(filepath.Join(deployDir, "dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	hook := func(name string) string {
		return "env > " + filepath.Join(dump, name+".env") + "; env; echo " + envEABHMACKey + "=$" + envEABHMACKey
	}
	r := tr.certonly("secrets", []string{"secrets.example.com"}, "--eab-kid", testEABKid,
		"--pre-hook", hook("pre"), "--deploy-hook", hook("deploy"), "--post-hook", hook("post"))
	if r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	// And with the key on the command line: it is redacted from hook output.
	tr2 := newTree(t, s)
	r2 := tr2.certonly("secrets2", []string{"secrets2.example.com"}, "--eab-kid", testEABKid, "--eab-hmac-key", testEABKey,
		"--pre-hook", "echo key is "+testEABKey)
	if r2.code != 0 {
		t.Fatalf("certonly --eab-hmac-key: %s", r2)
	}
	for _, name := range []string{"pre", "deploy", "post", "dir-deploy"} {
		b, err := os.ReadFile(filepath.Join(dump, name+".env"))
		if err != nil {
			t.Fatalf("%s hook did not run: %v", name, err)
		}
		if !strings.Contains(string(b), "PATH=") {
			t.Errorf("%s hook environment lacks PATH:\n%s", name, b)
		}
		for _, secret := range []string{testEABKey, scmPassword, envEABHMACKey + "=", "SCM_PASSWORD="} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s hook's environment holds %q", name, secret)
			}
		}
	}
	for _, tt := range []*tree{tr, tr2} {
		log, err := os.ReadFile(filepath.Join(tt.logs, "letsencrypt.log"))
		if err != nil {
			t.Fatal(err)
		}
		for where, text := range map[string]string{"stdout": r.stdout + r2.stdout, "stderr": r.stderr + r2.stderr, "letsencrypt.log": string(log)} {
			for _, secret := range []string{testEABKey, scmPassword} {
				if strings.Contains(text, secret) {
					t.Errorf("%s holds the secret %q", where, secret)
				}
			}
		}
	}
}

// TestE2EValidateBeforeTheCA (issue 16, item 6): a value the renewal conf
// cannot hold — a hook command or any other saved parameter with a carriage
// return — is refused before the pre hook runs and before the first request
// to the CA: exit 2, no request, no account, no lineage.
func TestE2EValidateBeforeTheCA(t *testing.T) {
	skipShort(t)
	t.Parallel()
	var requests atomic.Int32
	ca := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer ca.Close()
	s := pebbletest.Start(t, pebbletest.Options{})
	marker := t.TempDir()
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"pre-hook", []string{"--pre-hook", "touch " + filepath.Join(marker, "pre") + "\rb"}},
		{"deploy-hook", []string{"--deploy-hook", "a\rb", "--pre-hook", "touch " + filepath.Join(marker, "pre2")}},
		{"preferred-chain", []string{"--preferred-chain", "Root\rX", "--pre-hook", "touch " + filepath.Join(marker, "pre3")}},
	} {
		for _, server := range []string{ca.URL + "/dir", s.DirectoryURL} {
			tr := newTree(t, s)
			args := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", server, "-d", "v.example.com"}
			args = append(append(args, tr.standalone()...), tc.extra...)
			r := tr.run(args...)
			if r.code != 2 {
				t.Errorf("%s against %s: want exit 2 before anything is requested: %s", tc.name, server, r)
			}
			for _, sub := range []string{"accounts", "live", "archive", "renewal"} {
				if _, err := os.Stat(filepath.Join(tr.config, sub)); !os.IsNotExist(err) {
					t.Errorf("%s against %s: %s/ exists after the refusal (%v)", tc.name, server, sub, err)
				}
			}
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the CA got %d request(s) before the refusal; want none", n)
	}
	if ents, _ := os.ReadDir(marker); len(ents) != 0 {
		t.Errorf("a pre hook ran before the refusal: %v", ents)
	}
}
