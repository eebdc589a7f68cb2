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
	fi, err := os.Stat(p)
	if err != nil {
		return fileKey{}, false
	}
	return keyOf(fi), true
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
// calls and reads no file of it. A full walk rewrites the cache when something changed,
// copying the unchanged records before the first change as they are.
func (t *Tree) WalkLineages(ctx context.Context, only []string, fn func(*LineageInfo) error) error {
	names, err := t.lineageNames(only)
	if err != nil {
		return err
	}
	var cr *cacheReader
	if !t.opts.NoCache {
		cr = openCacheReader(t.cachePath())
		defer cr.close()
	}
	writeCache := !t.opts.NoCache && only == nil
	dirs := listDirs{renewal: openDirHandle(filepath.Join(t.Dir, "renewal")),
		live: openDirHandle(filepath.Join(t.Dir, "live")), archive: openDirHandle(filepath.Join(t.Dir, "archive"))}
	defer dirs.close()

	var (
		cw      *cacheWriter
		changed bool
		last    *cacheEntry // the last record listed unchanged before any change
	)
	defer func() {
		if cw != nil {
			cw.abort()
		}
	}()
	change := func() {
		if changed {
			return
		}
		changed = true
		if !writeCache {
			return
		}
		w, err := newCacheWriter(t.cachePath(), cr, last)
		if err != nil {
			t.opts.Logger.Debug("listing cache not saved", "error", err)
			return
		}
		cw = w
	}
	type slot struct {
		old, fresh *cacheEntry
		info       *LineageInfo
		hit        bool
		skipped    bool // cache records of deleted lineages came before this one
	}
	slots := make([]slot, min(listWindow, len(names)))
	workers := max(4, runtime.GOMAXPROCS(0)*4)
	for start := 0; start < len(names); start += listWindow {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list lineages: %w", err)
		}
		batch := names[start:min(start+listWindow, len(names))]
		for i, n := range batch {
			slots[i] = slot{}
			slots[i].old, slots[i].skipped = cr.find(n)
		}
		listBatch(batch, min(workers, len(batch)), func(i int) {
			s := &slots[i]
			s.info, s.fresh, s.hit = t.listOne(dirs, batch[i], s.old)
		})
		for i := range batch {
			s := &slots[i]
			if (s.skipped && only == nil) || (!s.hit && (s.fresh != nil || s.old != nil)) {
				change()
			}
			if cw != nil && s.fresh != nil {
				cw.add(s.fresh)
			}
			if !changed && s.hit {
				last = s.old
			}
			err := fn(s.info)
			*s = slot{}
			if err != nil {
				return err
			}
		}
	}
	if only == nil && cr.peek() != nil {
		change() // records of deleted lineages at the end
	}
	if cw != nil {
		t.commitCache(cw)
		cw = nil
	}
	return nil
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

func (t *Tree) listOne(dirs listDirs, name string, ce *cacheEntry) (*LineageInfo, *cacheEntry, bool) {
	live := t.LiveDir(name) + string(filepath.Separator)
	info := &LineageInfo{
		Name: name, ConfPath: t.RenewalConfPath(name),
		CertPath: live + "cert.pem", FullchainPath: live + "fullchain.pem", KeyPath: live + "privkey.pem",
	}
	if ce != nil && t.cacheValid(dirs, ce) {
		fillInfo(info, ce)
		return info, ce, true
	}
	// slow path: read everything, remember the keys seen before reading
	confKey, _ := dirs.renewal.key(name + ".conf")
	liveKey, _ := dirs.live.key(name)
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
	archKey, _ := statKey(st.archiveDir)
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
		Issuer: c.Issuer.String(), AKI: c.AuthorityKeyId, Sum: *info.Conf,
		NoRevocationInfo: len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0}
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

// cacheValid reports whether the conf, the live dir (links replaced), the
// archive dir (files added, removed or renamed over) and the current cert
// file (rewritten in place) are those the entry was made from.
func (t *Tree) cacheValid(dirs listDirs, ce *cacheEntry) bool {
	if k, ok := dirs.renewal.key(ce.Name + ".conf"); !ok || k != ce.Conf {
		return false
	}
	if k, ok := dirs.live.key(ce.Name); !ok || k != ce.Live {
		return false
	}
	cert := "cert" + strconv.Itoa(ce.Version) + ".pem"
	var arch, k fileKey
	var ok, ok2 bool
	if ce.ArchiveDir == "" {
		arch, ok = dirs.archive.key(ce.Name)
		k, ok2 = dirs.archive.key(ce.Name + "/" + cert)
	} else {
		arch, ok = statKey(ce.ArchiveDir)
		k, ok2 = statKey(filepath.Join(ce.ArchiveDir, cert))
	}
	return ok && ok2 && arch == ce.Archive && k == ce.Cert
}

// fillInfo copies the entry into info; the slices are shared (read-only).
func fillInfo(info *LineageInfo, ce *cacheEntry) {
	info.Version = ce.Version
	info.Domains = ce.Domains
	info.CommonName, info.NotBefore, info.NotAfter = ce.CommonName, ce.NotBefore, ce.NotAfter
	info.Serial, info.KeyType, info.KeyBits, info.Issuer = ce.Serial, ce.KeyType, ce.KeyBits, ce.Issuer
	info.AuthorityKeyID, info.NoRevocationInfo = ce.AKI, ce.NoRevocationInfo
	sum := ce.Sum
	info.Conf = &sum
}
