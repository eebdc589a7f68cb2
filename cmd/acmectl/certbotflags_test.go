package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/argparse"
)

// certbotFlags56 reads every option string and verb of certbot 5.6.0 from
// internal/argparse/testdata/certbot-flags-5.6.md (machine-extracted from
// certbot's argparse definitions at tag v5.6.0; a copy of
// /work/shared/reference/certbot-flags-5.6.md).
func certbotFlags56(t *testing.T) (flags, verbs []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "argparse", "testdata", "certbot-flags-5.6.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`(--?[a-z0-9][a-z0-9-]*)`").FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(flags, m[1]) {
			flags = append(flags, m[1])
		}
	}
	_, v, _ := strings.Cut(string(b), "## Verbs")
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(v, -1) {
		if m[1] != "help" && !slices.Contains(verbs, m[1]) {
			verbs = append(verbs, m[1])
		}
	}
	if len(flags) < 150 || len(verbs) < 16 {
		t.Fatalf("read %d flags and %d verbs from the certbot 5.6 list; the file changed shape", len(flags), len(verbs))
	}
	return flags, verbs
}

// TestEveryCertbotFlagAccepted (issue 14, Must show 2): every option
// string and verb certbot 5.6 has goes through acmectl's whole command
// line — cli.ini, argparse, the parameter table's validation, the verb
// check — without a usage error (exit 2), given a value certbot accepts.
// The verb's handler is replaced by one that records it ran, so nothing is
// requested. A flag acmectl does not serve may still fail after parsing
// with one line naming the alternative (exit 1): only --dns-gehirn (no lego
// provider), listed in docs/cli.md.
func TestEveryCertbotFlagAccepted(t *testing.T) {
	flags, verbs := certbotFlags56(t)
	dir := t.TempDir()
	file := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	values := map[string]string{
		"-d": "a.example.com", "--domains": "a.example.com", "--domain": "a.example.com", "--ip-address": "192.0.2.1",
		"-m": "a@example.com", "--email": "a@example.com", "--server": "https://acme.example/directory",
		"--key-type": "rsa", "--rsa-key-size": "3072", "--elliptic-curve": "secp384r1", "--preferred-challenges": "http",
		"--reason": "keycompromise", "--http-01-port": "8080", "--https-port": "8443", "--issuance-timeout": "120",
		"--max-log-backups": "3", "--verbose-level": "1", "--cert-name": "a.example.com", "--csr": testCSR(t, dir),
		"-c": file("cli.ini", "agree-tos = True\n", 0o644), "--config": file("cli2.ini", "", 0o644),
		"-w": dir, "--webroot-path": dir, "--webroot-map": `{"a.example.com": "` + dir + `"}`,
		"--eab-hmac-alg": "HS384", "--preferred-chain": "ISRG Root X1", "--preferred-profile": "tlsserver",
		"--required-profile": "tlsserver", "--user-agent": "ua", "--user-agent-comment": "c",
		"--pre-hook": "true", "--post-hook": "true", "--deploy-hook": "true", "--renew-hook": "true",
		"--manual-auth-hook": "true", "--manual-cleanup-hook": "true", "--checkpoints": "2",
		"-i": "null", "--installer": "null", "-a": "standalone", "--authenticator": "standalone", "--configurator": "nginx",
		"--dns-google-project": "p", "--nginx-sleep-seconds": "1", "--account": "0123456789abcdef",
		"--eab-kid": "kid", "--eab-hmac-key": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
		"--cert-path": filepath.Join(dir, "cert.pem"), "--key-path": filepath.Join(dir, "key.pem"),
		"--chain-path": filepath.Join(dir, "chain.pem"), "--fullchain-path": filepath.Join(dir, "fullchain.pem"),
		"--apache-handle-modules": "False", "--apache-handle-sites": "False",
	}
	creds := file("creds.ini", "dns_x_token = t\n", 0o600)
	valueOf := func(f string) string {
		switch {
		case values[f] != "":
			return values[f]
		case strings.HasSuffix(f, "-credentials"):
			return creds
		case strings.HasSuffix(f, "-propagation-seconds"):
			return "10"
		case strings.HasSuffix(f, "-dir"), strings.HasSuffix(f, "-root"):
			return dir
		}
		return "/usr/sbin/" + strings.TrimPrefix(f, "--") // -ctl, -bin, -enmod, ...: a word
	}
	// Refused after parsing, by design (docs/cli.md says why and what to use).
	afterParse := map[string]string{
		"--dns-gehirn": "no lego provider",
	}
	// Accepted as a pair only: half an EAB pair is refused with one line
	// naming the other half (certbot ignores it and fails later, when the
	// CA asks for EAB).
	pair := map[string][]string{"--eab-kid": {"--eab-hmac-key", values["--eab-hmac-key"]}, "--eab-hmac-key": {"--eab-kid", "kid"}}
	// The extraction of the 5.6 list misses four option strings certbot
	// has: -w (the webroot plugin's short form), --auto-hsts (added by
	// enhancements.populate_cli), --force-interactive (cli/__init__.py);
	// --manual-public-ip-logging-ok was removed in 2.x and stays accepted
	// for old scripts.
	extra := []string{"-w", "--auto-hsts", "--force-interactive", "--manual-public-ip-logging-ok"}
	p := cmdParser()
	ran := 0
	run := func(context.Context, *env) error { ran++; return nil }
	for _, f := range slices.Concat(flags, extra, verbs) {
		if f == "-h" || f == "--help" || f == "--version" {
			continue // stop parsing and print (TestE2ECertbotCommandLine)
		}
		args := []string{"certonly", "-d", "a.example.com", f}
		if !strings.HasPrefix(f, "-") {
			args = []string{f, "-d", "a.example.com"}
		} else if m, ok := p.Classify(f); ok && m.NeedsValue {
			args = append(args, valueOf(f))
		}
		args = append(args, pair[f]...)
		args = append(args, "--config-dir", filepath.Join(dir, "config"), "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs"))
		var errb bytes.Buffer
		before := ran
		err := runCertbot(t.Context(), &bytes.Buffer{}, &errb, "certbot", args, nil, "", run)
		switch {
		case exitCode(err) == exitUsage:
			t.Errorf("certbot %s: usage error (exit 2): %v", strings.Join(args[:len(args)-6], " "), err)
		case err != nil && afterParse[f] == "":
			t.Errorf("certbot %s: %v", strings.Join(args[:len(args)-6], " "), err)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("certbot %s: a refusal of more than one line: %q", f, err)
		case err == nil && ran != before+1:
			t.Errorf("certbot %s: the verb did not run", f)
		}
	}
	t.Logf("%d certbot 5.6 option strings and %d verbs: no usage error; %d ran the verb", len(flags), len(verbs), ran)
	// The list and argparse's certbot spec hold the same option strings.
	spec := argparse.MustNew(argparse.Certbot()).Flags()
	for _, f := range flags {
		if !slices.Contains(spec, f) {
			t.Errorf("certbot 5.6 has %s; argparse.Certbot() does not", f)
		}
	}
	for _, f := range spec {
		if !slices.Contains(flags, f) && !slices.Contains(extra, f) {
			t.Errorf("argparse.Certbot() has %s; certbot 5.6 does not", f)
		}
	}
}

// testCSR writes a CSR for a.example.com (PEM) under dir.
func testCSR(t *testing.T, dir string) string { return testCSRFor(t, dir, "a.example.com") }

// testCSRFor writes a CSR for name (PEM, its own P-256 key) under dir.
func testCSRFor(t *testing.T, dir, name string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".csr.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
