package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// archiveNames lists archive/<name>, sorted.
func archiveNames(t *testing.T, tr *Tree, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(tr.ArchiveDir(name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func versionFiles(ns ...int) []string {
	var out []string
	for _, n := range ns {
		for _, k := range kinds {
			out = append(out, fmt.Sprintf("%s%d.pem", k, n))
		}
	}
	sort.Strings(out)
	return out
}

// checkNoOrphan: a failed save leaves archive/ with version 1 only, the live
// links on version 1, and a second save (space back) writes version 2.
func checkNoOrphan(t *testing.T, tr *Tree, ca *testCA, saveErr error) {
	t.Helper()
	ctx := context.Background()
	if saveErr == nil {
		t.Fatal("SaveVersion on a full disk: no error")
	}
	if got, want := archiveNames(t, tr, "full.example"), versionFiles(1); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after the failed save archive/ holds %v, want only %v (no partial version)", got, want)
	}
	l, err := tr.LoadLineage(ctx, "full.example")
	if err != nil || l.Version != 1 {
		t.Fatalf("LoadLineage after the failed save = %v, %v; want version 1", l, err)
	}
	l, err = tr.SaveVersion(ctx, "full.example", ca.version(t, "full.example"), nil)
	if err != nil {
		t.Fatalf("SaveVersion with space back: %v", err)
	}
	if l.Version != 2 {
		t.Errorf("the next save wrote version %d, want 2", l.Version)
	}
	if got, want := archiveNames(t, tr, "full.example"), versionFiles(1, 2); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("archive/ holds %v, want %v", got, want)
	}
}

// TestDiskFullLeavesNoPartialVersion: a write fault at each of the four files
// of a new version (injected: ENOSPC from the n-th write) leaves no file of
// that version behind.
func TestDiskFullLeavesNoPartialVersion(t *testing.T) {
	for fail := 0; fail < 4; fail++ {
		t.Run(fmt.Sprintf("write %d fails", fail+1), func(t *testing.T) {
			ctx := context.Background()
			tr := openTree(t)
			ca := newCA(t)
			if _, err := tr.CreateLineage(ctx, "full.example", ca.version(t, "full.example"), nil); err != nil {
				t.Fatal(err)
			}
			n := 0
			testWriteFault = func(path string) error {
				if !strings.HasPrefix(filepath.Base(path), tmpPrefix) || !strings.Contains(path, "archive") {
					return nil
				}
				n++
				if n == fail+1 {
					return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
				}
				return nil
			}
			_, err := tr.SaveVersion(ctx, "full.example", ca.version(t, "full.example"), nil)
			testWriteFault = nil
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("SaveVersion = %v, want ENOSPC", err)
			}
			checkNoOrphan(t, tr, ca, err)
		})
	}
}

// The same on a real full file system: a tmpfs of a few pages (needs root to
// mount; the injected-fault test above covers the logic everywhere).
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestDiskFullLeavesNoPartialVersion covers the same paths")
	}
	for free := 0; free < 4; free++ {
		t.Run(fmt.Sprintf("%d pages free", free), func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0755"); err != nil {
				t.Skipf("mount tmpfs (root without CAP_SYS_ADMIN?): %v", err)
			}
			t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
			ctx := context.Background()
			tr, err := Open(filepath.Join(dir, "le"), &Options{LockTimeout: 2 * time.Second, NoCache: true})
			if err != nil {
				t.Fatal(err)
			}
			ca := newCA(t)
			if _, err := tr.CreateLineage(ctx, "full.example", ca.version(t, "full.example"), nil); err != nil {
				t.Fatal(err)
			}
			// The lock files exist already; fill every page, then free some.
			unlock, err := tr.LockLineage(ctx, "full.example")
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			filler := filepath.Join(dir, "filler")
			f, err := os.Create(filler)
			if err != nil {
				t.Fatal(err)
			}
			page := make([]byte, 4096)
			for {
				if _, err := f.Write(page); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatal(err)
					}
					break
				}
			}
			fi, _ := f.Stat()
			size := fi.Size() / 4096 * 4096
			if err := f.Truncate(size - int64(free)*4096); err != nil {
				t.Fatal(err)
			}
			f.Close()
			_, err = tr.SaveVersion(ctx, "full.example", ca.version(t, "full.example"), nil)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("SaveVersion with %d pages free = %v, want ENOSPC", free, err)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			checkNoOrphan(t, tr, ca, err)
		})
	}
}

// An incomplete version a dead writer left above the current one (a crash
// mid-write, or a disk full before this fix) is removed by the next save,
// which then writes the version after the current one; a version pinned by
// KeepVersion stays.
func TestSaveRemovesOrphanPartialVersions(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "full.example", ca.version(t, "full.example"), nil); err != nil {
		t.Fatal(err)
	}
	dir := tr.ArchiveDir("full.example")
	for _, f := range []string{"privkey2.pem", "privkey3.pem", "chain3.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := tr.SaveVersion(ctx, "full.example", ca.version(t, "full.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 {
		t.Errorf("the save after the orphans wrote version %d, want 2", l.Version)
	}
	if got, want := archiveNames(t, tr, "full.example"), versionFiles(1, 2); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("archive/ holds %v, want %v", got, want)
	}

	// pinned: privkey4.pem of an in-flight order stays, numbering skips it
	tr.opts.KeepVersion = func(lineage string, v int) bool { return v == 4 }
	if err := os.WriteFile(filepath.Join(dir, "privkey4.pem"), []byte("in-flight key"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = tr.SaveVersion(ctx, "full.example", ca.version(t, "full.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "privkey4.pem")); err != nil || string(b) != "in-flight key" {
		t.Errorf("pinned privkey4.pem = %q, %v", b, err)
	}
	if l.Version != 5 {
		t.Errorf("version = %d, want 5 (after the pinned 4)", l.Version)
	}
	if got := archiveNames(t, tr, "full.example"); strings.Contains(strings.Join(got, " "), "3.pem") {
		t.Errorf("archive/ holds %v: version 3 was pinned by nobody", got)
	}
}
