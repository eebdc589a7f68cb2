package manager

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/x509"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/storage"
)

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
		got, err := NormalizeDomain(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeDomain(%q) = %q, want an error", tc.in, got)
		} else if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("NormalizeDomain(%q) error %q lacks %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestNormalizeDomainsAndIPs(t *testing.T) {
	got, err := NormalizeDomains([]string{"b.com,a.com", "B.com", " c.com "})
	if err != nil || !reflect.DeepEqual(got, []string{"b.com", "a.com", "c.com"}) {
		t.Errorf("normalizeDomains = %v, %v", got, err)
	}
	if _, err := NormalizeDomains([]string{"ok.com,bad..com"}); !IsUsage(err) {
		t.Errorf("bad name: %v is not a usage error", err)
	}
	ips, err := NormalizeIPs([]string{"192.0.2.1,2001:DB8::1", "::ffff:192.0.2.1"})
	if err != nil || !reflect.DeepEqual(ips, []string{"192.0.2.1", "2001:db8::1"}) {
		t.Errorf("normalizeIPs = %v, %v", ips, err)
	}
	if _, err := NormalizeIPs([]string{"example.com"}); err == nil {
		t.Error("NormalizeIPs(example.com): no error")
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
		got, err := ResolveServer(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("resolveServer(%q) = %q, %v; want %q, err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !IsUsage(err) {
			t.Errorf("resolveServer(%q): not a usage error", tc.in)
		}
	}
	if len(aliasNames()) != 11 {
		t.Errorf("alias count = %d, want 11", len(aliasNames()))
	}
}

func TestDocsAliasTableInSync(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "cli.md"))
	if err != nil {
		t.Fatalf("docs/cli.md: %v", err)
	}
	if !strings.Contains(string(b), AliasTableMarkdown()) {
		t.Errorf("docs/cli.md does not contain the current alias table:\n%s", AliasTableMarkdown())
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
	var events []Event
	var mu sync.Mutex
	obs := ObserverFunc(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	m := &Manager{Config: &Config{ConfigDir: cfg}, Observer: obs}
	h := m.newHooks()
	ctx := context.Background()
	h.Pre(ctx, "echo pre-cmd >> "+out)
	h.Pre(ctx, "echo pre-cmd >> "+out) // once
	h.AddPost("echo post-cmd \"$RENEWED_DOMAINS/$FAILED_DOMAINS\" >> " + out)
	h.AddPost("echo post-cmd \"$RENEWED_DOMAINS/$FAILED_DOMAINS\" >> " + out) // once
	h.Deploy(ctx, "a", `echo deploy-cmd "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >> `+out, "/etc/le/live/a", []string{"a.com", "www.a.com"})
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
	h.Deploy(ctx, "x", "exit 7", "/x", nil)
	last := events[len(events)-1]
	if h.Failures() != 1 || last.Kind != EventHook || last.Hook.Err == nil || !strings.Contains(last.Hook.Err.Error(), "status 7") {
		t.Errorf("failing hook: failures=%d last event=%+v", h.Failures(), last)
	}
	// --no-directory-hooks.
	os.Remove(out)
	m.Config.NoDirHooks = true
	h2 := m.newHooks()
	h2.Pre(ctx, "")
	h2.Post(ctx, nil, nil)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("directory hooks ran with --no-directory-hooks")
	}
}

func TestLoadEAB(t *testing.T) {
	key := "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	f := filepath.Join(t.TempDir(), "k")
	os.WriteFile(f, []byte(key+"\n"), 0o600)
	t.Setenv(EnvEABHMACKey, key)
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
	t.Setenv(EnvEABHMACKey, "")
	if _, err := loadEAB("k", "", "", ""); err == nil || !strings.Contains(err.Error(), EnvEABHMACKey) {
		t.Errorf("kid without key: %v", err)
	}
}

func TestHumanList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b, and c"}} {
		if got := HumanList(tc.in); got != tc.want {
			t.Errorf("HumanList(%v) = %q, want %q", tc.in, got, tc.want)
		}
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

func TestLineageConfigCommandLineWins(t *testing.T) {
	cert, key := testCert(t, "a.example.com", "www.a.example.com")
	conf := &storage.RenewalConf{Params: storage.RenewalParams{
		Server: "https://ca.example/dir", Account: "acct1", Authenticator: "webroot",
		WebrootPath: []string{"/var/www/a"}, WebrootMap: []storage.KV{{Key: "a.example.com", Value: "/var/www/a"}},
		KeyType: "rsa", RSAKeySize: 3072, RenewHook: "reload", PreHook: "pre", PreferredChain: "Root X",
		ReuseKey: true, PrefChalls: []string{"http-01"},
	}}
	l := &storage.Lineage{Name: "a", Cert: cert, Key: key, Conf: conf, ConfPath: "/x/a.conf"}
	base := mustConfig(t, FlagMap{})
	o, err := lineageConfig(base, l)
	if err != nil {
		t.Fatal(err)
	}
	if o.Server != "https://ca.example/dir" || o.Account != "acct1" || o.Authenticator != "webroot" ||
		o.KeyType != "rsa" || o.RSAKeySize != 3072 || o.DeployHook != "reload" || o.PreHook != "pre" ||
		o.PreferredChain != "Root X" || !o.ReuseKey || !reflect.DeepEqual(o.Domains, []string{"a.example.com", "www.a.example.com"}) ||
		!reflect.DeepEqual(o.PrefChalls, []string{"http-01"}) {
		t.Errorf("saved params not applied: %+v", o)
	}
	if o.WebrootMap["www.a.example.com"] != "/var/www/a" || o.WebrootMap["a.example.com"] != "/var/www/a" {
		t.Errorf("webroot map = %v", o.WebrootMap)
	}
	// The command line (or cli.ini) wins.
	base = mustConfig(t, FlagMap{"server": "https://other/dir", "deploy-hook": "other", "key-type": "ecdsa", "standalone": "true", "no-reuse-key": "true"})
	o, err = lineageConfig(base, l)
	if err != nil {
		t.Fatal(err)
	}
	if o.Server != "https://other/dir" || o.DeployHook != "other" || o.KeyType != "ecdsa" || o.Authenticator != "standalone" || o.ReuseKey {
		t.Errorf("command line did not win: server=%s hook=%s key=%s auth=%s reuse=%v", o.Server, o.DeployHook, o.KeyType, o.Authenticator, o.ReuseKey)
	}
	// A certbot plugin acmectl lacks is refused with the way out; nginx is ours.
	conf.Params.Authenticator = "lighttpd"
	if _, err := lineageConfig(mustConfig(t, FlagMap{}), l); err == nil || !strings.Contains(err.Error(), "reconfigure") {
		t.Errorf("lighttpd authenticator: err = %v", err)
	}
	conf.Params.Authenticator, conf.Params.Installer = "nginx", "nginx"
	if o, err := lineageConfig(mustConfig(t, FlagMap{}), l); err != nil || o.Authenticator != "nginx" || o.Installer != "nginx" {
		t.Errorf("nginx lineage: %+v, %v", o, err)
	}
	// A saved value the engine refuses names the conf and the key.
	conf.Params.Authenticator, conf.Params.RSAKeySize = "webroot", 1024
	if _, err := lineageConfig(mustConfig(t, FlagMap{}), l); err == nil || !strings.Contains(err.Error(), "/x/a.conf: rsa_key_size = 1024") {
		t.Errorf("rsa_key_size 1024: err = %v", err)
	}
}

func mustConfig(t *testing.T, f FlagMap) *Config {
	t.Helper()
	c, err := LoadConfig(f, nil)
	if err != nil {
		t.Fatalf("LoadConfig(%v): %v", f, err)
	}
	return c
}

func TestRenewalConfFromConfig(t *testing.T) {
	o := mustConfig(t, FlagMap{"server": "https://ca/dir", "standalone": "true", "elliptic-curve": "secp384r1",
		"http-01-port": "8080", "http-01-address": "127.0.0.1", "deploy-hook": "reload", "reuse-key": "true",
		"config-dir": "/c", "work-dir": "/w", "logs-dir": "/l", "renew-before-expiry": "30 days"})
	c := renewalConf(o, nil, "acct")
	p := c.Params
	if p.Account != "acct" || p.Server != "https://ca/dir" || p.Authenticator != "standalone" || p.KeyType != "ecdsa" ||
		p.EllipticCurve != "secp384r1" || p.RSAKeySize != 0 || p.HTTP01Port != 8080 || p.HTTP01Address != "127.0.0.1" ||
		p.RenewHook != "reload" || !p.ReuseKey || c.RenewBeforeExpiry != "30 days" || p.ConfigDir != "/c" {
		t.Errorf("renewalConf = %+v (rbe %q)", p, c.RenewBeforeExpiry)
	}
	o2 := o.clone()
	o2.Authenticator, o2.WebrootMap, o2.KeyType, o2.RSAKeySize = "webroot", map[string]string{"b.com": "/www/b", "a.com": "/www/a"}, "rsa", 4096
	c2 := renewalConf(o2, c, "acct")
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
	o3 := o2.clone()
	o3.WebrootMap = map[string]string{"Bücher.Example": "/www/b", "*.bücher.example": "/www/w"}
	p3 := renewalConf(o3, nil, "acct").Params
	if want := []storage.KV{{Key: "*.xn--bcher-kva.example", Value: "/www/w"}, {Key: "xn--bcher-kva.example", Value: "/www/b"}}; !reflect.DeepEqual(p3.WebrootMap, want) {
		t.Errorf("webroot_map of Unicode names = %v, want %v", p3.WebrootMap, want)
	}
	// DNS plugin options land under certbot's plugin-namespaced keys.
	o4 := mustConfig(t, FlagMap{"dns": "cloudflare", "dns-credentials": "/etc/cf.ini", "dns-propagation-seconds": "30", "domains": "a.com"})
	c4 := renewalConf(o4, nil, "acct")
	if v, _ := c4.ParamValue("dns_cloudflare_credentials"); v.String() != "/etc/cf.ini" {
		t.Errorf("dns_cloudflare_credentials = %q", v.String())
	}
	if v, _ := c4.ParamValue("dns_cloudflare_propagation_seconds"); v.String() != "30" {
		t.Errorf("dns_cloudflare_propagation_seconds = %q", v.String())
	}
	if c4.Params.Authenticator != "dns-cloudflare" {
		t.Errorf("authenticator = %q", c4.Params.Authenticator)
	}
}
