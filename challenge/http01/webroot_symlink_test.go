package http01

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// A .well-known or .well-known/acme-challenge that is a symbolic link leading
// out of the webroot is refused with an error naming the link and its target;
// nothing is created, chmod'ed or written outside the webroot (or in it).
func TestWebrootSymlinkOutsideRefused(t *testing.T) {
	tests := []struct {
		name string
		// setup plants the link in root, pointing at (or above) outside.
		setup func(t *testing.T, root, outside string) (link string)
	}{
		{"acme-challenge absolute", func(t *testing.T, root, outside string) string {
			mkdir(t, filepath.Join(root, ".well-known"))
			return symlink(t, outside, filepath.Join(root, ".well-known", "acme-challenge"))
		}},
		{"acme-challenge to an existing dir outside", func(t *testing.T, root, outside string) string {
			mkdir(t, filepath.Join(root, ".well-known"))
			mkdir(t, filepath.Join(outside, "acme-challenge"))
			if err := os.Chmod(filepath.Join(outside, "acme-challenge"), 0o700); err != nil {
				t.Fatal(err)
			}
			return symlink(t, filepath.Join(outside, "acme-challenge"), filepath.Join(root, ".well-known", "acme-challenge"))
		}},
		{".well-known absolute", func(t *testing.T, root, outside string) string {
			return symlink(t, outside, filepath.Join(root, ".well-known"))
		}},
		{".well-known relative out of the root", func(t *testing.T, root, outside string) string {
			rel, err := filepath.Rel(root, outside)
			if err != nil {
				t.Fatal(err)
			}
			return symlink(t, rel, filepath.Join(root, ".well-known"))
		}},
		{"inside link that leads out again", func(t *testing.T, root, outside string) string {
			mkdir(t, filepath.Join(root, "shared"))
			symlink(t, "shared/wk", filepath.Join(root, ".well-known"))
			return symlink(t, outside, filepath.Join(root, "shared", "wk")) // the link that leads out is named
		}},
		{"dotdot inside the target", func(t *testing.T, root, outside string) string {
			mkdir(t, filepath.Join(root, "a"))
			return symlink(t, "a/../../"+filepath.Base(outside), filepath.Join(root, ".well-known"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			root, outside := filepath.Join(parent, "www"), filepath.Join(parent, "elsewhere")
			mkdir(t, root)
			mkdir(t, outside)
			link := tc.setup(t, root, outside)
			beforeRoot, beforeOut := listModes(t, root), listModes(t, outside)
			w, err := NewWebroot(map[string]string{"a.example": root})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Present(t.Context(), "a.example", "tok", "tok.ka")
			if err == nil {
				t.Errorf("Present through %s: no error", link)
			} else if !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "outside the webroot") {
				t.Errorf("Present error %q: want it to name the link %s and say it leads outside the webroot", err, link)
			}
			if after := listModes(t, outside); !reflect.DeepEqual(beforeOut, after) {
				t.Errorf("after Present, outside the webroot changed:\nbefore %v\nafter  %v", beforeOut, after)
			}
			if err := w.CleanUp(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
				t.Errorf("CleanUp after refused Present = %v", err)
			}
			if after := listModes(t, outside); !reflect.DeepEqual(beforeOut, after) {
				t.Errorf("outside the webroot changed:\nbefore %v\nafter  %v", beforeOut, after)
			}
			if after := listModes(t, root); !reflect.DeepEqual(beforeRoot, after) {
				t.Errorf("webroot changed:\nbefore %v\nafter  %v", beforeRoot, after)
			}
		})
	}
}

// A link that stays inside the webroot is followed: the webroot's owner can
// write anywhere in it already, so following it gives nobody more. CleanUp
// removes the token and the directories Present made, never the link.
func TestWebrootSymlinkInsideFollowed(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, root string)
		tokDir string // where the token file lands, relative to root
	}{
		{".well-known relative", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, "shared", "wk"))
			symlink(t, "shared/wk", filepath.Join(root, ".well-known"))
		}, "shared/wk/acme-challenge"},
		{"acme-challenge absolute inside", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, ".well-known"))
			mkdir(t, filepath.Join(root, "challenges"))
			symlink(t, filepath.Join(root, "challenges"), filepath.Join(root, ".well-known", "acme-challenge"))
		}, "challenges"},
		{"acme-challenge with dotdot inside", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, ".well-known"))
			mkdir(t, filepath.Join(root, "c"))
			symlink(t, "../c", filepath.Join(root, ".well-known", "acme-challenge"))
		}, "c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "www")
			mkdir(t, root)
			tc.setup(t, root)
			before := listModes(t, root)
			w, err := NewWebroot(map[string]string{"a.example": root})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Present(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
				t.Fatalf("Present: %v", err)
			}
			if b, err := os.ReadFile(filepath.Join(root, tc.tokDir, "tok")); err != nil || string(b) != "tok.ka" {
				t.Errorf("token in %s = %q, %v", tc.tokDir, b, err)
			}
			if err := w.CleanUp(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
				t.Fatalf("CleanUp: %v", err)
			}
			if after := listModes(t, root); !reflect.DeepEqual(before, after) {
				t.Errorf("after CleanUp the webroot differs:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// The token file is replaced, never written through: a symlink or a hard
// link planted at the token's name is swapped for a fresh file and its
// target keeps its content; a token file left by an earlier run is re-used.
func TestWebrootTokenFileReplaced(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, ".well-known", "acme-challenge")
	mkdir(t, dir)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("victim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlink(t, victim, filepath.Join(dir, "viasymlink"))
	hard := filepath.Join(root, "hard-victim")
	if err := os.WriteFile(hard, []byte("hard\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(hard, filepath.Join(dir, "viahardlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stale"), []byte("old key authorization"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := NewWebroot(map[string]string{"a.example": root})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"viasymlink", "viahardlink", "stale"} {
		if err := w.Present(t.Context(), "a.example", tok, tok+".ka"); err != nil {
			t.Fatalf("Present(%s): %v", tok, err)
		}
		p := filepath.Join(dir, tok)
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want a regular 0644 file", p, fi, err)
		}
		if b, _ := os.ReadFile(p); string(b) != tok+".ka" {
			t.Errorf("%s holds %q", p, b)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "victim\n" {
		t.Errorf("symlink target written: %q", b)
	}
	if b, _ := os.ReadFile(hard); string(b) != "hard\n" {
		t.Errorf("hard-linked file written: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("challenge dir holds %v, want only the three tokens (no temporary files)", names)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// listModes lists every entry under root (links not followed) with its mode
// and, for links, their target.
func listModes(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		e := p + " " + fi.Mode().String()
		if fi.Mode()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			e += " -> " + l
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			e += " nlink=" + string(rune('0'+st.Nlink)) + " " + string(b)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The race the path-based code lost: the webroot's owner replaces the
// directory Present just created with a link to a directory of root's. The
// open after mkdirat does not follow it, so the victim is never chmod'ed and
// nothing is written there.
func TestWebrootSwapAfterMkdirRefused(t *testing.T) {
	for _, swapped := range []string{".well-known", "acme-challenge"} {
		t.Run(swapped, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "www")
			mkdir(t, root)
			victim := filepath.Join(t.TempDir(), "victim")
			mkdir(t, victim)
			if err := os.Chmod(victim, 0o700); err != nil {
				t.Fatal(err)
			}
			hooked := 0
			testHookAfterMkdir = func(p string) {
				if filepath.Base(p) != swapped {
					return
				}
				hooked++
				if err := os.Rename(p, p+".moved"); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(victim, p); err != nil {
					t.Error(err)
				}
			}
			t.Cleanup(func() { testHookAfterMkdir = func(string) {} })
			w, err := NewWebroot(map[string]string{"a.example": root})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Present(t.Context(), "a.example", "tok", "tok.ka")
			if hooked != 1 {
				t.Fatalf("hook ran %d times", hooked)
			}
			if err == nil || !errors.Is(err, ErrOutsideWebroot) && !strings.Contains(err.Error(), "changed while it was being created") {
				t.Errorf("Present after the swap = %v, want a refusal", err)
			}
			if fi, err := os.Stat(victim); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("victim mode = %v, %v; want 0700 untouched", fi.Mode(), err)
			}
			if ents, _ := os.ReadDir(victim); len(ents) != 0 {
				t.Errorf("victim dir got %d entries", len(ents))
			}
		})
	}
}

// TestWebrootParentRemovedMeanwhile: another run sharing the webroot
// removes its empty .well-known (its cleanup) between this run's open of it
// and the mkdir of acme-challenge; Present walks again from the webroot and
// succeeds (seen in the reliability suite's parallel webroot runs).
func TestWebrootParentRemovedMeanwhile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "www")
	mkdir(t, filepath.Join(root, ".well-known"))
	removed := 0
	testHookBeforeMkdir = func(p string) {
		if filepath.Base(p) == "acme-challenge" && removed == 0 {
			removed++
			if err := os.Remove(filepath.Dir(p)); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { testHookBeforeMkdir = func(string) {} })
	w, err := NewWebroot(map[string]string{"a.example": root})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Present(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
		t.Fatalf("Present after a concurrent cleanup = %v", err)
	}
	if removed != 1 {
		t.Fatalf("the parent was removed %d times, want 1", removed)
	}
	if b, err := os.ReadFile(filepath.Join(root, ".well-known", "acme-challenge", "tok")); err != nil || string(b) != "tok.ka" {
		t.Errorf("token file = %q, %v", b, err)
	}
	if err := w.CleanUp(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
		t.Errorf("CleanUp: %v", err)
	}
}
