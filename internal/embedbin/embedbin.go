// Package embedbin runs executables that a binary carries gzipped
// (go:embed): acmectl's DNS plugin and the cluster's build of acmectl. An
// executable is unpacked either into an anonymous sealed memory file for
// this process alone (Memfd) or, for one run often, once into a per-user
// cache directory that later runs execute from directly (Cached).
package embedbin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Unpack writes the gunzipped gz to w.
func Unpack(w io.Writer, gz []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return fmt.Errorf("unpack the embedded executable: %w", err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		return fmt.Errorf("unpack the embedded executable: %w", err)
	}
	return nil
}

// Binary is an executable held gzipped in this binary.
type Binary struct {
	// Name is the file name's stem ("acmectl-cluster").
	Name string
	Gz   []byte
	// Sum is the hex SHA-256 of Gz, given at build time (so a run need not
	// read the whole of Gz); computed when empty.
	Sum string
}

// CacheDir is where Cached keeps unpacked executables: $XDG_CACHE_HOME/acmectl
// when set, else /var/cache/acmectl for root and ~/.cache/acmectl for
// other users.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "acmectl"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/acmectl", nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "acmectl"), nil
}

// Cached returns the path of the unpacked executable in dir (CacheDir),
// unpacking it first when it is not there: the file is named after the
// content's hash and written to a temporary name, synced and renamed, so a
// run never executes a partly written file, and runs of an older or newer
// build keep their own. An existing file is used only when it and its
// directory belong to this user (or root) and nobody else can write them,
// and it has the unpacked size; otherwise it is written again. Copies of
// other builds in dir are removed.
func (b *Binary) Cached(dir string) (string, error) {
	size, err := b.size()
	if err != nil {
		return "", err
	}
	sum := b.Sum
	if sum == "" {
		h := sha256.Sum256(b.Gz)
		sum = hex.EncodeToString(h[:])
	}
	if len(sum) > 16 {
		sum = sum[:16]
	}
	path := filepath.Join(dir, b.Name+"-"+sum)
	if err := checkPrivateDir(dir); err == nil {
		if err := checkFile(path, size); err == nil {
			return path, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := checkPrivateDir(dir); err != nil {
		return "", err
	}
	if err := b.write(dir, path); err != nil {
		return "", err
	}
	b.removeOthers(dir, path)
	return path, nil
}

// size is the unpacked size, from the gzip trailer (RFC 1952: ISIZE, the
// size modulo 2^32).
func (b *Binary) size() (int64, error) {
	if len(b.Gz) < 18 {
		return 0, fmt.Errorf("the embedded %s is not gzip data", b.Name)
	}
	return int64(binary.LittleEndian.Uint32(b.Gz[len(b.Gz)-4:])), nil
}

func (b *Binary) write(dir, path string) error {
	f, err := os.CreateTemp(dir, "."+b.Name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = Unpack(f, b.Gz)
	if err == nil {
		err = f.Chmod(0o500)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("unpack %s into %s: %w", b.Name, dir, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// removeOthers removes other builds' copies (an upgrade leaves the old one).
func (b *Binary) removeOthers(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, b.Name+"-*"))
	for _, p := range old {
		if p != keep && !strings.HasPrefix(filepath.Base(p), ".") {
			os.Remove(p)
		}
	}
}

// errUnsafe: a cache path someone else could change.
var errUnsafe = errors.New("not private to this user")

// checkPrivateDir: dir is a directory (not a link) owned by this user or
// root that no other user can write; its parent likewise, or sticky.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || !ownedSafely(fi) || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: %w", dir, errUnsafe)
	}
	pi, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return err
	}
	if !ownedSafely(pi) || (pi.Mode().Perm()&0o022 != 0 && pi.Mode()&os.ModeSticky == 0) {
		return fmt.Errorf("%s: %w", filepath.Dir(dir), errUnsafe)
	}
	return nil
}

// checkFile: path is a regular file of size bytes, owned by this user or
// root, that no other user can write.
func checkFile(path string, size int64) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || !ownedSafely(fi) || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: %w", path, errUnsafe)
	}
	if fi.Size()&0xffffffff != size {
		return fmt.Errorf("%s: %d bytes, want %d", path, fi.Size(), size)
	}
	return nil
}

func ownedSafely(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return st.Uid == 0 || int(st.Uid) == os.Geteuid()
}
