package reliability

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/hostileca"
)

// badCase is one malformed invocation. Placeholders in args and file
// contents: {S} an honest CA, {E} a CA that requires EAB, {W} a webroot,
// {D} the case's scratch directory, {C} the config dir, @name the path of
// files[name] (written into {D} first, mode 0600 unless mode says).
type badCase struct {
	name  string
	args  []string
	files map[string]string
	mode  map[string]os.FileMode
	conf  string // non-empty: a lineage "x" exists and this is renewal/x.conf
	want  string // substring of the one error line
	// ordered: the input is refused only after the order was created, from
	// the CA's authorizations (issue 15: a wildcard needs dns-01 only when
	// its authorization is pending), so an account may have been
	// registered; nothing else may be written.
	ordered bool
}

// emptyConf stands for a 0-byte renewal conf (what a full disk leaves).
const emptyConf = "\x01empty"

// certonlyBase is a certonly that would work against {S}.
var certonlyBase = []string{"certonly", "-n", "--agree-tos", "-m", "bad@example.com", "--server", "{S}", "--webroot", "-w", "{W}"}

func co(extra ...string) []string { return append(append([]string{}, certonlyBase...), extra...) }

// goodConf is a renewal conf acmectl renews with (the control case).
const goodConf = `version = 2.1.0
archive_dir = {C}/archive/x
cert = {C}/live/x/cert.pem
privkey = {C}/live/x/privkey.pem
chain = {C}/live/x/chain.pem
fullchain = {C}/live/x/fullchain.pem

# Options used in the renewal process
[renewalparams]
authenticator = webroot
webroot_path = {W},
server = {S}
key_type = ecdsa
[[webroot_map]]
x.example.com = {W}
`

// confWith returns goodConf with line replaced (matched by its key) or added
// to [renewalparams].
func confWith(line string) string {
	key := strings.TrimSpace(strings.SplitN(line, "=", 2)[0])
	var out []string
	done := false
	for _, l := range strings.Split(goodConf, "\n") {
		if strings.HasPrefix(l, key+" = ") {
			out = append(out, line)
			done = true
			continue
		}
		out = append(out, l)
		if l == "[renewalparams]" && !done && !strings.Contains(goodConf, "\n"+key+" = ") {
			out = append(out, line)
			done = true
		}
	}
	return strings.Join(out, "\n")
}

func badCases() []badCase {
	var cs []badCase
	add := func(name, want string, args ...string) {
		cs = append(cs, badCase{name: name, args: args, want: want})
	}

	// --- domain names -----------------------------------------------------
	domains := []struct{ d, want string }{
		{"localhost", "fully qualified"}, {"com", "fully qualified"}, {"example", "fully qualified"},
		{"192.0.2.1", "--ip-address"}, {"10.0.0.1", "--ip-address"}, {"2001:db8::1", "--ip-address"}, {"[2001:db8::1]", "--ip-address"},
		{"::1", "--ip-address"}, {"::ffff:192.0.2.1", "--ip-address"},
		{"a.*.example.com", "wildcard"}, {"*a.example.com", "wildcard"}, {"*.*.example.com", "wildcard"}, {"example.*", "wildcard"},
		{"*", "wildcard"}, {"a*b.example.com", "wildcard"}, {"**.example.com", "wildcard"}, {"www.example.*.com", "wildcard"},
		{"a..example.com", "empty label"}, {".example.com", "empty label"}, {"example..com", "empty label"},
		// -d's value may not start with "-" (argparse, as certbot: the word is an option).
		{"-a.example.com", "argument -d/--domains/--domain: expected one argument"}, {"a-.example.com", "hyphen"}, {"www.-example.com", "hyphen"}, {"www.example-.com", "hyphen"},
		{strings.Repeat("a", 64) + ".example.com", "longer than 63"}, {"www." + strings.Repeat("b", 70) + ".com", "longer than 63"},
		{strings.Repeat(strings.Repeat("c", 60)+".", 5) + "com", "longer than 253"},
		{strings.Repeat("d.", 127) + "com", "longer than 253"},
		{"under_score.example.com", "not a valid domain name"}, {"_acme-challenge.example.com", "not a valid domain name"},
		{"exa mple.com", "not a valid domain name"}, {"exa\tmple.com", "not a valid domain name"},
		{"example.com/path", "not a valid domain name"}, {"http://example.com", "not a valid domain name"},
		{"user@example.com", "not a valid domain name"}, {"example.com:443", "not a valid domain name"},
		{"ex%41mple.com", "not a valid domain name"}, {"exa'mple.com", "not a valid domain name"},
		{`exa"mple.com`, "not a valid domain name"}, {"exa;mple.com", "not a valid domain name"},
		{"$(id).example.com", "not a valid domain name"}, {"`id`.example.com", "not a valid domain name"},
		{"a|b.example.com", "not a valid domain name"}, {"a&b.example.com", "not a valid domain name"},
		{"a>b.example.com", "not a valid domain name"}, {"a<b.example.com", "not a valid domain name"},
		{`a\b.example.com`, "not a valid domain name"}, {"a/b.example.com", "not a valid domain name"},
		{"../../etc.example.com", "not a valid domain name"}, {"a!b.example.com", "not a valid domain name"},
		{"a~b.example.com", "not a valid domain name"}, {"a+b.example.com", "not a valid domain name"},
		{"a=b.example.com", "not a valid domain name"}, {"a?b.example.com", "not a valid domain name"},
		{"a#b.example.com", "not a valid domain name"}, {"a{b}.example.com", "not a valid domain name"},
		{"xn--a.example.com", "not a valid domain name"}, {"xn--.example.com", "not a valid domain name"},
		{"😀.example.com", "not a valid domain name"}, {"a\u2028b.example.com", "not a valid domain name"},
		{"ex\u00a0ample.com", "not a valid domain name"},
		{"a\u3002\u3002example.com", "empty label"}, {"ＡＢＣ..example.com", "empty label"},
		{"a\x7fb.example.com", "not a valid domain name"}, {"a\x01b.example.com", "not a valid domain name"},
		{"a,", "fully qualified"}, {",localhost", "fully qualified"}, {"ok.example.com,bad_name.example.com", "not a valid domain name"},
	}
	for i, d := range domains {
		add(fmt.Sprintf("domain-%02d", i), d.want, co("-d", d.d)...)
	}
	add("no-domains", "--domain", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "--webroot", "-w", "{W}")
	add("empty-domain", "--domain", co("-d", "")...)
	add("only-commas", "--domain", co("-d", ",,,")...)

	// --- IP literals ------------------------------------------------------
	for i, ip := range []string{"999.1.1.1", "1.2.3", "1.2.3.4.5", "fe80::1%eth0", "example.com", "1.2.3.4/24", "::g", "0x7f.1", "1.2.3.4:80", "[::1]:443", "*"} {
		add(fmt.Sprintf("ip-%02d", i), "--ip-address", co("--ip-address", ip)...)
	}

	// --- flags: values and conflicts -------------------------------------
	for i, v := range []string{"dsa", "ed25519", "ecdsa-384", "RSA4096", "x"} {
		add(fmt.Sprintf("key-type-%d", i), "--key-type", co("-d", "a.example.com", "--key-type", v)...)
	}
	for i, v := range []string{"1024", "1000", "16384", "abc", "-2048", "2049"} {
		add(fmt.Sprintf("rsa-key-size-%d", i), "--rsa-key-size", co("-d", "a.example.com", "--key-type", "rsa", "--rsa-key-size", v)...)
	}
	for i, v := range []string{"secp192r1", "p-224", "curve25519", "x"} {
		add(fmt.Sprintf("curve-%d", i), "--elliptic-curve", co("-d", "a.example.com", "--elliptic-curve", v)...)
	}
	add("rsa-and-curve", "--elliptic-curve", co("-d", "a.example.com", "--key-type", "rsa", "--elliptic-curve", "secp384r1")...)
	for i, v := range []string{"not-an-email", "a b@example.com", "<a@example.com>", "a@example.com,nope"} {
		add(fmt.Sprintf("email-%d", i), "--email", "certonly", "-n", "--agree-tos", "-m", v, "--server", "{S}", "--webroot", "-w", "{W}", "-d", "a.example.com")
	}
	for i, v := range []string{"0", "70000", "-1", "http", "65536"} {
		add(fmt.Sprintf("http-port-%d", i), "--http-01-port", co("-d", "a.example.com", "--http-01-port", v)...)
	}
	for i, v := range []string{"0", "65", "x", "-3"} {
		add(fmt.Sprintf("parallel-%d", i), "--parallel", "renew", "--parallel", v)
	}
	for i, v := range []string{"0", "-5", "abc", "1.5"} {
		add(fmt.Sprintf("issuance-timeout-%d", i), "--issuance-timeout", co("-d", "a.example.com", "--issuance-timeout", v)...)
	}
	add("max-log-backups", "--max-log-backups", co("-d", "a.example.com", "--max-log-backups", "-1")...)
	add("max-log-backups-nan", "--max-log-backups", co("-d", "a.example.com", "--max-log-backups", "many")...)
	for i, v := range []string{"soon", "-3 days", "30 fortnights", "days 30", "3 days 4"} {
		add(fmt.Sprintf("renew-before-expiry-%d", i), "--renew-before-expiry", co("-d", "a.example.com", "--renew-before-expiry", v)...)
	}
	add("staging-and-server", "--staging", co("-d", "a.example.com", "--staging")...)
	// --reuse-key --no-reuse-key, --force-renewal --keep-until-expiring,
	// --autorenew --no-autorenew, --delete-after-revoke
	// --no-delete-after-revoke and --email with
	// --register-unsafely-without-email are certbot command lines that work
	// (the last of a pair wins; force wins over keep; the e-mail is used):
	// not bad input (issue 14).
	add("profiles", "--preferred-profile", co("-d", "a.example.com", "--preferred-profile", "a", "--required-profile", "b")...)
	for i, v := range []string{"smtp", "http-02", "dns-02,http", "carrier-pigeon"} {
		add(fmt.Sprintf("pref-challs-%d", i), "--preferred-challenges", co("-d", "a.example.com", "--preferred-challenges", v)...)
	}
	// (nginx and apache are plugins acmectl has: never named here, they
	// would configure the machine's /etc/nginx or /etc/apache2.)
	for i, v := range []string{"lighttpd", "iis", "dns-", "script"} {
		add(fmt.Sprintf("authenticator-%d", i), "--authenticator", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "-d", "a.example.com", "--authenticator", v)
	}
	// certbot's plugins/selection.py text (exit 1).
	const tooMany = "Too many flags setting configurators/installers/authenticators"
	add("two-authenticators", tooMany+" 'standalone' -> 'webroot'", co("-d", "a.example.com", "--standalone")...)
	add("three-authenticators", tooMany, co("-d", "a.example.com", "--standalone", "--manual")...)
	add("standalone-manual", tooMany+" 'standalone' -> 'manual'", "certonly", "-n", "--server", "{S}", "-d", "a.example.com", "--standalone", "--manual")
	add("dns-and-standalone", tooMany+" 'standalone' -> 'dns-cloudflare'", "certonly", "-n", "--server", "{S}", "-d", "a.example.com", "--standalone", "--dns", "cloudflare")
	add("authenticator-and-installer-differ", tooMany+" 'nginx' -> 'apache'", "certonly", "-n", "--server", "{S}", "-d", "a.example.com", "--nginx", "--apache")
	add("no-authenticator", "--standalone", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "-d", "a.example.com")
	for i, v := range []string{"a/b", "../x", ".hidden", "..", "/etc/x"} {
		add(fmt.Sprintf("cert-name-%d", i), "--cert-name", co("-d", "a.example.com", "--cert-name", v)...)
	}
	for i, v := range []string{"lets-encrypt", "ftp://example.com/dir", "http://acme.example.com/dir", "not a url", "https://", "://x"} {
		add(fmt.Sprintf("server-%d", i), "--server", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--webroot", "-w", "{W}", "-d", "a.example.com", "--server", v)
	}
	add("eab-kid-no-key", "--eab-hmac-key", co("-d", "a.example.com", "--eab-kid", "k")...)
	add("eab-key-no-kid", "--eab-kid", co("-d", "a.example.com", "--eab-hmac-key", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")...)
	add("eab-key-and-file", "--eab-hmac-key-file", co("-d", "a.example.com", "--eab-kid", "k", "--eab-hmac-key", "abc", "--eab-hmac-key-file", "/dev/null")...)
	add("eab-file-missing", "--eab-hmac-key-file", co("-d", "a.example.com", "--eab-kid", "k", "--eab-hmac-key-file", "{D}/nope")...)
	cs = append(cs, badCase{name: "eab-file-empty", want: "is empty", files: map[string]string{"eab": "\n"},
		args: co("-d", "a.example.com", "--eab-kid", "k", "--eab-hmac-key-file", "@eab")})
	add("eab-key-not-base64", "base64", co("-d", "a.example.com", "--eab-kid", "k", "--eab-hmac-key", "not*base64!")...)
	add("eab-alg", "--eab-hmac-alg", co("-d", "a.example.com", "--eab-kid", "k", "--eab-hmac-key", "abcd", "--eab-hmac-alg", "HS1")...)
	// A CA that requires EAB, without one.
	add("eab-required", "--eab-kid", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{E}", "--webroot", "-w", "{W}", "-d", "a.example.com")
	add("eab-required-register", "--eab-kid", "register", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{E}")
	add("ca-bundle-missing", "CA bundle", co("-d", "a.example.com", "--ca-bundle", "{D}/nope.pem")...)
	cs = append(cs, badCase{name: "ca-bundle-not-pem", want: "no PEM", files: map[string]string{"b.pem": "hello"},
		args: co("-d", "a.example.com", "--ca-bundle", "@b.pem")})
	add("csr-missing", "csr", co("--csr", "{D}/nope.der")...)
	cs = append(cs, badCase{name: "csr-garbage", want: "certificate request", files: map[string]string{"c.der": "garbage"}, args: co("--csr", "@c.der")})
	add("webroot-missing", "webroot", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "--webroot", "-w", "{D}/nope", "-d", "a.example.com")
	cs = append(cs, badCase{name: "webroot-is-file", want: "not a directory", files: map[string]string{"f": "x"},
		args: []string{"certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "--webroot", "-w", "@f", "-d", "a.example.com"}})
	add("webroot-d-before-w", "no webroot", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "--webroot", "-d", "a.example.com")
	for i, v := range []string{`{bad`, `{"a.example.com": 5}`, `[]`, `{"bad name": "/tmp"}`, `{"a..example.com": "{W}"}`, `"x"`, `{"*.": "{W}"}`} {
		add(fmt.Sprintf("webroot-map-%d", i), "--webroot-map", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "--webroot-map", v)
	}
	cs = append(cs, badCase{name: "wildcard-http01", want: "dns-01", args: co("-d", "*.example.com"), ordered: true})
	add("renew-with-d", "certonly", "renew", "-d", "a.example.com")
	add("delete-no-name", "--cert-name", "delete", "-n")
	add("delete-unknown", "nope", "delete", "-n", "--cert-name", "nope")
	add("renew-unknown-name", "nope", "renew", "--cert-name", "nope")
	add("revoke-nothing", "--cert", "revoke", "-n", "--server", "{S}")
	for i, v := range []string{"bogus", "7", "keyCompromised"} {
		add(fmt.Sprintf("reason-%d", i), "--reason", "revoke", "-n", "--cert-name", "x", "--reason", v)
	}
	add("config-missing", "{D}/nope.ini", co("-d", "a.example.com", "-c", "{D}/nope.ini")...)
	add("config-is-dir", "{D}", co("-d", "a.example.com", "-c", "{D}")...)

	// --- unknown flags and commands -----------------------------------------
	// (--dry would be certbot's abbreviation of --dry-run; --force and --d are
	// ambiguous, as in certbot.)
	for i, f := range []string{"--no-such-flag", "--domain-name", "-Z", "--standalone-port", "--webroot-paths", "--eab-hmac", "--rsa-keysize",
		"--dry-runs", "--force", "--keeep", "--server-url", "--http01-port", "--pre_hook", "---", "--d", "--domains-file"} {
		add(fmt.Sprintf("unknown-flag-%02d", i), strings.TrimLeft(f, "-"), "certonly", f)
	}
	for i, c := range []string{"obtain", "renw", "config_changes", "plugins-list", "CERTONLY", "certonly2"} {
		add(fmt.Sprintf("unknown-command-%d", i), c, c)
	}
	// The installer verbs without what they need: one line naming the flag.
	add("installer-verb-install", "--cert-name", "install", "-n")
	add("installer-verb-enhance", "--redirect, --hsts, --uir or --staple-ocsp", "enhance", "-n", "--cert-name", "x")
	add("installer-verb-rollback", "--nginx or --apache", "rollback", "-n")
	add("run-nginx-no-root", "--nginx-server-root", "-n", "--nginx", "-d", "a.example.com", "--nginx-server-root", "{D}/none")
	add("run-apache-no-root", "--apache-server-root", "run", "-n", "-a", "standalone", "-i", "apache", "-d", "a.example.com", "--apache-server-root", "{D}/none")
	add("run-standalone-no-installer", `you probably want to use the "certonly" command`, "run", "-n", "--standalone", "-d", "a.example.com")
	add("run-auto-hsts", "--auto-hsts", "-n", "--nginx", "--auto-hsts", "-d", "a.example.com", "--nginx-server-root", "{D}/none")
	// No verb is certbot's run: with -n and no plugin named it needs one
	// (certbot 2.1: "Missing command line flags ... specify a plugin"; make
	// test installs both nginx and apache2, so neither is taken alone).
	add("no-command", "--nginx or --apache", "-n")

	// --- directories ----------------------------------------------------------
	cs = append(cs,
		badCase{name: "config-dir-is-file", want: "--config-dir", files: map[string]string{"f": "x"}, args: co("-d", "a.example.com", "--config-dir", "@f")},
		badCase{name: "config-dir-under-file", want: "not a directory", files: map[string]string{"f": "x"}, args: co("-d", "a.example.com", "--config-dir", "@f/sub")},
		badCase{name: "work-dir-under-file", want: "not a directory", files: map[string]string{"f": "x"}, args: co("-d", "a.example.com", "--work-dir", "@f/sub")},
		badCase{name: "logs-dir-under-file", want: "not a directory", files: map[string]string{"f": "x"}, args: co("-d", "a.example.com", "--logs-dir", "@f/sub")},
		badCase{name: "certificates-config-is-file", want: "--config-dir", files: map[string]string{"f": "x"}, args: []string{"certificates", "--config-dir", "@f"}},
		badCase{name: "renew-config-is-file", want: "--config-dir", files: map[string]string{"f": "x"}, args: []string{"renew", "--config-dir", "@f"}},
	)

	// --- cli.ini ----------------------------------------------------------------
	inis := []struct{ name, ini, want string }{
		{"key-type", "key-type = dsa", "key-type"},
		{"rsa-key-size", "key-type = rsa\nrsa-key-size = big", "rsa-key-size"},
		// ConfigArgParse's texts.
		{"bool", "agree-tos = maybe", "Unexpected value for agree-tos: 'maybe'"},
		{"no-key", "= value", "Unexpected line 6 in"},
		{"unknown-key", "no-such-option = 1", "unrecognized arguments: --no-such-option=1"},
		{"domains-bad", "domains = a..example.com", "empty label"},
		{"domains-ip", "domains = 192.0.2.7", "--ip-address"},
		{"domains-wild", "domains = a.*.example.com", "wildcard"},
		{"server-alias", "server = lets-encrypt", "--server"},
		{"staging-server", "staging = true", "--staging"},
		{"email", "email = nobody", "--email"},
		{"http-port", "http-01-port = 99999", "--http-01-port"},
		{"authenticator", "authenticator = lighttpd", "--authenticator"},
		{"pref-challs", "preferred-challenges = carrier-pigeon", "--preferred-challenges"},
		{"rbe", "renew-before-expiry = whenever", "--renew-before-expiry"},
		{"authenticators", "standalone = true", "Too many flags setting configurators/installers/authenticators 'webroot' -> 'standalone'"},
		{"rsa-curve", "key-type = rsa\nelliptic-curve = secp384r1", "--elliptic-curve"},
		{"eab-kid", "eab-kid = k", "--eab-hmac-key"},
		{"parallel", "parallel = 100", "--parallel"},
		{"cert-name", "cert-name = ../../etc", "--cert-name"},
		{"max-log-backups", "max-log-backups = -3", "--max-log-backups"},
		{"curve", "elliptic-curve = secp1r1", "--elliptic-curve"},
		{"issuance-timeout", "issuance-timeout = never", "--issuance-timeout"},
		{"profiles", "preferred-profile = a\nrequired-profile = b", "--preferred-profile"},
		{"ip", "ip-address = 300.1.1.1", "--ip-address"},
		{"eab-file", "eab-kid = k\neab-hmac-key-file = /nonexistent/eab", "--eab-hmac-key-file"},
		{"quiet-bool", "quiet = loud", "Unexpected value for quiet: 'loud'"},
	}
	// The command line wins over cli.ini, so these cases put everything in
	// the file: a working base, then the bad line (later lines win).
	const iniBase = "server = {S}\nagree-tos = true\nemail = ini@example.com\nauthenticator = webroot\nwebroot-path = {W}\ndomains = ini.example.com\n"
	for _, in := range inis {
		cs = append(cs, badCase{name: "cli.ini-" + in.name, want: in.want, files: map[string]string{"cli.ini": iniBase + in.ini + "\n"},
			args: []string{"certonly", "-n", "-c", "@cli.ini"}})
	}

	// --- renewal confs (a lineage x exists) -----------------------------------
	confs := []struct{ name, conf, want string }{
		{"authenticator", confWith("authenticator = lighttpd"), "plugin"},
		{"rbe", "renew_before_expiry = soon\n" + goodConf, "renew_before_expiry"},
		{"pref-challs", confWith("pref_challs = smtp-01,"), "pref_challs"},
		{"server-alias", confWith("server = lets-encrypt-bogus"), "server"},
		{"server-ftp", confWith("server = ftp://example.com/dir"), "server"},
		{"server-http", confWith("server = http://acme.example.com/dir"), "https"},
		{"garbage-section", goodConf + "\n[[[[\n", "x.conf"},
		{"empty", emptyConf, "x.conf"},
		{"binary", "\x00\xff\xfe garbage \x00", "x.conf"},
		{"unterminated-quote", confWith(`webroot_path = "abc`), "x.conf"},
		{"duplicate-key", strings.Replace(goodConf, "[renewalparams]\n", "[renewalparams]\nserver = {S}\n", 1), "x.conf"},
		{"reuse-key-bool", confWith("reuse_key = maybe"), "reuse_key"},
		{"must-staple-bool", confWith("must_staple = perhaps"), "must_staple"},
		{"subset-bool", confWith("allow_subset_of_names = sometimes"), "allow_subset_of_names"},
		{"autorenew-bool", confWith("autorenew = often"), "autorenew"},
		{"rsa-key-size", confWith("rsa_key_size = huge"), "rsa_key_size"},
		{"http01-port", strings.Replace(confWith("authenticator = standalone"), "[renewalparams]\n", "[renewalparams]\nhttp01_port = 99999\n", 1), "99999"},
		{"account-traversal", confWith("account = ../../../../etc"), "account"},
		{"key-type", confWith("key_type = dsa"), "key_type"},
		{"curve", confWith("elliptic_curve = secp1r1"), `"secp1r1"`},
		{"webroot-missing", strings.ReplaceAll(goodConf, "{W}", "{D}/nope"), "webroot"},
		{"dns-unknown", confWith("authenticator = dns-nonexistent"), "nonexistent"},
		{"manual-no-hook", confWith("authenticator = manual"), "--manual-auth-hook"},
	}
	cs = append(cs, badCase{name: "renewal-conf-empty-all", want: "x.conf", conf: emptyConf,
		args: []string{"renew", "--force-renewal", "--no-random-sleep-on-renew"}})
	cs = append(cs, badCase{name: "renewal-conf-zero-bytes-all", want: "x.conf", conf: "\x00",
		args: []string{"renew", "--no-random-sleep-on-renew"}})
	for _, c := range confs {
		cs = append(cs, badCase{name: "renewal-conf-" + c.name, want: c.want, conf: c.conf,
			args: []string{"renew", "--cert-name", "x", "--force-renewal", "--no-random-sleep-on-renew"}})
	}

	// --- DNS credentials files --------------------------------------------------
	dnsArgs := func(file string) []string {
		return []string{"certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "-d", "a.example.com", "--dns", "cloudflare", "--dns-credentials", file}
	}
	creds := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"world-readable", "dns_cloudflare_api_token = x\n", 0o644, "chmod 600"},
		{"no-equals", "dns_cloudflare_api_token\n", 0o600, "KEY=value"},
		{"empty-key", " = x\n", 0o600, "empty key"},
		{"other-provider", "dns_route53_access_key_id = x\n", 0o600, "not for provider"},
	}
	for _, c := range creds {
		cs = append(cs, badCase{name: "dns-credentials-" + c.name, want: c.want, files: map[string]string{"creds.ini": c.content},
			mode: map[string]os.FileMode{"creds.ini": c.mode}, args: dnsArgs("@creds.ini")})
	}
	cs = append(cs, badCase{name: "dns-credentials-missing", want: "credentials", args: dnsArgs("{D}/nope.ini")})
	add("dns-unknown-provider", "nonexistent", "certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", "{S}", "-d", "a.example.com", "--dns", "nonexistent")
	return cs
}

// seedLineage writes lineage x (version 1, a self-signed certificate) by hand.
func seedLineage(t *testing.T, config, conf string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "x.example.com"}, DNSNames: []string{"x.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	files := map[string][]byte{"cert": cert, "chain": cert, "fullchain": append(append([]byte{}, cert...), cert...),
		"privkey": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})}
	for _, d := range []string{"archive/x", "live/x", "renewal"} {
		if err := os.MkdirAll(filepath.Join(config, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for k, b := range files {
		if err := os.WriteFile(filepath.Join(config, "archive/x", k+"1.pem"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../../archive/x/"+k+"1.pem", filepath.Join(config, "live/x", k+".pem")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(config, "renewal/x.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput runs acmectl with every malformed command line, cli.ini,
// renewal conf and credentials file of badCases: each must exit non-zero
// with one error line containing the expected text, and write nothing: no
// account, no lineage, no change to an existing one, nothing in the webroot
// or the working directory. A control case proves the seeded lineage renews
// when its conf is good.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ca, err := hostileca.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hostileca.Start(ca)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	eab, err := hostileca.Start(ca)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eab.Close() })
	eab.SetBehavior(hostileca.EABRequired)

	type prepared struct {
		b        *box
		args     []string
		web, dir string
	}
	prepare := func(t *testing.T, tc badCase) prepared {
		b := newBox(t, ca.Bundle)
		dir := t.TempDir()
		web := filepath.Join(dir, "www")
		if err := os.Mkdir(web, 0o755); err != nil {
			t.Fatal(err)
		}
		rep := strings.NewReplacer("{S}", srv.DirectoryURL, "{E}", eab.DirectoryURL, "{W}", web, "{D}", dir, "{C}", b.config)
		for name, content := range tc.files {
			mode := os.FileMode(0o600)
			if m, ok := tc.mode[name]; ok {
				mode = m
			}
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(rep.Replace(content)), mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, mode)
		}
		var args []string
		for _, a := range tc.args {
			if strings.HasPrefix(a, "@") {
				name, rest, _ := strings.Cut(a[1:], "/")
				a = filepath.Join(dir, name)
				if rest != "" {
					a = filepath.Join(a, rest)
				}
			}
			args = append(args, rep.Replace(a))
		}
		p := prepared{b: b, args: args, web: web, dir: dir}
		if tc.conf != "" || tc.name == "control" {
			// An account at {S}, as a lineage's renewal would have.
			if r := b.run("register", "-n", "--agree-tos", "-m", "seed@example.com", "--server", srv.DirectoryURL); r.code != 0 {
				t.Fatalf("seed account: %s", r)
			}
			conf := rep.Replace(tc.conf)
			if tc.conf == emptyConf {
				conf = ""
			}
			seedLineage(t, b.config, conf)
		}
		return p
	}
	// runArgs puts the box's dirs first so a case's own --config-dir etc. win.
	runArgs := func(p prepared) result {
		full := append([]string{}, p.args...)
		have := strings.Join(p.args, " ")
		for _, kv := range [][2]string{{"--config-dir", p.b.config}, {"--work-dir", p.b.work}, {"--logs-dir", p.b.logs}, {"--ca-bundle", p.b.caBundle}} {
			if !strings.Contains(have, kv[0]+" ") {
				full = append(full, kv[0], kv[1])
			}
		}
		return p.b.runRaw(full...)
	}

	t.Run("control", func(t *testing.T) {
		p := prepare(t, badCase{name: "control", conf: goodConf})
		p.args = []string{"renew", "--cert-name", "x", "--force-renewal", "--no-random-sleep-on-renew"}
		if r := runArgs(p); r.code != 0 {
			t.Fatalf("the seeded lineage with a good conf must renew: %s", r)
		}
		mustWhole(t, p.b.config)
		p.args = co("-d", "control.example.com")
		p.args = strings.Split(strings.NewReplacer("{S}", srv.DirectoryURL, "{W}", p.web).Replace(strings.Join(p.args, "\x00")), "\x00")
		if r := runArgs(p); r.code != 0 {
			t.Fatalf("the base certonly must work: %s", r)
		}
	})

	cases := badCases()
	var tried, passed atomic.Int64
	start := time.Now()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				t.Run(tc.name, func(t *testing.T) {
					p := prepare(t, tc)
					before := snapshot(t, p.b.config)
					r := runArgs(p)
					tried.Add(1)
					if r.code == 0 {
						t.Errorf("bad input accepted: %s", r)
						return
					}
					msg := cleanError(t, r)
					want := strings.NewReplacer("{D}", p.dir).Replace(tc.want)
					if len(tc.args) > 0 && tc.args[0] == "renew" && tc.conf != "" {
						// renew reports each lineage's error, then a summary line.
						for _, l := range strings.Split(r.stderr, "\n") {
							if strings.HasPrefix(l, "Failed to renew") {
								msg += "\n" + l
							}
						}
					}
					if !strings.Contains(msg, want) {
						t.Errorf("error should contain %q:\n%s", want, r)
					}
					after := snapshot(t, p.b.config)
					for k, v := range after {
						if tc.ordered && strings.HasPrefix(k, "accounts/") {
							continue
						}
						if before[k] != v {
							t.Errorf("%s was written", k)
						}
					}
					for k := range before {
						if _, ok := after[k]; !ok {
							t.Errorf("%s was removed", k)
						}
					}
					checkEmptyDir(t, p.web, "webroot")
					checkEmptyDir(t, p.b.cwd, "working directory")
					if !t.Failed() {
						passed.Add(1)
					}
				})
			}()
		}
		wg.Wait()
	})
	t.Logf("bad input: %d cases tried, %d refused cleanly with the expected error and nothing written, in %v", tried.Load(), passed.Load(), time.Since(start).Round(time.Millisecond))
	if len(cases) < 200 {
		t.Errorf("only %d bad-input cases; the issue asks for at least 200", len(cases))
	}
}

// TestRenewalConfPathsOutsideTree: a renewal conf whose cert/archive_dir
// paths point outside the config dir (a hand-edited or hostile conf) may be
// renewed, but nothing may be written outside the tree.
func TestRenewalConfPathsOutsideTree(t *testing.T) {
	t.Parallel()
	ca, err := hostileca.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hostileca.Start(ca)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct{ name, from, to string }{
		{"archive_dir", "archive_dir = {C}/archive/x", "archive_dir = {O}"},
		{"cert", "cert = {C}/live/x/cert.pem", "cert = {O}/cert.pem"},
		{"privkey", "privkey = {C}/live/x/privkey.pem", "privkey = {O}/privkey.pem"},
		{"fullchain", "fullchain = {C}/live/x/fullchain.pem", "fullchain = {O}/fullchain.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBox(t, ca.Bundle)
			dir := t.TempDir()
			web, outside := filepath.Join(dir, "www"), filepath.Join(dir, "outside")
			for _, d := range []string{web, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			b.mustRun("register", "-n", "--agree-tos", "-m", "seed@example.com", "--server", srv.DirectoryURL)
			rep := strings.NewReplacer("{S}", srv.DirectoryURL, "{W}", web, "{C}", b.config, "{O}", outside)
			seedLineage(t, b.config, rep.Replace(strings.Replace(goodConf, tc.from, tc.to, 1)))
			r := b.run("renew", "--cert-name", "x", "--force-renewal", "--no-random-sleep-on-renew")
			cleanError(t, r)
			checkEmptyDir(t, outside, "outside the tree")
			checkEmptyDir(t, b.cwd, "working directory")
			mustWhole(t, b.config)
		})
	}
}
