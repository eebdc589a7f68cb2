package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/manager"
)

// Issue 14, "Behaviour" and "Interaction": each test drives the built
// binary, through a "certbot" symlink where the behaviour is certbot's, and
// runs Debian's certbot 2.1 on the same input against the same Pebble where
// 2.1 has the behaviour.

// keyOf describes the key of a lineage's current version: "RSA-4096",
// "ECDSA-256".
func keyOf(t *testing.T, tr *tree, name string) string {
	t.Helper()
	switch k := readKey(t, filepath.Join(tr.config, "live", name, "privkey.pem")).(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return fmt.Sprintf("ECDSA-%d", k.Curve.Params().BitSize)
	}
	return "?"
}

// TestE2EForceRenewalKeepsKeyType: certonly --force-renewal -d X on an
// RSA-4096 lineage keeps RSA, as certbot does (main.
// _handle_unexpected_key_type_migration) — and 4096 bits, where certbot
// 2.1 falls back to its 2048 default (acmectl's choice, docs/cli.md);
// --key-type ecdsa without --cert-name is refused with certbot's words,
// with --cert-name it changes the type.
func TestE2EForceRenewalKeepsKeyType(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	const name = "keep.example.com"
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", name, "--key-type", "rsa", "--rsa-key-size", "4096")...)
		p.mustRun(issueArgs(s, "-d", name, "--force-renewal")...)
	}
	if got := keyOf(t, ac.tr, name); got != "RSA-4096" {
		t.Errorf("acmectl: certonly --force-renewal -d %s on an RSA-4096 lineage: key %s, want RSA-4096", name, got)
	}
	if got := keyOf(t, cb.tr, name); got != "RSA-2048" {
		t.Errorf("certbot 2.1 kept the RSA type but dropped the size to its default (RSA-2048); now %s — docs/cli.md says otherwise", got)
	}
	// Changing the type without --cert-name: refused by both, same words, exit 1.
	const want = "Are you trying to change the key type of the certificate named keep.example.com from RSA to ECDSA? " +
		"Please provide both --cert-name and --key-type on the command line to confirm the change you are trying to make."
	for _, p := range []*peer{ac, cb} {
		r := p.run(issueArgs(s, "-d", name, "--key-type", "ecdsa", "--force-renewal")...)
		if r.code != 1 || !strings.Contains(oneLine(r.stderr), want) {
			t.Errorf("%s: key type change without --cert-name: want exit 1 and %q\n%s", p.name, want, r)
		}
		if got := keyOf(t, p.tr, name); !strings.HasPrefix(got, "RSA") {
			t.Errorf("%s: the refused change changed the key to %s", p.name, got)
		}
		// With --cert-name the change is confirmed.
		p.mustRun(issueArgs(s, "-d", name, "--cert-name", name, "--key-type", "ecdsa")...)
		if got := keyOf(t, p.tr, name); got != "ECDSA-256" {
			t.Errorf("%s: --cert-name --key-type ecdsa: key %s", p.name, got)
		}
	}
}

// TestE2EReuseKeyRefusesKeyChange: under --reuse-key, changing the key
// type, the RSA size or the curve is refused with certbot's explanation
// (renewal._avoid_reuse_key_conflicts), by certbot 2.1 and acmectl alike;
// --new-key makes the change once.
func TestE2EReuseKeyRefusesKeyChange(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", "ec.example.com", "--reuse-key")...)
		p.mustRun(issueArgs(s, "-d", "rsa.example.com", "--reuse-key", "--key-type", "rsa")...)
	}
	for _, tc := range []struct {
		lineage, flag string
		args          []string
	}{
		{"ec.example.com", "--key-type", []string{"--key-type", "rsa"}},
		{"ec.example.com", "--elliptic-curve", []string{"--elliptic-curve", "secp384r1"}},
		{"rsa.example.com", "--rsa-key-size", []string{"--rsa-key-size", "3072"}},
	} {
		want := "Unable to change the " + tc.flag + " of this certificate because --reuse-key is set. To stop reusing the private key, specify --no-reuse-key. To change the private key this one time and then reuse it in future, add --new-key."
		for _, p := range []*peer{ac, cb} {
			before := keyOf(t, p.tr, tc.lineage)
			r := p.run(append([]string{"renew", "-n", "--cert-name", tc.lineage, "--force-renewal", "--no-random-sleep-on-renew"}, tc.args...)...)
			if r.code != 1 || !strings.Contains(oneLine(r.stdout+r.stderr), want) {
				t.Errorf("%s: renew %s: want exit 1 and %q\n%s", p.name, strings.Join(tc.args, " "), want, r)
			}
			if got := keyOf(t, p.tr, tc.lineage); got != before {
				t.Errorf("%s: the refused change made the key %s (was %s)", p.name, got, before)
			}
		}
	}
	ac.mustRun("renew", "-n", "--cert-name", "rsa.example.com", "--force-renewal", "--no-random-sleep-on-renew", "--rsa-key-size", "3072", "--new-key")
	if got := keyOf(t, ac.tr, "rsa.example.com"); got != "RSA-3072" {
		t.Errorf("--new-key: key %s, want RSA-3072", got)
	}
}

// TestE2EHookDirsCreated: the first run creates renewal-hooks/{pre,deploy,
// post} (0755) as certbot does (main.make_or_verify_needed_dirs).
func TestE2EHookDirsCreated(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", "hooks.example.com")...)
		for _, kind := range []string{"pre", "deploy", "post"} {
			fi, err := os.Stat(filepath.Join(p.tr.config, "renewal-hooks", kind))
			if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
				t.Errorf("%s: renewal-hooks/%s: %v %v", p.name, kind, fi, err)
			}
		}
	}
	// Also for a first command that obtains nothing (certbot creates them
	// for every verb).
	tr := newTree(t, s)
	tr.mustRun("certificates")
	if _, err := os.Stat(filepath.Join(tr.config, "renewal-hooks", "deploy")); err != nil {
		t.Errorf("certificates did not create the hook directories: %v", err)
	}
}

// TestE2EDryRunRunsTheChallenge: Pebble reuses every valid authorization
// (PEBBLE_AUTHZREUSE=100), so a renewal with an auth hook that fails
// succeeds without running it; a dry run deactivates the reused
// authorizations and re-creates the order (certbot client.
// _get_order_and_authorizations), so the same dry run fails — for certbot
// 2.1 and acmectl alike.
func TestE2EDryRunRunsTheChallenge(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{Env: []string{"PEBBLE_AUTHZREUSE=100"}})
	ac, cb := sideBySide(t, s)
	const name = "dry.example.com"
	failing := []string{"renew", "-n", "--cert-name", name, "--no-random-sleep-on-renew", "--manual", "--manual-auth-hook", "/bin/false", "--preferred-challenges", "http"}
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", name)...)
		// The control: a real renewal reuses the valid authorization, the
		// hook never runs, it succeeds.
		if r := p.run(append(failing, "--force-renewal")...); r.code != 0 {
			t.Fatalf("%s: a renewal with a reused authorization should not run the hook: %s", p.name, r)
		}
		// The dry run must run the challenge: /bin/false fails it.
		r := p.run(append(failing, "--dry-run")...)
		if r.code == 0 || strings.Contains(r.stdout, "all simulated renewals succeeded") {
			t.Errorf("%s: renew --dry-run with a failing auth hook succeeded:\n%s", p.name, r)
		}
	}
	lg, _ := os.ReadFile(filepath.Join(ac.tr.logs, "letsencrypt.log"))
	if !strings.Contains(string(lg), "Recreating order after authz deactivations") {
		t.Errorf("acmectl's log does not say it re-created the order")
	}
	// reconfigure's test issuance is a dry run too: it fails the same way,
	// and the conf keeps its old authenticator.
	r := ac.run("reconfigure", "-n", "--cert-name", name, "--manual", "--manual-auth-hook", "/bin/true", "--preferred-challenges", "http")
	if r.code == 0 {
		t.Errorf("reconfigure with an auth hook that publishes nothing passed its test issuance:\n%s", r)
	}
	conf, _ := os.ReadFile(filepath.Join(ac.tr.config, "renewal", name+".conf"))
	if strings.Contains(string(conf), "/bin/true") {
		t.Errorf("a failed reconfigure changed the conf:\n%s", conf)
	}
}

// TestE2ECertNameNewNames: certonly --cert-name web -d web2 (no name in
// common) works — no "replaces", which RFC 9773 ties to a shared
// identifier and Pebble refuses otherwise — and keeps the lineage's name;
// -n takes certbot's default answer (update). Same for certbot 2.1.
func TestE2ECertNameNewNames(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "--cert-name", "web", "-d", "web.example.com")...)
		p.mustRun(issueArgs(s, "--cert-name", "web", "-d", "web2.example.com")...)
		c := readCert(t, filepath.Join(p.tr.config, "live", "web", "cert.pem"))
		if !manager.SameSet(c.DNSNames, []string{"web2.example.com"}) {
			t.Errorf("%s: names after the change = %v", p.name, c.DNSNames)
		}
		if _, err := os.Stat(filepath.Join(p.tr.config, "renewal", "web.conf")); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
		// A change that keeps a name: a renewal that replaces the old
		// certificate (acmectl sends replaces; Pebble accepts it).
		p.mustRun(issueArgs(s, "--cert-name", "web", "-d", "web2.example.com", "-d", "web3.example.com")...)
	}
	lg, _ := os.ReadFile(filepath.Join(ac.tr.logs, "letsencrypt.log"))
	if strings.Contains(string(lg), "must match") {
		t.Errorf("the CA refused an order:\n%s", lg)
	}
}

// TestE2ENewNamesPromptCancel: on a terminal, certonly --cert-name with
// other names shows certbot's list of added and removed names and asks;
// Cancel ends with certbot's error, exit 1, nothing changed (certbot 2.1
// main._ask_user_to_confirm_new_names, run side by side).
func TestE2ENewNamesPromptCancel(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "--cert-name", "web", "-d", "web.example.com", "-d", "old.example.com")...)
		args := issueArgs(s, "--cert-name", "web", "-d", "web.example.com", "-d", "new.example.com")
		args = append([]string{args[0]}, args[2:]...) // no -n
		pp := p.startPTY(args...)
		pp.waitFor("(U)pdate certificate/(C)ancel:")
		pp.send("c\n")
		code, out := pp.wait()
		flat := strings.ReplaceAll(out, "\r", "")
		for _, want := range []string{"You are updating certificate web to include new domain(s):\n+ new.example.com",
			"You are also removing previously included domain(s):\n- old.example.com", "Did you intend to make this change?",
			"Specified mismatched certificate name and domains."} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: no %q in:\n%s", p.name, want, flat)
			}
		}
		if code != 1 {
			t.Errorf("%s: exit %d after Cancel, want 1", p.name, code)
		}
		if c := readCert(t, filepath.Join(p.tr.config, "live", "web", "cert.pem")); !manager.SameSet(c.DNSNames, []string{"web.example.com", "old.example.com"}) {
			t.Errorf("%s: names changed after Cancel: %v", p.name, c.DNSNames)
		}
	}
}

// confKeys reads a renewal conf's [renewalparams] keys and [[webroot_map]]
// (as "map:NAME=ROOT").
func confKeys(t *testing.T, tr *tree, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.config, "renewal", name+".conf"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, ok := strings.Cut(l, " = ")
		if !ok {
			continue
		}
		switch section {
		case "renewalparams":
			out[k] = v
		case "webroot_map":
			out["map:"+k] = v
		}
	}
	return out
}

// TestE2EReconfigureSwitchAuthenticator: reconfigure --cert-name N with
// another authenticator and no -d (certbot 5.x main.reconfigure; 2.1 has no
// reconfigure) — standalone → webroot (every name to the last -w, as
// certbot's webroot plugin does) → manual → dns → standalone — proves each
// with a test issuance and leaves only the new plugin's keys in the conf;
// certonly --cert-name N --webroot -w DIR without -d does the same, as
// certbot 2.1 does on the same input.
func TestE2EReconfigureSwitchAuthenticator(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	const name = "sw.example.com"
	root := t.TempDir()
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.sh")
	os.WriteFile(auth, []byte("#!/bin/sh\nmkdir -p "+root+"/.well-known/acme-challenge && printf %s \"$CERTBOT_VALIDATION\" > "+root+"/.well-known/acme-challenge/$CERTBOT_TOKEN\n"), 0o755)
	execScript := filepath.Join(dir, "update-dns.sh")
	os.WriteFile(execScript, []byte(`#!/bin/sh
case "$1" in
present) curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" `+s.ChallSrvURL+`/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"$2\"}" `+s.ChallSrvURL+`/clear-txt ;;
esac
`), 0o755)
	ac.tr.env = append(ac.tr.env, "EXEC_PATH="+execScript, "EXEC_SEQUENCE_INTERVAL=1")
	ac.mustRun(issueArgs(s, "-d", name, "-d", "www."+name)...)
	reconf := func(args ...string) map[string]string {
		t.Helper()
		r := ac.run(append([]string{"reconfigure", "-n", "--cert-name", name}, args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "Successfully updated configuration.") {
			t.Fatalf("reconfigure %s: %s", strings.Join(args, " "), r)
		}
		return confKeys(t, ac.tr, name)
	}
	stop := fileServer(t, "127.0.0.1", s.HTTPPort, root)
	k := reconf("--webroot", "-w", root)
	if k["authenticator"] != "webroot" || k["map:"+name] != root || k["map:www."+name] != root || k["http01_port"] != "" {
		t.Errorf("after --webroot: %v", k)
	}
	k = reconf("--manual", "--manual-auth-hook", auth, "--preferred-challenges", "http")
	if k["authenticator"] != "manual" || k["manual_auth_hook"] != auth || k["webroot_path"] != "" || k["map:"+name] != "" {
		t.Errorf("after --manual: %v", k)
	}
	stop()
	k = reconf("--dns", "exec", "--dns-propagation-seconds", "1", "--preferred-challenges", "dns")
	if k["authenticator"] != "dns-exec" || k["dns_exec_propagation_seconds"] != "1" || k["manual_auth_hook"] != "" {
		t.Errorf("after --dns exec: %v", k)
	}
	k = reconf("--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1", "--preferred-challenges", "http")
	if k["authenticator"] != "standalone" || k["dns_exec_propagation_seconds"] != "" || k["http01_port"] != fmt.Sprint(s.HTTPPort) {
		t.Errorf("after --standalone: %v", k)
	}
	ac.mustRun("renew", "-n", "--cert-name", name, "--force-renewal", "--no-random-sleep-on-renew")

	// certonly --cert-name N --webroot -w DIR, no -d: both clients, same map.
	cb.mustRun(issueArgs(s, "-d", name, "-d", "www."+name)...)
	fileServer(t, "127.0.0.1", s.HTTPPort, root)
	for _, p := range []*peer{ac, cb} {
		p.mustRun("certonly", "-n", "--cert-name", name, "--webroot", "-w", root, "--force-renewal", "--server", s.DirectoryURL)
		k := confKeys(t, p.tr, name)
		if k["authenticator"] != "webroot" || k["map:"+name] != root || k["map:www."+name] != root {
			t.Errorf("%s: certonly --cert-name --webroot -w without -d: %v", p.name, k)
		}
	}
}

// TestE2EWebrootIPAddress: --webroot serves IP identifiers too (certbot
// 5.4.0 CHANGELOG: "The webroot plugin now supports IP address
// identifiers"; 2.1 has no --ip-address): the token is written under the
// IP's -w and a web server on 127.0.0.3 serves it to Pebble.
func TestE2EWebrootIPAddress(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	bin := certbotLink(t)
	root := t.TempDir()
	fileServer(t, "127.0.0.3", s.HTTPPort, root)
	r := tr.runBin(bin, "certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL,
		"--webroot", "-w", root, "--ip-address", "127.0.0.3", "--cert-name", "ip")
	if r.code != 0 {
		t.Fatalf("certonly --webroot --ip-address: %s", r)
	}
	c := readCert(t, filepath.Join(tr.config, "live", "ip", "cert.pem"))
	if len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "127.0.0.3" {
		t.Errorf("IP addresses = %v", c.IPAddresses)
	}
	if k := confKeys(t, tr, "ip"); k["authenticator"] != "webroot" || k["map:127.0.0.3"] != root {
		t.Errorf("conf = %v", k)
	}
	tr.mustRun("renew", "-n", "--cert-name", "ip", "--force-renewal", "--no-random-sleep-on-renew")
}

// TestE2ERevokeDeletesLineage: revoke -n deletes the lineage after revoking
// (certbot main._delete_if_appropriate: the question defaults to yes), with
// certbot's lines; --no-delete-after-revoke keeps it. certbot 2.1 side by
// side leaves the same files.
func TestE2ERevokeDeletesLineage(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", "gone.example.com")...)
		p.mustRun(issueArgs(s, "-d", "kept.example.com")...)
		r := p.mustRun("revoke", "-n", "--cert-name", "gone.example.com", "--server", s.DirectoryURL)
		out := r.stdout + r.stderr
		for _, want := range []string{"Deleted all files relating to certificate gone.example.com.",
			"Congratulations! You have successfully revoked the certificate that was located at " + filepath.Join(p.tr.config, "live", "gone.example.com", "cert.pem") + "."} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", p.name, want, r)
			}
		}
		for _, sub := range []string{"live/gone.example.com", "archive/gone.example.com", "renewal/gone.example.com.conf"} {
			if _, err := os.Stat(filepath.Join(p.tr.config, sub)); err == nil {
				t.Errorf("%s: %s is still there", p.name, sub)
			}
		}
		p.mustRun("revoke", "-n", "--cert-name", "kept.example.com", "--no-delete-after-revoke", "--server", s.DirectoryURL)
		if _, err := os.Stat(filepath.Join(p.tr.config, "renewal", "kept.example.com.conf")); err != nil {
			t.Errorf("%s: --no-delete-after-revoke deleted the lineage", p.name)
		}
	}
	// The trees hold the same files (names; accounts' ids differ).
	strip := func(m map[string]bool) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			// accounts differ by id; csr/ and keys/ are certbot 2.1's
			// copies of each key and CSR, which acmectl does not write; .acmectl/ is ours.
			if !strings.HasPrefix(k, "accounts/") && !strings.HasPrefix(k, ".acmectl/") && k != ".certbot.lock" &&
				!strings.HasPrefix(k, "csr/") && !strings.HasPrefix(k, "keys/") {
				out[k] = true
			}
		}
		return out
	}
	a, c := strip(treeFiles(t, ac.tr.config)), strip(treeFiles(t, cb.tr.config))
	for k := range c {
		if !a[k] {
			t.Errorf("certbot has %s, acmectl not", k)
		}
	}
	for k := range a {
		if !c[k] {
			t.Errorf("acmectl has %s, certbot not", k)
		}
	}
}

// TestE2ECertificatesRevoked: Pebble's certificates name an OCSP responder
// (pebbletest.OCSPResponder: Pebble's own status, signed with its issuing
// key). After revoke --no-delete-after-revoke, certificates shows "INVALID:
// REVOKED" as certbot 2.1 shows it on the same tree; a second listing asks
// the responder nothing (the answers are cached until nextUpdate); renew
// renews the revoked certificate and only it ("Should renew, certificate is
// revoked"), as certbot 2.1 does on a copy of the tree; a conf whose server
// says "staging" lists as INVALID: TEST_CERT for both.
func TestE2ECertificatesRevoked(t *testing.T) {
	skipShort(t)
	t.Parallel()
	resp := pebbletest.NewOCSPResponder(t)
	s := pebbletest.Start(t, pebbletest.Options{OCSPResponderURL: resp.URL})
	resp.Attach(s)
	ac, cb := sideBySide(t, s)
	for _, n := range []string{"bad", "good"} {
		ac.mustRun(issueArgs(s, "--cert-name", n, "-d", n+".example.com")...)
	}
	ac.mustRun("revoke", "-n", "--cert-name", "bad", "--no-delete-after-revoke", "--server", s.DirectoryURL)
	status := func(out, name string) string {
		i := strings.Index(out, "Certificate Name: "+name+"\n")
		if i < 0 {
			return ""
		}
		rest := out[i:]
		j := strings.Index(rest, "Expiry Date: ")
		if j < 0 {
			return ""
		}
		line, _, _ := strings.Cut(rest[j:], "\n")
		return line[strings.Index(line, "(")+1 : len(line)-1]
	}
	r := ac.mustRun("certificates")
	if got := status(r.stdout, "bad"); got != "INVALID: REVOKED" {
		t.Errorf("acmectl: revoked lineage listed %q\n%s", got, r.stdout)
	}
	if got := status(r.stdout, "good"); !strings.HasPrefix(got, "VALID: ") {
		t.Errorf("acmectl: valid lineage listed %q", got)
	}
	asked := resp.Requests()
	if asked == 0 || asked > 2 {
		t.Errorf("the first listing made %d OCSP requests, want one per lineage", asked)
	}
	ac.mustRun("certificates")
	if n := resp.Requests(); n != asked {
		t.Errorf("a second listing made %d more OCSP requests; the answers were not cached", n-asked)
	}
	// certbot 2.1 on the same tree (it reads acmectl's files as its own).
	cb.tr.config, cb.tr.work = ac.tr.config, filepath.Join(t.TempDir(), "work")
	rc := cb.mustRun("certificates")
	if got := status(rc.stdout, "bad"); got != "INVALID: REVOKED" {
		t.Errorf("certbot 2.1 on acmectl's tree lists %q:\n%s", got, rc.stdout)
	}
	// renew: certbot 2.1 on a copy of the tree, then acmectl on its own.
	cp := filepath.Join(t.TempDir(), "config")
	if out, err := exec.Command("cp", "-a", ac.tr.config, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	// The confs hold absolute paths: point the copy's at the copy.
	confs, _ := filepath.Glob(filepath.Join(cp, "renewal", "*.conf"))
	for _, f := range confs {
		b, _ := os.ReadFile(f)
		os.WriteFile(f, []byte(strings.ReplaceAll(string(b), ac.tr.config, cp)), 0o644)
	}
	cb.tr.config = cp
	for _, p := range []*peer{ac, cb} {
		before := map[string]string{}
		for _, n := range []string{"bad", "good"} {
			before[n] = readCert(t, filepath.Join(p.tr.config, "live", n, "cert.pem")).SerialNumber.String()
		}
		p.mustRun("renew", "-n", "--no-random-sleep-on-renew")
		for _, n := range []string{"bad", "good"} {
			renewed := readCert(t, filepath.Join(p.tr.config, "live", n, "cert.pem")).SerialNumber.String() != before[n]
			if renewed != (n == "bad") {
				t.Errorf("%s renew: %s renewed = %v", p.name, n, renewed)
			}
		}
	}
	r = ac.mustRun("certificates")
	if got := status(r.stdout, "bad"); !strings.HasPrefix(got, "VALID: ") {
		t.Errorf("after renew the lineage is still listed %q", got)
	}
	// TEST_CERT: "staging" anywhere in the conf's server (certbot util.is_staging).
	for _, p := range []*peer{ac, cb} {
		conf := filepath.Join(p.tr.config, "renewal", "good.conf")
		b, _ := os.ReadFile(conf)
		os.WriteFile(conf, []byte(strings.ReplaceAll(string(b), "server = "+s.DirectoryURL, "server = https://acme-staging.example/directory")), 0o644)
		r := p.mustRun("certificates")
		if got := status(r.stdout, "good"); got != "INVALID: TEST_CERT" {
			t.Errorf("%s: a staging lineage is listed %q\n%s", p.name, got, r.stdout)
		}
	}
}

// flat folds a terminal transcript's whitespace (certbot wraps its
// questions at 80 columns) for comparing texts.
func flat(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ") }

// TestE2ECtrlCAtPrompt: ^C at a question ends the run with certbot's
// "Exiting due to user request." and exit 1, the lineage untouched — certbot
// 2.1 on the same terminal input does the same (log.post_arg_parse_except_hook).
func TestE2ECtrlCAtPrompt(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", "ctrlc.example.com")...)
		pp := p.startPTY("delete", "--cert-name", "ctrlc.example.com")
		pp.waitFor("(Y)es/(N)o:")
		pp.send("\x03")
		code, out := pp.wait()
		if code != 1 || !strings.Contains(out, "Exiting due to user request.") {
			t.Errorf("%s: ^C at the question: exit %d\n%s", p.name, code, out)
		}
		if _, err := os.Stat(filepath.Join(p.tr.config, "renewal", "ctrlc.example.com.conf")); err != nil {
			t.Errorf("%s: ^C deleted the lineage", p.name)
		}
	}
}

// TestE2EEmailReAsked: a mistyped address at the e-mail question is asked
// again, not a failed run (certbot display/ops.get_email; acmectl words it
// as certbot 5.x does: "There is a problem with your email address.", 2.1
// said "There seem to be problems with that address."), and the account
// gets the second answer.
func TestE2EEmailReAsked(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	again := map[*peer]string{ac: "There is a problem with your email address.", cb: "There seem to be problems with that address."}
	for _, p := range []*peer{ac, cb} {
		pp := p.startPTY("register", "--agree-tos", "--no-eff-email", "--server", s.DirectoryURL)
		pp.waitFor("Enter email address")
		pp.send("not-an-email\n")
		pp.waitFor(again[p])
		pp.send("ops@example.com\n")
		if code, out := pp.wait(); code != 0 {
			t.Errorf("%s: register after a mistyped address: exit %d\n%s", p.name, code, out)
		}
		r := p.mustRun("show_account", "-n", "--server", s.DirectoryURL)
		if !strings.Contains(r.stdout, "ops@example.com") {
			t.Errorf("%s: the account's contact is not the second answer:\n%s", p.name, r)
		}
	}
}

// TestE2EExpandPromptListsNames: certonly with more names than an existing
// lineage asks, listing both sets of names (certbot 2.1 main.
// _handle_subset_cert_request, run side by side); Cancel prints the
// --duplicate hint and certbot's error, exit 1.
func TestE2EExpandPromptListsNames(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(issueArgs(s, "-d", "exp.example.com")...)
		args := issueArgs(s, "-d", "exp.example.com", "-d", "www.exp.example.com")
		pp := p.startPTY(append([]string{args[0]}, args[2:]...)...) // no -n
		pp.waitFor("(E)xpand/(C)ancel:")
		pp.send("c\n")
		code, out := pp.wait()
		got := flat(out)
		for _, want := range []string{
			"You have an existing certificate that contains a portion of the domains you requested (ref: " + filepath.Join(p.tr.config, "renewal", "exp.example.com.conf") + ")",
			"It contains these names: exp.example.com",
			"You requested these names for the new certificate: exp.example.com, www.exp.example.com.",
			"Do you want to expand and replace this existing certificate with the new certificate?",
			"To obtain a new certificate that contains these names without replacing your existing certificate for exp.example.com, you must use the --duplicate option.",
			"certbot --duplicate certonly",
			"User chose to cancel the operation and may reinvoke the client.",
		} {
			if !strings.Contains(got, flat(want)) {
				t.Errorf("%s: no %q in\n%s", p.name, want, out)
			}
		}
		if code != 1 {
			t.Errorf("%s: exit %d after Cancel, want 1", p.name, code)
		}
	}
}
