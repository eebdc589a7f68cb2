package argparse

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestParse covers certbot's rules without certbot (the oracle test runs
// the same kinds of cases against certbot itself).
func TestParse(t *testing.T) {
	p := MustNew(Certbot())
	tests := []struct {
		name string
		argv string
		verb string
		dest string
		want any    // value of dest
		err  string // error text; "" for none
	}{
		{"no verb is run", "-n -d a.com", "run", "noninteractive_mode", true, ""},
		{"verb after flags", "-n -d a.com certonly", "certonly", "domains", []string{"a.com"}, ""},
		{"auth alias", "auth", "certonly", "", nil, ""},
		{"everything alias", "everything", "run", "", nil, ""},
		{"prefix", "--preferred-challenge dns", "run", "pref_challs", []string{"dns-01"}, ""},
		{"prefix with =", "--preferred-chal=http,dns", "run", "pref_challs", []string{"http-01", "dns-01"}, ""},
		{"ambiguous prefix", "--we", "run", "", nil, "ambiguous option: --we could match --webroot, --webroot-path, --webroot-map"},
		{"last wins across spellings", "--authenticator standalone -d a.com -a webroot", "run", "authenticator", "webroot", ""},
		{"force renewal twice", "--renew-by-default --force-renewal", "run", "renew_by_default", true, ""},
		{"store_false after store_true", "--reuse-key --no-reuse-key", "run", "reuse_key", false, ""},
		{"eff email pair", "--no-eff-email", "run", "eff_email", false, ""},
		{"cluster", "-qn", "run", "quiet", true, ""},
		{"count cluster", "-vvv", "run", "verbose_count", 3, ""},
		{"attached value", "-dexample.com", "run", "domains", []string{"example.com"}, ""},
		{"cluster then value", "-qdexample.com", "run", "domains", []string{"example.com"}, ""},
		{"bad cluster", "-qx", "run", "", nil, "argument -q/--quiet: ignored explicit argument 'x'"},
		{"value on a switch", "--staging=yes", "run", "", nil, "argument --test-cert/--staging: ignored explicit argument 'yes'"},
		{"missing value", "--cert-name", "run", "", nil, "argument --cert-name: expected one argument"},
		{"value looks like a flag", "--email -n", "run", "", nil, "argument -m/--email: expected one argument"},
		{"negative number is a value", "--http-01-port -1", "run", "http01_port", -1, ""},
		{"int", "--rsa-key-size 4096", "run", "rsa_key_size", 4096, ""},
		{"bad int", "--rsa-key-size big", "run", "", nil, "argument --rsa-key-size: invalid int value: 'big'"},
		{"choice", "--key-type dsa", "run", "", nil, "argument --key-type: invalid choice: 'dsa' (choose from 'rsa', 'ecdsa')"},
		{"reason", "revoke --reason KeyCompromise", "revoke", "reason", 1, ""},
		{"domains merged", "-d a.com,B.com. -d a.com --domain c.com", "run", "domains", []string{"a.com", "b.com", "c.com"}, ""},
		{"ip in -d", "-d 10.0.0.1", "run", "", nil, "Requested name 10.0.0.1 is an IP address. The Let's Encrypt certificate authority will not issue certificates for a bare IP address."},
		{"ip address", "--ip-address 127.0.0.3,::1 --ip-address 127.0.0.3", "run", "ip_addresses", []string{"127.0.0.3", "::1"}, ""},
		{"deploy hook sets renew hook", "--deploy-hook true", "run", "renew_hook", "true", ""},
		{"hook conflict", "--renew-hook a --deploy-hook b", "run", "", nil, "argument --deploy-hook: conflicts with --renew-hook value"},
		{"unknown flag named", "certonly --no-such -d a.com", "certonly", "", nil, "unrecognized arguments: --no-such"},
		{"unknown word", "certonly bogus", "certonly", "", nil, "unrecognized arguments: bogus"},
		{"double dash", "-- -d x", "run", "", nil, "unrecognized arguments: -- -d x"},
		{"deprecated accepted", "--no-bootstrap", "run", "", nil, ""},
		{"dns plugin", "--dns-cloudflare --dns-cloudflare-credentials /c.ini --dns-cloudflare-propagation-seconds 30", "run", "dns_cloudflare_propagation_seconds", 30, ""},
		{"profile", "--preferred-profile shortlived", "run", "preferred_profile", "shortlived", ""},
		{"certonly cert path default", "certonly", "certonly", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Parse(strings.Fields(tt.argv))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Parse(%q) error = %v, want %q", tt.argv, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.argv, err)
			}
			if res.Verb != tt.verb {
				t.Errorf("Parse(%q).Verb = %q, want %q", tt.argv, res.Verb, tt.verb)
			}
			if tt.dest != "" {
				if got := res.Values[tt.dest]; !equalValue(got, tt.want) {
					t.Errorf("Parse(%q)[%s] = %#v, want %#v", tt.argv, tt.dest, got, tt.want)
				}
				if !res.Set[tt.dest] {
					t.Errorf("Parse(%q).Set[%s] = false", tt.argv, tt.dest)
				}
			}
		})
	}
}

func equalValue(a, b any) bool {
	if la, ok := a.([]string); ok {
		lb, _ := b.([]string)
		return slices.Equal(la, lb)
	}
	return a == b
}

func TestParseErrorKinds(t *testing.T) {
	p := MustNew(Certbot())
	_, err := p.Parse([]string{"--foo"})
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("unknown flag: %T, want *UsageError", err)
	}
	_, err = p.Parse([]string{"-d", "http://a.com"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("URL as domain: %T, want *ConfigError", err)
	}
	_, err = p.Parse([]string{"-w", t.TempDir() + "/missing"})
	if !errors.As(err, &ce) || !strings.HasSuffix(ce.Msg, "/missing does not exist or is not a directory") {
		t.Errorf("missing webroot: %v", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	p := MustNew(Certbot())
	tests := []struct {
		argv    string
		topic   string
		version bool
		err     string
	}{
		{argv: "help", topic: ""},
		{argv: "help all", topic: "all"},
		{argv: "help auth", topic: "certonly"},
		{argv: "help commands", topic: "commands"},
		{argv: "-h", topic: ""},
		{argv: "--help certonly", topic: "certonly"},
		{argv: "certonly --help", topic: ""},
		{argv: "-n -d a.com --help all", topic: "all"},
		{argv: "--help dns-cloudflare", topic: "dns-cloudflare"},
		{argv: "--help bogus --foo", topic: ""},
		{argv: "--we --help all", err: "ambiguous option: --we could match --webroot, --webroot-path, --webroot-map"},
		{argv: "-n --version", version: true},
		{argv: "--version --foo", version: true},
		{argv: "--rsa-key-size x --version", err: "argument --rsa-key-size: invalid int value: 'x'"},
	}
	for _, tt := range tests {
		res, err := p.Parse(strings.Fields(tt.argv))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Parse(%q) error = %v, want %q", tt.argv, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) error = %v", tt.argv, err)
			continue
		}
		if tt.version {
			if !res.Version || res.Help != nil {
				t.Errorf("Parse(%q) = version %v help %v, want version", tt.argv, res.Version, res.Help)
			}
			continue
		}
		if res.Help == nil || res.Help.Topic != tt.topic {
			t.Errorf("Parse(%q).Help = %+v, want topic %q", tt.argv, res.Help, tt.topic)
		}
	}
}

func TestRequestedPlugins(t *testing.T) {
	p := MustNew(Certbot())
	tests := []struct {
		argv, auth, inst, err string
	}{
		{argv: "--standalone", auth: "standalone"},
		{argv: "--nginx", auth: "nginx", inst: "nginx"},
		{argv: "-a webroot -i nginx", auth: "webroot", inst: "nginx"},
		{argv: "--installer null --webroot", auth: "webroot", inst: "null"},
		{argv: "-a standalone --authenticator webroot", auth: "webroot"},
		{argv: "-a webroot --webroot", auth: "webroot"},
		{argv: "-a standalone --webroot", err: "Too many flags setting configurators/installers/authenticators 'standalone' -> 'webroot'"},
		{argv: "--dns-route53 --dns-google", err: "Too many flags setting configurators/installers/authenticators 'dns-google' -> 'dns-route53'"},
	}
	for _, tt := range tests {
		res, err := p.Parse(strings.Fields(tt.argv))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.argv, err)
		}
		auth, inst, err := RequestedPlugins(res.Values)
		if tt.err != "" {
			var pe *PluginSelectionError
			if !errors.As(err, &pe) || err.Error() != tt.err {
				t.Errorf("RequestedPlugins(%q) error = %v, want %q", tt.argv, err, tt.err)
			}
			continue
		}
		if err != nil || auth != tt.auth || inst != tt.inst {
			t.Errorf("RequestedPlugins(%q) = %q, %q, %v; want %q, %q", tt.argv, auth, inst, err, tt.auth, tt.inst)
		}
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	for _, s := range []Spec{
		{Options: []Option{{Flags: []string{"--a"}, Dest: "a", Action: Store}, {Flags: []string{"--a"}, Dest: "b", Action: Store}}},
		{Options: []Option{{Flags: []string{"a"}, Dest: "a", Action: Store}}},
		{Options: []Option{{Flags: []string{"--a"}, Action: Store}}},
	} {
		if _, err := New(s); err == nil {
			t.Errorf("New(%v) = nil error", s.Options)
		}
	}
}

func TestPyHelpers(t *testing.T) {
	for in, want := range map[string]string{"x": "'x'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`, "a\nb": `'a\nb'`} {
		if got := pyRepr(in); got != want {
			t.Errorf("pyRepr(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]int{"42": 42, " -7 ": -7, "+1_000": 1000} {
		if got, ok := pyInt(in); !ok || got != want {
			t.Errorf("pyInt(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1__0", "_1", "1_", "--1", "0x10", "1.5"} {
		if _, ok := pyInt(in); ok {
			t.Errorf("pyInt(%q) ok, want an error", in)
		}
	}
}

// FuzzParse: no argv makes the parser panic, and a parse is deterministic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"-qn -dexample.com", "--we", "--preferred-chal=http", "help all", "-- -d x", "-vd a.com", "--webroot-map {}"} {
		f.Add(s)
	}
	p := MustNew(Certbot())
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, " ")
		r1, e1 := p.Parse(argv)
		r2, e2 := p.Parse(argv)
		if (e1 == nil) != (e2 == nil) || (e1 != nil && e1.Error() != e2.Error()) {
			t.Fatalf("Parse(%q) not deterministic: %v / %v", s, e1, e2)
		}
		if r1 != nil && r1.Verb != r2.Verb {
			t.Fatalf("Parse(%q) verb %q / %q", s, r1.Verb, r2.Verb)
		}
	})
}
