package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// errLeaseLost is the cause of a Session's context when its lease is gone.
var errLeaseLost = fmt.Errorf("session lease lost: %w", ErrFenced)

// Session is one run's membership in the cluster: an etcd lease (TTL
// Config.SessionTTL, 30 s) that every lock the run takes is bound to. When the
// lease cannot be renewed — etcd unreachable for longer than the TTL, or the
// lease revoked — Context is cancelled no later than etcd can expire the lease,
// so in-progress work stops before another node can take its lineages over.
//
// A Session is safe for concurrent use (one goroutine per held lineage).
type Session struct {
	s      *Store
	lease  clientv3.LeaseID
	ttl    time.Duration
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu         sync.Mutex
	validUntil time.Time
}

// NewSession grants a lease and starts renewing it until Close or until ctx is
// cancelled. It fails fast (ErrUnavailable) when etcd does not answer and
// with ErrNotInitialized when the prefix holds no cluster.
func (s *Store) NewSession(ctx context.Context) (*Session, error) {
	if _, err := s.format(ctx); err != nil {
		return nil, err
	}
	ttl := s.cfg.SessionTTL
	secs := int64((ttl + time.Second - 1) / time.Second)
	sent := time.Now()
	rctx, cancel := s.reqCtx(ctx)
	g, err := s.cli.Grant(rctx, secs)
	cancel()
	if err != nil {
		return nil, s.wrap("start session", err)
	}
	sctx, scancel := context.WithCancelCause(context.WithoutCancel(ctx))
	se := &Session{s: s, lease: g.ID, ttl: time.Duration(g.TTL) * time.Second, ctx: sctx, cancel: scancel, done: make(chan struct{})}
	se.validUntil = sent.Add(se.ttl)
	b, _ := json.Marshal(nodeRecord{Node: s.node, PID: os.Getpid(), Started: time.Now().UTC()})
	rctx, cancel = s.reqCtx(ctx)
	_, err = s.cli.Put(rctx, s.abs(kNode+leaseHex(g.ID)), string(b), clientv3.WithLease(g.ID))
	cancel()
	if err != nil {
		se.Close()
		return nil, s.wrap("start session", err)
	}
	go se.keepAlive(ctx)
	s.log.LogAttrs(ctx, slog.LevelDebug, "cluster session started", slog.String("lease", leaseHex(g.ID)), slog.Duration("ttl", se.ttl))
	return se, nil
}

func leaseHex(id clientv3.LeaseID) string { return strconv.FormatInt(int64(id), 16) }

// keepAlive renews the lease every TTL/3. Each success extends the lease's
// validity to the time the request was sent plus the TTL (etcd counts from
// when it received the request, which is later), so the local deadline never
// outlives the server's. The context is cancelled at that deadline, or at
// once when etcd says the lease is gone.
func (se *Session) keepAlive(parent context.Context) {
	defer close(se.done)
	interval := se.ttl / 3
	if interval < 200*time.Millisecond {
		interval = 200 * time.Millisecond
	}
	tick := time.NewTimer(interval)
	defer tick.Stop()
	for {
		se.mu.Lock()
		until := se.validUntil
		se.mu.Unlock()
		watchdog := time.NewTimer(time.Until(until))
		select {
		case <-se.ctx.Done():
			watchdog.Stop()
			return
		case <-parent.Done():
			watchdog.Stop()
			se.cancel(context.Cause(parent))
			return
		case <-watchdog.C:
			se.cancel(errLeaseLost)
			se.s.log.LogAttrs(context.Background(), slog.LevelWarn, "cluster session lost: etcd did not renew its lease in time", slog.String("lease", leaseHex(se.lease)))
			return
		case <-tick.C:
			watchdog.Stop()
		}
		sent := time.Now()
		// A request that outlives the lease is useless: bound it by the deadline.
		rctx, cancel := context.WithDeadline(se.ctx, until)
		resp, err := se.s.cli.KeepAliveOnce(rctx, se.lease)
		cancel()
		next := interval
		switch {
		case err == nil && resp.TTL > 0:
			se.mu.Lock()
			se.validUntil = sent.Add(time.Duration(resp.TTL) * time.Second)
			se.mu.Unlock()
		case errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && resp.TTL <= 0):
			se.cancel(errLeaseLost)
			return
		default:
			next = interval / 4 // etcd did not answer: try again sooner
		}
		tick.Reset(next)
	}
}

// Context is cancelled when the session ends: lease lost (cause wraps
// ErrFenced), Close, or the context NewSession was given cancelled.
func (se *Session) Context() context.Context { return se.ctx }

// Err is nil while the session holds its lease, else why it ended.
func (se *Session) Err() error {
	if se.ctx.Err() == nil {
		return nil
	}
	return context.Cause(se.ctx)
}

// Close ends the session and revokes its lease, which releases every lock it
// holds at once (bounded: when etcd does not answer, the lease expires by
// itself within the TTL).
func (se *Session) Close() {
	se.cancel(errors.New("session closed"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = se.s.cli.Revoke(ctx, se.lease)
}

// Hold is one lineage held by a session: read under its lock, written only
// through fenced transactions. A Hold is used by one goroutine.
type Hold struct {
	se      *Session
	name    string
	lockKey string
	lockRev int64 // create revision of our lock key
	meta    *Meta // nil: the lineage is not in the cluster yet
	metaRev int64 // meta's ModRevision read under the lock (0: absent)
	flight  *InFlight
	// flightNode recorded flight; flightErr is why a stored record cannot
	// be used.
	flightNode string
	flightErr  error
	// skipLocalCheck lets tests send a write after the session ended, to
	// prove that etcd itself refuses it.
	skipLocalCheck bool
	released       bool
}

// TryLock takes lineage name for this session without waiting: when another
// node holds it, the error wraps ErrHeld and names that node. Under the lock
// it reads the lineage's metadata and in-flight order (Hold.Meta,
// Hold.InFlight). name need not exist yet (a new lineage is created by its
// first Commit).
func (se *Session) TryLock(ctx context.Context, name string) (*Hold, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if err := se.Err(); err != nil {
		return nil, fmt.Errorf("lock lineage %s: %w", name, err)
	}
	s := se.s
	lk := s.abs(lockKey(name))
	b, _ := json.Marshal(nodeRecord{Node: s.node, PID: os.Getpid(), Started: time.Now().UTC()})
	rctx, cancel := s.reqCtx(ctx)
	resp, err := s.cli.Txn(rctx).
		If(clientv3.Compare(clientv3.CreateRevision(lk), "=", 0)).
		Then(clientv3.OpPut(lk, string(b), clientv3.WithLease(se.lease)),
			clientv3.OpGet(s.abs(metaKey(name))), clientv3.OpGet(s.abs(inflightKey(name)))).
		Else(clientv3.OpGet(lk)).
		Commit()
	cancel()
	if err != nil {
		// The put may have landed: delete it only if it is ours.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_, _ = s.cli.Txn(dctx).If(clientv3.Compare(clientv3.LeaseValue(lk), "=", se.lease)).Then(clientv3.OpDelete(lk)).Commit()
		dcancel()
		return nil, s.wrap("lock lineage "+name, err)
	}
	if !resp.Succeeded {
		holder := "another node"
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			var nr nodeRecord
			if json.Unmarshal(kvs[0].Value, &nr) == nil && nr.Node != "" {
				holder = fmt.Sprintf("node %s (pid %d, since %s)", nr.Node, nr.PID, nr.Started.Format(time.RFC3339))
			}
		}
		return nil, fmt.Errorf("lineage %s is being renewed by %s: %w", name, holder, ErrHeld)
	}
	h := &Hold{se: se, name: name, lockKey: lk, lockRev: resp.Header.Revision}
	if err := h.load(resp.Responses[1].GetResponseRange().Kvs, resp.Responses[2].GetResponseRange().Kvs); err != nil {
		h.Release()
		return nil, err
	}
	return h, nil
}

func (h *Hold) load(metaKvs, flightKvs []*mvccKV) error {
	s := h.se.s
	h.meta, h.metaRev, h.flight = nil, 0, nil
	if len(metaKvs) > 0 {
		m, err := s.metaFromKV(metaKvs[0])
		if err != nil {
			return fmt.Errorf("lineage %s: metadata: %w", h.name, err)
		}
		h.meta, h.metaRev = m, m.ModRevision
	}
	if len(flightKvs) > 0 {
		// A record that cannot be used does not stop the lineage: LoadInFlight
		// reports it (ErrBroken) and the holder removes it and orders anew.
		f, node, err := s.openInFlight(h.name, flightKvs[0].Value, true)
		h.flight, h.flightNode, h.flightErr = f, node, err
	}
	return nil
}

// Name is the lineage held.
func (h *Hold) Name() string { return h.name }

// Meta is the lineage's metadata as read under the lock (and as updated by
// this Hold's writes); nil when the lineage is not in the cluster yet. Do not
// modify it; use UpdateMeta.
func (h *Hold) Meta() *Meta { return h.meta }

// InFlight is the order another holder recorded and did not finish (or this
// Hold's own, after SaveInFlight), and the node that recorded it; nil when
// none or when the record cannot be used (LoadInFlight, storage's
// InFlightStore method, tells which).
func (h *Hold) InFlight() (*InFlight, string) { return h.flight, h.flightNode }

// Context is the session's: cancelled when the lease is lost. Run the
// lineage's work under it.
func (h *Hold) Context() context.Context { return h.se.ctx }

// Release unlocks the lineage (bounded; when etcd does not answer, the lock
// goes with the session's lease).
func (h *Hold) Release() {
	if h.released {
		return
	}
	h.released = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = h.se.s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(h.lockKey), "=", h.lockRev)).
		Then(clientv3.OpDelete(h.lockKey)).Commit()
}

// WaitUnlocked waits until no node holds any of the lineages named — each
// lock seen released (committed or given up) — or ctx ends (its error). It
// reads the locks, then watches them from that revision, so no release is
// missed.
func (s *Store) WaitUnlocked(ctx context.Context, names []string) error {
	rctx, cancel := s.reqCtx(ctx)
	resp, err := s.cli.Get(rctx, s.abs(kLock), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	cancel()
	if err != nil {
		return s.wrap("read the lineages other nodes hold", err)
	}
	held := map[string]bool{}
	for _, kv := range resp.Kvs {
		held[string(kv.Key)] = true
	}
	pending := map[string]bool{}
	for _, n := range names {
		if k := s.abs(lockKey(n)); held[k] {
			pending[k] = true
		}
	}
	if len(pending) == 0 {
		return nil
	}
	wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer wcancel()
	wch := s.cli.Watch(wctx, s.abs(kLock), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1), clientv3.WithFilterPut())
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d lineage(s) other nodes renew: %w", len(pending), context.Cause(ctx))
		case wr, ok := <-wch:
			if !ok {
				return fmt.Errorf("wait for %d lineage(s) other nodes renew: %w", len(pending), errors.Join(context.Cause(ctx), ErrUnavailable))
			}
			if err := wr.Err(); err != nil {
				return s.wrap("watch the lineages other nodes hold", err)
			}
			for _, ev := range wr.Events {
				delete(pending, string(ev.Kv.Key))
			}
		}
	}
	return nil
}
