package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// WritableDir is a directory of the tree (or above it) that users other than
// its owner may write: any local user could plant links, replace renewal
// confs or hooks, or swap certificates and keys there for the root process
// that renews them.
type WritableDir struct {
	Path string      // the directory
	Mode fs.FileMode // its mode as found (type, permission, sticky bits)
	Fix  string      // the shell command that fixes it: chmod o-w PATH
}

// String is one line for a warning or a doctor report.
func (w WritableDir) String() string {
	return fmt.Sprintf("%s is writable by other users (%s); fix: %s", w.Path, w.Mode, w.Fix)
}

// OtherWritableDirs reports the directories that users other than the owner
// may write (the o+w bit): the config directory and each ancestor of it, and
// below it accounts/ (every level), archive/ and live/ with each lineage's
// directory, renewal/, renewal-hooks/ with pre/, deploy/ and post/, and
// .acmectl/ with locks/. A sticky ancestor owned by root (like /tmp) is not
// reported: others cannot replace what is in it; a sticky directory inside
// the tree still is, since others may add links to it. Missing directories
// are skipped. The list is sorted by path; the error is for a config
// directory that cannot be read at all.
func (t *Tree) OtherWritableDirs() ([]WritableDir, error) {
	var out []WritableDir
	check := func(p string, fi fs.FileInfo, ancestor bool) {
		m := fi.Mode()
		if !m.IsDir() || m.Perm()&0o002 == 0 {
			return
		}
		if ancestor && m&fs.ModeSticky != 0 {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == 0 {
				return
			}
		}
		out = append(out, WritableDir{Path: p, Mode: m, Fix: "chmod o-w " + shellQuote(p)})
	}
	fi, err := os.Stat(t.Dir)
	if err != nil {
		return nil, fmt.Errorf("check permissions of %s: %w", t.Dir, err)
	}
	check(t.Dir, fi, false)
	for p := filepath.Dir(t.Dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			check(p, fi, true)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	stat := func(rel string) {
		p := filepath.Join(t.Dir, rel)
		if fi, err := os.Stat(p); err == nil {
			check(p, fi, false)
		}
	}
	for _, rel := range []string{"archive", "live", "renewal", "renewal-hooks", "renewal-hooks/pre", "renewal-hooks/deploy", "renewal-hooks/post", ".acmectl", ".acmectl/locks"} {
		stat(rel)
	}
	for _, top := range []string{"archive", "live"} {
		ents, err := os.ReadDir(filepath.Join(t.Dir, top))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			if fi, err := e.Info(); err == nil {
				check(filepath.Join(t.Dir, top, e.Name()), fi, false)
			}
		}
	}
	acc := filepath.Join(t.Dir, "accounts")
	_ = filepath.WalkDir(acc, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			check(p, fi, false)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// shellQuote quotes p for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(p string) string {
	safe := true
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%", r)) {
			safe = false
			break
		}
	}
	if safe && p != "" {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
