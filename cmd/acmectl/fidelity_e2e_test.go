package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/schedule/scheduletest"
)

// Issue 14, the bullets the behave tests do not cover: failure output,
// the renewal-schedule message, and the command-line bullets side by side
// with certbot 2.1.

// TestE2EFailureOutputPerName: three names of one lineage fail three ways
// (the web server answers 404, nothing listens at the name's address, the
// name's DNS fails). certonly prints certbot's sentence, then one line per
// name with the CA's problem type and detail (certbot 2.1 prints the same
// three names, Domain/Type/Detail, run side by side), then one hint per kind
// of failure — the URL fetched and the file written, what listens on the
// port, the name that did not resolve — and "Some challenges have failed.".
// renew prints the same report once: no level=ERROR log line repeating it.
func TestE2EFailureOutputPerName(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	root, other := t.TempDir(), t.TempDir()
	names := []string{"notfound.example.com", "refused.example.com", "nodns.example.com"}
	webroot := func(extra ...string) []string {
		args := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--no-eff-email", "--server", s.DirectoryURL,
			"--webroot", "-w", root, "--cert-name", "three"}
		for _, n := range names {
			args = append(args, "-d", n)
		}
		return append(args, extra...)
	}
	stop := fileServer(t, "127.0.0.1", s.HTTPPort, root)
	for _, p := range []*peer{ac, cb} {
		p.mustRun(webroot()...)
	}
	stop()
	// Break each name its own way.
	fileServer(t, "127.0.0.1", s.HTTPPort, other)
	s.ChallSrv(t, "add-a", map[string]any{"host": "refused.example.com", "addresses": []string{"127.0.0.2"}})
	s.ChallSrv(t, "set-servfail", map[string]any{"host": "nodns.example.com"})

	wantType := map[string]string{"notfound.example.com": "unauthorized", "refused.example.com": "connection", "nodns.example.com": "connection"} // Pebble's type for a name it cannot resolve
	for _, p := range []*peer{ac, cb} {
		r := p.run(webroot("--force-renewal")...)
		if r.code != 1 {
			t.Errorf("%s: three failing names: exit %d, want 1\n%s", p.name, r.code, r)
		}
		for n, typ := range wantType {
			if p.real {
				if !strings.Contains(r.stdout+r.stderr, "Domain: "+n+"\n  Type:   "+typ) {
					t.Errorf("certbot 2.1 does not report %s as %s:\n%s", n, typ, r.stderr)
				}
				continue
			}
			checkNameLine(t, r.stderr, n, typ)
		}
		if p.real {
			continue
		}
		checkHints(t, r.stderr, root)
		if c := strings.Count(r.stderr, "Some challenges have failed."); c != 1 {
			t.Errorf("\"Some challenges have failed.\" printed %d times:\n%s", c, r.stderr)
		}
	}

	// renew: the same report, once.
	r := ac.run("renew", "-n", "--force-renewal", "--no-random-sleep-on-renew")
	if r.code != 1 {
		t.Fatalf("renew with three failing names: exit %d\n%s", r.code, r)
	}
	for n, typ := range wantType {
		checkNameLine(t, r.stderr, n, typ)
	}
	checkHints(t, r.stderr, root)
	if strings.Contains(r.stderr, "level=ERROR") || strings.Contains(r.stderr, "level=") {
		t.Errorf("renew printed a log line besides the report:\n%s", r.stderr)
	}
	if c := strings.Count(r.stderr, "Failed to renew certificate three with error"); c != 1 {
		t.Errorf("renew reported the failure %d times:\n%s", c, r.stderr)
	}
	if !strings.Contains(r.stdout, "All renewals failed. The following certificates could not be renewed:") {
		t.Errorf("renew summary:\n%s", r.stdout)
	}
	// A port held on this side: the error line, then what holds the port
	// and how to free it (the file server above still listens there).
	r = ac.run(issueArgs(s, "-d", "held.example.com")...)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("Hint: Port %d, which the standalone server needs, is held by ", s.HTTPPort)) ||
		strings.Contains(r.stderr, "reported these problems") {
		t.Errorf("standalone on a held port: want exit 1, the error line and who holds the port:\n%s", r)
	}
}

// checkNameLine: exactly one line names n, with the CA's problem type
// first, and it is short enough to read.
func checkNameLine(t *testing.T, stderr, n, typ string) {
	t.Helper()
	var lines []string
	report, _, _ := strings.Cut(stderr, "\nHint: ") // the hints name the names again
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "  "+n+": ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("%d lines for %s, want 1:\n%s", len(lines), n, stderr)
		return
	}
	if !strings.HasPrefix(lines[0], "  "+n+": "+typ+": ") || len(lines[0]) > 300 {
		t.Errorf("line for %s = %q (%d chars), want the CA's type %q and its detail in at most 300", n, lines[0], len(lines[0]), typ)
	}
}

// checkHints: one hint per kind of failure, each naming what acmectl knows.
func checkHints(t *testing.T, stderr, root string) {
	t.Helper()
	hints := regexp.MustCompile(`(?m)^Hint: `).FindAllStringIndex(stderr, -1)
	if len(hints) != 3 {
		t.Errorf("%d hints, want 3 (webroot, refused port, DNS):\n%s", len(hints), stderr)
	}
	for _, want := range []string{
		"notfound.example.com: the CA fetched http://notfound.example.com",              // the URL...
		filepath.Join(root, ".well-known", "acme-challenge") + string(os.PathSeparator), // ...and the file written for it
		"refused for refused.example.com",
		"could not resolve nodns.example.com to connect to it",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in the hints:\n%s", want, stderr)
		}
	}
}

// TestE2ECertbotCommandLine: the command-line bullets of issue 14, each
// argv run through a "certbot" symlink to acmectl and through Debian's
// certbot 2.1 against the same Pebble: the same exit code, the lineage (or
// nothing) in the tree, and the output the bullet is about. Flags 2.1 lacks
// (--ip-address and the like) are covered by TestEveryCertbotFlagAccepted.
func TestE2ECertbotCommandLine(t *testing.T) {
	skipShort(t)
	t.Parallel()
	// Each case, and the help and usage-error runs, is a parallel subtest
	// with its own Pebble and trees: certbot's runs are mostly its fixed
	// one-second polls, and one after another they made this the longest
	// test of make test (issue 19).
	root := t.TempDir()
	for _, tc := range []struct {
		name    string
		argv    []string // without the common flags when lineage is set
		lineage string   // the certificate the argv must leave in live/, "" for none
		conf    map[string]string
		out     []string // in stdout+stderr of both
	}{
		{name: "certbot's flags with certbot's meaning", lineage: "flags.example.com",
			argv: []string{"certonly", "--standalone", "-d", "flags.example.com", "--debug", "--https-port", "8443", "--no-redirect", "--redirect",
				"--hsts", "--uir", "--staple-ocsp", "--nginx-server-root", "/etc/nginx", "--disable-hook-validation", "--text"}},
		{name: "two spellings: the last one wins", lineage: "last.example.com", conf: map[string]string{"authenticator": "standalone"},
			argv: []string{"certonly", "--authenticator", "webroot", "-w", root, "-d", "last.example.com", "-a", "standalone", "--renew-by-default", "--force-renewal"}},
		{name: "unambiguous prefixes", lineage: "prefix.example.com", conf: map[string]string{"pref_challs": "http-01,"},
			argv: []string{"certonly", "--standal", "--preferred-challenge", "http", "--domain", "prefix.example.com", "--no-eff"}},
		{name: "auth is certonly", lineage: "auth.example.com", argv: []string{"auth", "--standalone", "-d", "auth.example.com"}},
		{name: "run with the null installer is certonly", lineage: "run.example.com", argv: []string{"run", "-a", "standalone", "-i", "null", "-d", "run.example.com"}},
		{name: "no verb with the null installer is run", lineage: "noverb.example.com", argv: []string{"--authenticator", "standalone", "--installer", "null", "-d", "noverb.example.com"}},
		{name: "--email with --register-unsafely-without-email uses the e-mail", lineage: "mail.example.com",
			argv: []string{"certonly", "--standalone", "-d", "mail.example.com", "--email", "ops@example.com", "--register-unsafely-without-email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := pebbletest.Start(t, pebbletest.Options{})
			ac, cb := sideBySide(t, s)
			common := []string{"-n", "--agree-tos", "-m", "e2e@example.com", "--no-eff-email", "--server", s.DirectoryURL,
				"--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1"}
			for _, p := range []*peer{ac, cb} {
				argv := append(append([]string{}, tc.argv...), common...)
				r := p.run(argv...)
				if r.code != 0 {
					t.Errorf("%s: %s: certbot %s: %s", tc.name, p.name, strings.Join(tc.argv, " "), r)
					continue
				}
				if _, err := os.Stat(filepath.Join(p.tr.config, "live", tc.lineage, "fullchain.pem")); err != nil {
					t.Errorf("%s: %s: no lineage %s: %v", tc.name, p.name, tc.lineage, err)
					continue
				}
				k := confKeys(t, p.tr, tc.lineage)
				for key, want := range tc.conf {
					if k[key] != want {
						t.Errorf("%s: %s: conf %s = %q, want %q", tc.name, p.name, key, k[key], want)
					}
				}
				// The account the run made has the e-mail, also under
				// --register-unsafely-without-email (the e-mail wins: certbot
				// main._determine_account asks only when no e-mail).
				if r := p.mustRun("show_account", "-n", "--server", s.DirectoryURL); !strings.Contains(r.stdout, "e2e@example.com") {
					t.Errorf("%s: %s: the account's e-mail:\n%s", tc.name, p.name, r)
				}
			}
		})
	}
	t.Run("verbs and help print and exit 0", func(t *testing.T) {
		t.Parallel()
		s := pebbletest.Start(t, pebbletest.Options{})
		ac, cb := sideBySide(t, s)
		// A lineage for update_symlinks to relink.
		for _, p := range []*peer{ac, cb} {
			p.mustRun(issueArgs(s, "-d", "auth.example.com")...)
		}
		versionRE := regexp.MustCompile(`^certbot \d+\.\d+\.\d+`)
		for _, argv := range [][]string{
			{"--help", "all"}, {"help", "all"}, {"-h", "all"}, {"--help", "certonly"}, {"-n", "--staging", "--help", "all"}, {"certonly", "-h"},
			{"-n", "--foo", "--help", "all"}, // help is acted on before the unknown flag is refused
			{"--version"}, {"-n", "--version"}, {"plugins"}, {"update_symlinks"}, {"--help", "plugins"}, {"--help", "webroot"},
		} {
			for _, p := range []*peer{ac, cb} {
				r := p.run(argv...)
				out := r.stdout + r.stderr
				if r.code != 0 {
					t.Errorf("%s: certbot %s: %s", p.name, strings.Join(argv, " "), r)
					continue
				}
				switch argv[len(argv)-1] {
				case "--version":
					if !versionRE.MatchString(r.stdout) {
						t.Errorf("%s: certbot %s: stdout %q, want \"certbot X.Y.Z\" first", p.name, strings.Join(argv, " "), r.stdout)
					}
				case "plugins":
					if argv[0] == "plugins" && (!strings.Contains(out, "* standalone") || !strings.Contains(out, "* webroot")) {
						t.Errorf("%s: certbot plugins lists no standalone and webroot:\n%s", p.name, out)
					}
				case "update_symlinks":
				case "all":
					for _, w := range []string{"usage:", "--webroot-path", "--dns-rfc2136-credentials", "--deploy-hook"} {
						if !strings.Contains(r.stdout, w) {
							t.Errorf("%s: certbot %s lacks %q", p.name, strings.Join(argv, " "), w)
						}
					}
				default:
					if !strings.Contains(r.stdout, "[options]") {
						t.Errorf("%s: certbot %s prints no usage:\n%s", p.name, strings.Join(argv, " "), r)
					}
				}
			}
		}
		// update_symlinks left every lineage's links working.
		for _, p := range []*peer{ac, cb} {
			if _, err := os.Stat(filepath.Join(p.tr.config, "live", "auth.example.com", "cert.pem")); err != nil {
				t.Errorf("%s: after update_symlinks: %v", p.name, err)
			}
		}
	})
	t.Run("usage errors name the right argument", func(t *testing.T) {
		t.Parallel()
		ac, cb := sideBySide(t, nil)
		for _, tc := range []struct {
			argv []string
			want string
		}{
			{[]string{"certonly", "--we", "x"}, "ambiguous option: --we could match"},
			{[]string{"certonly", "--no-such-flag"}, "unrecognized arguments: --no-such-flag"},
		} {
			for _, p := range []*peer{ac, cb} {
				r := p.run(tc.argv...)
				if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%s: certbot %s: want exit 2 and %q\n%s", p.name, strings.Join(tc.argv, " "), tc.want, r)
				}
			}
		}
	})
}

// TestE2EDebianCLIIni: Debian's stock /etc/letsencrypt/cli.ini
// (max-log-backups = 0, preconfigured-renewal = True) is read without a
// word: no warning on stderr or in the log, for certonly and renew, as
// certbot 2.1 reads the same file on this host.
func TestE2EDebianCLIIni(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	ini := filepath.Join(t.TempDir(), "cli.ini")
	// Debian 12's certbot package ships this file.
	if err := os.WriteFile(ini, []byte("# Because we are using logrotate for greater flexibility, disable the\n# internal certbot logrotation.\nmax-log-backups = 0\n# Adjust interactive output regarding automated renewal\npreconfigured-renewal = True\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ac.tr.env = append(ac.tr.env, envSystemConfig+"="+ini)
	for _, p := range []*peer{ac, cb} {
		for _, argv := range [][]string{issueArgs(s, "-d", "ini.example.com"), {"renew", "-n", "--no-random-sleep-on-renew"}, {"certificates"}} {
			r := p.mustRun(argv...)
			for _, bad := range []string{"arning", "nknown", "nrecognized", "preconfigured"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("%s %s: %q on stderr:\n%s", p.name, argv[0], bad, r.stderr)
				}
			}
		}
		// max-log-backups = 0: one log file, appended to.
		if _, err := os.Stat(filepath.Join(p.tr.logs, "letsencrypt.log.1")); err == nil {
			t.Errorf("%s: max-log-backups = 0 but the log was rotated", p.name)
		}
	}
	lg, _ := os.ReadFile(filepath.Join(ac.tr.logs, "letsencrypt.log"))
	for _, bad := range []string{"level=WARN", "unknown", "preconfigured"} {
		if strings.Contains(string(lg), bad) {
			t.Errorf("acmectl's log has %q:\n%s", bad, lg)
		}
	}
}

// TestE2ENoVerifySSL: against a CA whose HTTPS certificate nothing
// trusts, certonly fails — for certbot 2.1 too — and works with
// --no-verify-ssl (certbot client.acme_from_config_key: verify_ssl=False),
// with one warning line per run where certbot 2.1 shows urllib3's
// InsecureRequestWarning.
func TestE2ENoVerifySSL(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	ac, cb := sideBySide(t, s)
	const warning = "Warning: TLS certificate verification of the ACME server is disabled (--no-verify-ssl); use --ca-bundle to trust a private CA instead."
	for _, p := range []*peer{ac, cb} {
		tr := *p.tr
		tr.s = nil // neither --ca-bundle nor REQUESTS_CA_BUNDLE
		q := &peer{name: p.name, tr: &tr, bin: p.bin, real: p.real}
		r := q.run(issueArgs(s, "-d", "untrusted.example.com")...)
		if r.code == 0 {
			t.Errorf("%s: certonly against an untrusted CA succeeded:\n%s", p.name, r)
		}
		if !p.real && !strings.Contains(r.stderr, "pass it with --ca-bundle FILE") {
			t.Errorf("acmectl: an untrusted CA certificate gets no --ca-bundle hint:\n%s", r.stderr)
		}
		r = q.mustRun(issueArgs(s, "-d", "noverify.example.com", "--no-verify-ssl")...)
		if _, err := os.Stat(filepath.Join(tr.config, "live", "noverify.example.com", "fullchain.pem")); err != nil {
			t.Errorf("%s: --no-verify-ssl: no lineage: %v", p.name, err)
		}
		switch {
		case p.real && !strings.Contains(r.stderr, "Unverified HTTPS request"):
			t.Errorf("certbot 2.1 --no-verify-ssl: no InsecureRequestWarning:\n%s", r.stderr)
		case !p.real && strings.Count(r.stderr, warning) != 1:
			t.Errorf("acmectl --no-verify-ssl: want the warning once on stderr:\n%s", r.stderr)
		}
	}
}

// TestE2ENextStepsSchedule: after the first certificate, certonly says
// whether anything renews it (certbot main._report_new_cert /
// _report_next_steps print "These files will be updated..." and, without
// preconfigured_renewal, "NEXT STEPS: ... https://certbot.org/renewal-setup"):
// acmectl decides from the host — nothing scheduled: how to schedule it
// (for this tree: --config-dir); acmectl's timer installed for this tree:
// that it renews; --csr: that nothing renews it.
func TestE2ENextStepsSchedule(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	bin := certbotLink(t)
	root := scheduletest.Root(t, true)
	r := tr.runBin(bin, issueArgs(s, "-d", "next.example.com", "--schedule-root", root)...)
	if r.code != 0 || !strings.Contains(r.stdout, "NEXT STEPS:\n- Nothing is scheduled to renew this certificate before it expires on ") ||
		!strings.Contains(r.stdout, "run 'acmectl schedule install --config-dir "+tr.config+"'") || strings.Contains(r.stdout, "These files will be updated") {
		t.Errorf("no schedule: %s", r)
	}
	tr.mustRun("schedule", "install", "--root", root, "-n", "--binary", "/usr/local/bin/acmectl")
	r = tr.runBin(bin, issueArgs(s, "-d", "next2.example.com", "--schedule-root", root)...)
	if r.code != 0 || !strings.Contains(r.stdout, "These files will be updated when the certificate renews.\nacmectl has a scheduled task (acmectl-renew.timer) to renew this certificate in the background.") ||
		strings.Contains(r.stdout, "NEXT STEPS") {
		t.Errorf("timer installed: %s", r)
	}
	dir := t.TempDir()
	r = tr.runBin(bin, issueArgs(s, "--csr", testCSRFor(t, dir, "csr.example.com"), "--cert-path", filepath.Join(dir, "cert.pem"),
		"--chain-path", filepath.Join(dir, "chain.pem"), "--fullchain-path", filepath.Join(dir, "fullchain.pem"))...)
	if r.code != 0 || !strings.Contains(r.stdout, "NEXT STEPS:\n- Certificates created using --csr will not be renewed automatically.") {
		t.Errorf("--csr: %s", r)
	}
}
