package storage

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmectl/acmectl/internal/specialfile"
)

// tmpPrefix starts every temporary file and link this package creates, so a
// writer that died can be cleaned up and readers never mistake one for data.
const tmpPrefix = ".acmectl-tmp-"

func tmpName(dir, base string) string {
	return filepath.Join(dir, tmpPrefix+base+"-"+randHex())
}

func randHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testWriteFault, set by tests, is asked before each temporary file is
// written; an error it returns is what the write returns (ENOSPC, EIO).
var testWriteFault func(tmp string) error

// writeFileAtomic writes data to path: a temp file in the same directory,
// chmod before the data, fsync, rename, fsync of the directory. gid >= 0
// chowns the file's group (errors ignored: only root may give a file to a
// group it is not in).
func writeFileAtomic(path string, data []byte, mode os.FileMode, gid int) error {
	if err := writeFileRenamed(path, data, mode, gid); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileRenamed is writeFileAtomic without the directory fsync, for several
// files in one directory that the caller syncs once when all are renamed.
func writeFileRenamed(path string, data []byte, mode os.FileMode, gid int) error {
	tmp, err := writeTemp(path, data, mode, gid, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file next to path (mode set
// before the data) and returns its name; sync fsyncs it. On error nothing
// is left behind.
func writeTemp(path string, data []byte, mode os.FileMode, gid int, sync bool) (_ string, err error) {
	if err := specialfile.CheckReplaceable(path); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	tmp := tmpName(dir, base)
	f, err := openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if gid >= 0 {
		_ = f.Chown(-1, gid)
	}
	if err = f.Chmod(mode); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if testWriteFault != nil {
		if err = testWriteFault(tmp); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
	}
	if _, err = f.Write(data); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if sync {
		if err = f.Sync(); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tmp, nil
}

// symlinkAtomic points link at target by renaming a temporary symlink over it.
func symlinkAtomic(target, link string) error {
	if err := specialfile.CheckReplaceable(link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	dir, base := filepath.Split(link)
	tmp := tmpName(dir, base)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// mkdirs creates dir (and parents) with mode; existing dirs are left alone.
func mkdirs(dir string, mode os.FileMode) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("create dir %s: not a directory", dir)
		}
		return nil
	}
	if err := mkdirs(filepath.Dir(dir), mode); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !os.IsExist(err) {
		return fmt.Errorf("create dir %s: %w", dir, err)
	}
	// Mkdir applies the umask; the modes we ask for must hold.
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("create dir %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}

// removeTemps deletes temporary files a dead writer left in dir.
func removeTemps(dir string) { removeTempsPrefix(dir, tmpPrefix) }

// removeTempsPrefix deletes the temporary files in dir whose names start
// with prefix (which starts with tmpPrefix).
func removeTempsPrefix(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// WriteFileAtomic writes data to path crash-safely, as every file of the tree
// is written (temporary file in the same directory, mode set before the data,
// fsync, rename, fsync of the directory). For packages that keep their own
// state in the tree (the cluster replica's sync state).
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeFileAtomic(path, data, mode, -1)
}
