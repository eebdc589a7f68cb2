package manager

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A renew whose listing comes from a warm cache still warns, once each,
// about a lineage's live/<name> and archive/<name> that others may write
// (the listing reports them; nothing stats them twice), and about a
// directory in live/ without a renewal conf.
func TestRenewWarnsWritableLineageDirsWarmCache(t *testing.T) {
	const n = 3
	ca := newARICA(t, n)
	m, tr := ariTree(t, ca.srv.Client(), map[string]*ariCA{"a": ca}, n)
	// The first run asks the CA and saves the retry times (.acmectl/ari-retry);
	// the second lists the saved confs into the cache; the third is the
	// one measured: its listing is the cache's.
	for range 2 {
		if _, err := m.Renew(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(tr.Dir, ".acmectl", "listing.cache")
	before, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{filepath.Join(tr.Dir, "live", "a00.example"), filepath.Join(tr.Dir, "archive", "a01.example"),
		filepath.Join(tr.Dir, "live", "orphan.example")}
	if err := os.Mkdir(bad[2], 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range bad {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var warnings []string
	m.Observer = ObserverFunc(func(e Event) {
		if e.Kind == EventWarning {
			mu.Lock()
			warnings = append(warnings, e.Reason)
			mu.Unlock()
		}
	})
	res, err := m.Renew(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res.Each(func(oc *Outcome) {
		if oc.Status != StatusSkipped {
			t.Errorf("%s: %s, want skipped (not due)", oc.Lineage, oc.Status)
		}
	})
	for _, d := range bad {
		want := d + " is writable by other users (drwxrwxrwx); fix: chmod o-w " + d
		if got := strings.Count(strings.Join(warnings, "\n")+"\n", want+"\n"); got != 1 {
			t.Errorf("%d warnings %q, want 1; warnings: %q", got, want, warnings)
		}
	}
	if len(warnings) != len(bad) {
		t.Errorf("%d warnings, want %d: %q", len(warnings), len(bad), warnings)
	}
	after, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
		t.Errorf("the listing cache was rewritten: the run did not list from the warm cache the test is about")
	}
	if seen, _ := ca.stats(); seen != n {
		t.Errorf("%d renewal-info requests, want %d (the first run's only)", seen, n)
	}
}
