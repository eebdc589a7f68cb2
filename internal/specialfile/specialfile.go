// Package specialfile keeps acmectl's atomic writers off device nodes,
// FIFOs, sockets and directories: a writer that renames a new file or link
// over a path must never replace /dev/null (or any special file) that the
// path names, as root can. It is a check before the rename, not a lock: it
// stops a path that names a special file, not a race with another process
// that puts one there.
package specialfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Error is a path that names a special file.
type Error struct {
	Path string
	Mode fs.FileMode
}

func (e *Error) Error() string {
	return fmt.Sprintf("refusing to replace %s: it is a %s, not a regular file or a link", e.Path, kind(e.Mode))
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "special file (" + m.Type().String() + ")"
}

// CheckReplaceable returns an *Error when path exists and is neither a
// regular file nor a symbolic link (the link itself, not its target: a
// rename replaces the link); nil when it is one of those or does not exist.
func CheckReplaceable(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil // absent; any other failure is the rename's to report
	}
	if m := fi.Mode(); m.IsRegular() || m&fs.ModeSymlink != 0 {
		return nil
	}
	return &Error{Path: path, Mode: fi.Mode()}
}
