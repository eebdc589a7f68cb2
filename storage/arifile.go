package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The retry times a renew run learns from the CAs' ARI answers for the
// lineages it does not renew are kept in one file,
// <config>/.acmectl/ari-retry, instead of in each lineage's renewal conf:
// the first run over 1,000 lineages rewrote 1,000 confs, which cost more
// than its 1,000 requests (creating a file on ext4 without a journal scans
// the inodes freed in the last seconds; every rename over a conf frees
// one). certbot does not read ari_retry_after, so nothing but acmectl
// looks at either place.
//
//	acmectl-ari-retry 1
//	<lineage name> TAB <serial, lower-case hex> TAB <unix seconds>
//
// one line per lineage, sorted by name. An entry holds only for the
// certificate whose serial it names: once the lineage is renewed (by
// acmectl or by certbot) it is ignored, and the writer drops entries whose
// time has passed. The file is replaced whole (temporary file and rename,
// under the tree lock); it is not fsynced: a time lost in a crash only means
// the CA is asked again, as after a crash before the save. A line that does
// not parse ends the file (what follows is ignored). Where the file and the
// conf ([acme_renewal_info] ari_retry_after, which SetARIRetryAfter still
// writes for a single lineage) both give a time, the later one holds: each
// is written only after the CA was asked, which happens only once both have
// passed.

const (
	ariFileMagic = "acmectl-ari-retry 1\n"
	// maxARIFile bounds what is read: 10,000 lineages take about 0.6 MB.
	maxARIFile = 32 << 20
)

// ARIRetry is when to ask the CA for a certificate's renewal window next.
type ARIRetry struct {
	At time.Time
	// Serial is the certificate's serial number, lower-case hex without
	// leading zeros (LineageInfo.Serial): the time holds for that
	// certificate only.
	Serial string
}

type ariEntry struct {
	serial string
	at     int64 // unix seconds
}

func (t *Tree) ariFilePath() string { return filepath.Join(t.Dir, ".acmectl", "ari-retry") }

// ariFileCache is the last ari-retry file read, valid while its fileKey is.
type ariFileCache struct {
	key fileKey
	m   map[string]ariEntry
}

// ariRetries returns the entries of the ari-retry file (nil when there is
// none or it cannot be read: the confs' times hold alone). The parsed file
// is kept while its size, mtime and inode stay the same.
func (t *Tree) ariRetries() map[string]ariEntry {
	p := t.ariFilePath()
	k, ok := statKey(p)
	if !ok {
		return nil
	}
	t.mu.Lock()
	c := t.ariCache
	t.mu.Unlock()
	if c != nil && c.key == k {
		return c.m
	}
	b, err := readSmallLimit(p, maxARIFile)
	if err != nil {
		return nil
	}
	m := parseARIFile(b)
	t.mu.Lock()
	t.ariCache = &ariFileCache{key: k, m: m}
	t.mu.Unlock()
	return m
}

// parseARIFile parses the file's lines up to the first that does not parse.
func parseARIFile(b []byte) map[string]ariEntry {
	rest, ok := bytes.CutPrefix(b, []byte(ariFileMagic))
	if !ok {
		return nil
	}
	m := map[string]ariEntry{}
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok {
			break // cut short
		}
		rest = after
		name, tail, ok1 := bytes.Cut(line, []byte{'\t'})
		serial, at, ok2 := bytes.Cut(tail, []byte{'\t'})
		if !ok1 || !ok2 || len(serial) == 0 {
			break
		}
		sec, err := strconv.ParseInt(string(at), 10, 64)
		if err != nil || ValidLineageName(string(name)) != nil {
			break
		}
		m[string(name)] = ariEntry{serial: string(serial), at: sec}
	}
	return m
}

// laterARI is cur, or the time of name's entry in m when that entry is for
// the certificate with serial and later than cur.
func laterARI(m map[string]ariEntry, name, serial string, cur time.Time) time.Time {
	e, ok := m[name]
	if !ok || e.serial != serial {
		return cur
	}
	if at := time.Unix(e.at, 0).UTC(); at.After(cur) {
		return at
	}
	return cur
}

// SetARIRetryAfters saves, for many lineages at once (name → time and the
// serial of the certificate the CA was asked about), when to ask the CA for
// their renewal window next: one write of <config>/.acmectl/ari-retry under
// the tree lock (.certbot.lock), whatever the number of lineages, where a
// conf each cost 1,000 file creations and renames. Entries of other
// lineages are kept while their time has not passed. Listings and
// LoadLineage give the saved time as the conf's ARIRetryAfter.
func (t *Tree) SetARIRetryAfters(ctx context.Context, times map[string]ARIRetry) error {
	if len(times) == 0 {
		return nil
	}
	var errs []error
	valid := make(map[string]ariEntry, len(times))
	for name, r := range times {
		switch err := ValidLineageName(name); {
		case err != nil:
			errs = append(errs, fmt.Errorf("save ari_retry_after: %w", err))
		case r.Serial == "" || strings.ContainsAny(r.Serial, "\t\n"):
			errs = append(errs, fmt.Errorf("save ari_retry_after %s: bad serial %q", name, r.Serial))
		default:
			valid[name] = ariEntry{serial: r.Serial, at: r.At.Unix()}
		}
	}
	if len(valid) == 0 {
		return errors.Join(errs...)
	}
	unlock, err := t.LockTree(ctx)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("save ari_retry_after: %w", err))...)
	}
	defer unlock()
	p := t.ariFilePath()
	var m map[string]ariEntry
	if b, err := readSmallLimit(p, maxARIFile); err == nil {
		m = parseARIFile(b)
	}
	if m == nil { // none, unreadable or damaged: rewritten from this run's times
		m = map[string]ariEntry{}
	}
	now := t.opts.Now().Unix()
	for name, e := range m {
		if e.at <= now {
			delete(m, name)
		}
	}
	maps.Copy(m, valid)
	out := make([]byte, 0, len(ariFileMagic)+len(m)*48)
	out = append(out, ariFileMagic...)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		e := m[name]
		out = append(out, name...)
		out = append(out, '\t')
		out = append(out, e.serial...)
		out = append(out, '\t')
		out = strconv.AppendInt(out, e.at, 10)
		out = append(out, '\n')
	}
	if err := writeARIFile(p, out); err != nil {
		return errors.Join(append(errs, fmt.Errorf("save ari_retry_after: %w", err))...)
	}
	return errors.Join(errs...)
}

// writeARIFile replaces path with data (temporary file, rename; no fsync).
func writeARIFile(path string, data []byte) error {
	if err := mkdirs(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := writeTemp(path, data, 0o600, -1, false) // refuses a path that is not a regular file
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
