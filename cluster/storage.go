package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Storage is the cluster seen as a storage.Storage: the store the engine
// renews and issues a node's cluster lineages in, so that the engine's
// renew and certonly run unchanged on them (a second store behind the same
// engine). It maps the interface onto the cluster's primitives:
//
//   - LockLineage takes the lineage with TryLock (one session per Storage,
//     started on the first lock and again after a lost lease): a lineage
//     another node holds fails at once with an error wrapping ErrHeld;
//     LockLineageContext also returns a context cancelled when the lease is
//     lost, to run the lineage's work under;
//   - LoadLineage, WalkLineages and LoadRenewalConf read etcd (under the lock
//     when held: the metadata read with it);
//   - CreateLineage and SaveVersion commit the version (fenced), then write
//     it into the node's tree at once (Sync of that lineage), so the engine's
//     deploy hooks and installer find it in live/;
//   - SetARIRetryAfter and SaveRenewalConf write the metadata and settings,
//     under the lineage's lock (taken for the write when not held);
//   - the in-flight methods (storage.InFlightStore) are the Hold's;
//   - accounts are the cluster's, one per CA, also kept in the tree: a node
//     without one shares its own (the first node to share wins, ListAccounts
//     and LoadAccount return the winner).
//
// A Storage serves one run and is safe for concurrent use (one goroutine per
// held lineage). Close ends its session, which releases every lock.
type Storage struct {
	s    *Store
	tree *storage.Tree

	mu     sync.Mutex
	se     *Session
	holds  map[string]*Hold
	listed map[string]bool
	full   *listing // the last WalkLineages/ListLineages of every lineage
	thumbs map[string]string
	// elsewhere are the lineages LockLineage found held by another node.
	elsewhere map[string]bool
	// seen is each listed lineage's version as the listing read it.
	seen map[string]int
}

// WaitElsewhere bounds how long SyncReplica waits for other nodes to finish
// the lineages this run found them renewing.
const WaitElsewhere = 2 * time.Minute

type listing struct {
	metas []*Meta
	rev   int64
}

var (
	_ storage.Storage       = (*Storage)(nil)
	_ storage.InFlightStore = (*Storage)(nil)
)

// NewStorage returns s as a storage.Storage over the node's tree (its replica).
func NewStorage(s *Store, tree *storage.Tree) *Storage {
	return &Storage{s: s, tree: tree, holds: map[string]*Hold{}, listed: map[string]bool{}, thumbs: map[string]string{}, elsewhere: map[string]bool{}, seen: map[string]int{}}
}

// Store is the cluster store underneath.
func (st *Storage) Store() *Store { return st.s }

// Tree is the node's tree.
func (st *Storage) Tree() *storage.Tree { return st.tree }

// Close ends the session (releasing every lock still held).
func (st *Storage) Close() {
	st.mu.Lock()
	se := st.se
	st.se = nil
	st.mu.Unlock()
	if se != nil {
		se.Close()
	}
}

// session returns the run's session, starting one when there is none or
// when the last one lost its lease.
func (st *Storage) session(ctx context.Context) (*Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.se != nil && st.se.Err() == nil {
		return st.se, nil
	}
	if st.se != nil {
		st.se.Close()
		st.se = nil
	}
	se, err := st.s.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	st.se = se
	return se, nil
}

func (st *Storage) hold(name string) *Hold {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.holds[name]
}

// Listed reports whether the lineage was in a listing of this Storage: the
// node's other lineages are its own.
func (st *Storage) Listed(name string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.listed[name]
}

// ListedNames are the names of every listing of this Storage, sorted.
func (st *Storage) ListedNames() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return keys(st.listed)
}

// LockLineage takes the lineage for this run (see LockLineageContext).
func (st *Storage) LockLineage(ctx context.Context, name string) (func(), error) {
	_, unlock, err := st.LockLineageContext(ctx, name)
	return unlock, err
}

// LockLineageContext takes the lineage without waiting: an error wrapping
// ErrHeld (naming the holder) when another node renews it, ErrRenewedMeanwhile
// when another node committed a version after this Storage listed it (the
// run's due decision came from the listing: re-checked under the lock), ErrUnavailable
// when etcd does not answer, a *ConflictError when the node has a lineage of
// that name that the cluster does not manage (join it first). The context
// returned is ctx, also cancelled when the session's lease is lost: run the
// lineage's work under it. unlock releases the lineage.
func (st *Storage) LockLineageContext(ctx context.Context, name string) (context.Context, func(), error) {
	if st.hold(name) != nil {
		return nil, nil, fmt.Errorf("lock lineage %s: already held by this run", name)
	}
	se, err := st.session(ctx)
	if err != nil {
		return nil, nil, err
	}
	h, err := se.TryLock(ctx, name)
	if errors.Is(err, ErrHeld) {
		st.mu.Lock()
		st.elsewhere[name] = true
		st.mu.Unlock()
	}
	if err != nil {
		return nil, nil, err
	}
	if h.Meta() == nil {
		if err := st.localConflict(ctx, name); err != nil {
			h.Release()
			return nil, nil, err
		}
	}
	st.mu.Lock()
	seen, listed := st.seen[name]
	st.mu.Unlock()
	if m := h.Meta(); listed && m != nil && m.Version != seen {
		// The run decided from the listing; another node renewed it since.
		h.Release()
		return nil, nil, fmt.Errorf("lineage %s was renewed by node %s during this run (version %d, listed as %d): %w",
			name, m.RenewedBy, m.Version, seen, ErrRenewedMeanwhile)
	}
	st.mu.Lock()
	st.holds[name] = h
	st.mu.Unlock()
	lctx, stop := mergeCancel(ctx, h.Context())
	var once sync.Once
	return lctx, func() {
		once.Do(func() {
			stop()
			st.mu.Lock()
			delete(st.holds, name)
			st.mu.Unlock()
			h.Release()
		})
	}, nil
}

// localConflict refuses a new cluster lineage whose name the node's tree
// uses for a lineage of its own (the replica could not be written).
func (st *Storage) localConflict(ctx context.Context, name string) error {
	conf, err := st.tree.LoadRenewalConf(ctx, name)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		if exists(st.tree.LiveDir(name)) {
			return &ConflictError{name, "this node has live/" + name + " without a renewal conf: remove it or choose another --cert-name"}
		}
		return nil
	}
	if err != nil {
		return &ConflictError{name, fmt.Sprintf("this node's renewal conf of that name cannot be read (%v): fix it or choose another --cert-name", err)}
	}
	if store, ok := IsClusterManaged(conf); ok && store == st.s.display {
		return nil // a replica of a lineage the cluster deleted: taken over again
	}
	return &ConflictError{name, "this node has a lineage of that name that the cluster does not manage: run acmectl cluster join --cert-name " + name + " first, or choose another --cert-name"}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// notFound wraps both packages' not-found sentinels, so that the engine's
// errors.Is(err, storage.ErrNotFound) holds.
func notFound(what string) error {
	return fmt.Errorf("%s: %w (%w)", what, ErrNotFound, storage.ErrNotFound)
}

// LoadLineage returns the lineage's current version from etcd (with its key
// and shared settings), or an error wrapping storage.ErrNotFound. Under this
// run's lock it is the version read with the lock. Paths are where the
// node's replica has (or will have) it.
func (st *Storage) LoadLineage(ctx context.Context, name string) (*storage.Lineage, error) {
	var v *Version
	var m *Meta
	if h := st.hold(name); h != nil {
		if h.Meta() == nil {
			return nil, notFound("lineage " + name)
		}
		cur, err := h.Current(ctx)
		if err != nil {
			return nil, err
		}
		v, m = cur, h.Meta()
	} else {
		cur, meta, err := st.s.Current(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil, notFound("lineage " + name)
		}
		if err != nil {
			return nil, err
		}
		v, m = cur, meta
	}
	conf, err := st.s.Settings(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("lineage %s: %w", name, err)
	}
	return st.lineage(name, m, v, conf)
}

func (st *Storage) lineage(name string, m *Meta, v *Version, conf *storage.RenewalConf) (*storage.Lineage, error) {
	cert, err := pemutil.ParseCert(v.CertPEM)
	if err != nil {
		return nil, fmt.Errorf("lineage %s version %d: %w", name, v.N, err)
	}
	key, err := pemutil.ParsePrivateKey(v.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("lineage %s version %d: key: %w", name, v.N, err)
	}
	full := append(append([]byte(nil), v.CertPEM...), v.ChainPEM...)
	if len(v.CertPEM) > 0 && v.CertPEM[len(v.CertPEM)-1] != '\n' {
		full = append(append(append([]byte(nil), v.CertPEM...), '\n'), v.ChainPEM...)
	}
	live := st.tree.LiveDir(name)
	conf.ARIRetryAfter = m.ARIRetryAfter
	return &storage.Lineage{Name: name, Version: m.Version,
		CertPath: filepath.Join(live, "cert.pem"), ChainPath: filepath.Join(live, "chain.pem"),
		FullchainPath: filepath.Join(live, "fullchain.pem"), KeyPath: filepath.Join(live, "privkey.pem"),
		ArchiveDir: st.tree.ArchiveDir(name),
		CertPEM:    v.CertPEM, ChainPEM: v.ChainPEM, FullchainPEM: full, KeyPEM: v.KeyPEM,
		Cert: cert, Key: key, Conf: conf, ConfPath: st.tree.RenewalConfPath(name), ARIRetryAfter: m.ARIRetryAfter}, nil
}

// info is m as a listing entry with the node's paths.
func (st *Storage) info(m *Meta) *storage.LineageInfo {
	li := m.Info()
	// m.Name is a valid lineage name (metaFromKV): one path element, so
	// joining by hand gives filepath.Join's result without its Clean of
	// each path (a tenth of a nothing-due run over 10,000 lineages).
	live := st.tree.LiveDir(m.Name) + string(filepath.Separator)
	li.CertPath, li.FullchainPath, li.KeyPath = live+"cert.pem", live+"fullchain.pem", live+"privkey.pem"
	li.ConfPath = st.tree.RenewalConfPath(m.Name)
	return li
}

// WalkLineages lists the cluster's lineages (only those named, when only is
// not nil) from one read of their metadata and calls fn for each in name
// order; fn's first error stops it. Unreadable records are returned as the
// error after the others were walked.
func (st *Storage) WalkLineages(ctx context.Context, only []string, fn func(*storage.LineageInfo) error) error {
	metas, rev, err := st.s.Lineages(ctx, only)
	if metas == nil && err != nil {
		return err
	}
	st.mu.Lock()
	for _, m := range metas {
		st.listed[m.Name] = true
		st.seen[m.Name] = m.Version
	}
	if only == nil && err == nil {
		st.full = &listing{metas: metas, rev: rev}
	}
	st.mu.Unlock()
	for _, m := range metas {
		if ferr := fn(st.info(m)); ferr != nil {
			return ferr
		}
	}
	return err
}

// ListLineages is WalkLineages collected.
func (st *Storage) ListLineages(ctx context.Context) ([]*storage.LineageInfo, error) {
	var out []*storage.LineageInfo
	err := st.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error { out = append(out, li); return nil })
	return out, err
}

// LiveDir is live/<name> of the node's tree.
func (st *Storage) LiveDir(name string) string { return st.tree.LiveDir(name) }

// UniqueLineageName is the tree's rule (certName, else the first name, then
// -0001, -0002, …) with names the cluster uses taken as well.
func (st *Storage) UniqueLineageName(ctx context.Context, certName string, domains []string) (string, error) {
	base, err := storage.LineageName(certName, domains)
	if err != nil {
		return "", err
	}
	for i := 0; i < 10000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%04d", base, i)
		}
		if exists(st.tree.RenewalConfPath(name)) || exists(st.tree.LiveDir(name)) || exists(st.tree.ArchiveDir(name)) {
			continue
		}
		_, err := st.s.Lineage(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("lineage name %s: no free name up to -9999", base)
}

// held returns this run's hold of name, or an error naming the caller's
// mistake (the engine writes only under LockLineage).
func (st *Storage) held(op, name string) (*Hold, error) {
	h := st.hold(name)
	if h == nil {
		return nil, fmt.Errorf("%s %s: the lineage is not locked by this run", op, name)
	}
	return h, nil
}

// CreateLineage commits version 1 of a lineage new to the cluster (it must be
// locked) and writes it into the node's tree.
func (st *Storage) CreateLineage(ctx context.Context, name string, v *storage.Version, conf *storage.RenewalConf) (*storage.Lineage, error) {
	h, err := st.held("create lineage", name)
	if err != nil {
		return nil, err
	}
	if h.Meta() != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, storage.ErrExist)
	}
	return st.commit(ctx, h, v, conf)
}

// SaveVersion commits the lineage's next version (it must be locked; conf
// nil keeps the shared settings) and writes it into the node's tree.
func (st *Storage) SaveVersion(ctx context.Context, name string, v *storage.Version, conf *storage.RenewalConf) (*storage.Lineage, error) {
	h, err := st.held("save version of", name)
	if err != nil {
		return nil, err
	}
	if h.Meta() == nil {
		return nil, notFound("lineage " + name)
	}
	return st.commit(ctx, h, v, conf)
}

func (st *Storage) commit(ctx context.Context, h *Hold, v *storage.Version, conf *storage.RenewalConf) (*storage.Lineage, error) {
	if conf != nil {
		c, err := withoutMarker(conf)
		if err != nil {
			return nil, err
		}
		conf = c
	}
	if _, err := h.Commit(ctx, v, conf); err != nil {
		return nil, err
	}
	return st.replicate(ctx, h.name)
}

// withoutMarker drops the node's cluster marker from a conf the engine
// built from a node's copy (it carries what the run read from the tree).
func withoutMarker(conf *storage.RenewalConf) (*storage.RenewalConf, error) {
	if _, ok := conf.Param(MarkerParam); !ok {
		return conf, nil
	}
	b, err := conf.Marshal()
	if err != nil {
		return nil, err
	}
	c, err := storage.ParseRenewalConf("renewal conf", b)
	if err != nil {
		return nil, err
	}
	c.DeleteParam(MarkerParam)
	c.DeleteParam(SettingsParam)
	return c, nil
}

// replicate writes the cluster's current version of name into the tree.
func (st *Storage) replicate(ctx context.Context, name string) (*storage.Lineage, error) {
	rep, err := st.s.Sync(ctx, st.tree, SyncOptions{Only: []string{name}})
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("the cluster has the new certificate of %s, but writing it into this node's tree failed (run acmectl cluster sync): %w", name, err)
	}
	return st.tree.LoadLineage(ctx, name)
}

// RepairLineage is for a node's own lineages: a cluster lineage is repaired
// by syncing it.
func (st *Storage) RepairLineage(ctx context.Context, name string) (*storage.Lineage, error) {
	return st.replicate(ctx, name)
}

// LoadRenewalConf returns the lineage's shared settings.
func (st *Storage) LoadRenewalConf(ctx context.Context, name string) (*storage.RenewalConf, error) {
	c, err := st.s.Settings(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("renewal conf of " + name)
	}
	return c, err
}

// withHold runs fn under this run's hold of name, or under a lock taken for
// it. A lineage another node holds is left to that node (nil).
func (st *Storage) withHold(ctx context.Context, name string, fn func(*Hold) error) error {
	if h := st.hold(name); h != nil {
		return fn(h)
	}
	se, err := st.session(ctx)
	if err != nil {
		return err
	}
	h, err := se.TryLock(ctx, name)
	if errors.Is(err, ErrHeld) {
		return nil
	}
	if err != nil {
		return err
	}
	defer h.Release()
	if h.Meta() == nil {
		return notFound("lineage " + name)
	}
	return fn(h)
}

// SaveRenewalConf replaces the lineage's shared settings.
func (st *Storage) SaveRenewalConf(ctx context.Context, name string, conf *storage.RenewalConf) error {
	c, err := withoutMarker(conf)
	if err != nil {
		return err
	}
	return st.withHold(ctx, name, func(h *Hold) error { return h.UpdateSettings(ctx, c) })
}

// SetARIRetryAfter records when to ask the CA for the lineage's ARI window
// again (shared: one node asks for the whole cluster).
func (st *Storage) SetARIRetryAfter(ctx context.Context, name string, at time.Time) error {
	return st.withHold(ctx, name, func(h *Hold) error {
		return h.UpdateMeta(ctx, func(m *Meta) { m.ARIRetryAfter = at.UTC().Truncate(time.Second) })
	})
}

// SetARIRetryAfters does SetARIRetryAfter for each lineage, in name order
// (each an update of its metadata in etcd under its hold). The serial is
// not needed here: a new version clears the metadata's time.
func (st *Storage) SetARIRetryAfters(ctx context.Context, times map[string]storage.ARIRetry) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(times)) {
		if err := st.SetARIRetryAfter(ctx, name, times[name].At); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteLineage removes the lineage from the cluster and from this node's
// tree (other nodes keep their copies; their sync reports it removed).
func (st *Storage) DeleteLineage(ctx context.Context, name string) error {
	err := st.withHold(ctx, name, func(h *Hold) error { return h.Delete(ctx) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if lerr := st.tree.DeleteLineage(ctx, name); lerr != nil && !errors.Is(lerr, storage.ErrNotFound) {
		return lerr
	}
	return nil
}

// SaveInFlight records the order about to be finalized: in etcd for a
// lineage the cluster has (any node that takes it over finishes it), in the
// node's tree for a lineage's first version (nothing in etcd to fence it
// with yet; only this node can resume it).
func (st *Storage) SaveInFlight(ctx context.Context, name string, f *storage.InFlight) error {
	h, err := st.held("record in-flight order of", name)
	if err != nil {
		return err
	}
	if h.Meta() == nil {
		return st.tree.SaveInFlight(ctx, name, f)
	}
	return h.SaveInFlight(ctx, name, f)
}

// LoadInFlight returns the order recorded for the held lineage (see
// Hold.LoadInFlight; the tree's record for a lineage's first version).
func (st *Storage) LoadInFlight(ctx context.Context, name string) (*storage.InFlight, error) {
	h, err := st.held("in-flight order of", name)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", err, storage.ErrNotFound)
	}
	if h.Meta() == nil {
		return st.tree.LoadInFlight(ctx, name)
	}
	return h.LoadInFlight(ctx, name)
}

// RemoveInFlight deletes the record (etcd's and the tree's).
func (st *Storage) RemoveInFlight(ctx context.Context, name string) error {
	h, err := st.held("remove in-flight order of", name)
	if err != nil {
		return err
	}
	terr := st.tree.RemoveInFlight(ctx, name)
	if h.Meta() == nil {
		return terr
	}
	return errors.Join(h.RemoveInFlight(ctx, name), terr)
}

// InFlightNames are the lineages with an order recorded in etcd.
func (st *Storage) InFlightNames(ctx context.Context) ([]string, error) {
	return st.s.InFlightNames(ctx)
}

// InFlightNames lists the lineages with an order in flight (keys only).
func (s *Store) InFlightNames(ctx context.Context) ([]string, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.abs(kInflight), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, s.wrap("list orders in flight", err)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if name := strings.TrimPrefix(s.rel(kv.Key), kInflight); validName(name) == nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// clusterAccount is the cluster's account for server, also saved in the
// tree when missing there; nil when the cluster has none.
func (st *Storage) clusterAccount(ctx context.Context, server string) (*storage.Account, error) {
	a, err := st.s.Account(ctx, server)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := st.tree.LoadAccount(ctx, server, a.ID); err != nil {
		cp := *a
		if _, err := st.tree.SaveAccount(ctx, &cp); err != nil {
			return nil, fmt.Errorf("save the cluster's account for %s in this node's tree: %w", server, err)
		}
	}
	return a, nil
}

// share shares a (a node's account) unless the cluster has one, and returns
// the cluster's account (saved in the tree too).
func (st *Storage) share(ctx context.Context, a *storage.Account) (*storage.Account, error) {
	got, err := st.s.ShareAccount(ctx, a)
	if err != nil {
		return nil, err
	}
	if got.ID != a.ID {
		st.s.log.LogAttrs(ctx, slog.LevelInfo, "another node shared the cluster's account first; using it", slog.String("server", a.Server), slog.String("account_id", got.ID))
		return st.clusterAccount(ctx, a.Server)
	}
	return got, nil
}

// SaveAccount saves a in the tree and shares it when the cluster has no
// account for its CA (LoadAccount then returns the cluster's account).
func (st *Storage) SaveAccount(ctx context.Context, a *storage.Account) (string, error) {
	id, err := st.tree.SaveAccount(ctx, a)
	if err != nil {
		return "", err
	}
	cp := *a
	cp.ID = id
	if _, err := st.share(ctx, &cp); err != nil {
		return "", fmt.Errorf("share account %s with the cluster: %w", id, err)
	}
	return id, nil
}

// LoadAccount returns the cluster's account for server, whatever id is
// named (the cluster has one account per CA); when the cluster has none,
// the node's account id, shared.
func (st *Storage) LoadAccount(ctx context.Context, server, id string) (*storage.Account, error) {
	if a, err := st.clusterAccount(ctx, server); a != nil || err != nil {
		return a, err
	}
	a, err := st.tree.LoadAccount(ctx, server, id)
	if err != nil {
		return nil, err
	}
	return st.share(ctx, a)
}

// ListAccounts returns the cluster's account for server; when the cluster
// has none, the node's (its only one shared).
func (st *Storage) ListAccounts(ctx context.Context, server string) ([]*storage.Account, error) {
	if a, err := st.clusterAccount(ctx, server); a != nil || err != nil {
		if a == nil {
			return nil, err
		}
		return []*storage.Account{a}, nil
	}
	accts, errs := st.tree.ListAccounts(ctx, server)
	if len(accts) != 1 {
		return accts, errs
	}
	a, err := st.share(ctx, accts[0])
	if err != nil {
		return nil, err
	}
	return []*storage.Account{a}, errs
}

// DeleteAccount removes the node's copy of an account (the cluster keeps
// its account: every node uses it).
func (st *Storage) DeleteAccount(ctx context.Context, server, id string) error {
	return st.tree.DeleteAccount(ctx, server, id)
}

// Thumbprint is the thumbprint of the cluster's account for server, else of
// its only account ("" when it has none): what every node's stateless
// http-01 responder answers with (cached for the run).
func (st *Storage) Thumbprint(ctx context.Context, server string) (string, error) {
	st.mu.Lock()
	th, ok := st.thumbs[server]
	st.mu.Unlock()
	if ok {
		return th, nil
	}
	th, err := st.s.ResponderThumbprint(ctx, server)
	if err != nil {
		return "", err
	}
	if th != "" { // none yet: asked again (another node may share one)
		st.mu.Lock()
		st.thumbs[server] = th
		st.mu.Unlock()
	}
	return th, nil
}

// ResponderThumbprint is the thumbprint a node's http-01 responder answers
// with: the cluster's account for server, else its only account; "" when
// the cluster has no account (or several, none for server).
func (s *Store) ResponderThumbprint(ctx context.Context, server string) (string, error) {
	if server != "" {
		th, err := s.AccountThumbprint(ctx, server)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return th, err
		}
	}
	accts, err := s.Accounts(ctx)
	if len(accts) != 1 {
		return "", err
	}
	return Thumbprint(accts[0].Key.Public())
}

// SyncReplica brings the node's tree up to the cluster after a run. It
// first waits (WaitElsewhere at most) for the other nodes to release the
// lineages this run found them renewing, then syncs the
// lineages of this run's full listing, with those that changed in etcd
// since (other nodes renewed them during the run) read anew, or, when the
// run listed only some, those read anew.
func (st *Storage) SyncReplica(ctx context.Context, only []string) (*SyncReport, error) {
	st.mu.Lock()
	full, elsewhere := st.full, keys(st.elsewhere)
	st.mu.Unlock()
	if len(elsewhere) > 0 {
		wctx, cancel := context.WithTimeout(ctx, WaitElsewhere)
		err := st.s.WaitUnlocked(wctx, elsewhere)
		cancel()
		if err != nil {
			st.s.log.LogAttrs(ctx, slog.LevelWarn, "other nodes are still renewing lineages; this node's copy of them follows on its next sync",
				slog.Int("lineages", len(elsewhere)), slog.String("error", err.Error()))
		}
	}
	opts := SyncOptions{Only: only}
	if only == nil && full != nil {
		changed, rev, err := st.s.LineagesSince(ctx, full.rev)
		if err != nil {
			return nil, err
		}
		opts.Metas, opts.Revision = mergeMetas(full.metas, changed), rev
	}
	return st.s.Sync(ctx, st.tree, opts)
}

// mergeMetas is metas with each lineage in newer replaced (or added).
func mergeMetas(metas, newer []*Meta) []*Meta {
	if len(newer) == 0 {
		return metas
	}
	byName := make(map[string]*Meta, len(newer))
	for _, m := range newer {
		byName[m.Name] = m
	}
	out := make([]*Meta, 0, len(metas)+len(newer))
	for _, m := range metas {
		if n := byName[m.Name]; n != nil {
			m = n
			delete(byName, m.Name)
		}
		out = append(out, m)
	}
	for _, m := range newer {
		if byName[m.Name] != nil {
			out = append(out, m)
		}
	}
	return out
}

// ManagedLocally lists the node's lineages that carry this cluster's marker
// (those a run renews through the cluster), read from the tree alone: what
// a run reports when etcd does not answer. Only those named in only, when it
// is not nil.
func ManagedLocally(ctx context.Context, tree *storage.Tree, store string, only []string) ([]*storage.LineageInfo, error) {
	var out []*storage.LineageInfo
	err := tree.WalkLineages(ctx, only, func(li *storage.LineageInfo) error {
		if li.Conf == nil || !li.Conf.NoAutoRenew {
			return nil // a replica always says autorenew = False
		}
		conf, err := tree.LoadRenewalConf(ctx, li.Name)
		if err != nil {
			return nil
		}
		if s, ok := IsClusterManaged(conf); ok && s == store {
			out = append(out, li)
		}
		return nil
	})
	return out, err
}

// HandBackLocal hands the node's lineages marked for store (only those
// named, when only is not nil) back to local renewal from the tree alone —
// marker removed, autorenew on — for a node leaving while etcd does not
// answer. It returns the lineages handed back.
func HandBackLocal(ctx context.Context, tree *storage.Tree, store string, only []string) ([]string, error) {
	lis, err := ManagedLocally(ctx, tree, store, only)
	if err != nil {
		return nil, err
	}
	var names []string
	var errs []error
	for _, li := range lis {
		conf, err := tree.LoadRenewalConf(ctx, li.Name)
		if err == nil {
			conf.DeleteParam(MarkerParam)
			conf.DeleteParam(SettingsParam)
			conf.Params.NoAutoRenew = false
			err = tree.SaveRenewalConf(ctx, li.Name, conf)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("leave %s: %w", li.Name, err))
			continue
		}
		names = append(names, li.Name)
	}
	return names, errors.Join(errs...)
}
