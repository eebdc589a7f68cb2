package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// fileKey identifies one version of a file or directory: when size, mtime
// and inode are unchanged, so is what we parsed from it. Renames over a path
// (atomic writes, link swaps) change the inode of the file or the mtime of
// the directory.
type fileKey struct {
	Size    int64
	MtimeNS int64
	Inode   uint64
}

func keyOf(fi os.FileInfo) fileKey {
	k := fileKey{Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.Inode = uint64(s.Ino)
	}
	return k
}

func statKey(p string) (fileKey, bool) {
	k, _, ok := statKeyDir(p)
	return k, ok
}

// statKeyDir is statKey that also tells whether p is a directory others
// may write (dirHandle.keyDir).
func statKeyDir(p string) (k fileKey, otherWritable, ok bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return fileKey{}, false, false
	}
	return keyOf(fi), fi.IsDir() && fi.Mode().Perm()&0o002 != 0, true
}

func (t *Tree) cachePath() string { return filepath.Join(t.Dir, ".acmectl", "listing.cache") }

// oldCachePath is the gob cache of acmectl before the streamed one; the
// first listing that writes the new cache removes it.
func (t *Tree) oldCachePath() string { return filepath.Join(t.Dir, ".acmectl", "cache.json") }

// ListLineages lists every lineage sorted by name (WalkLineages collected).
func (t *Tree) ListLineages(ctx context.Context) ([]*LineageInfo, error) {
	var out []*LineageInfo
	err := t.WalkLineages(ctx, nil, func(li *LineageInfo) error {
		out = append(out, li)
		return nil
	})
	return out, err
}

// lineageNames returns the sorted names of renewal/*.conf, or those of only
// that have a conf.
func (t *Tree) lineageNames(only []string) ([]string, error) {
	dir := filepath.Join(t.Dir, "renewal")
	var names []string
	if only != nil {
		for _, n := range only {
			if ValidLineageName(n) != nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, n+".conf")); err == nil {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return slices.Compact(names), nil
	}
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list lineages: %w", err)
	}
	defer f.Close()
	all, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list lineages: %w", err)
	}
	names = all[:0]
	for _, n := range all {
		if !strings.HasSuffix(n, ".conf") || n[0] == '.' {
			continue
		}
		name := strings.TrimSuffix(n, ".conf")
		if ValidLineageName(name) != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// listWindow is how many lineages a listing holds at once: it stats and
// parses one window in parallel, hands it to the caller in order, and moves on.
const listWindow = 256

// listDirs are the tree's directories, opened once per listing.
type listDirs struct{ renewal, live, archive *dirHandle }

func (d listDirs) close() {
	d.renewal.close()
	d.live.close()
	d.archive.close()
}

// WalkLineages calls fn for every lineage (only those named in only, when
// only is not nil) in name order, and stops at fn's first error, which it
// returns. A lineage that cannot be used (bad conf, dangling link) has Err
// set. Memory stays flat in the number of lineages: the tree is read a
// window at a time.
//
// What was learnt is cached in <config>/.acmectl/listing.cache, keyed by the
// size, mtime and inode of the conf, the live and archive directories and
// the current cert file, so listing an unchanged lineage costs four stat
// calls and reads no file of it, and one whose conf alone changed (a
// setting, a single lineage's ari_retry_after) has only its conf read again.
// A full walk rewrites the cache when something changed,
// copying the unchanged records before the first change as they are.
func (t *Tree) WalkLineages(ctx context.Context, only []string, fn func(*LineageInfo) error) error {
	return t.WalkLineagesExcept(ctx, only, nil, fn)
}

// WalkLineagesExcept is WalkLineages without the lineages skip names: they
// are neither read nor checked against the listing cache (whose records of
// them are kept as they are) and fn is not called for them. A cluster node's
// local pass skips the lineages the cluster renews this way: checking
// 10,000 of them only to skip them cost a quarter of a nothing-due renew.
func (t *Tree) WalkLineagesExcept(ctx context.Context, only []string, skip map[string]bool, fn func(*LineageInfo) error) error {
	return t.walk(ctx, only, skip, fn, nil)
}

// WalkLineagesWritable is WalkLineagesExcept that also reports, through
// writable, each directory in archive/ and live/ that users other than its
// owner may write: the part of OtherWritableDirs that OtherWritableTopDirs
// leaves out, the same directories with the same reports. It takes them
// from the stats the listing makes anyway (a listing with a warm cache stats
// each lineage's live and archive directory already): a lineage's own are
// reported as it is listed, before fn sees it; the rest (those of skipped
// or unlisted lineages, directories without a renewal conf) once the last
// lineage is listed, sorted by path. writable runs on the caller's
// goroutine. When fn stops the walk, what was not reported yet is not
// checked.
func (t *Tree) WalkLineagesWritable(ctx context.Context, only []string, skip map[string]bool, fn func(*LineageInfo) error, writable func(WritableDir)) error {
	return t.walk(ctx, only, skip, fn, writable)
}

func (t *Tree) walk(ctx context.Context, only []string, skip map[string]bool, fn func(*LineageInfo) error, writable func(WritableDir)) error {
	names, err := t.lineageNames(only)
	if err != nil {
		newWritableCheck(t, nil, writable).rest() // none listed: all are the rest
		return err
	}
	var cr *cacheReader
	if !t.opts.NoCache {
		cr = openCacheReader(t.cachePath())
		defer cr.close()
	}
	dirs := listDirs{renewal: openDirHandle(filepath.Join(t.Dir, "renewal")),
		live: openDirHandle(filepath.Join(t.Dir, "live")), archive: openDirHandle(filepath.Join(t.Dir, "archive"))}
	defer dirs.close()
	rw := &cacheRewrite{t: t, cr: cr, enabled: !t.opts.NoCache && only == nil}
	defer rw.abort()
	ow := newWritableCheck(t, names, writable)
	ari := t.ariRetries()
	lw := &listWindows{t: t, dirs: dirs, cr: cr, names: names, skip: skip, workers: max(4, runtime.GOMAXPROCS(0)*4), seeDirs: ow != nil}
	defer lw.wait()
	for w := range lw.count() {
		if err := lw.next(ctx, w); err != nil {
			return err
		}
		start, slots := w*listWindow, lw.slots(w)
		for i := range slots {
			s := &slots[i]
			rw.note(s, only == nil)
			ow.lineage(start+i, s.seen)
			var err error
			if s.info != nil {
				if c := s.info.Conf; c != nil {
					c.ARIRetryAfter = laterARI(ari, s.info.Name, s.info.Serial, c.ARIRetryAfter)
				}
				err = fn(s.info)
			}
			*s = listSlot{}
			if err != nil {
				return err
			}
		}
	}
	if only == nil && cr.peek() != nil {
		rw.change() // records of deleted lineages at the end
	}
	rw.commit()
	ow.rest()
	return nil
}

// listWindows runs a listing a window at a time, two windows in flight:
// while the workers stat one window, the caller's goroutine reads the next
// window's cache records and hands the one before to fn, so the listing's
// sequential part runs beside its stats instead of between them.
type listWindows struct {
	t       *Tree
	dirs    listDirs
	cr      *cacheReader
	names   []string
	skip    map[string]bool
	workers int
	seeDirs bool // stat the dirs of the lineages in skip too (WalkLineagesWritable)
	bufs    [2][]listSlot
	// ents hold the windows' cache records (reused: a listing allocates
	// none of its own).
	ents    [2][]cacheEntry
	running chan struct{} // closed when the window being listed is done
}

func (lw *listWindows) count() int { return (len(lw.names) + listWindow - 1) / listWindow }

func (lw *listWindows) batch(w int) []string {
	return lw.names[w*listWindow : min((w+1)*listWindow, len(lw.names))]
}

func (lw *listWindows) slots(w int) []listSlot { return lw.bufs[w%2][:len(lw.batch(w))] }

// prepare reads window w's cache records (on the caller's goroutine: the
// cache is one stream).
func (lw *listWindows) prepare(w int) {
	if lw.bufs[w%2] == nil {
		lw.bufs[w%2] = make([]listSlot, min(listWindow, len(lw.names)))
		if lw.cr != nil {
			lw.ents[w%2] = make([]cacheEntry, min(listWindow, len(lw.names)))
		}
	}
	slots, ents := lw.slots(w), lw.ents[w%2]
	for i, n := range lw.batch(w) {
		slots[i] = listSlot{}
		if lw.cr != nil {
			slots[i].old, slots[i].skipped = lw.cr.find(n, &ents[i])
		}
	}
}

// next returns when window w is listed (starting it first when it is
// the first) and the next window is being listed (its cache records read
// meanwhile), so that its stats run while the caller hands w to fn. It
// fails only for a cancelled ctx, before starting a window.
func (lw *listWindows) next(ctx context.Context, w int) error {
	if w == 0 {
		lw.prepare(0)
		if err := lw.start(ctx, 0); err != nil {
			return err
		}
	}
	if w+1 < lw.count() {
		lw.prepare(w + 1)
	}
	lw.wait()
	if w+1 < lw.count() {
		return lw.start(ctx, w+1)
	}
	return nil
}

// start lists window w on the workers, in the background.
func (lw *listWindows) start(ctx context.Context, w int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list lineages: %w", err)
	}
	batch, slots, done := lw.batch(w), lw.slots(w), make(chan struct{})
	lw.running = done
	go func() {
		defer close(done)
		listBatch(batch, min(lw.workers, len(batch)), func(i int) {
			s := &slots[i]
			if lw.skip[batch[i]] {
				s.fresh, s.hit = s.old, s.old != nil // carried over unchecked
				if lw.seeDirs {
					seeDirs(lw.dirs, batch[i], &s.seen)
				}
				return
			}
			lw.t.listOne(lw.dirs, batch[i], s)
		})
	}()
	return nil
}

// wait waits for the window being listed, if any.
func (lw *listWindows) wait() {
	if lw.running != nil {
		<-lw.running
		lw.running = nil
	}
}

// seeDirs stats the live and archive dirs of a lineage the listing skips,
// for WalkLineagesWritable only: on the listing's workers, with the others.
func seeDirs(dirs listDirs, name string, seen *dirsSeen) {
	_, seen.liveOW, seen.live = dirs.live.keyDir(name)
	_, seen.archiveOW, seen.archive = dirs.archive.keyDir(name)
}

// listSlot is one lineage of a listing batch.
type listSlot struct {
	old, fresh *cacheEntry
	info       *LineageInfo
	hit        bool
	skipped    bool     // cache records of deleted lineages came before this one
	seen       dirsSeen // what the listing's stats found of the lineage's dirs
}

// cacheRewrite is a listing's rewrite of the cache: started at the first
// record that differs (the records before it are copied from the old file),
// then fed every record.
type cacheRewrite struct {
	t       *Tree
	cr      *cacheReader
	enabled bool // a full listing with the cache on
	cw      *cacheWriter
	changed bool
	last    *copyPoint // after the last record listed unchanged before any change
}

func (rw *cacheRewrite) change() {
	if rw.changed {
		return
	}
	rw.changed = true
	if !rw.enabled {
		return
	}
	w, err := newCacheWriter(rw.t.cachePath(), rw.cr, rw.last)
	if err != nil {
		rw.t.opts.Logger.Debug("listing cache not saved", "error", err)
		return
	}
	rw.cw = w
}

// note takes one listed lineage into the rewrite (full: the listing is not
// limited to some names, so skipped records of deleted lineages count).
func (rw *cacheRewrite) note(s *listSlot, full bool) {
	if (s.skipped && full) || (!s.hit && (s.fresh != nil || s.old != nil)) {
		rw.change()
	}
	if rw.cw != nil && s.fresh != nil {
		rw.cw.add(s.fresh)
	}
	if !rw.changed && s.hit {
		if rw.last == nil {
			rw.last = &copyPoint{}
		}
		*rw.last = copyPoint{end: s.old.end, refs: refsOf(s.old)}
	}
}

func (rw *cacheRewrite) commit() {
	if rw.cw != nil {
		rw.t.commitCache(rw.cw)
		rw.cw = nil
	}
}

func (rw *cacheRewrite) abort() {
	if rw.cw != nil {
		rw.cw.abort()
	}
}

// commitCache puts the rewritten listing cache in place (a failure only
// costs the next listing its shortcut).
func (t *Tree) commitCache(cw *cacheWriter) {
	if err := cw.commit(); err != nil {
		t.opts.Logger.Debug("listing cache not saved", "error", err)
		return
	}
	_ = os.Remove(t.oldCachePath())
}

// listBatch runs f(0..len(batch)-1) on up to workers goroutines.
func listBatch(batch []string, workers int, f func(i int)) {
	if workers <= 1 {
		for i := range batch {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(batch) {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// listOne lists the lineage name into s (its old cache record in s.old):
// s.info, the record to cache (s.fresh, nil for none), whether the old one
// was still valid (s.hit) and what the stats found of its dirs (s.seen).
func (t *Tree) listOne(dirs listDirs, name string, s *listSlot) {
	s.info, s.fresh, s.hit = t.listLineage(dirs, name, s.old, &s.seen)
}

func (t *Tree) listLineage(dirs listDirs, name string, ce *cacheEntry, seen *dirsSeen) (*LineageInfo, *cacheEntry, bool) {
	info := &LineageInfo{Name: name}
	t.setPaths(info)
	if ce != nil {
		switch check, confKey := t.cacheValid(dirs, ce, seen); check {
		case cacheHit:
			fillInfo(info, ce)
			return info, ce, true
		case cacheConfChanged:
			if fresh := relistConf(info, ce, confKey); fresh != nil {
				fillInfo(info, fresh)
				return info, fresh, false
			}
		}
	}
	// slow path: read everything, remember the keys seen before reading
	confKey, _ := dirs.renewal.key(name + ".conf")
	liveKey, liveOW, liveOK := dirs.live.keyDir(name)
	seen.live, seen.liveOW = liveOK, liveOW
	data, err := readSmall(info.ConfPath)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %w", name, err)
		return info, nil, false
	}
	conf, err := parseLineageConf(info.ConfPath, data)
	if err != nil {
		info.Err = err
		return info, nil, false
	}
	info.Conf = conf.Summary()
	st, err := t.readStateMode(name, false)
	if err != nil {
		info.Err = err
		return info, nil, false
	}
	archKey, archOW, archOK := statKeyDir(st.archiveDir)
	if st.archiveDir == t.ArchiveDir(name) {
		seen.archive, seen.archiveOW = archOK, archOW
	}
	certPath := filepath.Join(st.archiveDir, "cert"+strconv.Itoa(st.current)+".pem")
	fi, err := os.Stat(certPath)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %w (%w)", name, ErrBroken, err)
		return info, nil, false
	}
	b, err := readSmall(certPath)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %w", name, err)
		return info, nil, false
	}
	c, err := parseCertPEM(b)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %s: %w (%w)", name, certPath, ErrBroken, err)
		return info, nil, false
	}
	ce = &cacheEntry{Name: name, Conf: confKey, Live: liveKey, Archive: archKey, Cert: keyOf(fi),
		Version: st.current, CommonName: c.Subject.CommonName,
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Serial: c.SerialNumber.Text(16),
		Issuer: c.Issuer.String(), AKI: c.AuthorityKeyId, NoRevocationSource: len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0,
		Sum: *info.Conf}
	if st.archiveDir != t.ArchiveDir(name) {
		ce.ArchiveDir = st.archiveDir
	}
	ce.Domains = append(ce.Domains, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		ce.Domains = append(ce.Domains, ip.String())
	}
	ce.KeyType, ce.KeyBits = keyTypeOf(c.PublicKey)
	fillInfo(info, ce)
	if st.mixed {
		// a half-linked lineage is listed but not cached
		return info, nil, false
	}
	return info, ce, false
}

// setPaths sets info's conf path and live link paths (those of
// RenewalConfPath and LiveDir): for a plain name, substrings of one string,
// since a listing makes them for every lineage.
func (t *Tree) setPaths(info *LineageInfo) {
	const sep = string(filepath.Separator)
	name := info.Name
	if !plainUnder(t.Dir, name) {
		live := t.LiveDir(name) + sep
		info.ConfPath = t.RenewalConfPath(name)
		info.CertPath, info.FullchainPath, info.KeyPath = live+"cert.pem", live+"fullchain.pem", live+"privkey.pem"
		return
	}
	parts := [4][2]string{{"renewal", ".conf"}, {"live", sep + "cert.pem"}, {"live", sep + "fullchain.pem"}, {"live", sep + "privkey.pem"}}
	n := 4 * (len(t.Dir) + 2*len(sep) + len(name))
	for _, p := range parts {
		n += len(p[0]) + len(p[1])
	}
	var b strings.Builder
	b.Grow(n)
	ends := [4]int{}
	for i, p := range parts {
		b.WriteString(t.Dir)
		b.WriteString(sep + p[0] + sep)
		b.WriteString(name)
		b.WriteString(p[1])
		ends[i] = b.Len()
	}
	s := b.String()
	info.ConfPath, info.CertPath, info.FullchainPath, info.KeyPath = s[:ends[0]], s[ends[0]:ends[1]], s[ends[1]:ends[2]], s[ends[2]:]
}

// cacheCheck is what a listing's stats say of a lineage's cache record.
type cacheCheck int

const (
	cacheStale       cacheCheck = iota // read the lineage again
	cacheConfChanged                   // only the conf changed: what the certificate gave holds
	cacheHit                           // the record holds
)

// cacheValid checks the conf, the live dir (links replaced), the archive
// dir (files added, removed or renamed over) and the current cert file
// (rewritten in place) against the keys the record was made from; confKey
// is the conf's key now. What the stats found of the live and archive dirs
// goes into seen.
func (t *Tree) cacheValid(dirs listDirs, ce *cacheEntry, seen *dirsSeen) (check cacheCheck, confKey fileKey) {
	confKey, ok := dirs.renewal.key(ce.Name + ".conf")
	switch {
	case !ok || !t.filesValid(dirs, ce, seen):
		return cacheStale, confKey
	case confKey != ce.Conf:
		return cacheConfChanged, confKey
	}
	return cacheHit, confKey
}

// filesValid reports whether the record's live dir, archive dir and
// current cert file have the keys it was made from.
func (t *Tree) filesValid(dirs listDirs, ce *cacheEntry, seen *dirsSeen) bool {
	k, ow, ok := dirs.live.keyDir(ce.Name)
	seen.live, seen.liveOW = ok, ow
	if !ok || k != ce.Live {
		return false
	}
	cert := "cert" + strconv.Itoa(ce.Version) + ".pem"
	var arch fileKey
	var ok2 bool
	if ce.ArchiveDir == "" {
		arch, ow, ok = dirs.archive.keyDir(ce.Name)
		seen.archive, seen.archiveOW = ok, ow
		k, ok2 = dirs.archive.key(ce.Name + "/" + cert)
	} else {
		arch, ok = statKey(ce.ArchiveDir)
		k, ok2 = statKey(filepath.Join(ce.ArchiveDir, cert))
	}
	return ok && ok2 && arch == ce.Archive && k == ce.Cert
}

// relistConf is the record of a lineage whose conf alone changed (a
// setting, a single lineage's ari_retry_after):
// the conf read again (its key taken before reading), the rest as ce
// says. nil when the conf does not read or parse: the slow path reports it.
func relistConf(info *LineageInfo, ce *cacheEntry, confKey fileKey) *cacheEntry {
	data, err := readSmall(info.ConfPath)
	if err != nil {
		return nil
	}
	conf, err := parseLineageConf(info.ConfPath, data)
	if err != nil {
		return nil
	}
	fresh := new(cacheEntry)
	*fresh = *ce
	fresh.Conf, fresh.Sum, fresh.end = confKey, *conf.Summary(), 0
	return fresh
}

// fillInfo copies the entry into info; the slices are shared (read-only).
func fillInfo(info *LineageInfo, ce *cacheEntry) {
	info.Version = ce.Version
	info.Domains = ce.Domains
	info.CommonName, info.NotBefore, info.NotAfter = ce.CommonName, ce.NotBefore, ce.NotAfter
	info.Serial, info.KeyType, info.KeyBits, info.Issuer = ce.Serial, ce.KeyType, ce.KeyBits, ce.Issuer
	info.AuthorityKeyID, info.NoRevocationSource = ce.AKI, ce.NoRevocationSource
	sum := ce.Sum
	info.Conf = &sum
}
