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
