package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/acmectl/acmectl/internal/specialfile"
)

// The listing cache, <config>/.acmectl/listing.cache, holds one record per
// lineage in name order, so a
// listing reads it as a stream alongside the sorted renewal/ names and never
// holds more than a window of it in memory:
//
//	header  "acmectl-list\n" version(uvarint)
//	record  len(uvarint) payload crc32c(payload, 4 bytes big-endian)
//
// A payload is the fields of cacheEntry in order; strings are uvarint(len+1)
// then the bytes, with 0 meaning "the same as in the previous record" (the
// issuer, CA and account of most lineages repeat). A record that fails its
// checksum or does not decode ends the stream: what follows is treated as
// missing and rebuilt.

const (
	cacheMagic   = "acmectl-list\n"
	cacheVersion = 7 // 7: no revocation source; 6: the installer; 5: the archive dir's key; 4: streamed records (3 was one gob map)
	maxRecord    = 64 << 10
)

// crcTable is made on first use (its tables are not every run's start-up cost).
var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// cacheEntry is what a listing learnt about one lineage, valid while the
// conf, the live dir, the archive dir and the current cert file keep their
// fileKeys.
type cacheEntry struct {
	Name                      string
	Conf, Live, Archive, Cert fileKey
	ArchiveDir                string // "" when it is <config>/archive/<name>
	Version                   int
	Domains                   []string
	CommonName                string
	NotBefore                 time.Time
	NotAfter                  time.Time
	Serial                    string
	KeyType                   string
	KeyBits                   int
	Issuer                    string
	AKI                       []byte
	NoRevocationSource        bool
	Sum                       ConfSummary

	end int64 // offset just past this record in the file it was read from
}

// backRefs are the fields of a record that the next record may give as
// "the same as in the previous record". Reader and writer keep a copy: the
// listing decodes records into memory it reuses.
type backRefs struct {
	keyType, issuer, server, account, renewBefore, installer string
}

func refsOf(e *cacheEntry) backRefs {
	return backRefs{e.KeyType, e.Issuer, e.Sum.Server, e.Sum.Account, e.Sum.RenewBeforeExpiry, e.Sum.Installer}
}

type recWriter struct {
	buf      []byte
	prev     backRefs
	havePrev bool
}

func (w *recWriter) uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *recWriter) varint(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *recWriter) bytes(b []byte) {
	w.uvarint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// str writes s, or 0 when it equals prev (and the record is not the first).
func (w *recWriter) str(s, prev string, havePrev bool) {
	if havePrev && s == prev {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(s)) + 1)
	w.buf = append(w.buf, s...)
}

func (w *recWriter) key(k fileKey) {
	w.varint(k.Size)
	w.varint(k.MtimeNS)
	w.uvarint(k.Inode)
}

func (w *recWriter) time(t time.Time) {
	if t.IsZero() {
		w.varint(0)
		return
	}
	w.varint(t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
}

// encode appends e's record (length, payload, checksum) to out.
func (w *recWriter) encode(out []byte, e *cacheEntry) []byte {
	p, hp := &w.prev, w.havePrev
	w.buf = w.buf[:0]
	w.str(e.Name, "", false)
	w.key(e.Conf)
	w.key(e.Live)
	w.key(e.Archive)
	w.key(e.Cert)
	w.str(e.ArchiveDir, "", false)
	w.uvarint(uint64(e.Version))
	w.uvarint(uint64(len(e.Domains)))
	for _, d := range e.Domains {
		w.str(d, "", false)
	}
	w.str(e.CommonName, "", false)
	w.time(e.NotBefore)
	w.time(e.NotAfter)
	w.str(e.Serial, "", false)
	w.str(e.KeyType, p.keyType, hp)
	w.uvarint(uint64(e.KeyBits))
	w.str(e.Issuer, p.issuer, hp)
	w.bytes(e.AKI)
	w.str(e.Sum.Server, p.server, hp)
	w.str(e.Sum.Account, p.account, hp)
	w.str(e.Sum.RenewBeforeExpiry, p.renewBefore, hp)
	var flags uint64
	if e.Sum.NoAutoRenew {
		flags |= 1
	}
	if e.NoRevocationSource {
		flags |= 2
	}
	w.uvarint(flags)
	w.time(e.Sum.ARIRetryAfter)
	w.str(e.Sum.Installer, p.installer, hp)
	w.prev, w.havePrev = refsOf(e), true
	out = binary.AppendUvarint(out, uint64(len(w.buf)))
	out = append(out, w.buf...)
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(w.buf, crcTable()))
}

var errBadRecord = errors.New("bad cache record")

type recReader struct {
	b        []byte
	err      error
	prev     backRefs
	havePrev bool
	// src is the payload being decoded as one string: the record's strings
	// are substrings of it (one allocation per record, not one per string).
	src string
}

func (r *recReader) uvarint() uint64 { return readVar(r, binary.Uvarint) }
func (r *recReader) varint() int64   { return readVar(r, binary.Varint) }

// readVar decodes one varint with dec; after the first error every read
// returns zero and r.err stays set.
func readVar[T uint64 | int64](r *recReader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) raw(n uint64) []byte {
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadRecord
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *recReader) str(prev string) string {
	n := r.uvarint()
	if n == 0 {
		if !r.havePrev && r.err == nil {
			r.err = errBadRecord
		}
		return prev
	}
	off := len(r.src) - len(r.b)
	if r.raw(n-1) == nil {
		return ""
	}
	return r.src[off : off+int(n-1)]
}

func (r *recReader) bytes() []byte {
	b := r.raw(r.uvarint())
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (r *recReader) key() fileKey {
	return fileKey{Size: r.varint(), MtimeNS: r.varint(), Inode: r.uvarint()}
}

func (r *recReader) time() time.Time {
	s := r.varint()
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, int64(r.uvarint())).UTC()
}

// decode decodes payload into e (all of it: e need not be zero).
func (r *recReader) decode(payload []byte, e *cacheEntry) error {
	r.b, r.err, r.src = payload, nil, string(payload)
	p := &r.prev
	*e = cacheEntry{}
	e.Name = r.str("")
	e.Conf, e.Live, e.Archive, e.Cert = r.key(), r.key(), r.key(), r.key()
	e.ArchiveDir = r.str("")
	e.Version = int(r.uvarint())
	nd := r.uvarint()
	if nd > uint64(len(r.b)) {
		return errBadRecord
	}
	if nd > 0 {
		e.Domains = make([]string, 0, nd)
	}
	for range nd {
		e.Domains = append(e.Domains, r.str(""))
	}
	e.CommonName = r.str("")
	e.NotBefore, e.NotAfter = r.time(), r.time()
	e.Serial = r.str("")
	e.KeyType = r.str(p.keyType)
	e.KeyBits = int(r.uvarint())
	e.Issuer = r.str(p.issuer)
	e.AKI = r.bytes()
	e.Sum.Server = r.str(p.server)
	e.Sum.Account = r.str(p.account)
	e.Sum.RenewBeforeExpiry = r.str(p.renewBefore)
	flags := r.uvarint()
	e.Sum.NoAutoRenew, e.NoRevocationSource = flags&1 != 0, flags&2 != 0
	e.Sum.ARIRetryAfter = r.time()
	e.Sum.Installer = r.str(p.installer)
	if r.err != nil || len(r.b) != 0 {
		return errBadRecord
	}
	r.prev, r.havePrev = refsOf(e), true
	return nil
}

// cacheReader streams the records of an existing cache file.
type cacheReader struct {
	f    *os.File
	br   *bufio.Reader
	off  int64 // bytes consumed from the file
	buf  []byte
	dec  recReader
	next *cacheEntry // read ahead, not yet consumed (&ahead)
	// ahead is the record read ahead: find copies a record out of it, so
	// a listing allocates no record of its own.
	ahead cacheEntry
	done  bool
}

// openCacheReader returns nil when there is no usable cache.
func openCacheReader(path string) *cacheReader {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	r := &cacheReader{f: f, br: bufio.NewReaderSize(f, 32<<10)}
	hdr := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(r.br, hdr); err != nil || string(hdr) != cacheMagic {
		f.Close()
		return nil
	}
	v, err := binary.ReadUvarint(r.br)
	if err != nil || v != cacheVersion {
		f.Close()
		return nil
	}
	r.off = int64(len(cacheMagic) + uvarintLen(v))
	return r
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func (r *cacheReader) close() {
	if r != nil {
		r.f.Close()
	}
}

// peek returns the next record without consuming it (nil at the end or
// after a damaged record).
func (r *cacheReader) peek() *cacheEntry {
	if r == nil || r.done {
		return nil
	}
	if r.next != nil {
		return r.next
	}
	n, err := binary.ReadUvarint(r.br)
	if err != nil || n > maxRecord {
		r.done = true
		return nil
	}
	if cap(r.buf) < int(n)+4 {
		r.buf = make([]byte, int(n)+4)
	}
	b := r.buf[:n+4]
	if _, err := io.ReadFull(r.br, b); err != nil {
		r.done = true
		return nil
	}
	payload := b[:n]
	if crc32.Checksum(payload, crcTable()) != binary.BigEndian.Uint32(b[n:]) {
		r.done = true
		return nil
	}
	e := &r.ahead
	if err := r.dec.decode(payload, e); err != nil {
		r.done = true
		return nil
	}
	r.off += int64(uvarintLen(n)) + int64(n) + 4
	e.end = r.off
	r.next = e
	return e
}

// find consumes records up to name and returns name's, copied into dst,
// or nil. skipped reports whether records of other (deleted) lineages were
// passed over.
func (r *cacheReader) find(name string, dst *cacheEntry) (e *cacheEntry, skipped bool) {
	for {
		n := r.peek()
		if n == nil || n.Name > name {
			return nil, skipped
		}
		r.next = nil
		if n.Name == name {
			*dst = *n
			return dst, skipped
		}
		skipped = true
	}
}

// copyPoint is where a rewrite of the cache may take over from the old
// file: the end of the last record it copies as is, and that record's
// back-references.
type copyPoint struct {
	end  int64
	refs backRefs
}

// cacheWriter writes a new cache file next to the old one and renames it
// over on commit.
type cacheWriter struct {
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	enc       recWriter
	out       []byte
	err       error
}

// newCacheWriter starts a new cache. With last (after a record of old that
// was listed unchanged, as were all before it) the old file up to there is
// copied as is; without, a fresh header is written.
func newCacheWriter(path string, old *cacheReader, last *copyPoint) (*cacheWriter, error) {
	if err := mkdirs(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	w := &cacheWriter{path: path, tmp: tmpName(filepath.Dir(path), filepath.Base(path))}
	f, err := os.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w.f, w.bw = f, bufio.NewWriterSize(f, 32<<10)
	if old != nil && last != nil {
		if _, err := io.Copy(w.bw, io.NewSectionReader(old.f, 0, last.end)); err != nil {
			w.abort()
			return nil, err
		}
		// the next record's back-references are to the last copied one
		w.enc.prev, w.enc.havePrev = last.refs, true
	} else {
		w.bw.WriteString(cacheMagic)
		w.bw.Write(binary.AppendUvarint(nil, cacheVersion))
	}
	return w, nil
}

func (w *cacheWriter) add(e *cacheEntry) {
	if w.err != nil {
		return
	}
	w.out = w.enc.encode(w.out[:0], e)
	_, w.err = w.bw.Write(w.out)
}

func (w *cacheWriter) abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

// commit renames the new cache into place (no fsync: a cache lost in a crash
// is rebuilt by the next listing).
func (w *cacheWriter) commit() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if w.err == nil {
		w.err = w.f.Close()
	} else {
		w.f.Close()
	}
	if w.err == nil {
		w.err = specialfile.CheckReplaceable(w.path)
	}
	if w.err == nil {
		w.err = os.Rename(w.tmp, w.path)
	}
	if w.err != nil {
		os.Remove(w.tmp)
	}
	return w.err
}
