package specialfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/specialfile/specialfiletest"
)

func TestCheckReplaceable(t *testing.T) {
	for kind, p := range specialfiletest.Nodes(t) {
		err := CheckReplaceable(p)
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), kind) || !strings.Contains(err.Error(), p) {
			t.Errorf("CheckReplaceable(%s) = %v, want an *Error naming the %s", p, err, kind)
		}
	}
	dir := t.TempDir()
	file, link := filepath.Join(dir, "f"), filepath.Join(dir, "l")
	os.WriteFile(file, nil, 0o600)
	os.Symlink("/dev/null", link) // a link to a device is a link: replacing it leaves the device alone
	for _, p := range []string{file, link, filepath.Join(dir, "absent")} {
		if err := CheckReplaceable(p); err != nil {
			t.Errorf("CheckReplaceable(%s) = %v, want nil", p, err)
		}
	}
}
