package storage

import (
	"errors"
	"os"
	"testing"

	"github.com/acmectl/acmectl/internal/specialfile"
	"github.com/acmectl/acmectl/internal/specialfile/specialfiletest"
)

// TestAtomicWritersKeepSpecialFiles: the atomic writers never rename a file
// or a link over a device node, FIFO, socket or directory — as root a rename
// over a path that names /dev/null replaces the device (a completion test
// run once left /dev/null a link to the test binary). The nodes are made in
// a temporary directory (a character device with /dev/null's numbers when
// root), never the real /dev/null.
func TestAtomicWritersKeepSpecialFiles(t *testing.T) {
	for kind, p := range specialfiletest.Nodes(t) {
		before, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, write := range map[string]func() error{
			"writeFileAtomic": func() error { return writeFileAtomic(p, []byte("x"), 0o644, -1) },
			"symlinkAtomic":   func() error { return symlinkAtomic("../archive/x/cert1.pem", p) },
		} {
			err := write()
			var se *specialfile.Error
			if !errors.As(err, &se) {
				t.Errorf("%s over a %s: %v, want a refusal", name, kind, err)
			}
			after, err := os.Lstat(p)
			if err != nil || after.Mode() != before.Mode() {
				t.Errorf("%s replaced the %s %s: %v %v", name, kind, p, after, err)
			}
		}
	}
}
