package storage

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockKinds are the two lock files a Tree takes, by the path they live at.
var lockKinds = []struct {
	name string
	path func(tr *Tree) string
	lock func(tr *Tree) (func(), error)
}{
	{"tree", func(tr *Tree) string { return filepath.Join(tr.Dir, ".certbot.lock") },
		func(tr *Tree) (func(), error) { return tr.LockTree(context.Background()) }},
	{"lineage", func(tr *Tree) string { return filepath.Join(tr.Dir, ".acmectl", "locks", "a.example.lock") },
		func(tr *Tree) (func(), error) { return tr.LockLineage(context.Background(), "a.example") }},
	{"work dir", func(tr *Tree) string { return filepath.Join(filepath.Dir(tr.Dir), "work", ".certbot.lock") },
		func(tr *Tree) (func(), error) {
			return tr.LockDir(context.Background(), filepath.Join(filepath.Dir(tr.Dir), "work"))
		}},
}

// A lock file that is a symbolic link is refused with an error naming it: the
// link's target (an existing file, or one the link names that does not
// exist) is neither written, truncated nor created.
func TestLockSymlinkRefused(t *testing.T) {
	for _, k := range lockKinds {
		for _, dangling := range []bool{false, true} {
			t.Run(k.name+map[bool]string{false: "/existing target", true: "/dangling"}[dangling], func(t *testing.T) {
				tr := openTree(t)
				tr.opts.LockTimeout = 300 * time.Millisecond
				outside := t.TempDir()
				target := filepath.Join(outside, "precious")
				if !dangling {
					if err := os.WriteFile(target, []byte("precious data\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				lp := k.path(tr)
				if err := os.MkdirAll(filepath.Dir(lp), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, lp); err != nil {
					t.Fatal(err)
				}
				unlock, err := k.lock(tr)
				if err == nil {
					unlock()
					t.Errorf("lock through a symlink %s -> %s: no error", lp, target)
				} else {
					if !errors.Is(err, ErrLockFileUnsafe) || !strings.Contains(err.Error(), lp) || !strings.Contains(err.Error(), "symbolic link") {
						t.Errorf("error %q: want ErrLockFileUnsafe naming %s as a symbolic link", err, lp)
					}
				}
				b, rerr := os.ReadFile(target)
				switch {
				case dangling && rerr == nil:
					t.Errorf("the dangling link's target %s was created (%q)", target, b)
				case !dangling && string(b) != "precious data\n":
					t.Errorf("target %s now holds %q, want it untouched", target, b)
				}
				if fi, err := os.Lstat(lp); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the symlink %s was changed: %v %v", lp, fi, err)
				}
			})
		}
	}
}

// The directories a lineage lock lives in are not followed through symlinks
// either: a .acmectl or .acmectl/locks that is a link is refused.
func TestLockDirSymlinkRefused(t *testing.T) {
	for _, sub := range []string{".acmectl", filepath.Join(".acmectl", "locks")} {
		t.Run(sub, func(t *testing.T) {
			tr := openTree(t)
			outside := t.TempDir()
			link := filepath.Join(tr.Dir, sub)
			if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			unlock, err := tr.LockLineage(context.Background(), "a.example")
			if err == nil {
				unlock()
				t.Fatalf("lineage lock under a symlinked %s: no error", sub)
			}
			if !errors.Is(err, ErrLockFileUnsafe) || !strings.Contains(err.Error(), link) {
				t.Errorf("error %q: want ErrLockFileUnsafe naming %s", err, link)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("the link's target got %d entries, want none", len(ents))
			}
		})
	}
}

// A lock file acmectl did not create is locked as certbot locks it (open
// without truncating) and its content stays as it was; one holding only a
// pid (a lock file of an earlier run) gets this process's pid, so a waiting
// process can name the holder.
func TestLockNeverTruncatesForeignFile(t *testing.T) {
	for _, k := range lockKinds {
		for _, tc := range []struct {
			name    string
			content string
			rewrite bool
		}{
			{"foreign content", "not a lock file: keep me\n", false},
			{"large", strings.Repeat("x", 4096), false},
			{"earlier pid", "12345\n", true},
			{"empty", "", true},
		} {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				tr := openTree(t)
				lp := k.path(tr)
				if err := os.MkdirAll(filepath.Dir(lp), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(lp, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
				unlock, err := k.lock(tr)
				if err != nil {
					t.Fatalf("lock over an existing regular file: %v", err)
				}
				b, _ := os.ReadFile(lp)
				want := tc.content
				if tc.rewrite {
					want = strconv.Itoa(os.Getpid()) + "\n"
				}
				if string(b) != want {
					t.Errorf("lock file holds %.40q while locked, want %.40q", b, want)
				}
				unlock()
			})
		}
	}
}

// A lock path that is not a regular file (a FIFO, a directory) is refused
// with an error naming it, without blocking.
func TestLockNotRegularRefused(t *testing.T) {
	for _, k := range lockKinds {
		t.Run(k.name, func(t *testing.T) {
			tr := openTree(t)
			lp := k.path(tr)
			if err := os.MkdirAll(filepath.Dir(lp), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(lp, 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				unlock, err := k.lock(tr)
				if err == nil {
					unlock()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrLockFileUnsafe) || !strings.Contains(err.Error(), lp) {
					t.Errorf("lock on a FIFO: %v, want ErrLockFileUnsafe naming %s", err, lp)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("lock on a FIFO blocked")
			}
		})
	}
}

// LockDir takes certbot's lock on a work or logs dir: certbot's lockf is
// refused while it is held, and the file goes on release, as certbot's does.
func TestLockDirExcludesCertbot(t *testing.T) {
	tr := openTree(t)
	work := filepath.Join(t.TempDir(), "work")
	unlock, err := tr.LockDir(context.Background(), work)
	if err != nil {
		t.Fatal(err)
	}
	py := `import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("busy"); sys.exit(0)
print("locked")
`
	lp := filepath.Join(work, ".certbot.lock")
	if b, err := exec.Command("python3", "-c", py, lp).Output(); err != nil || string(b) != "busy\n" {
		t.Errorf("certbot-style lockf on %s while LockDir holds it: %q %v, want busy", lp, b, err)
	}
	unlock()
	if _, err := os.Lstat(lp); !os.IsNotExist(err) {
		t.Errorf("%s not removed on release: %v", lp, err)
	}
}
