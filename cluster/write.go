package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/acmectl/acmectl/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type mvccKV = mvccpb.KeyValue

var _ storage.InFlightStore = (*Hold)(nil)

func validName(name string) error { return storage.ValidLineageName(name) }

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fenced runs ops in one transaction that succeeds only while this Hold's
// lock key is still the one it created (its lease alive) and the metadata
// is still at the revision read under the lock. The metadata is always part
// of the write: next (nil deletes it) gets a fresh CommitID, so when etcd's
// answer is lost the outcome is read back instead of guessed. It retries a
// write whose outcome is unknown while the lock is still held; it never
// retries one etcd refused.
func (h *Hold) fenced(ctx context.Context, op string, next *Meta, ops ...clientv3.Op) error {
	s := h.se.s
	if h.released {
		return fmt.Errorf("%s %s: the lineage was released", op, h.name)
	}
	if !h.skipLocalCheck {
		if err := h.se.Err(); err != nil {
			return fmt.Errorf("%s %s: %w", op, h.name, err)
		}
		var stop context.CancelFunc
		ctx, stop = mergeCancel(ctx, h.se.ctx)
		defer stop()
	}
	mk := s.abs(metaKey(h.name))
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(h.lockKey), "=", h.lockRev)}
	if h.metaRev == 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(mk), "=", 0))
	} else {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(mk), "=", h.metaRev))
	}
	var commitID string
	if next != nil {
		n := *next
		n.Name = h.name
		n.CommitID = randomID()
		commitID = n.CommitID
		ops = append(ops, clientv3.OpPut(mk, string(encodeMeta(&n))))
		next = &n
	} else {
		ops = append(ops, clientv3.OpDelete(mk))
	}
	var lastErr error
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 {
			if err := sleepCtx(ctx, time.Duration(attempt)*250*time.Millisecond); err != nil {
				break
			}
		}
		rctx, cancel := s.reqCtx(ctx)
		resp, err := s.cli.Txn(rctx).If(cmps...).Then(ops...).Commit()
		cancel()
		if err == nil {
			if !resp.Succeeded {
				return fmt.Errorf("%s %s: %s: %w", op, h.name, h.whyFenced(ctx), ErrFenced)
			}
			h.applied(next, resp.Header.Revision)
			return nil
		}
		lastErr = err
		// The answer was lost: did the write land?
		landed, owner, rev, verr := h.verify(ctx, commitID, next == nil)
		if verr != nil {
			continue
		}
		if landed {
			h.applied(next, rev)
			return nil
		}
		if !owner {
			return fmt.Errorf("%s %s: %s: %w", op, h.name, h.whyFenced(ctx), ErrFenced)
		}
	}
	if lastErr == nil {
		lastErr = context.Cause(ctx)
	}
	return s.wrap(fmt.Sprintf("%s %s (outcome unknown: whoever holds the lineage next reads what landed)", op, h.name), lastErr)
}

func (h *Hold) applied(next *Meta, rev int64) {
	if next == nil {
		h.meta, h.metaRev = nil, 0
		return
	}
	next.ModRevision = rev
	h.meta, h.metaRev = next, rev
}

// verify reads back the metadata and the lock key after a write whose answer
// was lost.
func (h *Hold) verify(ctx context.Context, commitID string, deleted bool) (landed, owner bool, rev int64, err error) {
	s := h.se.s
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).Then(clientv3.OpGet(s.abs(metaKey(h.name))), clientv3.OpGet(h.lockKey)).Commit()
	if err != nil {
		return false, false, 0, err
	}
	mk := resp.Responses[0].GetResponseRange().Kvs
	lk := resp.Responses[1].GetResponseRange().Kvs
	owner = len(lk) > 0 && lk[0].CreateRevision == h.lockRev
	switch {
	case deleted:
		landed = len(mk) == 0 && h.metaRev != 0
	case len(mk) > 0:
		var m Meta
		if decodeMeta(mk[0].Value, &m) == nil && m.CommitID == commitID {
			landed, rev = true, mk[0].ModRevision
		}
	}
	return landed, owner, rev, nil
}

// whyFenced tells which guard refused a write.
func (h *Hold) whyFenced(ctx context.Context) string {
	s := h.se.s
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	resp, err := s.cli.Get(rctx, h.lockKey)
	if err != nil {
		return "this node no longer holds the lineage"
	}
	if len(resp.Kvs) == 0 {
		return "this node's lease expired and its lock is gone"
	}
	if resp.Kvs[0].CreateRevision != h.lockRev {
		var nr nodeRecord
		_ = json.Unmarshal(resp.Kvs[0].Value, &nr)
		return fmt.Sprintf("this node's lease expired; node %s holds the lineage now", nr.Node)
	}
	return "the lineage's record changed under the lock"
}

// mergeCancel returns ctx, also cancelled (with its cause) when other is.
func mergeCancel(ctx, other context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(other, func() { cancel(context.Cause(other)) })
	return c, func() { stop(); cancel(context.Canceled) }
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Version is one stored version of a lineage, its key decrypted.
type Version struct {
	N                         int
	CertPEM, ChainPEM, KeyPEM []byte
	// ReusedKey: the key is the previous version's.
	ReusedKey bool
	Created   time.Time
	Node      string
}

// Commit makes v the lineage's next version N+1 (1 for a lineage not in the
// cluster yet) in one fenced transaction: the version record (key sealed),
// the metadata (certificate facts, who renewed and when, failures and ARI
// cleared), the in-flight record deleted, version N-1 deleted (N and N+1
// stay). conf, when not nil, also replaces the shared renewal settings (node
// paths dropped); a new lineage needs it. With v.ReuseKey the current
// version's key is kept.
//
// It returns the new metadata, an error wrapping ErrFenced when this node no
// longer owns the lineage (nothing written), or one wrapping ErrUnavailable
// when etcd's answer was lost and could not be read back (the next holder
// sees either this version or the in-flight order; nothing is issued twice).
func (h *Hold) Commit(ctx context.Context, v *storage.Version, conf *storage.RenewalConf) (*Meta, error) {
	s := h.se.s
	if v == nil {
		return nil, fmt.Errorf("commit %s: no version", h.name)
	}
	if h.meta == nil && conf == nil {
		return nil, fmt.Errorf("commit %s: a new lineage needs its renewal conf", h.name)
	}
	keyPEM := v.KeyPEM
	if v.ReuseKey {
		if h.meta == nil {
			return nil, fmt.Errorf("commit %s: reuse key needs a previous version", h.name)
		}
		cur, err := s.version(ctx, h.name, h.meta.Version, 0)
		if err != nil {
			return nil, fmt.Errorf("commit %s: reuse key: %w", h.name, err)
		}
		keyPEM = cur.KeyPEM
	}
	facts, err := certFacts(v.CertPEM, v.ChainPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h.name, err)
	}
	next := &Meta{}
	if h.meta != nil {
		*next = *h.meta
	}
	n := next.Version + 1
	facts.apply(next)
	next.Version = n
	next.RenewedBy, next.RenewedAt = s.node, time.Now().UTC().Truncate(time.Second)
	next.Failures, next.LastError, next.FailedAt = 0, "", time.Time{}
	next.ARIStart, next.ARIEnd, next.ARIRetryAfter = time.Time{}, time.Time{}, time.Time{}
	rec := versionRecord{Cert: string(v.CertPEM), Chain: string(v.ChainPEM), ReusedKey: v.ReuseKey,
		Created: next.RenewedAt, Node: s.node, Key: s.key.Seal(certKey(h.name, n), versionField(v.CertPEM, v.ChainPEM), keyPEM)}
	rb, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h.name, err)
	}
	ops := []clientv3.Op{
		clientv3.OpPut(s.abs(certKey(h.name, n)), string(rb)),
		clientv3.OpDelete(s.abs(inflightKey(h.name))),
	}
	if n > 2 {
		ops = append(ops, clientv3.OpDelete(s.abs(certKey(h.name, n-2))))
	}
	if conf != nil {
		text, err := SharedSettings(conf)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", h.name, err)
		}
		settingsToMeta(conf, next)
		next.SettingsRev++
		ops = append(ops, clientv3.OpPut(s.abs(confKey(h.name)), string(s.key.Seal(confKey(h.name), "settings", text))))
	}
	if err := h.fenced(ctx, "commit", next, ops...); err != nil {
		return nil, err
	}
	h.flight, h.flightNode, h.flightErr = nil, "", nil
	s.log.LogAttrs(ctx, slog.LevelInfo, "cluster version committed", slog.String("lineage", h.name), slog.Int("version", n), slog.String("serial", next.Serial))
	return h.meta, nil
}

// UpdateSettings replaces the lineage's shared renewal settings (conf
// without node paths; reconfigure, or a renewal that changed them).
func (h *Hold) UpdateSettings(ctx context.Context, conf *storage.RenewalConf) error {
	if h.meta == nil {
		return fmt.Errorf("update settings %s: %w", h.name, ErrNotFound)
	}
	text, err := SharedSettings(conf)
	if err != nil {
		return fmt.Errorf("update settings %s: %w", h.name, err)
	}
	next := *h.meta
	settingsToMeta(conf, &next)
	next.SettingsRev++
	s := h.se.s
	return h.fenced(ctx, "update settings", &next, clientv3.OpPut(s.abs(confKey(h.name)), string(s.key.Seal(confKey(h.name), "settings", text))))
}

// UpdateMeta applies fn to a copy of the metadata and writes it (fenced):
// for the ARI window and retry time, failures. fn must not change Name,
// Version or SettingsRev.
func (h *Hold) UpdateMeta(ctx context.Context, fn func(*Meta)) error {
	if h.meta == nil {
		return fmt.Errorf("update %s: %w", h.name, ErrNotFound)
	}
	next := *h.meta
	fn(&next)
	next.Version, next.SettingsRev = h.meta.Version, h.meta.SettingsRev
	return h.fenced(ctx, "update", &next)
}

// RecordFailure counts a failed renewal (cleared by the next Commit).
func (h *Hold) RecordFailure(ctx context.Context, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return h.UpdateMeta(ctx, func(m *Meta) {
		m.Failures++
		m.LastError = msg
		m.FailedAt = time.Now().UTC().Truncate(time.Second)
	})
}

// SetARI records the CA's renewal window and when to ask again.
func (h *Hold) SetARI(ctx context.Context, start, end, retryAfter time.Time) error {
	return h.UpdateMeta(ctx, func(m *Meta) {
		m.ARIStart, m.ARIEnd, m.ARIRetryAfter = start.UTC(), end.UTC(), retryAfter.UTC()
	})
}

// SaveInFlight records the order about to be finalized (fenced; write it
// before the finalize request, and finalize only when it returned nil). name
// must be the held lineage (the signature is storage.InFlightStore's). A
// record that could not be resumed — no order URL, a CSR that does not
// verify, a key that does not match it — is refused.
func (h *Hold) SaveInFlight(ctx context.Context, name string, f *InFlight) error {
	s := h.se.s
	if name != h.name {
		return fmt.Errorf("record in-flight order of %s: this hold is for %s", name, h.name)
	}
	if h.meta == nil {
		return fmt.Errorf("record in-flight order of %s: the lineage is not in the cluster yet (commit its first version)", h.name)
	}
	if err := storage.CheckInFlight(f); err != nil {
		return fmt.Errorf("record in-flight order of %s: %w", h.name, err)
	}
	created := f.Created
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Second)
	r := inflightRecord{Server: f.Server, AccountID: f.AccountID, OrderURL: f.OrderURL, Identifiers: f.Identifiers,
		CSR: f.CSR, Key: s.key.Seal(inflightKey(h.name), "key", f.KeyPEM), Created: created, Node: s.node}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("record in-flight order of %s: %w", h.name, err)
	}
	next := *h.meta
	if err := h.fenced(ctx, "record in-flight order of", &next, clientv3.OpPut(s.abs(inflightKey(h.name)), string(b))); err != nil {
		return err
	}
	cp := *f
	cp.Created = created
	cp.Identifiers = slices.Clone(f.Identifiers)
	cp.CSR, cp.KeyPEM = slices.Clone(f.CSR), slices.Clone(f.KeyPEM)
	h.flight, h.flightNode, h.flightErr = &cp, s.node, nil
	return nil
}

// LoadInFlight returns the order recorded for the held lineage (read under
// the lock, or this Hold's own): an error wrapping storage.ErrNotFound (and
// ErrNotFound) when there is none, storage.ErrBroken when the record cannot
// be used (it does not open with the cluster key, or fails the record's
// checks) — the caller removes it and orders anew.
func (h *Hold) LoadInFlight(ctx context.Context, name string) (*InFlight, error) {
	switch {
	case name != h.name:
		return nil, fmt.Errorf("in-flight order of %s: this hold is for %s: %w", name, h.name, storage.ErrNotFound)
	case h.flightErr != nil:
		return nil, fmt.Errorf("in-flight order of %s: %w (%w)", name, h.flightErr, storage.ErrBroken)
	case h.flight == nil:
		return nil, fmt.Errorf("in-flight order of %s: %w (%w)", name, storage.ErrNotFound, ErrNotFound)
	}
	cp := *h.flight
	return &cp, nil
}

// RemoveInFlight deletes the in-flight record (the order turned invalid or
// expired, and a new one is needed); none is not an error.
func (h *Hold) RemoveInFlight(ctx context.Context, name string) error {
	if name != h.name {
		return fmt.Errorf("remove in-flight order of %s: this hold is for %s", name, h.name)
	}
	if h.meta == nil || (h.flight == nil && h.flightErr == nil) {
		return nil
	}
	next := *h.meta
	if err := h.fenced(ctx, "remove in-flight order of", &next, clientv3.OpDelete(h.se.s.abs(inflightKey(h.name)))); err != nil {
		return err
	}
	h.flight, h.flightNode, h.flightErr = nil, "", nil
	return nil
}

// openInFlight parses a stored record; withKey opens the sealed key.
func (s *Store) openInFlight(name string, b []byte, withKey bool) (*InFlight, string, error) {
	var r inflightRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, "", fmt.Errorf("in-flight order: %w", err)
	}
	f := &InFlight{Server: r.Server, AccountID: r.AccountID, OrderURL: r.OrderURL, Identifiers: r.Identifiers, CSR: r.CSR, Created: r.Created}
	if withKey {
		k, err := s.key.Open(inflightKey(name), "key", r.Key)
		if err != nil {
			return nil, r.Node, fmt.Errorf("in-flight order: %w", err)
		}
		f.KeyPEM = k
		if err := storage.CheckInFlight(f); err != nil {
			return nil, r.Node, fmt.Errorf("in-flight order: %w", err)
		}
	}
	return f, r.Node, nil
}

// Delete removes the lineage from the cluster (every node's local copy
// stays; Sync reports it as removed).
func (h *Hold) Delete(ctx context.Context) error {
	s := h.se.s
	if h.meta == nil {
		return fmt.Errorf("delete %s: %w", h.name, ErrNotFound)
	}
	return h.fenced(ctx, "delete", nil,
		clientv3.OpDelete(s.abs(confKey(h.name))),
		clientv3.OpDelete(s.abs(inflightKey(h.name))),
		clientv3.OpDelete(s.abs(certPrefix(h.name)), clientv3.WithPrefix()))
}

// Current returns the current version with its key decrypted.
func (h *Hold) Current(ctx context.Context) (*Version, error) {
	if h.meta == nil {
		return nil, fmt.Errorf("lineage %s: %w", h.name, ErrNotFound)
	}
	return h.se.s.version(ctx, h.name, h.meta.Version, 0)
}

// Current returns lineage name's current version (no lock needed: it is read
// at the revision of the metadata that names it).
func (s *Store) Current(ctx context.Context, name string) (*Version, *Meta, error) {
	m, err := s.Lineage(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.version(ctx, name, m.Version, m.ModRevision)
	if err != nil {
		return nil, nil, err
	}
	return v, m, nil
}

// version reads version n of name (at revision rev when > 0) and opens its key.
func (s *Store) version(ctx context.Context, name string, n int, rev int64) (*Version, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := s.cli.Get(rctx, s.abs(certKey(name, n)), opts...)
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("read lineage %s version %d", name, n), err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("lineage %s version %d: %w", name, n, ErrNotFound)
	}
	var r versionRecord
	if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
		return nil, fmt.Errorf("lineage %s version %d: %w", name, n, err)
	}
	key, err := s.key.Open(certKey(name, n), versionField(r.Cert, r.Chain), r.Key)
	if err != nil {
		return nil, fmt.Errorf("lineage %s version %d: %w", name, n, err)
	}
	if err := storage.KeyMatchesCert([]byte(r.Cert), key); err != nil {
		return nil, fmt.Errorf("lineage %s version %d: %w", name, n, err)
	}
	return &Version{N: n, CertPEM: []byte(r.Cert), ChainPEM: []byte(r.Chain), KeyPEM: key, ReusedKey: r.ReusedKey, Created: r.Created, Node: r.Node}, nil
}

// versionField is the associated-data field of a version's sealed key: it
// binds the key to the certificate and chain stored beside it, so a record
// whose certificate was replaced (even by one for the same public key) does
// not open.
func versionField[T string | []byte](cert, chain T) string {
	h := sha256.New()
	h.Write([]byte(cert))
	h.Write([]byte{0})
	h.Write([]byte(chain))
	return "privkey:" + hex.EncodeToString(h.Sum(nil))
}

// keyType names a public key's algorithm family.
func keyType(pub any) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "rsa"
	case *ecdsa.PublicKey:
		return "ecdsa"
	case ed25519.PublicKey:
		return "ed25519"
	}
	return "unknown"
}

// facts are what the metadata records of a certificate.
type facts struct {
	domains                []string
	serial, keyID, keyType string
	aki                    []byte
	notBefore, notAfter    time.Time
	noRevocationSource     bool
}

func (f *facts) apply(m *Meta) {
	m.Domains, m.Serial, m.KeyID, m.KeyType, m.AuthorityKeyID = f.domains, f.serial, f.keyID, f.keyType, f.aki
	m.NotBefore, m.NotAfter = f.notBefore, f.notAfter
	m.NoRevocationSource = f.noRevocationSource
}

// certFacts parses a version and checks that the key matches.
func certFacts(certPEM, chainPEM, keyPEM []byte) (*facts, error) {
	if err := storage.KeyMatchesCert(certPEM, keyPEM); err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("certificate: no CERTIFICATE PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(strings.TrimSpace(string(rest))) > 0 {
				return nil, errors.New("chain: trailing data that is not PEM")
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("chain: %s block", b.Type)
		}
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	f := &facts{serial: c.SerialNumber.Text(16), keyID: hex.EncodeToString(sum[:]), keyType: keyType(c.PublicKey), aki: c.AuthorityKeyId,
		notBefore: c.NotBefore.UTC(), notAfter: c.NotAfter.UTC(), noRevocationSource: len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0}
	f.domains = append(f.domains, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		f.domains = append(f.domains, ip.String())
	}
	return f, nil
}
