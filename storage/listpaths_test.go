package storage

import (
	"path/filepath"
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
