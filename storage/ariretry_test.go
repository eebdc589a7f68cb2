package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ariLineages creates n lineages (a00.example …) in tr and returns their names.
func ariLineages(t *testing.T, tr *Tree, n int) []string {
	t.Helper()
	ca := newCA(t)
	var names []string
	for i := range n {
		name := fmt.Sprintf("a%02d.example", i)
		conf := &RenewalConf{Params: RenewalParams{Server: "https://ca.example/dir", Authenticator: "standalone"}}
		if _, err := tr.CreateLineage(t.Context(), name, ca.version(t, name), conf); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func ariOf(t *testing.T, tr *Tree, name string) time.Time {
	t.Helper()
	c, err := tr.LoadRenewalConf(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.ARIRetryAfter
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("temporary file left in %s: %s", dir, e.Name())
		}
	}
}

// TestSetARIRetryAfters: the batch writes what SetARIRetryAfter writes for
// each lineage (only that value changes, the mode stays), for a few (an
// fsync each) and for many (one sync of the file system); a conf that
// already says the time is not rewritten; a missing lineage is named in the
// error and the others are saved; no temporary file is left.
func TestSetARIRetryAfters(t *testing.T) {
	for _, n := range []int{3, syncEachMax + 5} {
		t.Run(fmt.Sprintf("%d lineages", n), func(t *testing.T) {
			ctx := t.Context()
			tr := openTree(t)
			names := ariLineages(t, tr, n)
			os.Chmod(tr.RenewalConfPath(names[0]), 0o640)
			at := time.Date(2031, 6, 7, 8, 9, 10, 500, time.FixedZone("x", 3600))
			// what SetARIRetryAfter writes, on a copy of the tree's first conf
			ref := openTree(t)
			refNames := ariLineages(t, ref, 1)
			if err := ref.SetARIRetryAfter(ctx, refNames[0], at); err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(ref.RenewalConfPath(refNames[0]))
			times := map[string]time.Time{"gone.example": at}
			for _, name := range names {
				times[name] = at
			}
			err := tr.SetARIRetryAfters(ctx, times)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gone.example") {
				t.Errorf("SetARIRetryAfters with a missing lineage: %v, want ErrNotFound naming it", err)
			}
			for _, name := range names {
				if got := ariOf(t, tr, name); !got.Equal(at.UTC().Truncate(time.Second)) {
					t.Errorf("%s: ari_retry_after %v, want %v", name, got, at.UTC().Truncate(time.Second))
				}
			}
			got, _ := os.ReadFile(tr.RenewalConfPath(names[0]))
			if norm := strings.ReplaceAll(string(got), tr.Dir, ref.Dir); norm != strings.ReplaceAll(string(want), refNames[0], names[0]) {
				t.Errorf("conf after SetARIRetryAfters:\n%s\nwant (as SetARIRetryAfter writes it):\n%s", got, want)
			}
			if m := mode(t, tr.RenewalConfPath(names[0])); m != 0o640 {
				t.Errorf("conf mode %o, want 0640 kept", m)
			}
			noTemps(t, filepath.Join(tr.Dir, "renewal"))
			// the same times again: nothing is rewritten
			var inodes []uint64
			for _, name := range names {
				fi, _ := os.Stat(tr.RenewalConfPath(name))
				inodes = append(inodes, fi.Sys().(*syscall.Stat_t).Ino)
			}
			delete(times, "gone.example")
			if err := tr.SetARIRetryAfters(ctx, times); err != nil {
				t.Fatal(err)
			}
			for i, name := range names {
				fi, _ := os.Stat(tr.RenewalConfPath(name))
				if fi.Sys().(*syscall.Stat_t).Ino != inodes[i] {
					t.Errorf("%s rewritten though its conf already had the time", name)
				}
			}
		})
	}
}

// TestSetARIRetryAftersWriteFault: a write that fails (a full disk) leaves
// that lineage's conf as it was and names it; the others are saved.
func TestSetARIRetryAftersWriteFault(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names := ariLineages(t, tr, syncEachMax+2)
	before, _ := os.ReadFile(tr.RenewalConfPath(names[3]))
	testWriteFault = func(tmp string) error {
		if strings.Contains(filepath.Base(tmp), names[3]) {
			return syscall.ENOSPC
		}
		return nil
	}
	t.Cleanup(func() { testWriteFault = nil })
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	times := map[string]time.Time{}
	for _, name := range names {
		times[name] = at
	}
	err := tr.SetARIRetryAfters(ctx, times)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), names[3]) {
		t.Errorf("SetARIRetryAfters with a full disk on %s: %v", names[3], err)
	}
	for i, name := range names {
		got := ariOf(t, tr, name)
		if i == 3 {
			if after, _ := os.ReadFile(tr.RenewalConfPath(name)); string(after) != string(before) {
				t.Errorf("%s changed by a failed write:\n%s", name, after)
			}
			continue
		}
		if !got.Equal(at) {
			t.Errorf("%s: ari_retry_after %v, want %v", name, got, at)
		}
	}
	noTemps(t, filepath.Join(tr.Dir, "renewal"))
}

// TestSetARIRetryAftersConcurrent: two Trees on one directory (as two
// renew processes: their locks exclude each other) save the retry times of
// interleaved lineages at once, round after round, while a third rewrites
// one lineage's other settings; no lineage loses the time its last batch
// saved and every conf stays whole.
func TestSetARIRetryAftersConcurrent(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names := ariLineages(t, tr, 2*syncEachMax)
	open := func() *Tree {
		o, err := Open(tr.Dir, &Options{LockTimeout: 30 * time.Second, Hostname: "test.host"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	a, b, c := open(), open(), open()
	const rounds = 20
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	errs := make(chan error, 3*rounds)
	var wg sync.WaitGroup
	for k, tk := range []*Tree{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				times := map[string]time.Time{}
				for i := k; i < len(names); i += 2 {
					times[names[i]] = base.Add(time.Duration(r*len(names)+i) * time.Second)
				}
				errs <- tk.SetARIRetryAfters(ctx, times)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			// a settings change on the lineages both batches write, read and
			// written under the lineage's lock (as reconfigure does)
			unlock, err := c.LockLineage(ctx, names[0])
			if err != nil {
				errs <- err
				return
			}
			conf, err := c.LoadRenewalConf(ctx, names[0])
			if err == nil {
				conf.Params.RenewHook = "true"
				err = c.SaveRenewalConf(ctx, names[0], conf)
			}
			unlock()
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, name := range names {
		want := base.Add(time.Duration((rounds-1)*len(names)+i) * time.Second)
		if i == 0 {
			continue // the settings writer may have kept an earlier time
		}
		if got := ariOf(t, tr, name); !got.Equal(want) {
			t.Errorf("%s: ari_retry_after %v, want %v (its last batch's)", name, got, want)
		}
	}
	conf, err := tr.LoadRenewalConf(ctx, names[0])
	if err != nil || conf.Params.RenewHook != "true" {
		t.Errorf("%s after the settings change: %v, %v", names[0], conf, err)
	}
	noTemps(t, filepath.Join(tr.Dir, "renewal"))
}
