package schedule

import (
	"os"
	"testing"

	"github.com/acmectl/acmectl/internal/specialfile/specialfiletest"
)

// TestWriteFileKeepsSpecialFiles: a unit or cron file path that names a
// device node, FIFO, socket or directory is refused, not replaced by the
// rename (made in a temporary directory, never the real /dev/null).
func TestWriteFileKeepsSpecialFiles(t *testing.T) {
	for kind, p := range specialfiletest.Nodes(t) {
		before, _ := os.Lstat(p)
		if err := writeFile(p, []byte("x"), 0o644); err == nil {
			t.Errorf("writeFile over a %s succeeded", kind)
		}
		if after, err := os.Lstat(p); err != nil || after.Mode() != before.Mode() {
			t.Errorf("writeFile replaced the %s: %v %v", kind, after, err)
		}
	}
}
