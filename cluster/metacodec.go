package cluster

import (
	"encoding/binary"
	"errors"
	"time"
)

// metaFormat starts every stored Meta. The encoding is: the format byte; the
// flags byte (bit 0: NoAutoRenew, bit 1: NoRevocationSource); Version, SettingsRev and Failures as
// uvarints; NotBefore, NotAfter, ARIStart, ARIEnd, ARIRetryAfter, FailedAt
// and RenewedAt as varint Unix seconds (0: unset); Name, Serial, KeyID,
// Server, Account, RenewBeforeExpiry, LastError, RenewedBy, CommitID, KeyType
// and AuthorityKeyID as uvarint-length-prefixed bytes; the number of Domains and
// each one the same way. Nothing may follow.
const metaFormat = 0x4d // 'M', format 1

var errMetaCorrupt = errors.New("metadata record: corrupt or of an unknown format")

func encodeMeta(m *Meta) []byte {
	b := make([]byte, 0, 256+len(m.LastError))
	b = append(b, metaFormat)
	var flags byte
	if m.NoAutoRenew {
		flags |= 1
	}
	if m.NoRevocationSource {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(max(m.Version, 0)))
	b = binary.AppendUvarint(b, uint64(max(m.SettingsRev, 0)))
	b = binary.AppendUvarint(b, uint64(max(m.Failures, 0)))
	for _, t := range []time.Time{m.NotBefore, m.NotAfter, m.ARIStart, m.ARIEnd, m.ARIRetryAfter, m.FailedAt, m.RenewedAt} {
		b = binary.AppendVarint(b, unix(t))
	}
	for _, s := range []string{m.Name, m.Serial, m.KeyID, m.Server, m.Account, m.RenewBeforeExpiry, m.LastError, m.RenewedBy, m.CommitID, m.KeyType} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(m.AuthorityKeyID)))
	b = append(b, m.AuthorityKeyID...)
	b = binary.AppendUvarint(b, uint64(len(m.Domains)))
	for _, d := range m.Domains {
		b = binary.AppendUvarint(b, uint64(len(d)))
		b = append(b, d...)
	}
	return b
}

type metaReader struct {
	b   []byte
	bad bool
}

func (r *metaReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *metaReader) int() int {
	v := r.uvarint()
	if v > 1<<31 {
		r.bad = true
	}
	return int(v)
}

func decodeMeta(b []byte, m *Meta) error {
	if len(b) < 2 || b[0] != metaFormat {
		return errMetaCorrupt
	}
	r := metaReader{b: b[2:]}
	m.NoAutoRenew, m.NoRevocationSource = b[1]&1 != 0, b[1]&2 != 0
	m.Version, m.SettingsRev, m.Failures = r.int(), r.int(), r.int()
	for _, t := range []*time.Time{&m.NotBefore, &m.NotAfter, &m.ARIStart, &m.ARIEnd, &m.ARIRetryAfter, &m.FailedAt, &m.RenewedAt} {
		*t = fromUnix(r.varint())
	}
	for _, s := range []*string{&m.Name, &m.Serial, &m.KeyID, &m.Server, &m.Account, &m.RenewBeforeExpiry, &m.LastError, &m.RenewedBy, &m.CommitID, &m.KeyType} {
		*s = string(r.bytes())
	}
	if aki := r.bytes(); len(aki) > 0 {
		m.AuthorityKeyID = append([]byte(nil), aki...)
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return errMetaCorrupt
	}
	m.Domains = make([]string, 0, n)
	for range n {
		m.Domains = append(m.Domains, string(r.bytes()))
	}
	if r.bad || len(r.b) != 0 {
		return errMetaCorrupt
	}
	return nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
