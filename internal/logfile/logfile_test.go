package logfile

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestLogRotation(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		f, err := Open(dir, 3)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	for i := 1; i <= 5; i++ {
		write("run" + strconv.Itoa(i))
	}
	want := map[string]string{"letsencrypt.log": "run5", "letsencrypt.log.1": "run4", "letsencrypt.log.2": "run3", "letsencrypt.log.3": "run2"}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(want) {
		t.Errorf("files = %d, want %d", len(ents), len(want))
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, "letsencrypt.log"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v", fi.Mode().Perm())
	}
	// 0 backups appends to one file.
	dir2 := t.TempDir()
	for range 2 {
		f, err := Open(dir2, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("x")
		f.Close()
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "letsencrypt.log")); string(b) != "xx" {
		t.Errorf("append mode: %q", b)
	}
}
