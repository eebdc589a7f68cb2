package storage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// WalkLineagesWritable with OtherWritableTopDirs reports exactly what
// OtherWritableDirs reports, each directory once, over a listing served
// from a warm cache (a chmod leaves the keys the cache checks as they
// were): a lineage's own directories before fn sees the lineage; those of
// skipped and unlisted lineages and those without a renewal conf after the
// walk. A link in live/ is not reported, nor a group-writable directory.
func TestWalkLineagesWritable(t *testing.T) {
	tr := benchTree(t, 6)
	ctx := context.Background()
	if _, err := tr.ListLineages(ctx); err != nil {
		t.Fatal(err)
	}
	stamp := cacheStamp(t, tr)
	for _, d := range []string{"live/orphan.example", "archive/orphan.example", "elsewhere"} {
		if err := os.Mkdir(filepath.Join(tr.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../elsewhere", filepath.Join(tr.Dir, "live", "link.example")); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{
		"live/l00001.example":    0o777,
		"archive/l00002.example": 0o777,
		"live/l00003.example":    0o777 | os.ModeSticky, // others may still add links
		"archive/l00004.example": 0o775,                 // group-writable: not reported
		"archive/l00005.example": 0o777,
		"live/l00005.example":    0o777,
		"live/orphan.example":    0o777,
		"archive/orphan.example": 0o757,
		"elsewhere":              0o777, // through live/link.example: not reported
		"archive":                0o777, // a top-level one, for the union
	}
	for d, m := range modes {
		if err := os.Chmod(filepath.Join(tr.Dir, d), m); err != nil {
			t.Fatal(err)
		}
	}
	want, err := tr.OtherWritableDirs()
	if err != nil {
		t.Fatal(err)
	}
	var wantPaths []string
	for _, w := range want {
		wantPaths = append(wantPaths, w.Path)
	}
	for _, d := range []string{"live/l00001.example", "archive/l00002.example", "live/l00003.example", "archive/l00005.example", "live/l00005.example", "live/orphan.example", "archive/orphan.example"} {
		if !slices.Contains(wantPaths, filepath.Join(tr.Dir, d)) {
			t.Fatalf("OtherWritableDirs does not report %s: %v", d, wantPaths)
		}
	}
	for _, tc := range []struct {
		name string
		only []string
		skip map[string]bool
	}{
		{"every lineage", nil, nil},
		{"one skipped", nil, map[string]bool{"l00005.example": true}},
		{"only one", []string{"l00001.example"}, nil},
		{"none", []string{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tr.OtherWritableTopDirs()
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string]bool{}
			var early []string // reported before fn saw its lineage
			err = tr.WalkLineagesWritable(ctx, tc.only, tc.skip, func(li *LineageInfo) error {
				listed[li.Name] = true
				return nil
			}, func(w WritableDir) {
				got = append(got, w)
				if name := filepath.Base(w.Path); !listed[name] {
					early = append(early, name)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			sortWritable(got)
			if !slices.Equal(got, want) {
				t.Errorf("OtherWritableTopDirs + WalkLineagesWritable =\n%v\nwant (OtherWritableDirs)\n%v", got, want)
			}
			if tc.only == nil && tc.skip == nil {
				for _, name := range []string{"l00001.example", "l00002.example", "l00003.example", "l00005.example"} {
					if !slices.Contains(early, name) {
						t.Errorf("%s's directory reported after fn saw it (early: %v)", name, early)
					}
				}
			}
		})
	}
	if got := cacheStamp(t, tr); got != stamp {
		t.Errorf("listing cache rewritten (%+v, was %+v): the listings were not the warm-cache ones the test is about", got, stamp)
	}
}
