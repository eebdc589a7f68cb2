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

// tryLock returns the locked file, or nil and a description of the holder.
func tryLock(path string) (*os.File, string, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
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
	fi1, err1 := f.Stat()
	fi2, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
		f.Close()
		return nil, "a process that just released it", nil
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, "", nil
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
