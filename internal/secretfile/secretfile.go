// Package secretfile is the one reader of files that hold a secret (DNS
// provider credentials, SCM credentials and passwords): it refuses a file that
// other users can access, one that is not a regular file, and one larger than
// the caller's bound, with the chmod to run. It reads; it never writes or logs
// what it read.
package secretfile

import (
	"fmt"
	"io"
	"os"
)

// Read returns the content of path. what names the file in errors
// ("dns-01 credentials", "SCM password file").
func Read(path, what string, maxSize int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s is not a regular file", what, path)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return nil, &ModeError{What: what, Path: path, Mode: perm}
	}
	if fi.Size() > maxSize {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes", what, path, maxSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", what, path, err)
	}
	if int64(len(b)) > maxSize {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes", what, path, maxSize)
	}
	return b, nil
}

// ModeError is a secret file that other users can access.
type ModeError struct {
	What, Path string
	Mode       os.FileMode
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("%s: %s is accessible by others (mode %04o); run: chmod 600 %s", e.What, e.Path, e.Mode, e.Path)
}
