package storage

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCreateAndSaveVersions(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	conf := &RenewalConf{Params: RenewalParams{Server: "https://ca.example/dir", Authenticator: "standalone", KeyType: "ecdsa"}}
	l, err := tr.CreateLineage(ctx, "a.example", ca.version(t, "a.example", "www.a.example"), conf)
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 1 || l.Cert.DNSNames[1] != "www.a.example" {
		t.Fatalf("created version %d names %v", l.Version, l.Cert.DNSNames)
	}
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{"archive", 0o700}, {"live", 0o700}, {"renewal", 0o700},
		{"archive/a.example/privkey1.pem", 0o600}, {"archive/a.example/cert1.pem", 0o644},
		{"renewal/a.example.conf", 0o644}, {"live/README", 0o644}, {"live/a.example/README", 0o644},
	} {
		if got := mode(t, filepath.Join(tr.Dir, tc.path)); got != tc.want {
			t.Errorf("mode %s = %o, want %o", tc.path, got, tc.want)
		}
	}
	for _, k := range []string{"cert", "chain", "fullchain", "privkey"} {
		target, err := os.Readlink(filepath.Join(tr.Dir, "live/a.example", k+".pem"))
		if err != nil || target != "../../archive/a.example/"+k+"1.pem" {
			t.Errorf("live %s → %q, %v; want relative link to %s1.pem", k, target, err, k)
		}
	}
	if string(l.FullchainPEM) != string(l.CertPEM)+string(l.ChainPEM) {
		t.Errorf("fullchain is not cert+chain")
	}
	b, _ := os.ReadFile(tr.RenewalConfPath("a.example"))
	for _, s := range []string{"archive_dir = " + tr.ArchiveDir("a.example"), "cert = " + tr.LiveDir("a.example") + "/cert.pem",
		"server = https://ca.example/dir", "version = " + CertbotVersion} {
		if !strings.Contains(string(b), s) {
			t.Errorf("conf lacks %q:\n%s", s, b)
		}
	}
	if _, err := tr.CreateLineage(ctx, "a.example", ca.version(t, "a.example"), conf); !errors.Is(err, ErrExist) {
		t.Errorf("second CreateLineage err = %v, want ErrExist", err)
	}

	// group bits carry over: chmod 0640 + a group, as certbot's docs allow
	if err := os.Chmod(filepath.Join(tr.Dir, "archive/a.example/privkey1.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = tr.SaveVersion(ctx, "a.example", ca.version(t, "a.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 {
		t.Errorf("version = %d, want 2", l.Version)
	}
	if got := mode(t, filepath.Join(tr.Dir, "archive/a.example/privkey2.pem")); got != 0o644 {
		t.Errorf("privkey2 mode = %o, want 0644 (group/other-read carried over)", got)
	}
	os.Chmod(filepath.Join(tr.Dir, "archive/a.example/privkey2.pem"), 0o670)
	l, _ = tr.SaveVersion(ctx, "a.example", ca.version(t, "a.example"), nil)
	if got := mode(t, filepath.Join(tr.Dir, "archive/a.example/privkey3.pem")); got != 0o670 {
		t.Errorf("privkey3 mode = %o, want 0670 (group rwx carried, other-write not)", got)
	}

	// reuse key: privkey4 is a symlink to privkey3
	c, ch, _ := ca.issue(t, l.Key, "a.example")
	l, err = tr.SaveVersion(ctx, "a.example", &Version{CertPEM: c, ChainPEM: ch, ReuseKey: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(tr.Dir, "archive/a.example/privkey4.pem")); err != nil || target != "privkey3.pem" {
		t.Errorf("privkey4 → %q, %v; want privkey3.pem", target, err)
	}
	// reuse of a reused key points at the original file
	c, ch, _ = ca.issue(t, l.Key, "a.example")
	if _, err = tr.SaveVersion(ctx, "a.example", &Version{CertPEM: c, ChainPEM: ch, ReuseKey: true}, nil); err != nil {
		t.Fatal(err)
	}
	if target, _ := os.Readlink(filepath.Join(tr.Dir, "archive/a.example/privkey5.pem")); target != "privkey3.pem" {
		t.Errorf("privkey5 → %q, want privkey3.pem", target)
	}
	// wrong key for reuse is refused
	c, ch, _ = ca.issue(t, nil, "a.example")
	if _, err = tr.SaveVersion(ctx, "a.example", &Version{CertPEM: c, ChainPEM: ch, ReuseKey: true}, nil); err == nil {
		t.Errorf("ReuseKey with a cert for another key: want error")
	}
	// key not matching cert is refused
	v := ca.version(t, "a.example")
	_, _, v.KeyPEM = ca.issue(t, nil, "a.example")
	if _, err = tr.SaveVersion(ctx, "a.example", v, nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key err = %v", err)
	}
	// opt-in pruning (KeepVersions 6, certbot 2.3+'s rule): after version
	// 12, versions 7..12 remain, and privkey3 stays only while a kept
	// symlink needs it
	for i := 6; i <= 12; i++ {
		v := ca.version(t, "a.example")
		v.KeepVersions = 6
		if l, err = tr.SaveVersion(ctx, "a.example", v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if l.Version != 12 {
		t.Fatalf("version = %d, want 12", l.Version)
	}
	for n := 1; n <= 12; n++ {
		_, err := os.Lstat(filepath.Join(tr.Dir, fmt.Sprintf("archive/a.example/cert%d.pem", n)))
		if want := n >= 7; (err == nil) != want {
			t.Errorf("cert%d.pem present = %v, want %v", n, err == nil, want)
		}
	}
}

func TestPruneKeepsReusedKey(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	l, err := tr.CreateLineage(ctx, "r", ca.version(t, "r.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		c, ch, _ := ca.issue(t, l.Key, "r.example")
		if l, err = tr.SaveVersion(ctx, "r", &Version{CertPEM: c, ChainPEM: ch, ReuseKey: true, KeepVersions: 6}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(tr.Dir, "archive/r/privkey1.pem")); err != nil {
		t.Errorf("privkey1.pem pruned while privkey9 links to it: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(tr.Dir, "archive/r/cert1.pem")); err == nil {
		t.Errorf("cert1.pem not pruned")
	}
	if _, err := tr.LoadLineage(ctx, "r"); err != nil {
		t.Errorf("load after prune: %v", err)
	}
}

func TestLineageNames(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	tests := []struct {
		certName string
		domains  []string
		want     string
		bad      bool
	}{
		{"", []string{"*.x.example", "x.example"}, "x.example", false},
		{"mine", []string{"a.example"}, "mine", false},
		{"", []string{"a.example"}, "a.example", false},
		{"../etc", nil, "", true},
		{"a/b", nil, "", true},
		{"..", nil, "", true},
		{".hidden", nil, "", true},
		{"-rf", nil, "", true},
		{"a\x00b", nil, "", true},
		{"a\nb", nil, "", true},
		{"", nil, "", true},
		{strings.Repeat("a", 201), nil, "", true},
	}
	for _, tc := range tests {
		got, err := tr.UniqueLineageName(ctx, tc.certName, tc.domains)
		if tc.bad {
			if !errors.Is(err, ErrBadName) {
				t.Errorf("UniqueLineageName(%q, %q) = %q, %v; want ErrBadName", tc.certName, tc.domains, got, err)
			}
			if _, err := tr.CreateLineage(ctx, tc.certName, ca.version(t, "a.example"), nil); !errors.Is(err, ErrBadName) {
				t.Errorf("CreateLineage(%q) err = %v, want ErrBadName", tc.certName, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("UniqueLineageName(%q, %q) = %q, %v; want %q", tc.certName, tc.domains, got, err, tc.want)
		}
	}
	if _, err := tr.CreateLineage(ctx, "x.example", ca.version(t, "x.example"), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := tr.UniqueLineageName(ctx, "", []string{"*.x.example"}); got != "x.example-0001" {
		t.Errorf("collision name = %q, want x.example-0001", got)
	}
	if _, err := tr.CreateLineage(ctx, "x.example-0001", ca.version(t, "x.example"), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := tr.UniqueLineageName(ctx, "", []string{"x.example"}); got != "x.example-0002" {
		t.Errorf("second collision name = %q, want x.example-0002", got)
	}
}

func TestListLineages(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	rsaKey := testRSAKey(t)
	c, ch, k := ca.issue(t, rsaKey, "rsa.example", "127.0.0.1")
	if _, err := tr.CreateLineage(ctx, "rsa", &Version{CertPEM: c, ChainPEM: ch, KeyPEM: k},
		&RenewalConf{RenewBeforeExpiry: "10 days", Params: RenewalParams{KeyType: "rsa", RSAKeySize: 2048, Account: "acct1", Server: "https://ca.example/dir"}}); err != nil {
		t.Fatal(err)
	}
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	c, ch, k = ca.issue(t, ec384, "ec.example")
	if _, err := tr.CreateLineage(ctx, "ec", &Version{CertPEM: c, ChainPEM: ch, KeyPEM: k}, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"badconf", "dangling"} {
		if _, err := tr.CreateLineage(ctx, n, ca.version(t, n+".example"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// garble one conf, break one link
	os.WriteFile(tr.RenewalConfPath("badconf"), []byte("version = 1\n[renewalparams\nserver = x\n"), 0o644)
	os.Remove(filepath.Join(tr.Dir, "archive/dangling/cert1.pem"))

	for round := 0; round < 2; round++ { // second round is served from the cache
		infos, err := tr.ListLineages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 4 {
			t.Fatalf("listed %d lineages, want 4", len(infos))
		}
		byName := map[string]*LineageInfo{}
		for _, i := range infos {
			byName[i.Name] = i
		}
		r := byName["rsa"]
		if r.Err != nil || r.KeyType != "RSA" || r.KeyBits != 2048 || strings.Join(r.Domains, " ") != "rsa.example 127.0.0.1" ||
			r.Conf == nil || *r.Conf != (ConfSummary{Server: "https://ca.example/dir", Account: "acct1", RenewBeforeExpiry: "10 days"}) ||
			len(r.AuthorityKeyID) == 0 || r.Issuer != "CN=test root" || r.Serial == "" || r.NotAfter.IsZero() {
			t.Errorf("rsa info = %+v", r)
		}
		if e := byName["ec"]; e.Err != nil || e.KeyType != "ECDSA" || e.KeyBits != 384 {
			t.Errorf("ec info = %+v", e)
		}
		var ce *ConfError
		if b := byName["badconf"]; !errors.As(b.Err, &ce) || ce.Line != 2 || ce.File != tr.RenewalConfPath("badconf") {
			t.Errorf("badconf err = %v, want ConfError at %s:2", b.Err, tr.RenewalConfPath("badconf"))
		}
		if d := byName["dangling"]; !errors.Is(d.Err, ErrBroken) {
			t.Errorf("dangling err = %v, want ErrBroken", d.Err)
		}
	}
	if _, err := tr.LoadLineage(ctx, "dangling"); !errors.Is(err, ErrBroken) {
		t.Errorf("LoadLineage(dangling) err = %v, want ErrBroken", err)
	}
	if _, err := tr.LoadLineage(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadLineage(nope) err = %v, want ErrNotFound", err)
	}
	if err := tr.DeleteLineage(ctx, "rsa"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tr.RenewalConfPath("rsa"), tr.LiveDir("rsa"), tr.ArchiveDir("rsa")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s remains after DeleteLineage", p)
		}
	}
	if err := tr.DeleteLineage(ctx, "rsa"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete err = %v", err)
	}
}

func TestListCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "c", ca.version(t, "one.example"), nil); err != nil {
		t.Fatal(err)
	}
	infos, _ := tr.ListLineages(ctx)
	if infos[0].Domains[0] != "one.example" {
		t.Fatalf("domains %v", infos[0].Domains)
	}
	// replace the cert file in place with another (same path, new inode)
	v := ca.version(t, "two.example")
	if err := writeFileAtomic(filepath.Join(tr.Dir, "archive/c/cert1.pem"), v.CertPEM, 0o644, -1); err != nil {
		t.Fatal(err)
	}
	infos, _ = tr.ListLineages(ctx)
	if infos[0].Domains[0] != "two.example" {
		t.Errorf("after replacing cert1.pem, domains = %v (stale cache)", infos[0].Domains)
	}
	// a key deleted from the archive: the lineage is listed as broken
	if err := os.Remove(filepath.Join(tr.Dir, "archive/c/privkey1.pem")); err != nil {
		t.Fatal(err)
	}
	infos, _ = tr.ListLineages(ctx)
	if !errors.Is(infos[0].Err, ErrBroken) {
		t.Errorf("after deleting privkey1.pem, listed with err %v, want ErrBroken", infos[0].Err)
	}
}

func TestMixedLinksRepair(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "m", ca.version(t, "m.example"), nil); err != nil {
		t.Fatal(err)
	}
	v2 := ca.version(t, "m.example")
	st, _ := tr.readState("m", nil)
	if err := tr.writeVersion(st.archiveDir, 2, 1, v2, nil); err != nil {
		t.Fatal(err)
	}
	// written, not linked: old version, Pending 2
	l, err := tr.LoadLineage(ctx, "m")
	if err != nil || l.Version != 1 || l.Pending != 2 || l.NeedsRepair {
		t.Fatalf("unlinked: version %d pending %d repair %v err %v", l.Version, l.Pending, l.NeedsRepair, err)
	}
	// half linked: privkey and chain swapped, cert not
	for _, k := range []string{"privkey", "chain"} {
		symlinkAtomic("../../archive/m/"+k+"2.pem", filepath.Join(tr.LiveDir("m"), k+".pem"))
	}
	l, err = tr.LoadLineage(ctx, "m")
	if err != nil || l.Version != 2 || !l.NeedsRepair || string(l.CertPEM) != string(v2.CertPEM) {
		t.Fatalf("half linked: version %d repair %v err %v", l.Version, l.NeedsRepair, err)
	}
	l, err = tr.RepairLineage(ctx, "m")
	if err != nil || l.Version != 2 || l.NeedsRepair {
		t.Fatalf("repaired: version %d repair %v err %v", l.Version, l.NeedsRepair, err)
	}
	if target, _ := os.Readlink(filepath.Join(tr.LiveDir("m"), "cert.pem")); target != "../../archive/m/cert2.pem" {
		t.Errorf("cert link after repair → %s", target)
	}
}

func TestRenewalConfOnDisk(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	conf := &RenewalConf{Params: RenewalParams{Server: "https://ca.example/dir", Authenticator: "webroot",
		WebrootPath: []string{"/var/www/html"}, WebrootMap: []KV{{Key: "w.example", Value: "/var/www/html"}}, RenewHook: "systemctl reload nginx"}}
	conf.SetParam("dns_example_credentials", Scalar("/root/x.ini"))
	if _, err := tr.CreateLineage(ctx, "w.example", ca.version(t, "w.example"), conf); err != nil {
		t.Fatal(err)
	}
	// an operator (or a newer certbot) adds keys we do not know
	p := tr.RenewalConfPath("w.example")
	b, _ := os.ReadFile(p)
	b = []byte(strings.Replace(string(b), "[renewalparams]\n", "[renewalparams]\nfuture_option = 42\n", 1))
	os.WriteFile(p, b, 0o640)
	os.Chmod(p, 0o640)
	l, err := tr.LoadLineage(ctx, "w.example")
	if err != nil {
		t.Fatal(err)
	}
	l.Conf.ARIRetryAfter = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := tr.SaveRenewalConf(ctx, "w.example", l.Conf); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SaveVersion(ctx, "w.example", ca.version(t, "w.example"), nil); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	for _, s := range []string{"future_option = 42\n", "dns_example_credentials = /root/x.ini\n", "webroot_path = /var/www/html,\n",
		"renew_hook = systemctl reload nginx\n", "[[webroot_map]]\nw.example = /var/www/html\n", "[acme_renewal_info]\nari_retry_after = 2030-01-02T03:04:05\n"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("conf lacks %q after rewrites:\n%s", s, b)
		}
	}
	if got := mode(t, p); got != 0o640 {
		t.Errorf("conf mode after rewrite = %o, want 0640 kept", got)
	}
	// SetARIRetryAfter changes that one value and keeps the rest
	if err := tr.SetARIRetryAfter(ctx, "w.example", time.Date(2031, 6, 7, 8, 9, 10, 500, time.FixedZone("x", 3600))); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(p)
	if want := strings.Replace(string(b), "ari_retry_after = 2030-01-02T03:04:05", "ari_retry_after = 2031-06-07T07:09:10", 1); string(b2) != want {
		t.Errorf("after SetARIRetryAfter:\n%s\nwant:\n%s", b2, want)
	}
	if err := tr.SetARIRetryAfter(ctx, "nope.example", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetARIRetryAfter of a missing lineage: %v", err)
	}
	os.WriteFile(p, b, 0o640)
	// a truncated conf: error names file and line, other lineages load
	if _, err := tr.CreateLineage(ctx, "other", ca.version(t, "other.example"), nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, b[:len(b)-len("ari_retry_after = 2030-01-02T03:04:05\n")+len("ari_retry_after = 2030-")], 0o640)
	_, err = tr.LoadLineage(ctx, "w.example")
	if err == nil || !strings.HasPrefix(err.Error(), p+":") {
		t.Errorf("truncated conf err = %v, want it to start with %s:LINE", err, p)
	}
	if _, err := tr.LoadLineage(ctx, "other"); err != nil {
		t.Errorf("other lineage after a broken one: %v", err)
	}
}

func TestLineagePathsAreJoined(t *testing.T) {
	for _, c := range []struct{ base, name string }{
		{"/etc/letsencrypt", "a.example"}, {"/", "a.example"}, {"/etc/letsencrypt", "../x"}, {"/etc/letsencrypt", ".."},
		{"/etc/letsencrypt", ""}, {"/etc/letsencrypt", "a/b"}, {"/etc/letsencrypt", "*.example"},
	} {
		if got, want := under(c.base, "live", c.name), filepath.Join(c.base, "live", c.name); got != want {
			t.Errorf("under(%q, live, %q) = %q, want %q", c.base, c.name, got, want)
		}
	}
}
