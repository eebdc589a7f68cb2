//go:build !linux

package storage

import (
	"os"
	"path/filepath"
)

// dirHandle stats paths relative to a directory (by joining them elsewhere
// than on Linux).
type dirHandle struct{ path string }

func openDirHandle(path string) *dirHandle { return &dirHandle{path: path} }

func (d *dirHandle) key(rel string) (fileKey, bool) { return statKey(filepath.Join(d.path, rel)) }

func (d *dirHandle) keyDir(rel string) (fileKey, bool, bool) {
	return statKeyDir(filepath.Join(d.path, rel))
}

// subdirs calls fn with the name of each directory in the directory dir.
func subdirs(dir string, fn func(name []byte)) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			fn([]byte(e.Name()))
		}
	}
}

func (d *dirHandle) close() {}

// otherWritableSubdirs calls fn with the name of each entry of dir that
// skip does not exclude and that is a directory users other than its owner
// may write (lstat: not a link).
func otherWritableSubdirs(dir string, skip func(name []byte) bool, fn func(name []byte)) {
	subdirs(dir, func(name []byte) {
		if skip(name) {
			return
		}
		if fi, err := os.Lstat(filepath.Join(dir, string(name))); err == nil && fi.IsDir() && fi.Mode().Perm()&0o002 != 0 {
			fn(name)
		}
	})
}
