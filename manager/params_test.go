package manager

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/storage"
)

// TestParamTableConsistent: every entry is usable as the one definition of
// its parameter.
func TestParamTableConsistent(t *testing.T) {
	seen := map[string]string{}
	for _, p := range Params {
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("flag name %q used by %s and %s", n, other, p.Name)
			}
			seen[n] = p.Name
		}
		if p.Keep && (p.Conf == "" || p.Field == nil) {
			t.Errorf("%s: kept by renewals but has no conf key or field", p.Name)
		}
		if (p.Plugin == "") != (p.Of == "") || p.Of != "" && ParamByName[p.Of] == nil {
			t.Errorf("%s: a plugin's option needs both Plugin and the parameter it stands for (Of)", p.Name)
		}
		if p.Usage == "" {
			t.Errorf("%s: no usage text", p.Name)
		}
	}
}

func TestLoadConfigFromTable(t *testing.T) {
	tests := []struct {
		name  string
		flags FlagMap
		check func(c *Config) bool
		err   string
	}{
		{"defaults", FlagMap{}, func(c *Config) bool {
			return c.KeyType == "ecdsa" && c.Curve == "secp256r1" && c.RSAKeySize == 2048 && c.HTTP01Port == 80 &&
				c.Server == DefaultServerURL && c.IssuanceTimeout.Seconds() == 90 && c.Parallel == 1 && c.ConfigDir == DefaultConfigDir
		}, ""},
		{"store_const", FlagMap{"standalone": "true"}, func(c *Config) bool { return c.Authenticator == "standalone" }, ""},
		{"same authenticator twice", FlagMap{"authenticator": "webroot", "webroot": "true", "webroot-path": "/w", "domains": "a.com"},
			func(c *Config) bool { return c.Authenticator == "webroot" && c.WebrootMap["a.com"] == "/w" }, ""},
		{"dns maps into authenticator", FlagMap{"dns": "CloudFlare"}, func(c *Config) bool { return c.Authenticator == "dns-cloudflare" }, ""},
		{"two authenticators", FlagMap{"standalone": "true", "manual": "true"}, nil, "Too many flags setting configurators/installers/authenticators 'standalone' -> 'manual'"},
		{"unknown authenticator", FlagMap{"authenticator": "bogus"}, nil, "The requested bogus plugin does not appear to be installed"},
		{"nginx is authenticator and installer", FlagMap{"nginx": "true"}, func(c *Config) bool { return c.Authenticator == "nginx" && c.Installer == "nginx" }, ""},
		{"-a apache -i nginx", FlagMap{"authenticator": "apache", "installer": "nginx"}, func(c *Config) bool { return c.Authenticator == "apache" && c.Installer == "nginx" }, ""},
		{"--nginx with -i apache", FlagMap{"nginx": "true", "installer": "apache"}, nil, "Too many flags setting configurators/installers/authenticators 'apache' -> 'nginx'"},
		{"--configurator with --standalone", FlagMap{"configurator": "nginx", "standalone": "true"}, nil, "Too many flags setting configurators/installers/authenticators 'nginx' -> 'standalone'"},
		{"unknown installer", FlagMap{"installer": "iis"}, nil, "The requested iis plugin does not appear to be installed"},
		{"installer null", FlagMap{"installer": "null", "standalone": "true"}, func(c *Config) bool { return c.Installer == "null" && c.Authenticator == "standalone" }, ""},
		{"redirect", FlagMap{"redirect": "true"}, func(c *Config) bool { return c.Enhance.Redirect == "yes" }, ""},
		{"no-redirect", FlagMap{"no-redirect": "true"}, func(c *Config) bool { return c.Enhance.Redirect == "no" }, ""},
		{"plugin defaults are empty", FlagMap{"nginx-server-root": "/etc/nginx", "apache-handle-sites": "true"}, func(c *Config) bool {
			return c.Nginx.ServerRoot == "/etc/nginx" && c.Apache.HandleSites == "true" && c.Apache.ServerRoot == "" && c.Nginx.Ctl == ""
		}, ""},
		{"dns plugin", FlagMap{"dns-cloudflare": "true", "dns-cloudflare-credentials": "cf.ini", "dns-digitalocean-credentials": "do.ini", "dns-cloudflare-propagation-seconds": "30"},
			func(c *Config) bool {
				return c.Authenticator == "dns-cloudflare" && strings.HasSuffix(c.DNSCredentials, "/cf.ini") && c.DNSPropagation == 30 && c.Set["dns-credentials"]
			}, ""},
		{"email with unsafe flag", FlagMap{"email": "a@example.com", "register-unsafely-without-email": "true"}, func(c *Config) bool { return len(c.Emails) == 1 }, ""},
		{"staging", FlagMap{"staging": "true"}, func(c *Config) bool { return c.Server == StagingServerURL }, ""},
		{"force implies expand", FlagMap{"force-renewal": "true"}, func(c *Config) bool { return c.Force && c.Expand }, ""},
		{"curve alias", FlagMap{"elliptic-curve": "P-384"}, func(c *Config) bool { return c.Curve == "secp384r1" }, ""},
		{"rsa size rule", FlagMap{"rsa-key-size": "1024"}, nil, "--rsa-key-size 1024: want 2048 to 8192"},
		{"rsa 8192 allowed", FlagMap{"key-type": "rsa", "rsa-key-size": "8192"}, func(c *Config) bool { return c.RSAKeySize == 8192 }, ""},
		{"int flag", FlagMap{"http-01-port": "x"}, nil, "--http-01-port takes a whole number"},
		{"pref challs", FlagMap{"preferred-challenges": "dns, http-01"}, func(c *Config) bool {
			return reflect.DeepEqual(c.PrefChalls, []string{"dns-01", "http-01"})
		}, ""},
		{"pref challs dns-persist", FlagMap{"preferred-challenges": "dns-persist, dns-persist-01,http"}, func(c *Config) bool {
			return reflect.DeepEqual(c.PrefChalls, []string{"dns-persist-01", "http-01"}) && PersistPreferred(c) && !PersistOnly(c)
		}, ""},
		{"dns-persist-01 alone", FlagMap{"preferred-challenges": "dns-persist-01"}, func(c *Config) bool { return PersistOnly(c) && c.Authenticator == "" }, ""},
		{"unknown challenge names dns-persist-01", FlagMap{"preferred-challenges": "persist"}, nil, "want http, dns, tls-alpn or dns-persist-01"},
		{"persist-until date", FlagMap{"persist-until": "2099-06-30"}, func(c *Config) bool { return c.PersistUntil.Unix() == 4086547199 }, ""},
		{"persist-until unix", FlagMap{"persist-until": "4102444800"}, func(c *Config) bool { return c.PersistUntil.Unix() == 4102444800 }, ""},
		{"persist-until RFC 3339", FlagMap{"persist-until": "2099-01-01T00:00:00+01:00"}, func(c *Config) bool { return c.PersistUntil.Unix() == 4070905200 }, ""},
		{"persist-until past", FlagMap{"persist-until": "2020-01-01"}, nil, "--persist-until \"2020-01-01\" is in the past"},
		{"persist-until garbage", FlagMap{"persist-until": "next year"}, nil, "want a date (2027-06-30)"},
		{"dns-resolver list", FlagMap{"dns-resolver": "127.0.0.1:5353, ::1,[::1]:53,ns.example"}, func(c *Config) bool {
			return reflect.DeepEqual(c.DNSResolvers, []string{"127.0.0.1:5353", "::1", "[::1]:53", "ns.example"})
		}, ""},
		{"dns-resolver bad port", FlagMap{"dns-resolver": "127.0.0.1:99999"}, nil, "--dns-resolver \"127.0.0.1:99999\": bad port"},
		{"dns-resolver not a host", FlagMap{"dns-resolver": "a b"}, nil, "--dns-resolver \"a b\""},
		{"hook with CR", FlagMap{"post-hook": "a\rb"}, nil, "--post-hook"},
		{"reason", FlagMap{"reason": "keyCompromise"}, func(c *Config) bool { return c.Reason == 1 }, ""},
		{"quiet implies -n", FlagMap{"quiet": "true"}, func(c *Config) bool { return c.NonInteractive }, ""},
		{"retry-after-max default", FlagMap{}, func(c *Config) bool { return c.RetryAfterMax.Seconds() == 60 && c.ChainDropIssuer == "" }, ""},
		{"retry-after-max", FlagMap{"retry-after-max": "5"}, func(c *Config) bool { return c.RetryAfterMax.Seconds() == 5 }, ""},
		{"retry-after-max zero", FlagMap{"retry-after-max": "0"}, nil, "--retry-after-max 0"},
		{"chain-drop-issuer trimmed", FlagMap{"chain-drop-issuer": " AAA Certificate Services "}, func(c *Config) bool { return c.ChainDropIssuer == "AAA Certificate Services" }, ""},
		{"chain-drop-issuer control", FlagMap{"chain-drop-issuer": "AAA\x01"}, nil, "--chain-drop-issuer"},
		{"set records the given flags", FlagMap{"deploy-hook": "x"}, func(c *Config) bool { return c.Set["deploy-hook"] && !c.Set["pre-hook"] }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(tc.flags, nil)
			if tc.err != "" {
				// certbot's plugin selection errors are not usage errors (exit 1).
				usage := !strings.HasPrefix(tc.err, "Too many") && !strings.HasPrefix(tc.err, "The requested")
				if err == nil || !strings.Contains(err.Error(), tc.err) || IsUsage(err) != usage {
					t.Fatalf("LoadConfig(%v) = %v, want a usage error containing %q", tc.flags, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig(%v): %v", tc.flags, err)
			}
			if !tc.check(c) {
				t.Errorf("LoadConfig(%v) = %+v", tc.flags, c)
			}
		})
	}
}

// TestConfRoundTrip: what a lineage's conf is written from comes back the
// same through the table when it renews (every kept parameter).
func TestConfRoundTrip(t *testing.T) {
	cert, key := testCert(t, "rt.example.com")
	for _, flags := range []FlagMap{
		{"server": "https://ca.example/dir", "standalone": "true", "http-01-port": "8080", "http-01-address": "127.0.0.1",
			"key-type": "rsa", "rsa-key-size": "3072", "pre-hook": "p", "post-hook": "q", "deploy-hook": "d",
			"preferred-chain": "Root X", "preferred-profile": "short", "must-staple": "true", "allow-subset-of-names": "true",
			"reuse-key": "true", "preferred-challenges": "http"},
		{"dns": "rfc2136", "dns-credentials": "/etc/rfc.ini", "dns-propagation-seconds": "20", "elliptic-curve": "secp521r1"},
		{"manual": "true", "manual-auth-hook": "auth.sh", "manual-cleanup-hook": "clean.sh", "required-profile": "tls"},
		{"tls-alpn": "true", "tls-alpn-01-port": "8443", "tls-alpn-01-address": "::1",
			"issuance-timeout": "300", "retry-after-max": "10", "chain-drop-issuer": "AAA Certificate Services"},
		{"webroot": "true", "webroot-path": "/var/www", "domains": "rt.example.com"},
		{"preferred-challenges": "dns-persist-01", "dns-resolver": "127.0.0.1:5353,::1"},
		{"preferred-challenges": "dns-persist-01,dns", "dns": "exec", "dns-propagation-seconds": "5"},
	} {
		want := mustConfig(t, flags)
		conf := renewalConf(want, nil, "acct")
		b, err := conf.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := storage.ParseRenewalConf("rt.conf", b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lineageConfig(mustConfig(t, FlagMap{}), &storage.Lineage{Name: "rt", Cert: cert, Key: key, Conf: parsed, ConfPath: "rt.conf"})
		if err != nil {
			t.Fatalf("%v: %v", flags, err)
		}
		for _, p := range Params {
			if !p.Keep || p.Name == "account" {
				continue
			}
			if w, g := p.saved(want), p.saved(got); !reflect.DeepEqual(w, g) {
				t.Errorf("%v: %s = %v after the round trip, want %v\n%s", flags, p.Name, reflect.ValueOf(g).Elem(), reflect.ValueOf(w).Elem(), b)
			}
		}
		if got.Account != "acct" {
			t.Errorf("account = %q", got.Account)
		}
		if got.IssuanceTimeout != want.IssuanceTimeout || got.RetryAfterMax != want.RetryAfterMax {
			t.Errorf("%v: timeouts after the round trip %v, %v; want %v, %v", flags, got.IssuanceTimeout, got.RetryAfterMax, want.IssuanceTimeout, want.RetryAfterMax)
		}
	}
}

// TestParamFieldTypes: each entry's Field points at a Config field of the
// type its Kind reads and writes (the table's Field functions return any,
// so that they are static data rather than closures built at start-up: the
// compiler no longer checks this), and no two entries at the same field.
func TestParamFieldTypes(t *testing.T) {
	want := map[Kind]string{KindBool: "*bool", KindCount: "*int", KindInt: "*int", KindString: "*string", KindList: "*[]string"}
	c := &Config{}
	owner := map[any]string{}
	for _, p := range Params {
		if p.Field == nil {
			continue
		}
		f := p.Field(c)
		if got := fmt.Sprintf("%T", f); got != want[p.Kind] {
			t.Errorf("%s: Field is %s, its kind %c reads %s", p.Name, got, p.Kind, want[p.Kind])
		}
		if p.Field(c) != f {
			t.Errorf("%s: Field points at a different place each call", p.Name)
		}
		if other, dup := owner[f]; dup {
			t.Errorf("%s and %s write the same field", other, p.Name)
		}
		owner[f] = p.Name
	}
}
