package installer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/acmectl/acmectl/internal/specialfile"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// WriteFile replaces path with data atomically (temp file in the same
// directory, chmod, write, sync, rename, sync the directory). An existing file
// keeps its mode; a new one gets mode.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	path = RealPath(path)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return writeFileAtomic(path, data, mode)
}

func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	// As root a rename replaces whatever path names; a web server's
	// configuration is never a device, FIFO, socket or directory.
	if err := specialfile.CheckReplaceable(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// RealPath resolves symlinks (sites-enabled/x → sites-available/x), so a write
// changes the file and keeps the link; a path that does not resolve is returned
// as is.
func RealPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		if abs, err := filepath.Abs(r); err == nil {
			return abs
		}
	}
	return p
}

// copyFile copies src over dst atomically with src's mode and times (Python's
// shutil.copy2, which certbot's reverter uses).
func copyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dst, data, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

// CheckWritable returns a clear error when path (or, for a new file, its
// directory) cannot be written by this process.
func CheckWritable(path string) error {
	if _, err := os.Stat(path); err == nil {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return &ConfigError{File: path, Err: fmt.Errorf("not writable: %w", err)}
		}
		f.Close()
		return nil
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".acmectl-write-test*")
	if err != nil {
		return &ConfigError{File: path, Err: fmt.Errorf("cannot create a file in %s: %w", dir, err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// InstallVersionControlled installs src (the current text of one of certbot's
// shipped files) at dest the way certbot's install_version_controlled_file does:
// a missing file is written; a file equal to a released version (allHashes) is
// brought up to date; a file edited by hand is left alone, with a warning once
// per new version (the digest file remembers it).
func InstallVersionControlled(dest, digestPath string, src []byte, allHashes []string, logger *slog.Logger) error {
	sum := sha256.Sum256(src)
	current := hex.EncodeToString(sum[:])
	install := func() error {
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(dest, src, 0o644); err != nil {
			return fmt.Errorf("install %s: %w", dest, err)
		}
		return writeFileAtomic(digestPath, []byte(current), 0o644)
	}
	have, err := os.ReadFile(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return install()
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dest, err)
	}
	hs := sha256.Sum256(have)
	haveHash := hex.EncodeToString(hs[:])
	if haveHash == current {
		return nil
	}
	if slices.Contains(allHashes, haveHash) {
		return install()
	}
	if saved, err := os.ReadFile(digestPath); err == nil && strings.TrimSpace(string(saved)) == current {
		return nil
	}
	if logger != nil {
		logger.Warn("file has been manually modified; not updating it, we recommend updating it for security purposes", slog.String("file", dest))
	}
	return writeFileAtomic(digestPath, []byte(current), 0o644)
}

// Lock is an exclusive lock on a server root, taken like certbot's
// lock_dir_until_exit (fcntl lock on <dir>/.certbot.lock), so acmectl and certbot
// never edit one configuration at once.
type Lock struct{ f *os.File }

// LockDir takes the lock on dir, waiting up to wait for another holder.
func LockDir(dir string, wait time.Duration) (*Lock, error) {
	path := filepath.Join(dir, ".certbot.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("unable to lock %s: %w", dir, err)
	}
	deadline := time.Now().Add(wait)
	for {
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
		err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("unable to lock %s: another instance of acmectl or certbot holds %s: %w", dir, path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Unlock releases the lock. The lock file stays, as certbot leaves it.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Begin is how Prepare and PrepareRollback start: it checks that the control
// binary ctl exists (hint names the flag that sets it), takes the lock on the
// server root and reverts what an interrupted run left in rev's temporary and
// in-progress checkpoints. server prefixes the errors ("nginx", "apache").
func Begin(server, ctl, hint, root string, rev *Reverter) (*Lock, error) {
	if _, err := exec.LookPath(ctl); err != nil {
		return nil, fmt.Errorf("%s: could not find a usable %q binary; install %s or give %s: %w", server, ctl, server, hint, err)
	}
	lk, err := LockDir(root, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", server, err)
	}
	if err := rev.Recover(); err != nil {
		_ = lk.Unlock()
		return nil, fmt.Errorf("%s: revert what an interrupted run left: %w", server, err)
	}
	return lk, nil
}
