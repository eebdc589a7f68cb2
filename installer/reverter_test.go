package installer

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReverterCheckpoints: files saved before a change come back byte for byte
// with their mode, new files go, checkpoints roll back newest first, and a file
// edited by hand after its checkpoint is reported.
func TestReverterCheckpoints(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "site.conf")
	os.WriteFile(conf, []byte("v0\n"), 0o640)
	r := &Reverter{WorkDir: filepath.Join(dir, "work")}
	clock := time.Unix(1796000000, 0)
	r.now = func() time.Time { return clock }

	if err := r.AddFiles(false, "first\n", conf); err != nil {
		t.Fatal(err)
	}
	WriteFile(conf, []byte("v1\n"), 0o644)
	newFile := filepath.Join(dir, "new.conf")
	if err := r.AddNewFiles(false, newFile); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(newFile, []byte("new\n"), 0o644)
	if err := r.Finalize("one"); err != nil {
		t.Fatal(err)
	}
	// Same clock: the second checkpoint still sorts after the first.
	if err := r.AddFiles(false, "", conf); err != nil {
		t.Fatal(err)
	}
	WriteFile(conf, []byte("v2\n"), 0o644)
	if err := r.Finalize("two"); err != nil {
		t.Fatal(err)
	}
	cs, err := r.Checkpoints()
	if err != nil || len(cs) != 2 || cs[0].Title != "two" || cs[1].Title != "one" || cs[1].New[0] != newFile {
		t.Fatalf("Checkpoints = %+v, %v", cs, err)
	}
	if fi, _ := os.Stat(conf); fi.Mode().Perm() != 0o640 {
		t.Errorf("WriteFile changed the mode to %v", fi.Mode())
	}
	os.WriteFile(conf, []byte("hand edit\n"), 0o640)
	edited, err := r.Rollback(1)
	if err != nil || len(edited) != 1 || edited[0] != conf {
		t.Fatalf("Rollback(1) = %v, %v; want the hand-edited file reported", edited, err)
	}
	if b, _ := os.ReadFile(conf); string(b) != "v1\n" {
		t.Errorf("after one rollback: %q", b)
	}
	if _, err := r.Rollback(5); err != nil { // fewer exist: not an error
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(conf); string(b) != "v0\n" {
		t.Errorf("after all rollbacks: %q", b)
	}
	if _, err := os.Stat(newFile); !os.IsNotExist(err) {
		t.Errorf("new file not removed: %v", err)
	}
	if fi, _ := os.Stat(conf); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after rollback %v", fi.Mode())
	}
}

// TestReverterRecoverAndTempProtection: an interrupted run (temporary and
// in-progress checkpoints left) is reverted, temporary first; a file of the
// temporary checkpoint cannot go into the permanent one.
func TestReverterRecoverAndTempProtection(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte("orig\n"), 0o644)
	r := &Reverter{WorkDir: filepath.Join(dir, "work")}
	if err := r.AddFiles(false, "", conf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte("deployed\n"), 0o644)
	chall := filepath.Join(dir, "challenge.conf")
	if err := r.AddNewFiles(true, chall); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(chall, []byte("x"), 0o644)
	if err := r.AddFiles(false, "", chall); err == nil {
		t.Errorf("a temporary file went into the permanent checkpoint")
	}
	if err := r.Recover(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(conf); string(b) != "orig\n" {
		t.Errorf("recover: %q", b)
	}
	if _, err := os.Stat(chall); !os.IsNotExist(err) || r.Pending() {
		t.Errorf("recover left the challenge file or the checkpoint")
	}
}
