package storage

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sampleConf = `# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = /etc/letsencrypt/live/example.com/cert.pem
privkey = /etc/letsencrypt/live/example.com/privkey.pem
chain = /etc/letsencrypt/live/example.com/chain.pem
fullchain = /etc/letsencrypt/live/example.com/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 0f3c5c4f5c0e4b1e8c3d2a1b0c9d8e7f
server = https://acme.sectigo.com/v2/OV
authenticator = webroot
webroot_path = /var/www/html,
key_type = ecdsa
renew_hook = systemctl reload nginx
pre_hook = "echo a, b"
rsa_key_size = 4096
http01_port = 8080
reuse_key = True
must_staple = False
autorenew = False
pref_challs = http-01, dns-01
dns_cloudflare_credentials = /root/cf.ini
dns_cloudflare_propagation_seconds = 30
[[webroot_map]]
example.com = /var/www/html
www.example.com = /var/www/www
[acme_renewal_info]
ari_retry_after = 2026-09-01T18:00:00
`

func TestParseRenewalConfSample(t *testing.T) {
	c, err := ParseRenewalConf("x.conf", []byte(sampleConf))
	if err != nil {
		t.Fatal(err)
	}
	want := RenewalParams{
		Account: "0f3c5c4f5c0e4b1e8c3d2a1b0c9d8e7f", Server: "https://acme.sectigo.com/v2/OV",
		Authenticator: "webroot", WebrootPath: []string{"/var/www/html"}, KeyType: "ecdsa",
		RenewHook: "systemctl reload nginx", PreHook: "echo a, b", RSAKeySize: 4096, HTTP01Port: 8080,
		ReuseKey: true, NoAutoRenew: true, PrefChalls: []string{"http-01", "dns-01"},
		WebrootMap: []KV{{"example.com", "/var/www/html"}, {"www.example.com", "/var/www/www"}},
	}
	if !reflect.DeepEqual(c.Params, want) {
		t.Errorf("Params = %+v\nwant %+v", c.Params, want)
	}
	if c.Version != "2.1.0" || c.ArchiveDir != "/etc/letsencrypt/archive/example.com" || c.Fullchain != "/etc/letsencrypt/live/example.com/fullchain.pem" {
		t.Errorf("top = %q %q %q", c.Version, c.ArchiveDir, c.Fullchain)
	}
	if want := time.Date(2026, 9, 1, 18, 0, 0, 0, time.UTC); !c.ARIRetryAfter.Equal(want) {
		t.Errorf("ARIRetryAfter = %v, want %v", c.ARIRetryAfter, want)
	}
	if v, ok := c.Param("dns_cloudflare_credentials"); !ok || v.String() != "/root/cf.ini" {
		t.Errorf("Param(dns_cloudflare_credentials) = %v, %v", v, ok)
	}
	// unchanged → byte-identical
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sampleConf {
		t.Errorf("Marshal of unchanged conf differs:\n%s", out)
	}
	// changes: unknown keys stay, changed keys are rewritten, removed ones go
	c.Params.RenewHook = "echo deployed"
	c.Params.PreHook = ""
	c.Params.WebrootPath = []string{"/a", "/b"}
	c.Params.NoAutoRenew = false
	c.ARIRetryAfter = time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err = c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"renew_hook = echo deployed\n", "webroot_path = /a, /b\n", "dns_cloudflare_propagation_seconds = 30\n",
		"autorenew = True\n", "ari_retry_after = 2027-01-02T03:04:05\n", "[[webroot_map]]\nexample.com = /var/www/html\n"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("Marshal lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(string(out), "pre_hook") {
		t.Errorf("Marshal kept removed pre_hook:\n%s", out)
	}
}

func TestRenewalConfNew(t *testing.T) {
	c := &RenewalConf{Version: "2.1.0", ArchiveDir: "/e/archive/a", Cert: "/e/live/a/cert.pem",
		Params: RenewalParams{Server: "https://x/dir", KeyType: "rsa", RSAKeySize: 2048, WebrootPath: []string{"/w"},
			RenewHook: "a # b", PreHook: " lead", PostHook: `say "hi"`, ManualAuthHook: `it's "q"`}}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"webroot_path = /w,\n", `renew_hook = "a # b"` + "\n", `pre_hook = " lead"` + "\n",
		`post_hook = 'say "hi"'` + "\n", `manual_auth_hook = '''it's "q"'''` + "\n", "# renew_before_expiry = 30 days\n", "[renewalparams]\n"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("Marshal lacks %q:\n%s", s, out)
		}
	}
	c2, err := ParseRenewalConf("n.conf", out)
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(c2.Params, c.Params) {
		t.Errorf("reparsed %+v\nwant %+v", c2.Params, c.Params)
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{"a", Scalar("a")},
		{"", Scalar("")},
		{"a b  ", Scalar("a b")},
		{"a,", List("a")},
		{",", List()},
		{"a, b,c", List("a", "b", "c")},
		{`"a, b"`, Scalar("a, b")},
		{`'x"y'`, Scalar(`x"y`)},
		{"a # comment", Scalar("a")},
		{`"a" , 'b' # c`, List("a", "b")},
		{"a, b,", List("a", "b")},
	}
	for _, tc := range tests {
		got, _, err := parseValue(tc.in)
		if err != nil || !got.equal(tc.want) {
			t.Errorf("parseValue(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`"a`, `"a" b`, "a,,b", ",a"} {
		if v, _, err := parseValue(bad); err == nil {
			t.Errorf("parseValue(%q) = %+v, want error", bad, v)
		}
	}
}

func TestParseRenewalConfErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
	}{
		{"no equals", "version = 1\ngarbage line\n", 2},
		{"duplicate key", "a = 1\na = 2\n", 2},
		{"too nested", "a = 1\n[[x]]\n", 2},
		{"bad marker", "[a]]\n", 1},
		{"unterminated quote", "a = 1\n[s]\nb = \"x\n", 3},
		{"truncated triple", "a = '''x\ny\n", 1},
		{"bad int", "[renewalparams]\nhttp01_port = eighty\n", 2},
		{"bad bool", "[renewalparams]\nx = 1\nreuse_key = maybe\n", 3},
		{"bad ari", "[acme_renewal_info]\nari_retry_after = soon\n", 2},
		{"list for path", "cert = a, b\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRenewalConf("/etc/le/renewal/x.conf", []byte(tc.in))
			var ce *ConfError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfError", err)
			}
			if ce.Line != tc.line || ce.File != "/etc/le/renewal/x.conf" {
				t.Errorf("err = %v, want line %d", err, tc.line)
			}
			if !strings.HasPrefix(err.Error(), "/etc/le/renewal/x.conf:") {
				t.Errorf("err %q does not start with the file name", err)
			}
		})
	}
}

// confEqual compares two docs ignoring comments.
func docEqual(a, b *confSection) bool {
	if a.name != b.name || len(a.entries) != len(b.entries) || len(a.subs) != len(b.subs) {
		return false
	}
	for i := range a.entries {
		if a.entries[i].key != b.entries[i].key || !a.entries[i].val.equal(b.entries[i].val) {
			return false
		}
	}
	for i := range a.subs {
		if !docEqual(a.subs[i], b.subs[i]) {
			return false
		}
	}
	return true
}

func FuzzRenewalConf(f *testing.F) {
	f.Add([]byte(sampleConf))
	f.Add([]byte("a = '''x\ny'''\n[s]\nb = ,\n[[t]]\nc = \"q, r\",\n"))
	f.Add([]byte("k = v # c\n\"q=k\" = 'v#'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseConf("f.conf", data)
		if err != nil {
			return
		}
		out, err := doc.marshal()
		if err != nil {
			return // not every parsed value is writable (both quote kinds in a list item)
		}
		doc2, err := parseConf("f.conf", out)
		if err != nil {
			t.Fatalf("reparse of written conf: %v\ninput: %q\nwritten: %q", err, data, out)
		}
		if !docEqual(&doc.root, &doc2.root) {
			t.Fatalf("round trip differs\ninput: %q\nwritten: %q", data, out)
		}
		// the typed layer: parse → marshal → parse keeps the fields
		c, err := ParseRenewalConf("f.conf", data)
		if err != nil {
			return
		}
		out, err = c.Marshal()
		if err != nil {
			return
		}
		c2, err := ParseRenewalConf("f.conf", out)
		if err != nil {
			t.Fatalf("typed reparse: %v\ninput: %q\nwritten: %q", err, data, out)
		}
		c.doc, c2.doc = nil, nil
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("typed round trip differs\n%+v\n%+v\nwritten: %q", c, c2, out)
		}
	})
}

func TestFuzzSeedsExist(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzRenewalConf"))
	if err != nil || len(ents) == 0 {
		t.Fatalf("no committed seeds in testdata/fuzz/FuzzRenewalConf: %v", err)
	}
}
