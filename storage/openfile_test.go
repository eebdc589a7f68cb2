package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// openFile fails as os.OpenFile does (a *PathError that errors.Is matches
// against fs.ErrNotExist and fs.ErrExist) and creates files with the
// permission asked for.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	var pe *fs.PathError
	if _, err := openFile(p, os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != p {
		t.Errorf("openFile of a missing file: %v, want a *PathError for %s matching fs.ErrNotExist", err, p)
	}
	f, err := openFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 1 {
		t.Errorf("created file: %v, %v; want 0600, 1 byte", fi, err)
	}
	if _, err := openFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("openFile O_EXCL of an existing file: %v, want fs.ErrExist", err)
	}
	if b, err := readSmall(p); err != nil || string(b) != "x" {
		t.Errorf("readSmall = %q, %v", b, err)
	}
}
