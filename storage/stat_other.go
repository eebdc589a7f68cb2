//go:build !linux

package storage

import "path/filepath"

// dirHandle stats paths relative to a directory (by joining them elsewhere
// than on Linux).
type dirHandle struct{ path string }

func openDirHandle(path string) *dirHandle { return &dirHandle{path: path} }

func (d *dirHandle) key(rel string) (fileKey, bool) { return statKey(filepath.Join(d.path, rel)) }

func (d *dirHandle) close() {}
