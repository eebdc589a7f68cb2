package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A version the KeepVersion predicate names (the in-flight order record's,
// phase 2) survives the prune, all four files of it; the rest follows
// certbot 2.3+'s truncate (current and 5 previous).
func TestPruneKeepsPinnedVersions(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	var asked []string
	tr.opts.KeepVersion = func(lineage string, v int) bool {
		asked = append(asked, fmt.Sprintf("%s/%d", lineage, v))
		return lineage == "p.example" && v == 2
	}
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "p.example", ca.version(t, "p.example"), nil); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 10; i++ {
		if _, err := tr.SaveVersion(ctx, "p.example", ca.version(t, "p.example"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 10; n++ {
		want := n == 2 || n >= 5
		for _, k := range kinds {
			_, err := os.Lstat(filepath.Join(tr.ArchiveDir("p.example"), fmt.Sprintf("%s%d.pem", k, n)))
			if (err == nil) != want {
				t.Errorf("%s%d.pem present = %v, want %v", k, n, err == nil, want)
			}
		}
	}
	if len(asked) == 0 {
		t.Errorf("KeepVersion was never asked")
	}
	if _, err := tr.LoadLineage(ctx, "p.example"); err != nil {
		t.Errorf("load after prune: %v", err)
	}
}
