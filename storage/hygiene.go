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
	out, err := t.OtherWritableTopDirs()
	if err != nil {
		return nil, err
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
				if w, ok := writableDir(filepath.Join(t.Dir, top, e.Name()), fi, false); ok {
					out = append(out, w)
				}
			}
		}
	}
	sortWritable(out)
	return out, nil
}

// OtherWritableTopDirs is OtherWritableDirs without the directories in
// archive/ and live/ (a lineage's own): WalkLineagesWritable reports those
// from the stats its listing makes anyway.
func (t *Tree) OtherWritableTopDirs() ([]WritableDir, error) {
	var out []WritableDir
	check := func(p string, fi fs.FileInfo, ancestor bool) {
		if w, ok := writableDir(p, fi, ancestor); ok {
			out = append(out, w)
		}
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
	for _, rel := range []string{"archive", "live", "renewal", "renewal-hooks", "renewal-hooks/pre", "renewal-hooks/deploy", "renewal-hooks/post", ".acmectl", ".acmectl/locks"} {
		p := filepath.Join(t.Dir, rel)
		if fi, err := os.Stat(p); err == nil {
			check(p, fi, false)
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
	sortWritable(out)
	return out, nil
}

// writableDir is the report for p when fi (p's stat) is a directory others
// may write. An ancestor of the tree that is sticky and owned by root is
// not reported.
func writableDir(p string, fi fs.FileInfo, ancestor bool) (WritableDir, bool) {
	m := fi.Mode()
	if !m.IsDir() || m.Perm()&0o002 == 0 {
		return WritableDir{}, false
	}
	if ancestor && m&fs.ModeSticky != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == 0 {
			return WritableDir{}, false
		}
	}
	return WritableDir{Path: p, Mode: m, Fix: "chmod o-w " + shellQuote(p)}, true
}

func sortWritable(ws []WritableDir) {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Path < ws[j].Path })
}

// dirsSeen is what a listing's stats found of a lineage's live/<name> and
// archive/<name> (for WalkLineagesWritable).
type dirsSeen struct {
	live, archive     bool // stat'ed (following a link, as the cache needs)
	liveOW, archiveOW bool // ... and found a directory others may write
}

// newWritableCheck starts the check of a listing of names (nil without
// report).
func newWritableCheck(t *Tree, names []string, report func(WritableDir)) *writableCheck {
	if report == nil {
		return nil
	}
	return &writableCheck{t: t, names: names, seen: make([]dirsSeen, len(names)), report: report}
}

// writableCheck is a WalkLineagesWritable's check of the directories in
// archive/ and live/.
type writableCheck struct {
	t      *Tree
	names  []string   // the listed lineages, sorted
	seen   []dirsSeen // by index in names
	report func(WritableDir)
}

// lineage reports the lineage names[i]'s own directories that others may
// write, as its listing found them. A directory the listing saw through a
// link is confirmed by an lstat (OtherWritableDirs reports neither a link
// nor what it points to), so are the few that are candidates at all.
func (c *writableCheck) lineage(i int, seen dirsSeen) {
	if c == nil {
		return
	}
	c.seen[i] = seen
	name := c.names[i]
	if seen.archiveOW {
		c.confirm(filepath.Join(c.t.Dir, "archive", name))
	}
	if seen.liveOW {
		c.confirm(filepath.Join(c.t.Dir, "live", name))
	}
}

func (c *writableCheck) confirm(p string) {
	if fi, err := os.Lstat(p); err == nil {
		if w, ok := writableDir(p, fi, false); ok {
			c.report(w)
		}
	}
}

// rest reports the directories in archive/ and live/ that the listing did
// not stat (sorted by path): one lstat each, relative to the directory.
func (c *writableCheck) rest() {
	if c == nil {
		return
	}
	var out []WritableDir
	for _, top := range []string{"archive", "live"} {
		dir := filepath.Join(c.t.Dir, top)
		seen := func(name []byte) bool {
			i, ok := c.index(name)
			return ok && (top == "live" && c.seen[i].live || top == "archive" && c.seen[i].archive)
		}
		otherWritableSubdirs(dir, seen, func(name string) {
			p := filepath.Join(dir, name)
			if fi, err := os.Lstat(p); err == nil {
				if w, ok := writableDir(p, fi, false); ok {
					out = append(out, w)
				}
			}
		})
	}
	sortWritable(out)
	for _, w := range out {
		c.report(w)
	}
}

// index finds name in c.names (without allocating).
func (c *writableCheck) index(name []byte) (int, bool) {
	lo, hi := 0, len(c.names)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.names[m] < string(name) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(c.names) && c.names[lo] == string(name)
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
