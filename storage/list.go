package storage

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fileKey identifies one version of a file or directory: when size, mtime
// and inode are unchanged, so is what we parsed from it. Renames over a path
// (atomic writes, link swaps) change the inode of the file or the mtime of
// the directory.
type fileKey struct {
	Size    int64  `json:"s"`
	MtimeNS int64  `json:"m"`
	Inode   uint64 `json:"i"`
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

// cacheEntry is what ListLineages learnt about one lineage, valid while the
// conf, the live dir, the archive dir and the current cert file keep their
// fileKeys.
type cacheEntry struct {
	Conf       fileKey   `json:"conf"`
	ConfData   string    `json:"conf_data"`
	Live       fileKey   `json:"live"`
	Archive    fileKey   `json:"archive"`
	Cert       fileKey   `json:"cert"`
	ArchiveDir string    `json:"archive_dir"`
	Version    int       `json:"version"`
	Domains    []string  `json:"domains"`
	CommonName string    `json:"cn,omitempty"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	Serial     string    `json:"serial"`
	KeyType    string    `json:"key_type"`
	KeyBits    int       `json:"key_bits"`
	Issuer     string    `json:"issuer"`
}

type cacheFile struct {
	Version  int                    `json:"version"`
	Lineages map[string]*cacheEntry `json:"lineages"`
}

const cacheVersion = 3 // 3: gob (2 was JSON)

func (t *Tree) cachePath() string { return filepath.Join(t.Dir, ".acmectl", "cache.json") }

func (t *Tree) loadCache() map[string]*cacheEntry {
	if t.opts.NoCache {
		return nil
	}
	b, err := os.ReadFile(t.cachePath())
	if err != nil {
		return nil
	}
	var c cacheFile
	if gob.NewDecoder(bytes.NewReader(b)).Decode(&c) != nil || c.Version != cacheVersion {
		return nil
	}
	return c.Lineages
}

func (t *Tree) saveCache(m map[string]*cacheEntry) {
	if t.opts.NoCache {
		return
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(cacheFile{Version: cacheVersion, Lineages: m}); err != nil {
		return
	}
	b := buf.Bytes()
	if err := mkdirs(filepath.Dir(t.cachePath()), 0o700); err != nil {
		return
	}
	if err := writeFileAtomic(t.cachePath(), b, 0o600, -1); err != nil {
		t.opts.Logger.Debug("listing cache not saved", "error", err)
	}
}

// ListLineages lists every renewal/*.conf lineage sorted by name. Each conf
// is parsed once and each current certificate at most once. What was learnt
// is cached in <config>/.acmectl/cache.json, keyed by the size, mtime and
// inode of the conf, the live and archive directories and the current cert,
// so listing an unchanged lineage costs four stat calls and parses no
// certificate. A lineage that cannot be used (bad conf, dangling link) is
// listed with Err set. The error return is for the listing itself.
func (t *Tree) ListLineages(ctx context.Context) ([]*LineageInfo, error) {
	dir := filepath.Join(t.Dir, "renewal")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list lineages: %w", err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
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
	old := t.loadCache()
	out := make([]*LineageInfo, len(names))
	fresh := make([]*cacheEntry, len(names))
	hits := make([]bool, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(4, runtime.GOMAXPROCS(0)*4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], fresh[i], hits[i] = t.listOne(names[i], old[names[i]])
			}
		}()
	}
	for i := range names {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list lineages: %w", err)
	}
	nm := make(map[string]*cacheEntry, len(names))
	for i, ce := range fresh {
		if ce != nil {
			nm[names[i]] = ce
		}
	}
	changed := len(old) != len(nm)
	for i := range names {
		if fresh[i] != nil && !hits[i] {
			changed = true
		}
	}
	if changed {
		t.saveCache(nm)
	}
	return out, nil
}

func (t *Tree) listOne(name string, ce *cacheEntry) (*LineageInfo, *cacheEntry, bool) {
	live := t.LiveDir(name)
	info := &LineageInfo{
		Name: name, ConfPath: t.RenewalConfPath(name),
		CertPath: filepath.Join(live, "cert.pem"), FullchainPath: filepath.Join(live, "fullchain.pem"),
		KeyPath: filepath.Join(live, "privkey.pem"),
	}
	if ce != nil && t.cacheValid(name, ce) {
		conf, err := parseLineageConf(info.ConfPath, []byte(ce.ConfData))
		if err == nil {
			info.Conf = conf
			fillInfo(info, ce)
			return info, ce, true
		}
	}
	// slow path: read everything, remember the keys seen before reading
	confKey, _ := statKey(info.ConfPath)
	liveKey, _ := statKey(live)
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
	info.Conf = conf
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
	b, err := os.ReadFile(certPath)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %w", name, err)
		return info, nil, false
	}
	c, err := parseCertPEM(b)
	if err != nil {
		info.Err = fmt.Errorf("lineage %s: %s: %w (%w)", name, certPath, ErrBroken, err)
		return info, nil, false
	}
	ce = &cacheEntry{Conf: confKey, ConfData: string(data), Live: liveKey, Archive: archKey, Cert: keyOf(fi),
		ArchiveDir: st.archiveDir, Version: st.current, CommonName: c.Subject.CommonName,
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Serial: c.SerialNumber.Text(16),
		Issuer: c.Issuer.String()}
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

func (t *Tree) cacheValid(name string, ce *cacheEntry) bool {
	for _, c := range []struct {
		path string
		want fileKey
	}{
		{t.RenewalConfPath(name), ce.Conf},
		{t.LiveDir(name), ce.Live},
		{ce.ArchiveDir, ce.Archive},
		{filepath.Join(ce.ArchiveDir, "cert"+strconv.Itoa(ce.Version)+".pem"), ce.Cert},
	} {
		if k, ok := statKey(c.path); !ok || k != c.want {
			return false
		}
	}
	return true
}

func fillInfo(info *LineageInfo, ce *cacheEntry) {
	info.Version = ce.Version
	info.Domains = append([]string(nil), ce.Domains...)
	info.CommonName, info.NotBefore, info.NotAfter = ce.CommonName, ce.NotBefore, ce.NotAfter
	info.Serial, info.KeyType, info.KeyBits, info.Issuer = ce.Serial, ce.KeyType, ce.KeyBits, ce.Issuer
}
