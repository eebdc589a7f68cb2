package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// heldLock is one lock file this Tree holds, with a re-entry count.
type heldLock struct {
	f      *os.File
	n      int
	remove bool
}

const lockPoll = 50 * time.Millisecond

// acquire takes the fcntl lock on path, waiting up to the Tree's bound.
// remove mirrors certbot's lock.py: the file is deleted on release, so
// acquire re-checks that the locked inode is still the one at path.
func (t *Tree) acquire(ctx context.Context, path string, remove bool) (func(), error) {
	t.mu.Lock()
	if h := t.held[path]; h != nil {
		h.n++
		t.mu.Unlock()
		return t.releaser(path), nil
	}
	t.mu.Unlock()

	deadline := time.Now().Add(t.opts.LockTimeout)
	if err := noSymlinkDirs(t.Dir, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := mkdirs(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		f, holder, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if f != nil {
			t.mu.Lock()
			if h := t.held[path]; h != nil {
				// another goroutine of this Tree won meanwhile; OFD locks
				// would conflict, so this cannot happen, but be safe.
				h.n++
				t.mu.Unlock()
				f.Close()
				return t.releaser(path), nil
			}
			t.held[path] = &heldLock{f: f, n: 1, remove: remove}
			t.mu.Unlock()
			return t.releaser(path), nil
		}
		if holder == "" {
			holder = "another process"
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: held by %s (waited %s): %w", path, holder, t.opts.LockTimeout, ErrLocked)
		}
		if timer == nil {
			timer = time.NewTimer(lockPoll)
		} else {
			timer.Reset(lockPoll)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: held by %s: %w (%w)", path, holder, ErrLocked, ctx.Err())
		case <-timer.C:
		}
	}
}

func (t *Tree) releaser(path string) func() {
	done := false
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if done {
			return
		}
		done = true
		h := t.held[path]
		if h == nil {
			return
		}
		h.n--
		if h.n > 0 {
			return
		}
		delete(t.held, path)
		if h.remove {
			os.Remove(path)
		}
		h.f.Close() // closing the description releases the lock
	}
}

// ErrLockFileUnsafe: a lock file (or a directory acmectl keeps lock files in)
// is a symbolic link or not a regular file. acmectl does not follow it, so a
// link planted at a lock path cannot make root create, lock or write another
// file.
var ErrLockFileUnsafe = errors.New("unsafe lock file")

// maxLockContent is the size of the largest lock file this package rewrites:
// a pid and a newline.
const maxLockContent = 32

// tryLock returns the locked file, or nil and a description of the holder.
//
// The file is opened with O_NOFOLLOW and O_NONBLOCK and must be a regular
// file. certbot's lock.py opens it with O_CREAT|O_WRONLY, which follows a
// link (locking, and for a dangling link creating, its target); acmectl
// refuses instead (ErrLockFileUnsafe). Neither writes an existing file that
// is not a lock file: acmectl puts its pid into a lock file it created, or
// into one that holds nothing but a pid (an earlier run's), so a waiting
// process can name the holder; any other content stays untouched.
func tryLock(path string) (*os.File, string, error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := lockFileKind(path, fi.Mode()); err != nil {
			return nil, "", err
		}
	}
	const flags = unix.O_RDWR | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	created := true
	fd, err := unix.Open(path, flags|unix.O_CREAT|unix.O_EXCL, 0o600)
	if errors.Is(err, unix.EEXIST) {
		created = false
		fd, err = unix.Open(path, flags, 0)
		if errors.Is(err, unix.ENOENT) {
			return nil, "a process that just released it", nil
		}
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EISDIR) {
		fi, lerr := os.Lstat(path)
		if lerr == nil {
			if kerr := lockFileKind(path, fi.Mode()); kerr != nil {
				return nil, "", kerr
			}
		}
	}
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", err
	}
	if err := lockFileKind(path, fi.Mode()); err != nil {
		f.Close()
		return nil, "", err
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), lockSetCmd, &lk); err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			holder := describeHolder(f)
			f.Close()
			return nil, holder, nil
		}
		f.Close()
		return nil, "", err
	}
	// certbot removes its lock file on release: make sure we locked the
	// file that is at path now, else retry.
	fi2, err2 := os.Lstat(path)
	if err2 != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, "a process that just released it", nil
	}
	if created || holdsOnlyPid(f, fi) {
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
	}
	return f, "", nil
}

// lockFileKind refuses a lock path that is a symbolic link or anything but a
// regular file, naming it and what is wrong.
func lockFileKind(path string, m os.FileMode) error {
	switch {
	case m&os.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return fmt.Errorf("%w: %s is a symbolic link (to %q); acmectl does not follow links at lock paths: remove it", ErrLockFileUnsafe, path, target)
	case !m.IsRegular():
		return fmt.Errorf("%w: %s is not a regular file (%s); remove it", ErrLockFileUnsafe, path, m.Type())
	}
	return nil
}

// holdsOnlyPid reports whether the open lock file f is one a lock left
// behind: a single link, at most maxLockContent bytes, only digits and
// white space (empty included).
func holdsOnlyPid(f *os.File, fi os.FileInfo) bool {
	if fi.Size() > maxLockContent {
		return false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Nlink != 1 {
		return false
	}
	b := make([]byte, maxLockContent+1)
	n, _ := f.ReadAt(b, 0)
	if n > maxLockContent {
		return false
	}
	for _, c := range b[:n] {
		if (c < '0' || c > '9') && c != '\n' && c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// noSymlinkDirs refuses a directory between base (exclusive: the config dir
// itself may be a link, e.g. /etc/letsencrypt -> /srv/letsencrypt) and dir
// (inclusive) that is a symbolic link or not a directory. Missing ones are
// fine: mkdirs creates them.
func noSymlinkDirs(base, dir string) error {
	rel, err := filepath.Rel(base, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil
	}
	p := base
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			return fmt.Errorf("%w: %s is a symbolic link (to %q); acmectl keeps its lock files in a real directory: remove the link", ErrLockFileUnsafe, p, target)
		case !fi.IsDir():
			return fmt.Errorf("%w: %s is not a directory", ErrLockFileUnsafe, p)
		}
	}
	return nil
}

func describeHolder(f *os.File) string {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), lockGetCmd, &lk); err == nil && lk.Type != unix.F_UNLCK && lk.Pid > 0 {
		return "pid " + strconv.Itoa(int(lk.Pid))
	}
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if s := strings.TrimSpace(string(b[:n])); s != "" {
		if _, err := strconv.Atoi(s); err == nil {
			return "pid " + s
		}
	}
	return ""
}
