package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
