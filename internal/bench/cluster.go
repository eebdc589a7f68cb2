package main

// Issue 18's cases: acmectl clusters (certbot and lego have none). Each
// case has a second acmectl row doing the same work on one node's own tree
// ("acmectl, 1 node"), so the ratio column reads as the cluster's cost.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/internal/faultproxy"
)

const (
	clusterNodes    = 3
	clientLocalNode = "acmectl, 1 node"
)

// clusterCasesDoc is how cases 7 and 8 run (the report's list).
const clusterCasesDoc = "7. acmectl only (certbot and lego have no cluster): a tree of copies of `base.example` (as case 3) joins a cluster in an etcd the benchmark starts on loopback (`acmectl cluster join`); then `renew --store etcd://…` on that node, nothing due, reads every lineage from etcd and syncs the node's tree. The `acmectl, 1 node` row renews the same lineages from a plain tree.\n" +
	"8. Three nodes (three config dirs on this host, each its own `--store …?node=`) renew the same due lineages (`renew_before_expiry = 100 days`) at the same moment, http-01 through the benchmark's webroot; wall time is the three processes', requests and finalize requests are the CA's. One sample: afterwards nothing is due. The `acmectl, 1 node` row is one process renewing the same number from its own tree.\n"

// clusterSizes are the lineage counts of cases 7 (nothing due) and 8 (due).
func (b *bench) clusterSizes() (idle, due int) {
	if b.cfg.quick {
		return 20, 20
	}
	return 10000, 1000
}

// clusterCases are cases 7 and 8 against one etcd the benchmark starts.
func (b *bench) clusterCases(ctx context.Context, homes map[string]home) error {
	base, ok := homes["acmectl"]
	if !ok {
		return nil
	}
	parent := b.work // etcd fsyncs every transaction: tmpfs when there is one
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	srv, err := etcdtest.Launch(etcdtest.Options{}, parent)
	if err != nil {
		return fmt.Errorf("cluster cases: etcd: %w", err)
	}
	defer func() {
		srv.Stop()
		os.RemoveAll(srv.Dir)
	}()
	idle, due := b.clusterSizes()
	if b.cfg.cases[7] {
		if err := b.clusterIdle(ctx, srv, base, idle); err != nil {
			return err
		}
	}
	if !b.cfg.cases[8] {
		return nil
	}
	return b.clusterDue(ctx, srv, base, due)
}

// clusterArgs are a node's flags: its tree, the cluster at prefix, the key.
func (b *bench) clusterArgs(h home, srv *etcdtest.Server, prefix, node string) []string {
	return append([]string{"--store", fmt.Sprintf("etcd://%s/%s?node=%s", srv.Addr, prefix, node),
		"--cluster-key-file", filepath.Join(b.work, prefix+".key")}, b.certbotFlags(h)...)
}

// clusterJoin makes a cluster of the lineages in h (the first node,
// generating the key) and joins the empty nodes, which take copies.
func (b *bench) clusterJoin(ctx context.Context, srv *etcdtest.Server, prefix string, nodes []home) error {
	c := b.acmectl()
	for i, h := range nodes {
		args := append([]string{"cluster", "join", "-n"}, b.clusterArgs(h, srv, prefix, fmt.Sprintf("node%d", i))...)
		if i == 0 {
			args = append(args, "--generate-key")
		}
		t0 := time.Now()
		if _, err := b.exec(ctx, c, args, longTimeout); err != nil {
			return fmt.Errorf("cluster join: %w", err)
		}
		b.logf("acmectl: node%d joined %s in %s", i, prefix, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// clusterIdle is case 7: renew over n lineages none of which is due, read
// from etcd (the node's tree holds their copies), beside the same renew on
// a node's own tree of n lineages.
func (b *bench) clusterIdle(ctx context.Context, srv *etcdtest.Server, base home, n int) error {
	sc := fmt.Sprintf("7. cluster: renew, nothing due, %s lineages from etcd", thousands(n))
	// What a first run of the day leaves (see cloneTrees).
	ari := "[acme_renewal_info]\nari_retry_after = " + time.Now().UTC().Add(6*time.Hour).Format("2006-01-02T15:04:05") + "\n"
	node, local := newHome(b.work, "cluster7", "node0"), newHome(b.work, "cluster7", "local")
	for _, h := range []home{node, local} {
		if err := cloneCertbot(ctx, base, h, n, ari); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if err := b.clusterJoin(ctx, srv, "bench7", []home{node}); err != nil {
		return err
	}
	c := b.acmectl()
	rc := b.addRow(&row{scenario: sc, client: "acmectl", items: 1,
		note: fmt.Sprintf("cluster join of the %s lineages took %s", thousands(n), time.Since(t0).Round(100*time.Millisecond))})
	rl := b.addRow(&row{scenario: sc, client: clientLocalNode, items: 1, note: "the same lineages in the node's own tree, no cluster"})
	clusterRenew := append([]string{"renew", "--no-random-sleep-on-renew"}, b.clusterArgs(node, srv, "bench7", "node0")...)
	if _, err := b.exec(ctx, c, clusterRenew, longTimeout); err != nil { // the first sync of the replica
		return fmt.Errorf("cluster renew: %w", err)
	}
	for i := 0; i < b.cfg.reps; i++ {
		s, err := b.exec(ctx, c, clusterRenew, longTimeout)
		b.record(rc, s, err)
		s, err = b.exec(ctx, c, b.renewArgs(c, local), longTimeout)
		b.record(rl, s, err)
	}
	b.removeHomes(node, local)
	return ctx.Err()
}

// clusterDue is case 8: three nodes run renew at the same moment over n due
// lineages (http-01 through the webroot the benchmark serves, which all
// nodes write to, as a shared docroot would), beside one node renewing the
// same n lineages on its own tree. The note gives the CA's requests per
// certificate and the finalize requests (one per lineage when no node
// duplicated another's work).
func (b *bench) clusterDue(ctx context.Context, srv *etcdtest.Server, base home, n int) error {
	sc := fmt.Sprintf("8. cluster: %d nodes renew %s due lineages at once", clusterNodes, thousands(n))
	stop, err := b.serveWebroot()
	if err != nil {
		return err
	}
	defer stop()
	nodes := make([]home, clusterNodes)
	for i := range nodes {
		nodes[i] = newHome(b.work, "cluster8", fmt.Sprintf("node%d", i))
	}
	local := newHome(b.work, "cluster8", "local")
	for _, h := range []home{nodes[0], local} {
		if err := cloneCertbot(ctx, base, h, n, ""); err != nil {
			return err
		}
		if _, err := makeDue(h); err != nil {
			return err
		}
	}
	if err := b.clusterJoin(ctx, srv, "bench8", nodes); err != nil {
		return err
	}
	c := b.acmectl()
	web := []string{"--webroot", "-w", b.webroot, "--parallel", strconv.Itoa(b.cfg.parallel)}
	var argss [][]string
	for i, h := range nodes {
		argss = append(argss, append(append([]string{"renew", "--no-random-sleep-on-renew"}, web...),
			b.clusterArgs(h, srv, "bench8", fmt.Sprintf("node%d", i))...))
	}
	// One sample each: a second run would find nothing due.
	rc := b.addRow(&row{scenario: sc, client: "acmectl", items: n})
	s, err := b.execMany(ctx, c, argss, clusterNodes, longTimeout)
	rc.note = b.perCert(s, n, fmt.Sprintf("%d processes, renew --parallel %d each", clusterNodes, b.cfg.parallel))
	b.record(rc, s, err)
	rl := b.addRow(&row{scenario: sc, client: clientLocalNode, items: n})
	s, err = b.exec(ctx, c, append(b.renewArgs(c, local), web[:3]...), longTimeout)
	rl.note = b.perCert(s, n, fmt.Sprintf("one process, renew --parallel %d", b.cfg.parallel))
	b.record(rl, s, err)
	b.removeHomes(append(nodes, local)...)
	return ctx.Err()
}

// perCert is a note: the CA's requests per certificate and the finalize
// requests the last run sent.
func (b *bench) perCert(s sample, n int, what string) string {
	fin := 0
	for _, e := range b.proxy.Log() {
		if e.Step == faultproxy.Finalize {
			fin++
		}
	}
	return fmt.Sprintf("%s; %.1f CA requests per certificate, %d finalize requests for %d lineages", what, float64(s.reqs)/float64(n), fin, n)
}

func (b *bench) removeHomes(hs ...home) {
	if b.cfg.keep {
		return
	}
	for _, h := range hs {
		os.RemoveAll(h.dir)
	}
}

// acmectl is the acmectl client.
func (b *bench) acmectl() *client {
	for _, c := range b.clients {
		if c.name == "acmectl" {
			return c
		}
	}
	return b.clients[0]
}
