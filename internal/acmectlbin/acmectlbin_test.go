package acmectlbin

import (
	"os/exec"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acmectl; skipped with -short")
	}
	bin, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Path(); again != bin || err != nil {
		t.Errorf("second Path() = %q, %v; want %q, nil", again, err, bin)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), Version) {
		t.Errorf("%s --version = %q, %v; want it to contain %s", bin, out, err, Version)
	}
}
