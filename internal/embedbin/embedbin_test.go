package embedbin

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// echoBinary is /bin/echo, gzipped: an ELF executable to unpack and run.
func echoBinary(t *testing.T) *Binary {
	t.Helper()
	b, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	return &Binary{Name: "echo-test", Gz: gzipped(t, b)}
}

func TestCached(t *testing.T) {
	b := echoBinary(t)
	dir := filepath.Join(t.TempDir(), "cache")
	path, err := b.Cached(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o500 {
		t.Fatalf("unpacked: %v, %v", fi, err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v, want 0700", di.Mode().Perm())
	}
	out, err := exec.Command(path, "hello").Output()
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("run the unpacked copy: %q, %v", out, err)
	}

	// A second run uses the file as it is (same inode).
	before, _ := os.Stat(path)
	again, err := b.Cached(dir)
	if err != nil || again != path {
		t.Fatalf("second Cached: %s, %v", again, err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Error("an intact cached copy was written again")
	}

	// A copy others can write, or of the wrong size, is written again.
	for name, spoil := range map[string]func() error{
		"writable by others": func() error { return os.Chmod(path, 0o757) },
		"truncated": func() error {
			if err := os.Chmod(path, 0o700); err != nil {
				return err
			}
			return os.Truncate(path, 100)
		},
	} {
		if err := spoil(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Cached(dir); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := exec.Command(path, "again").Output()
		if err != nil || string(out) != "again\n" {
			t.Errorf("%s: copy not restored: %q, %v", name, out, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o500 {
			t.Errorf("%s: mode %v", name, fi.Mode().Perm())
		}
	}

	// Another build's copy replaces this one's; the old one is removed.
	other := &Binary{Name: b.Name, Gz: gzipped(t, append(mustRead(t, "/bin/echo"), 0))}
	newPath, err := other.Cached(dir)
	if err != nil || newPath == path {
		t.Fatalf("other build: %s, %v", newPath, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the older build's copy was kept: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestCachedRefusesSharedDir: a cache directory other users can write is
// not used.
func TestCachedRefusesSharedDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := echoBinary(t).Cached(dir); err == nil || !strings.Contains(err.Error(), "not private") {
		t.Fatalf("Cached in a world-writable directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("wrote into it: %v", left)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExec runs Exec in a child (it replaces the process): from the cache,
// and from a memfd when no cache directory can be made.
func TestExec(t *testing.T) {
	if os.Getenv("EMBEDBIN_TEST_EXEC") == "1" {
		err := echoBinary(t).Exec([]string{"echo", "from", "embedded"}, os.Environ())
		t.Fatalf("Exec returned: %v", err)
	}
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cache := range map[string]string{"cache": t.TempDir(), "memfd": blocker} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExec$")
		cmd.Env = append(os.Environ(), "EMBEDBIN_TEST_EXEC=1", "XDG_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "from embedded\n" {
			t.Errorf("%s: %q, %v", name, out, err)
		}
	}
}
