// Package specialfiletest makes special files for tests of writers that must
// not replace them.
package specialfiletest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Nodes makes, in a temporary directory, one of each special file a path
// may name: a FIFO, a socket, a directory and, as root, a character device
// with /dev/null's numbers (1, 3) — never the real /dev/null.
func Nodes(t testing.TB) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{"named pipe": filepath.Join(dir, "fifo"), "directory": filepath.Join(dir, "dir"), "socket": filepath.Join(dir, "sock")}
	if err := unix.Mkfifo(out["named pipe"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(out["directory"], 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", out["socket"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if os.Geteuid() == 0 {
		p := filepath.Join(dir, "null")
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
			out["character device"] = p
		}
	}
	return out
}
