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

// otherWritableSubdirs calls fn with the name of each directory in dir that
// users other than its owner may write (o+w; a link is none), but for the
// names skip takes.
func otherWritableSubdirs(dir string, skip func(name []byte) bool, fn func(name string)) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() || skip([]byte(e.Name())) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().Perm()&0o002 != 0 {
			fn(e.Name())
		}
	}
}

func (d *dirHandle) close() {}
