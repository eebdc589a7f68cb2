package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/acmectl/acmectl/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ChangeKind says what Sync did to a lineage of the node's tree.
type ChangeKind string

// Kinds of change. Created and Renewed put a new certificate in live/: run
// the lineage's deploy hook and reload the servers that use it.
const (
	ChangeCreated  ChangeKind = "created"  // a new local lineage (version 1)
	ChangeRenewed  ChangeKind = "renewed"  // a new version in archive/, live/ links swapped
	ChangeSettings ChangeKind = "settings" // only the renewal conf was rewritten
	ChangeRemoved  ChangeKind = "removed"  // gone from the cluster; the local copy is left alone
)

// Change is one lineage Sync changed.
type Change struct {
	Lineage string
	Kind    ChangeKind
	// Version is the cluster's version now in the tree, Serial its certificate.
	Version int
	Serial  string
	// Live is live/<lineage>, where the certificate is linked.
	Live string
}

// SyncReport is what one Sync did.
type SyncReport struct {
	Changes []Change
	// Checked counts lineages compared with the tree; the others were
	// unchanged since the last sync (same metadata revision).
	Checked, Unchanged int
	// Errs are the lineages that could not be synced (each names its
	// lineage); the others were.
	Errs []error
	// Revision is the etcd revision the metadata was read at.
	Revision int64
}

// Err joins Errs.
func (r *SyncReport) Err() error { return errors.Join(r.Errs...) }

// SyncOptions choose what Sync compares.
type SyncOptions struct {
	// Only limits the sync to these lineages (nil: all).
	Only []string
	// Verify compares every lineage with the tree, ignoring the record of
	// the last sync (after a restore, or when in doubt).
	Verify bool
	// Metas, when not nil, are the cluster's metadata already read at
	// Revision (a renew run passes what it listed).
	Metas    []*Meta
	Revision int64
	// takeOver lets Sync replace local lineages that do not carry the
	// cluster marker yet (Join).
	takeOver map[string]bool
}

// syncState is <config>/.acmectl/cluster-sync.json. It only lets Sync skip
// lineages that did not change since this node last synced them; a lost or
// stale state costs comparisons, never a wrong write (every write re-reads
// the cluster's newest version under the local lock). It stays small for
// 10,000 lineages: one revision for the last full sync, the few lineages
// synced or failed since, and the names the node has.
type syncState struct {
	Store string `json:"store"`
	KeyID string `json:"key_id"`
	// Rev: every lineage whose metadata revision is ≤ Rev is in the tree,
	// except those in Dirty.
	Rev int64 `json:"rev"`
	// Synced are lineages synced after Rev, at the metadata revision given.
	Synced map[string]int64 `json:"synced,omitempty"`
	// Dirty are lineages whose last sync failed.
	Dirty map[string]bool `json:"dirty,omitempty"`
	// Names are the cluster's lineages this node has, newline-separated
	// (one JSON string decodes far faster than 10,000).
	Names string `json:"names"`
}

func statePath(tree *storage.Tree) string {
	return filepath.Join(tree.Dir, ".acmectl", "cluster-sync.json")
}

func (s *Store) loadState(tree *storage.Tree) *syncState {
	st := &syncState{Store: s.display, KeyID: s.key.ID()}
	if b, err := os.ReadFile(statePath(tree)); err == nil {
		var disk syncState
		if json.Unmarshal(b, &disk) == nil && disk.Store == s.display && disk.KeyID == s.key.ID() {
			st = &disk
		}
	}
	if st.Synced == nil {
		st.Synced = map[string]int64{}
	}
	if st.Dirty == nil {
		st.Dirty = map[string]bool{}
	}
	return st
}

func (st *syncState) names() map[string]bool {
	out := map[string]bool{}
	for _, n := range strings.Split(st.Names, "\n") {
		if n != "" {
			out[n] = true
		}
	}
	return out
}

// unchanged: the node has m's revision (or a newer one) already.
func (st *syncState) unchanged(m *Meta) bool {
	if st.Dirty[m.Name] {
		return false
	}
	return m.ModRevision <= st.Rev || m.ModRevision <= st.Synced[m.Name]
}

// syncResult is what one Sync learned, merged into the state on disk.
type syncResult struct {
	full    bool  // every lineage of the cluster at rev was considered
	rev     int64 // metadata revision of a full sync
	synced  map[string]int64
	failed  []string
	removed []string
}

// saveState merges res into the state file (another sync may have written
// it meanwhile: the newer full revision wins, entries are united).
func (s *Store) saveState(tree *storage.Tree, res *syncResult) error {
	st := s.loadState(tree)
	names := st.names()
	if res.full && res.rev >= st.Rev {
		st.Rev = res.rev
		for n, r := range st.Synced {
			if r <= res.rev {
				delete(st.Synced, n)
			}
		}
		for n := range st.Dirty {
			if !slices.Contains(res.failed, n) {
				delete(st.Dirty, n)
			}
		}
	}
	for n, r := range res.synced {
		names[n] = true
		delete(st.Dirty, n)
		if r > st.Rev && r > st.Synced[n] {
			st.Synced[n] = r
		}
	}
	for _, n := range res.failed {
		st.Dirty[n] = true
	}
	for _, n := range res.removed {
		delete(names, n)
		delete(st.Synced, n)
		delete(st.Dirty, n)
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	st.Names = strings.Join(list, "\n")
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(statePath(tree)), 0o700); err != nil {
		return err
	}
	return storage.WriteFileAtomic(statePath(tree), b, 0o600)
}

// Sync writes the cluster's current version of each lineage into tree, the
// node's replica: a lineage missing locally is created, one whose local
// certificate is not the cluster's gets a new archive version and its live
// links swapped (storage's crash-safe writer), and the renewal conf is
// rewritten when the shared settings changed (autorenew = False and
// MarkerParam, so certbot never renews it). A local lineage of the same name
// that is not cluster-managed is left alone and reported (join the node
// first). Accounts the cluster's lineages use are written to the tree too, so
// certbot can renew them after Leave.
//
// Each write happens under the tree's lineage lock and writes the newest
// version etcd has at that moment, so concurrent syncs never move a lineage
// backwards. When etcd does not answer, Sync returns an error wrapping
// ErrUnavailable and has changed nothing.
func (s *Store) Sync(ctx context.Context, tree *storage.Tree, opts SyncOptions) (*SyncReport, error) {
	metas, rev := opts.Metas, opts.Revision
	var listErr error
	if metas == nil {
		var err error
		metas, rev, err = s.Lineages(ctx, opts.Only)
		if err != nil && metas == nil {
			return nil, err
		}
		listErr = err
	}
	rep := &SyncReport{Revision: rev}
	if listErr != nil {
		rep.Errs = append(rep.Errs, listErr)
	}
	p := &syncPass{
		tree: tree,
		opts: opts,
		st:   s.loadState(tree),
		rep:  rep,
		res:  &syncResult{full: opts.Only == nil && listErr == nil, rev: rev, synced: map[string]int64{}},
		seen: map[string]bool{},
	}
	if err := s.syncLineages(ctx, p, metas); err != nil {
		return rep, err
	}
	if p.res.full {
		p.noteRemoved()
	}
	if rep.Checked > 0 || len(p.res.removed) > 0 || (p.res.full && p.res.rev > p.st.Rev) {
		if err := s.saveState(tree, p.res); err != nil {
			rep.Errs = append(rep.Errs, fmt.Errorf("save sync state: %w", err))
		}
	}
	sort.Slice(rep.Changes, func(i, j int) bool { return rep.Changes[i].Lineage < rep.Changes[j].Lineage })
	for _, c := range rep.Changes {
		s.log.LogAttrs(ctx, slog.LevelInfo, "replica changed", slog.String("lineage", c.Lineage), slog.String("change", string(c.Kind)), slog.Int("version", c.Version))
	}
	return rep, firstUnavailable(rep.Errs)
}

// syncPass is one Sync under way: the tree and options it was given, the
// sync state it started from, and what it has done so far.
type syncPass struct {
	tree *storage.Tree
	opts SyncOptions
	st   *syncState
	rep  *SyncReport
	res  *syncResult
	seen map[string]bool // lineages of the listing reached so far
}

// syncLineages syncs the listed lineages in order, skipping those the state
// says are unchanged (unless Verify or a take-over) and writing the accounts
// before the first one it checks. It stops early, the pass no longer full,
// when ctx ends or etcd is unavailable; it returns an error only when etcd
// is unavailable while writing the accounts (that error is in p.rep too).
func (s *Store) syncLineages(ctx context.Context, p *syncPass, metas []*Meta) error {
	rep, res := p.rep, p.res
	accountsDone := false
	for _, m := range metas {
		p.seen[m.Name] = true
		if err := ctx.Err(); err != nil {
			rep.Errs = append(rep.Errs, fmt.Errorf("sync %s: %w", m.Name, context.Cause(ctx)))
			res.full = false
			break
		}
		if !p.opts.Verify && p.opts.takeOver == nil && p.st.unchanged(m) {
			rep.Unchanged++
			continue
		}
		if !accountsDone {
			if err := s.syncAccounts(ctx, p.tree); err != nil {
				rep.Errs = append(rep.Errs, err)
				if errors.Is(err, ErrUnavailable) {
					return err
				}
			}
			accountsDone = true
		}
		rep.Checked++
		ch, syncedRev, err := s.syncOne(ctx, p.tree, m.Name, p.opts.takeOver[m.Name])
		if err != nil {
			rep.Errs = append(rep.Errs, err)
			res.failed = append(res.failed, m.Name)
			if errors.Is(err, ErrUnavailable) {
				res.full = false
				break
			}
			continue
		}
		if syncedRev > 0 {
			res.synced[m.Name] = syncedRev
		}
		if ch != nil {
			rep.Changes = append(rep.Changes, *ch)
		}
	}
	return nil
}

// noteRemoved reports, after a full pass, the lineages the node had that the
// cluster no longer lists.
func (p *syncPass) noteRemoved() {
	for n := range p.st.names() {
		if !p.seen[n] {
			p.res.removed = append(p.res.removed, n)
			p.rep.Changes = append(p.rep.Changes, Change{Lineage: n, Kind: ChangeRemoved, Live: p.tree.LiveDir(n)})
		}
	}
}

// firstUnavailable returns the first of errs that wraps ErrUnavailable, or
// nil.
func firstUnavailable(errs []error) error {
	for _, e := range errs {
		if errors.Is(e, ErrUnavailable) {
			return e
		}
	}
	return nil
}

// syncOne brings one lineage of the tree to the cluster's newest version.
// It returns the change made (nil when none) and the metadata revision the
// tree now has (0 when the lineage is gone from the cluster).
func (s *Store) syncOne(ctx context.Context, tree *storage.Tree, name string, takeOver bool) (*Change, int64, error) {
	unlock, err := tree.LockLineage(ctx, name)
	if err != nil {
		return nil, 0, fmt.Errorf("sync %s: %w", name, err)
	}
	defer unlock()
	v, m, err := s.Current(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, 0, nil // deleted meanwhile: the next full sync reports it
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sync %s: %w", name, err)
	}
	r, err := s.examineReplica(ctx, tree, name, m, takeOver)
	if err != nil {
		return nil, 0, err
	}
	if !r.needConf {
		return nil, m.ModRevision, nil
	}
	conf, err := s.replicaConf(ctx, name, m)
	if err != nil {
		return nil, 0, err
	}
	ch := &Change{Lineage: name, Version: m.Version, Serial: m.Serial, Live: tree.LiveDir(name)}
	ver := &storage.Version{CertPEM: v.CertPEM, ChainPEM: v.ChainPEM, KeyPEM: v.KeyPEM}
	if ch.Kind, err = writeReplica(ctx, tree, name, r, ver, conf); err != nil {
		return nil, 0, err
	}
	return ch, m.ModRevision, nil
}

// localReplica is the tree's copy of a lineage as syncOne found it, and
// what it lacks against the cluster's current metadata.
type localReplica struct {
	// lineage is the copy; nil when there is none or it is broken.
	lineage *storage.Lineage
	// broken is why a copy being taken over could not be loaded (nil when
	// it could, or there is none).
	broken error
	// needVersion: the certificate is not the cluster's, write a new
	// version; needConf: write the renewal conf (always so with a version).
	needVersion, needConf bool
}

// examineReplica loads the tree's copy of lineage name and compares it with m.
// Unless takeOver, a copy that cannot be loaded is an error, and so is one
// this cluster does not manage (ErrConflict).
func (s *Store) examineReplica(ctx context.Context, tree *storage.Tree, name string, m *Meta, takeOver bool) (*localReplica, error) {
	local, lerr := tree.LoadLineage(ctx, name)
	broken := lerr != nil && !errors.Is(lerr, storage.ErrNotFound)
	if broken && !takeOver {
		return nil, fmt.Errorf("sync %s: local copy: %w", name, lerr)
	}
	if lerr != nil {
		local = nil
	}
	if local != nil && !takeOver {
		if store, ok := IsClusterManaged(local.Conf); !ok {
			return nil, fmt.Errorf("sync %s: %s holds a lineage of that name that this cluster does not manage: run acmectl cluster join on this node (or rename one of them): %w", name, tree.LiveDir(name), ErrConflict)
		} else if store != s.display {
			return nil, fmt.Errorf("sync %s: the local lineage belongs to cluster %s, not %s: %w", name, store, s.display, ErrConflict)
		}
	}
	r := &localReplica{lineage: local}
	if broken {
		r.broken = lerr
	}
	r.needVersion = local == nil || local.Cert.SerialNumber.Text(16) != m.Serial
	r.needConf = r.needVersion || takeOver
	if !r.needConf && local != nil {
		_, marked := IsClusterManaged(local.Conf)
		r.needConf = !marked || !local.Conf.Params.NoAutoRenew || settingsRev(local.Conf) != m.SettingsRev
	}
	return r, nil
}

// replicaConf is the local renewal conf of lineage name: its shared settings
// at m's revision, made a node's copy (LocalConf).
func (s *Store) replicaConf(ctx context.Context, name string, m *Meta) (*storage.RenewalConf, error) {
	shared, err := s.settings(ctx, name, m.ModRevision)
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", name, err)
	}
	conf, err := LocalConf(name, shared, s.display, m.SettingsRev)
	if err != nil {
		return nil, fmt.Errorf("sync %s: settings: %w", name, err)
	}
	return conf, nil
}

// writeReplica writes ver and conf as the tree's copy of lineage name and
// says what that changed: a broken copy is repaired and gets ver as a new
// version, a missing one is created, one with another certificate gets ver
// as a new version, and otherwise only the renewal conf is rewritten.
func writeReplica(ctx context.Context, tree *storage.Tree, name string, r *localReplica, ver *storage.Version, conf *storage.RenewalConf) (ChangeKind, error) {
	switch {
	case r.broken != nil:
		// A broken local copy being taken over: repair what storage can.
		if _, err := tree.RepairLineage(ctx, name); err != nil {
			return "", fmt.Errorf("sync %s: local copy is broken (%v): fix or delete it, then sync again", name, r.broken)
		}
		if _, err := tree.SaveVersion(ctx, name, ver, conf); err != nil {
			return "", fmt.Errorf("sync %s: %w", name, err)
		}
		return ChangeRenewed, nil
	case r.lineage == nil:
		if _, err := tree.CreateLineage(ctx, name, ver, conf); err != nil {
			return "", fmt.Errorf("sync %s: %w", name, err)
		}
		return ChangeCreated, nil
	case r.needVersion:
		if _, err := tree.SaveVersion(ctx, name, ver, conf); err != nil {
			return "", fmt.Errorf("sync %s: %w", name, err)
		}
		return ChangeRenewed, nil
	default:
		if err := tree.SaveRenewalConf(ctx, name, conf); err != nil {
			return "", fmt.Errorf("sync %s: %w", name, err)
		}
		return ChangeSettings, nil
	}
}

// settings reads P/conf/<name> (at rev when > 0).
func (s *Store) settings(ctx context.Context, name string, rev int64) ([]byte, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := s.cli.Get(rctx, s.abs(confKey(name)), opts...)
	if err != nil {
		return nil, s.wrap("read settings of "+name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("settings of %s: %w", name, ErrNotFound)
	}
	// Sealed although not secret: every node runs the hooks they name, so
	// only a holder of the cluster key may write them, not anyone who can
	// write to etcd.
	text, err := s.key.Open(confKey(name), "settings", resp.Kvs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("settings of %s: %w", name, err)
	}
	return text, nil
}

// Settings returns lineage name's shared renewal settings.
func (s *Store) Settings(ctx context.Context, name string) (*storage.RenewalConf, error) {
	b, err := s.settings(ctx, name, 0)
	if err != nil {
		return nil, err
	}
	return ParseSharedSettings(name, b)
}

// syncAccounts writes the cluster's accounts into the tree where missing.
func (s *Store) syncAccounts(ctx context.Context, tree *storage.Tree) error {
	accts, err := s.Accounts(ctx)
	if err != nil && accts == nil {
		return err
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, a := range accts {
		if _, err := tree.LoadAccount(ctx, a.Server, a.ID); err == nil {
			continue
		}
		if _, err := tree.SaveAccount(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("write account %s for %s: %w", a.ID, a.Server, err))
		}
	}
	return errors.Join(errs...)
}

// errLineageRemoved ends a watch so that a full sync reports the removal.
var errLineageRemoved = errors.New("a lineage was removed from the cluster")

// WatchOptions configure Watch.
type WatchOptions struct {
	// Debounce gathers changes for this long before syncing (default 500 ms).
	Debounce time.Duration
	// OnSync is called after each sync that changed something or failed.
	OnSync func(*SyncReport, error)
}

// Watch keeps tree in step with the cluster until ctx is cancelled (then it
// returns nil): a full Sync (Verify) first, then a Sync of the lineages whose
// metadata changed, as etcd reports them. When the watch breaks (etcd down,
// history compacted, member without leader) it waits — 1 s, doubling up to
// 30 s — and starts over with a full Sync. Every step is bounded by the
// Store's request timeout.
func (s *Store) Watch(ctx context.Context, tree *storage.Tree, opts WatchOptions) error {
	if opts.Debounce <= 0 {
		opts.Debounce = 500 * time.Millisecond
	}
	report := func(r *SyncReport, err error) {
		if opts.OnSync != nil && (err != nil || r == nil || len(r.Changes) > 0 || len(r.Errs) > 0) {
			opts.OnSync(r, err)
		}
	}
	backoff := time.Second
	for {
		rep, err := s.Sync(ctx, tree, SyncOptions{Verify: true})
		if ctx.Err() != nil {
			return nil
		}
		report(rep, err)
		if err != nil {
			if sleepCtx(ctx, backoff) != nil {
				return nil
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		err = s.watchFrom(ctx, tree, rep.Revision+1, opts, report)
		if errors.Is(err, errLineageRemoved) {
			continue
		}
		if err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "cluster watch broke; syncing again", slog.String("error", err.Error()))
			if sleepCtx(ctx, backoff) != nil {
				return nil
			}
			backoff = min(backoff*2, 30*time.Second)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// watchFrom follows P/meta/ and P/account/ from rev and syncs what changed.
func (s *Store) watchFrom(ctx context.Context, tree *storage.Tree, rev int64, opts WatchOptions, report func(*SyncReport, error)) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithProgressNotify())
	pending := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case resp, ok := <-wch:
			if !ok {
				return errors.New("watch channel closed")
			}
			if err := resp.Err(); err != nil {
				return err
			}
			for _, ev := range resp.Events {
				rel := s.rel(ev.Kv.Key)
				switch {
				case len(rel) > len(kMeta) && rel[:len(kMeta)] == kMeta && ev.Type == clientv3.EventTypeDelete:
					return errLineageRemoved // a full sync reports it
				case len(rel) > len(kMeta) && rel[:len(kMeta)] == kMeta:
					pending[rel[len(kMeta):]] = true
				case len(rel) > len(kAccount) && rel[:len(kAccount)] == kAccount:
					pending[""] = true // accounts: any lineage sync writes them
				}
			}
			if len(pending) > 0 && fire == nil {
				timer = time.NewTimer(opts.Debounce)
				fire = timer.C
			}
		case <-fire:
			fire = nil
			only := make([]string, 0, len(pending))
			accounts := false
			for n := range pending {
				if n == "" {
					accounts = true
					continue
				}
				only = append(only, n)
			}
			pending = map[string]bool{}
			sort.Strings(only)
			if accounts {
				if err := s.syncAccounts(ctx, tree); err != nil {
					report(nil, err)
				}
			}
			if len(only) == 0 {
				continue
			}
			rep, err := s.Sync(ctx, tree, SyncOptions{Only: only})
			if ctx.Err() != nil {
				return nil
			}
			report(rep, err)
			if err != nil {
				return err
			}
		}
	}
}
