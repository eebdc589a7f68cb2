package storage

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// listAll lists tr and, for comparison, the same tree without the cache.
func listAll(t *testing.T, tr *Tree) (cached, fresh []*LineageInfo) {
	t.Helper()
	ctx := context.Background()
	cached, err := tr.ListLineages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Open(tr.Dir, &Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err = nc.ListLineages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cached, fresh
}

func sameListing(t *testing.T, what string, got, want []*LineageInfo) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lineages, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := *got[i], *want[i]
		if (g.Err == nil) != (w.Err == nil) {
			t.Fatalf("%s: %s: err %v, want %v", what, g.Name, g.Err, w.Err)
		}
		g.Err, w.Err = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: lineage %d differs from an uncached listing:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

func cacheStamp(t *testing.T, tr *Tree) fileKey {
	t.Helper()
	k, ok := statKey(tr.cachePath())
	if !ok {
		t.Fatal("no listing cache written")
	}
	return k
}

// TestListCacheStream lists a tree larger than one window: the cache is
// written once, left alone while nothing changes, rewritten after a change in
// the middle, a deletion, an addition or damage, and always agrees with an
// uncached listing.
func TestListCacheStream(t *testing.T) {
	n := 3*listWindow + 17
	tr := benchTree(t, n)
	ctx := context.Background()

	got, want := listAll(t, tr)
	sameListing(t, "first listing", got, want)
	for _, li := range got {
		if li.Err != nil {
			t.Fatal(li.Err)
		}
	}
	k1 := cacheStamp(t, tr)
	got, _ = listAll(t, tr)
	sameListing(t, "second listing", got, want)
	if cacheStamp(t, tr) != k1 {
		t.Error("cache rewritten although nothing changed")
	}

	// a conf edited in place in the second window
	mid := got[listWindow+3].Name
	c, err := tr.LoadRenewalConf(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	c.RenewBeforeExpiry = "45 days"
	c.ARIRetryAfter = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	c.Params.Server = "https://other.example/dir"
	if err := tr.SaveRenewalConf(ctx, mid, c); err != nil {
		t.Fatal(err)
	}
	got, want = listAll(t, tr)
	sameListing(t, "after a conf change", got, want)
	if s := got[listWindow+3].Conf; s.RenewBeforeExpiry != "45 days" || s.Server != "https://other.example/dir" || !s.ARIRetryAfter.Equal(c.ARIRetryAfter) {
		t.Errorf("changed conf listed as %+v", s)
	}
	k2 := cacheStamp(t, tr)
	if k2 == k1 {
		t.Error("cache not rewritten after a change")
	}
	got, _ = listAll(t, tr)
	sameListing(t, "after a conf change, again", got, want)
	if cacheStamp(t, tr) != k2 {
		t.Error("cache rewritten twice for one change")
	}

	// deletions (first, middle, last) and an addition
	for _, i := range []int{0, 2 * listWindow, n - 1} {
		if err := tr.DeleteLineage(ctx, got[i].Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.CreateLineage(ctx, "m-added.example", newCA(t).version(t, "added.example"), nil); err != nil {
		t.Fatal(err)
	}
	got, want = listAll(t, tr)
	sameListing(t, "after deletions and an addition", got, want)
	if len(got) != n-2 {
		t.Errorf("%d lineages, want %d", len(got), n-2)
	}

	// damage in the middle of the file: the rest is rebuilt
	b, err := os.ReadFile(tr.cachePath())
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x55
	if err := os.WriteFile(tr.cachePath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ = listAll(t, tr)
	sameListing(t, "after damage", got, want)
	b2, _ := os.ReadFile(tr.cachePath())
	if string(b2) == string(b) {
		t.Error("damaged cache not rewritten")
	}
	got, _ = listAll(t, tr)
	sameListing(t, "after repair", got, want)

	// a walk of a few names reads the cache but does not write it
	k3 := cacheStamp(t, tr)
	var names []string
	if err := tr.WalkLineages(ctx, []string{got[5].Name, "nope.example", got[1].Name, "../x"}, func(li *LineageInfo) error {
		names = append(names, li.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{got[1].Name, got[5].Name}) {
		t.Errorf("walk of two names gave %v", names)
	}
	if cacheStamp(t, tr) != k3 {
		t.Error("a filtered walk rewrote the cache")
	}
}

// TestListCacheOldFormat: a cache from an older version (or any other file)
// is replaced, not trusted.
func TestListCacheOldFormat(t *testing.T) {
	tr := benchTree(t, 5)
	if err := os.MkdirAll(filepath.Dir(tr.cachePath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tr.cachePath(), []byte("\x0f\xff\x81\x03\x01gob data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tr.oldCachePath(), []byte("\x0f\xff\x81\x03\x01gob data"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, want := listAll(t, tr)
	sameListing(t, "over an old cache", got, want)
	if _, err := os.Stat(tr.oldCachePath()); err == nil {
		t.Error("the old gob cache was left behind")
	}
	if r := openCacheReader(tr.cachePath()); r == nil {
		t.Error("old cache not replaced")
	} else {
		r.close()
	}
}

// FuzzListCache: no input file makes the cache reader panic or loop.
func FuzzListCache(f *testing.F) {
	f.Add([]byte(cacheMagic + "\x04"))
	var w recWriter
	rec := w.encode(nil, &cacheEntry{Name: "a", Domains: []string{"a.example"}, Issuer: "CN=x", NotAfter: time.Unix(1e9, 0)})
	rec = w.encode(rec, &cacheEntry{Name: "b", Domains: []string{"b.example"}, Issuer: "CN=x"})
	f.Add(append([]byte(cacheMagic+"\x04"), rec...))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r := openCacheReader(p)
		defer r.close()
		for i := 0; i < len(data)+1; i++ {
			if r.peek() == nil {
				return
			}
			r.next = nil
		}
		t.Fatal("reader returned more records than bytes")
	})
}

// The listing says which certificates name no OCSP responder and no CRL
// (nothing to ask whether they were revoked), the same from the cache as
// from the files: a nothing-due renew skips reading them for revocation.
func TestListNoRevocationSource(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "plain.example", ca.version(t, "plain.example"), nil); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7777), Subject: pkix.Name{CommonName: "crl.example"}, DNSNames: []string{"crl.example"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(90 * 24 * time.Hour), CRLDistributionPoints: []string{"http://crl.example/1.crl"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	v := &Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ChainPEM: ca.pem,
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
	if _, err := tr.CreateLineage(ctx, "crl.example", v, nil); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"from the files", "from the cache"} {
		infos, err := tr.ListLineages(ctx)
		if err != nil || len(infos) != 2 {
			t.Fatalf("%s: %d lineages, %v", pass, len(infos), err)
		}
		for _, li := range infos {
			if want := li.Name == "plain.example"; li.NoRevocationSource != want {
				t.Errorf("%s: %s NoRevocationSource = %v, want %v", pass, li.Name, li.NoRevocationSource, want)
			}
		}
	}
}

// WalkLineagesExcept leaves the skipped lineages out (fn never sees them)
// and keeps their cache records: the next full listing is a cache hit for
// them and does not rewrite the cache.
func TestWalkLineagesExcept(t *testing.T) {
	ctx := context.Background()
	tr := benchTree(t, 40)
	all, _ := listAll(t, tr)
	skip := map[string]bool{}
	for _, li := range all[:25] {
		skip[li.Name] = true
	}
	stamp := cacheStamp(t, tr)
	var seen []string
	if err := tr.WalkLineagesExcept(ctx, nil, skip, func(li *LineageInfo) error { seen = append(seen, li.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 15 || seen[0] != all[25].Name {
		t.Fatalf("walked %d lineages starting with %v, want the 15 not skipped", len(seen), seen[:min(1, len(seen))])
	}
	if cacheStamp(t, tr) != stamp {
		t.Error("skipping lineages rewrote the listing cache")
	}
	got, want := listAll(t, tr)
	sameListing(t, "full listing after a skipping one", got, want)
	if cacheStamp(t, tr) != stamp {
		t.Error("the full listing after a skipping one rewrote the cache: the skipped lineages' records were lost")
	}
}
