package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// populate writes n lineages' metadata as a renewal would leave it (no
// certificates: a nothing-due decision never reads them).
func populate(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := b.Context()
	if err := s.initialize(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var ops []clientv3.Op
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := s.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			b.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n {
		name := fmt.Sprintf("site%05d.example.com", i)
		m := &Meta{Name: name, Version: 3, Domains: []string{name, "www." + name}, Serial: fmt.Sprintf("%x", 1<<40+i),
			AuthorityKeyID: []byte("0123456789abcdefghij"), NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(89 * 24 * time.Hour),
			KeyID: fmt.Sprintf("%064x", i), Server: "https://acme-v02.api.letsencrypt.org/directory", Account: "0123456789abcdef0123456789abcdef",
			RenewBeforeExpiry: "30 days", ARIStart: now.Add(50 * 24 * time.Hour), ARIEnd: now.Add(52 * 24 * time.Hour),
			ARIRetryAfter: now.Add(6 * time.Hour), RenewedBy: "web3.example.net", RenewedAt: now.Add(-24 * time.Hour), SettingsRev: 1, CommitID: randomID()}
		ops = append(ops, clientv3.OpPut(s.abs(metaKey(name)), string(encodeMeta(m))))
		if len(ops) == 100 {
			flush()
		}
	}
	flush()
}

// nothingDue is the decision renew makes from the metadata alone: no
// lineage past its renew_before_expiry point or its ARI window, no ARI
// answer to fetch. It returns how many are due.
func nothingDue(metas []*Meta, now time.Time) int {
	due := 0
	for _, m := range metas {
		switch {
		case m.NoAutoRenew:
		case !m.ARIStart.IsZero() && now.After(m.ARIStart):
			due++
		case now.Add(30 * 24 * time.Hour).After(m.NotAfter):
			due++
		case !m.ARIRetryAfter.IsZero() && now.After(m.ARIRetryAfter):
			due++
		}
	}
	return due
}

// BenchmarkNothingDue10k: read the metadata of 10,000 lineages from etcd and
// decide that none is due (the cluster part of a nothing-due renew; target
// for the whole renew: under 0.3 s).
func BenchmarkNothingDue10k(b *testing.B) {
	srv := sharedEtcd(b)
	s := openNode(b, srv, "/bench/due", keyFile(b), "bench", nodeOpts{timeout: 30 * time.Second})
	populate(b, s, 10000)
	ctx := b.Context()
	b.ResetTimer()
	for b.Loop() {
		metas, _, err := s.Lineages(ctx, nil)
		if err != nil || len(metas) != 10000 {
			b.Fatalf("Lineages: %d, %v", len(metas), err)
		}
		if d := nothingDue(metas, time.Now()); d != 0 {
			b.Fatalf("%d due", d)
		}
	}
	b.ReportMetric(10000, "lineages/op")
}

// BenchmarkSyncUnchanged10k: the replica step after a nothing-due renew over
// 10,000 lineages: every lineage is at the revision the node last synced.
func BenchmarkSyncUnchanged10k(b *testing.B) {
	srv := sharedEtcd(b)
	s := openNode(b, srv, "/bench/sync", keyFile(b), "bench", nodeOpts{timeout: 30 * time.Second})
	populate(b, s, 10000)
	ctx := b.Context()
	tree := newTree(b)
	metas, rev, err := s.Lineages(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, len(metas))
	for i, m := range metas {
		names[i] = m.Name
	}
	st := &syncState{Store: s.display, KeyID: s.key.ID(), Rev: rev, Names: strings.Join(names, "\n")}
	data, _ := json.Marshal(st)
	os.MkdirAll(filepath.Dir(statePath(tree)), 0o700)
	if err := os.WriteFile(statePath(tree), data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Sync(ctx, tree, SyncOptions{Metas: metas, Revision: rev})
		if err != nil || r.Unchanged != 10000 || len(r.Changes) != 0 {
			b.Fatalf("Sync: unchanged %d, changes %d, %v", r.Unchanged, len(r.Changes), err)
		}
	}
}
