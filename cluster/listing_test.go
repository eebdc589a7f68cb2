package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestListingPagesAndSince: Lineages reads every record across several
// pages (asked ahead while the previous page is decoded) in name order at
// one revision; LineagesSince returns nothing and the same revision when
// nothing was written since, nothing but a newer revision when only another
// key changed, and exactly the changed record otherwise; a listing whose
// context ends fails instead of returning part of the records.
func TestListingPagesAndSince(t *testing.T) {
	srv := sharedEtcd(t)
	s := openNode(t, srv, testPrefix(t), keyFile(t), "web1", nodeOpts{})
	ctx := t.Context()
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 2*metaPage + 345
	ops := []clientv3.Op{}
	flush := func() {
		if _, err := s.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
		ops = ops[:0]
	}
	na := time.Now().Add(60 * 24 * time.Hour).UTC().Truncate(time.Second)
	for i := range n {
		m := &Meta{Version: 1, NotAfter: na, Serial: fmt.Sprintf("%x", i+1), Domains: []string{fmt.Sprintf("l%05d.example", i)}}
		ops = append(ops, clientv3.OpPut(s.abs(metaKey(fmt.Sprintf("l%05d.example", i))), string(encodeMeta(m))))
		if len(ops) == 100 {
			flush()
		}
	}
	flush()
	metas, rev, err := s.Lineages(ctx, nil)
	if err != nil || len(metas) != n {
		t.Fatalf("Lineages: %d records, %v; want %d", len(metas), err, n)
	}
	for i, m := range metas {
		if want := fmt.Sprintf("l%05d.example", i); m.Name != want || m.Serial != fmt.Sprintf("%x", i+1) {
			t.Fatalf("record %d: %s serial %s, want %s", i, m.Name, m.Serial, want)
		}
	}
	since, rev2, err := s.LineagesSince(ctx, rev)
	if err != nil || len(since) != 0 || rev2 != rev {
		t.Errorf("LineagesSince(%d) with nothing written: %d records, revision %d, %v", rev, len(since), rev2, err)
	}
	if _, err := s.cli.Put(ctx, s.abs("unrelated"), "x"); err != nil {
		t.Fatal(err)
	}
	since, rev3, err := s.LineagesSince(ctx, rev)
	if err != nil || len(since) != 0 || rev3 <= rev {
		t.Errorf("LineagesSince(%d) after another key changed: %d records, revision %d, %v", rev, len(since), rev3, err)
	}
	changed := metas[1234]
	changed.Version = 2
	if _, err := s.cli.Put(ctx, s.abs(metaKey(changed.Name)), string(encodeMeta(changed))); err != nil {
		t.Fatal(err)
	}
	since, rev4, err := s.LineagesSince(ctx, rev3)
	if err != nil || len(since) != 1 || since[0].Name != changed.Name || since[0].Version != 2 || rev4 <= rev3 {
		t.Errorf("LineagesSince(%d) after one record changed: %v, revision %d, %v", rev3, since, rev4, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if metas, _, err := s.Lineages(cctx, nil); err == nil {
		t.Errorf("Lineages with its context ended: %d records and no error", len(metas))
	}
}
