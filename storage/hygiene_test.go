package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each refused name says what is wrong with it, in its own words, and shows
// the name as typed; a leading '-' is also ErrNameIsFlag (a usage error: the
// CLI exits 2).
func TestLineageNameReasons(t *testing.T) {
	tests := []struct {
		name   string
		reason string // in the error
		shown  string // the name as the error shows it
		isFlag bool
	}{
		{`a\b`, "backslash", `"a\b"`, false},
		{`a/b`, "slash", `"a/b"`, false},
		{"a\x00b", "NUL", `"a\x00b"`, false},
		{"a\nb", "control character", `"a\nb"`, false},
		{".hidden", "starts with '.'", `".hidden"`, false},
		{"..", "starts with '.'", `".."`, false},
		{"-rf", "starts with '-'", `"-rf"`, true},
		{"--cert-name", "starts with '-'", `"--cert-name"`, true},
		{"", "empty", `""`, false},
		{strings.Repeat("a", 201), "longer than 200", "", false},
	}
	for _, tc := range tests {
		err := ValidLineageName(tc.name)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("ValidLineageName(%q) = %v, want ErrBadName", tc.name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.reason) || !strings.Contains(msg, tc.shown) {
			t.Errorf("ValidLineageName(%q) = %q, want the reason %q and the name shown as %s", tc.name, msg, tc.reason, tc.shown)
		}
		if tc.reason != "slash" && strings.Contains(msg, "'/'") {
			t.Errorf("ValidLineageName(%q) = %q names '/' though the name has none", tc.name, msg)
		}
		if got := errors.Is(err, ErrNameIsFlag); got != tc.isFlag {
			t.Errorf("errors.Is(ValidLineageName(%q), ErrNameIsFlag) = %v, want %v", tc.name, got, tc.isFlag)
		}
	}
	for _, ok := range []string{"a.example", "x.example-0001", "Mail_Server", "*wild"} {
		if err := ValidLineageName(ok); err != nil {
			t.Errorf("ValidLineageName(%q) = %v", ok, err)
		}
	}
}

// OtherWritableDirs reports each directory of the tree (and a non-sticky
// ancestor of it) that users other than its owner can write, with the
// command that fixes it.
func TestOtherWritableDirs(t *testing.T) {
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	tr, err := Open(filepath.Join(parent, "le"), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"archive/a.example", "live/a.example", "renewal", "accounts", "renewal-hooks/deploy"} {
		if err := os.MkdirAll(filepath.Join(tr.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tr.OtherWritableDirs()
	if err != nil || len(got) != 0 {
		t.Fatalf("OtherWritableDirs on a clean tree = %v, %v; want none", got, err)
	}
	bad := []string{tr.Dir, filepath.Join(tr.Dir, "archive"), filepath.Join(tr.Dir, "archive", "a.example"),
		filepath.Join(tr.Dir, "live"), filepath.Join(tr.Dir, "renewal"), filepath.Join(tr.Dir, "accounts"),
		filepath.Join(tr.Dir, "renewal-hooks", "deploy"), parent}
	for _, d := range bad {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	// sticky and root-owned like /tmp: others cannot replace what is in it
	if err := os.Chmod(filepath.Join(tr.Dir, "live", "a.example"), 0o1777); err != nil {
		t.Fatal(err)
	}
	got, err = tr.OtherWritableDirs()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]WritableDir{}
	for _, w := range got {
		seen[w.Path] = w
	}
	for _, d := range bad {
		w, ok := seen[d]
		if !ok {
			t.Errorf("%s (0777) not reported; got %v", d, got)
			continue
		}
		if w.Fix != "chmod o-w "+d || w.Mode.Perm() != 0o777 {
			t.Errorf("report for %s = %+v, want Fix %q", d, w, "chmod o-w "+d)
		}
		if s := w.String(); !strings.Contains(s, d) || !strings.Contains(s, "chmod o-w") {
			t.Errorf("String() = %q", s)
		}
	}
	if w, ok := seen[filepath.Join(tr.Dir, "live", "a.example")]; ok && os.Geteuid() == 0 {
		// a sticky directory is still reported: others can add files (links) to it
		if w.Fix != "chmod o-w "+w.Path {
			t.Errorf("sticky dir fix = %q", w.Fix)
		}
	} else if !ok {
		t.Errorf("sticky other-writable live/a.example not reported")
	}
	if len(got) != len(bad)+1 {
		t.Errorf("reported %d dirs, want %d: %v", len(got), len(bad)+1, got)
	}
	// A path with a space is quoted in the fix.
	sp := filepath.Join(t.TempDir(), "my le")
	tr2, err := Open(sp, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sp, 0o757)
	got, _ = tr2.OtherWritableDirs()
	if len(got) == 0 || got[0].Fix != "chmod o-w '"+sp+"'" {
		t.Errorf("fix for a path with a space = %v", got)
	}
}
