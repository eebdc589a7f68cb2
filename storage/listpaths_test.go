package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// setPaths gives a listed lineage the paths RenewalConfPath and LiveDir
// give, for plain names and for those under() joins and cleans.
func TestSetPaths(t *testing.T) {
	const sep = string(filepath.Separator)
	for _, c := range []struct{ dir, name string }{
		{"/etc/letsencrypt", "a.example"}, {"/", "a.example"}, {"/etc/letsencrypt", "*.example"},
		{"/etc/letsencrypt", "a/b"}, {"/etc/letsencrypt", ".."}, {"/etc/letsencrypt", ""},
	} {
		tr := &Tree{Dir: c.dir}
		info := &LineageInfo{Name: c.name}
		tr.setPaths(info)
		live := tr.LiveDir(c.name) + sep
		want := [4]string{tr.RenewalConfPath(c.name), live + "cert.pem", live + "fullchain.pem", live + "privkey.pem"}
		if got := [4]string{info.ConfPath, info.CertPath, info.FullchainPath, info.KeyPath}; got != want {
			t.Errorf("setPaths(%q in %q) = %q, want %q", c.name, c.dir, got, want)
		}
	}
	// One allocation for the four, whatever the lengths (the string is
	// sized up front, not grown).
	for n := 1; n < 40; n++ {
		tr := &Tree{Dir: "/" + strings.Repeat("d", n)}
		info := &LineageInfo{Name: strings.Repeat("n", 40-n) + ".example"}
		if a := testing.AllocsPerRun(5, func() { tr.setPaths(info) }); a != 1 {
			t.Errorf("setPaths in %s: %v allocations, want 1", tr.Dir, a)
		}
	}
}

// A listing that rewrites the cache from a change at a window's edge gives
// the first re-encoded record the back-references of the record before it
// ("the same server as the record before"), though the listing has reused
// that record's memory for a later window meanwhile: the first two windows'
// lineages name one server, the third's another, and the first lineage of
// the second window changes to the third's.
func TestListCacheBackRefsAcrossWindows(t *testing.T) {
	n := 3 * listWindow
	tr := benchTree(t, n)
	setServer := func(i int, s string) {
		t.Helper()
		p := tr.RenewalConfPath(fmt.Sprintf("l%05d.example", i))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = regexp.MustCompile(`(?m)^server = .*$`).ReplaceAll(b, []byte("server = "+s))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		setServer(i, fmt.Sprintf("https://s%d.example/dir", i/(2*listWindow)))
	}
	ctx := context.Background()
	for _, what := range []string{"first listing", "from the cache", "after the change", "from the rewritten cache"} {
		if what == "after the change" {
			setServer(listWindow, "https://s1.example/dir")
		}
		got, err := tr.ListLineages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{listWindow - 1, listWindow, listWindow + 1} {
			want := "https://s0.example/dir"
			if i == listWindow && (what == "after the change" || what == "from the rewritten cache") {
				want = "https://s1.example/dir"
			}
			if s := got[i].Conf.Server; s != want {
				t.Errorf("%s: lineage %d names %s, want %s", what, i, s, want)
			}
		}
	}
}

// A lineage whose conf alone changed (a renew that saves ari_retry_after
// rewrites every conf it asked the CA about) is listed again from its conf:
// the new conf's values, and the certificate's from the cache, not read
// again (here its bytes were swapped for garbage of the same size, mtime
// and inode, which a read would refuse).
func TestListCacheConfOnlyChange(t *testing.T) {
	ctx := context.Background()
	tr := benchTree(t, 3)
	before, err := tr.ListLineages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := before[1].Name
	c, err := tr.LoadRenewalConf(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	c.ARIRetryAfter = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := tr.SaveRenewalConf(ctx, name, c); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(tr.ArchiveDir(name), "cert1.pem")
	fi, err := os.Stat(cert)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cert, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(strings.Repeat("x", int(fi.Size())))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(cert, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"conf changed", "from the rewritten cache"} {
		after, err := tr.ListLineages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		li := after[1]
		if li.Err != nil || !li.Conf.ARIRetryAfter.Equal(c.ARIRetryAfter) {
			t.Fatalf("%s: %s listed with err %v, ari_retry_after %v; want %v", pass, name, li.Err, li.Conf.ARIRetryAfter, c.ARIRetryAfter)
		}
		if li.Serial != before[1].Serial || !slices.Equal(li.Domains, before[1].Domains) || li.NotAfter != before[1].NotAfter {
			t.Errorf("%s: certificate fields %s %v %v, want the cached %s %v %v", pass, li.Serial, li.Domains, li.NotAfter, before[1].Serial, before[1].Domains, before[1].NotAfter)
		}
	}
}
