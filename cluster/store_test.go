package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestOpenUnreachable: no etcd at the address → a fast error wrapping
// ErrUnavailable that names the address.
func TestOpenUnreachable(t *testing.T) {
	port, err := etcdtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	start := time.Now()
	_, err = Open(t.Context(), &Config{Endpoints: []string{addr}, ClusterKeyFile: keyFile(t), Node: "n", DialTimeout: time.Second})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open = %v, want ErrUnavailable naming %s", err, addr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %s to fail", d)
	}
}

// TestKeyMismatch: a node whose cluster key is not the cluster's is refused
// at Open, with both key IDs named.
func TestKeyMismatch(t *testing.T) {
	srv := sharedEtcd(t)
	p := testPrefix(t)
	a := openNode(t, srv, p, keyFile(t), "a", nodeOpts{})
	if err := a.initialize(t.Context()); err != nil {
		t.Fatal(err)
	}
	other := keyFile(t)
	k, _ := LoadKey(other)
	_, err := Open(t.Context(), &Config{Endpoints: []string{srv.Addr}, Prefix: p, ClusterKeyFile: other, Node: "b"})
	if err == nil || !strings.Contains(err.Error(), a.Key().ID()) || !strings.Contains(err.Error(), k.ID()) {
		t.Fatalf("Open with another key = %v, want both key IDs", err)
	}
	// An uninitialized prefix is not a cluster.
	b := openNode(t, srv, p+"-none", other, "b", nodeOpts{})
	if _, err := b.NewSession(t.Context()); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("NewSession on empty prefix = %v, want ErrNotInitialized", err)
	}
}

// TestCommitVersions: commits make versions 1, 2, 3; only the two newest
// stay; metadata follows the certificate; keys are sealed in etcd.
func TestCommitVersions(t *testing.T) {
	srv := sharedEtcd(t)
	p := testPrefix(t)
	s := openNode(t, srv, p, keyFile(t), "web1", nodeOpts{})
	ctx := t.Context()
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	se, err := s.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	h, err := se.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if h.Meta() != nil {
		t.Fatal("new lineage has metadata")
	}
	if _, err := h.Commit(ctx, makeVersion(t, "example.com"), nil); err == nil {
		t.Error("Commit of a new lineage without conf succeeded")
	}
	var versions [][]byte
	for i := 1; i <= 3; i++ {
		v := makeVersion(t, "example.com", "www.example.com")
		var conf = testConf()
		if i > 1 {
			conf = nil
		}
		m, err := h.Commit(ctx, v, conf)
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if m.Version != i || m.RenewedBy != "web1" || m.Server != testServer || m.RenewBeforeExpiry != "30 days" || len(m.Domains) != 2 {
			t.Errorf("meta after commit %d = %+v", i, m)
		}
		versions = append(versions, v.CertPEM)
	}
	h.Release()

	cur, m, err := s.Current(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if cur.N != 3 || !bytes.Equal(cur.CertPEM, versions[2]) || m.NotAfter.IsZero() || m.Serial == "" {
		t.Errorf("Current = version %d, meta %+v", cur.N, m)
	}
	raw, err := s.cli.Get(ctx, s.abs(kCert), clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range raw.Kvs {
		got = append(got, s.rel(kv.Key))
		if bytes.Contains(kv.Value, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a plaintext private key", kv.Key)
		}
	}
	if want := []string{certKey("example.com", 2), certKey("example.com", 3)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("versions in etcd = %v, want %v", got, want)
	}
	metas, _, err := s.Lineages(ctx, nil)
	if err != nil || len(metas) != 1 || metas[0].Name != "example.com" || metas[0].Version != 3 {
		t.Errorf("Lineages = %v, %v", metas, err)
	}
	conf, err := s.Settings(ctx, "example.com")
	if err != nil || conf.Params.Server != testServer || conf.Cert != "" {
		t.Errorf("Settings = %+v, %v", conf, err)
	}
	li := metas[0].Info()
	if li.Name != "example.com" || li.Serial != m.Serial || !li.NotAfter.Equal(m.NotAfter) || li.Conf.Server != testServer ||
		li.Conf.RenewBeforeExpiry != "30 days" || li.KeyType != "ECDSA" || len(li.Domains) != 2 {
		t.Errorf("Info() = %+v (conf %+v)", li, li.Conf)
	}
}

// TestTryLockOneOwner: three nodes contend for 40 lineages at once; each
// lineage has exactly one holder, the others get ErrHeld naming it.
func TestTryLockOneOwner(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("site%02d.example", i)
	}
	owners := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var heldErrs []error
	start := make(chan struct{})
	for n := range 3 {
		node := fmt.Sprintf("node%d", n)
		s := openNode(t, srv, p, key, node, nodeOpts{})
		if n == 0 {
			if err := s.initialize(ctx); err != nil {
				t.Fatal(err)
			}
		}
		se, err := s.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer se.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := append([]string(nil), names...)
			rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			<-start
			for _, name := range order {
				h, err := se.TryLock(ctx, name)
				mu.Lock()
				if err == nil {
					owners[name] = append(owners[name], node)
					_ = h // held until the session closes
				} else {
					heldErrs = append(heldErrs, err)
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, name := range names {
		if len(owners[name]) != 1 {
			t.Errorf("%s held by %v, want exactly one node", name, owners[name])
		}
	}
	if len(heldErrs) != 80 {
		t.Errorf("%d refusals, want 80", len(heldErrs))
	}
	for _, err := range heldErrs {
		if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "node node") {
			t.Errorf("refusal = %v, want ErrHeld naming the holder", err)
			break
		}
	}
}

// TestFencing: a holder that is cut off past its lease loses the lineage;
// another node takes it over and commits; the first node's late write —
// even one sent as if it had not noticed — is refused by etcd, and the
// second node's version stands.
func TestFencing(t *testing.T) {
	t.Parallel()
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	proxy, err := etcdtest.NewProxy(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a := openNode(t, srv, p, key, "slow", nodeOpts{ttl: 2 * time.Second, endpoint: proxy.Addr})
	b := openNode(t, srv, p, key, "fast", nodeOpts{ttl: 2 * time.Second})
	if err := b.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	// version 1, committed by b
	seB, err := b.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer seB.Close()
	hb, err := seB.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hb.Commit(ctx, makeVersion(t, "example.com"), testConf()); err != nil {
		t.Fatal(err)
	}
	hb.Release()

	seA, err := a.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer seA.Close()
	ha, err := seA.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	late := makeVersion(t, "example.com")

	proxy.Hold() // a is paused: nothing it sends arrives
	waitFor(t, 15*time.Second, "the cut-off holder's session to end", func() bool { return seA.Err() != nil })
	if !errors.Is(seA.Err(), ErrFenced) || ha.Context().Err() == nil {
		t.Errorf("session error %v, hold context %v: want lease loss to cancel the work", seA.Err(), ha.Context().Err())
	}
	var hb2 *Hold
	waitFor(t, 15*time.Second, "the other node to take the lineage over", func() bool {
		h, err := seB.TryLock(ctx, "example.com")
		if err == nil {
			hb2 = h
			return true
		}
		if !errors.Is(err, ErrHeld) {
			t.Fatalf("TryLock: %v", err)
		}
		return false
	})
	newer := makeVersion(t, "example.com")
	if _, err := hb2.Commit(ctx, newer, nil); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()

	// The late holder's write through the normal path is refused locally...
	if _, err := ha.Commit(ctx, late, nil); !errors.Is(err, ErrFenced) {
		t.Errorf("late Commit = %v, want ErrFenced", err)
	}
	// ...and sent anyway (a process that was paused and has not run its
	// watchdog yet), etcd refuses it.
	ha.skipLocalCheck = true
	_, err = ha.Commit(ctx, late, nil)
	if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "node fast holds") {
		t.Errorf("late Commit sent to etcd = %v, want ErrFenced naming the new holder", err)
	}
	if err := ha.SaveInFlight(ctx, "example.com", &InFlight{Server: testServer, OrderURL: "https://ca/order/1", Identifiers: []string{"example.com"},
		CSR: makeCSR(t, late.KeyPEM, "example.com"), KeyPEM: late.KeyPEM}); !errors.Is(err, ErrFenced) {
		t.Errorf("late SaveInFlight = %v, want ErrFenced", err)
	}
	cur, m, err := b.Current(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur.CertPEM, newer.CertPEM) || m.Version != 2 || m.RenewedBy != "fast" {
		t.Errorf("after the late write: version %d by %s, want version 2 by fast with its certificate", m.Version, m.RenewedBy)
	}
	hb2.Release()
}

// TestInFlightTakeover: the holder records its order before finalize and
// dies; the node that takes over reads the same order (key decrypted) and its
// commit clears the record.
func TestInFlightTakeover(t *testing.T) {
	t.Parallel()
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	a := openNode(t, srv, p, key, "a", nodeOpts{ttl: 2 * time.Second})
	b := openNode(t, srv, p, key, "b", nodeOpts{ttl: 2 * time.Second})
	if err := a.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	seA, err := a.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ha, err := seA.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ha.Commit(ctx, makeVersion(t, "example.com"), testConf()); err != nil {
		t.Fatal(err)
	}
	next := makeVersion(t, "example.com")
	f := &InFlight{Server: testServer, AccountID: "acct", OrderURL: "https://acme.example/order/42",
		Identifiers: []string{"example.com"}, CSR: makeCSR(t, next.KeyPEM, "example.com"), KeyPEM: next.KeyPEM}
	// A record that could not be resumed is refused.
	for name, bad := range map[string]*InFlight{
		"no order URL":       {Server: testServer, Identifiers: f.Identifiers, CSR: f.CSR, KeyPEM: f.KeyPEM},
		"key not the CSR's":  {Server: testServer, OrderURL: f.OrderURL, Identifiers: f.Identifiers, CSR: makeCSR(t, makeVersion(t, "x").KeyPEM, "example.com"), KeyPEM: f.KeyPEM},
		"CSR does not parse": {Server: testServer, OrderURL: f.OrderURL, Identifiers: f.Identifiers, CSR: []byte("csr"), KeyPEM: f.KeyPEM},
	} {
		if err := ha.SaveInFlight(ctx, "example.com", bad); err == nil {
			t.Errorf("SaveInFlight with %s succeeded", name)
		}
	}
	if err := ha.SaveInFlight(ctx, "other.example", f); err == nil {
		t.Error("SaveInFlight for another lineage succeeded")
	}
	if _, err := ha.LoadInFlight(ctx, "example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LoadInFlight before any = %v, want storage.ErrNotFound", err)
	}
	if err := ha.SaveInFlight(ctx, "example.com", f); err != nil {
		t.Fatal(err)
	}
	raw, _ := a.cli.Get(ctx, a.abs(inflightKey("example.com")))
	if len(raw.Kvs) != 1 || bytes.Contains(raw.Kvs[0].Value, []byte("PRIVATE KEY")) {
		t.Fatalf("in-flight record missing or holding a plaintext key")
	}
	// a dies without releasing: its lease runs out.
	a.Close()

	seB, err := b.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer seB.Close()
	var hb *Hold
	waitFor(t, 15*time.Second, "b to take over", func() bool {
		h, err := seB.TryLock(ctx, "example.com")
		hb = h
		return err == nil
	})
	got, node := hb.InFlight()
	if got == nil || got.OrderURL != f.OrderURL || !bytes.Equal(got.CSR, f.CSR) || !bytes.Equal(got.KeyPEM, f.KeyPEM) || node != "a" ||
		got.Server != testServer || got.AccountID != "acct" || got.Created.IsZero() {
		t.Fatalf("InFlight after takeover = %+v by %q", got, node)
	}
	if l, err := hb.LoadInFlight(ctx, "example.com"); err != nil || l.OrderURL != f.OrderURL {
		t.Errorf("LoadInFlight = %+v, %v", l, err)
	}
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lineages) != 1 || st.Lineages[0].Holder != "b" || st.Lineages[0].InFlight == nil || len(st.Lineages[0].InFlight.KeyPEM) != 0 || st.Lineages[0].InFlightNode != "a" {
		t.Errorf("status = %+v", st.Lineages)
	}
	// b finishes a's order: the certificate is for the recorded key.
	if _, err := hb.Commit(ctx, next, nil); err != nil {
		t.Fatal(err)
	}
	if f, _ := hb.InFlight(); f != nil {
		t.Error("commit kept the in-flight record")
	}
	if raw, _ := b.cli.Get(ctx, b.abs(inflightKey("example.com"))); len(raw.Kvs) != 0 {
		t.Error("in-flight record still in etcd after commit")
	}
	hb.Release()
}

// TestTamperedRecords: what someone with write access to etcd but without
// the cluster key changes is refused: a version's certificate replaced, a
// sealed key moved to another lineage, settings (hooks every node runs)
// rewritten, a metadata record named like a path. Sync writes none of it.
func TestTamperedRecords(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	s := openNode(t, srv, p, key, "web1", nodeOpts{})
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.example", "b.example", "c.example"} {
		commitAs(t, s, n, makeVersion(t, n))
	}
	get := func(rel string) []byte {
		r, err := s.cli.Get(ctx, s.abs(rel))
		if err != nil || len(r.Kvs) != 1 {
			t.Fatalf("get %s: %v", rel, err)
		}
		return r.Kvs[0].Value
	}
	put := func(rel string, v []byte) {
		if _, err := s.cli.Put(ctx, s.abs(rel), string(v)); err != nil {
			t.Fatal(err)
		}
	}
	// a: the certificate replaced by another one for the same key.
	var rec versionRecord
	json.Unmarshal(get(certKey("a.example", 1)), &rec)
	k, err := storage.ParsePrivateKeyPEM(must(s.key.Open(certKey("a.example", 1), versionField(rec.Cert, rec.Chain), rec.Key)))
	if err != nil {
		t.Fatal(err)
	}
	rec.Cert = string(ca().issue(t, k.Public(), []string{"a.example", "evil.example"}))
	b, _ := json.Marshal(rec)
	put(certKey("a.example", 1), b)
	// b: c's sealed key moved into b's version.
	var rb, rc versionRecord
	json.Unmarshal(get(certKey("b.example", 1)), &rb)
	json.Unmarshal(get(certKey("c.example", 1)), &rc)
	rb.Key = rc.Key
	b, _ = json.Marshal(rb)
	put(certKey("b.example", 1), b)
	// c: settings with a hook, written in plain text.
	put(confKey("c.example"), []byte("version = 2.1.0\n[renewalparams]\nserver = "+testServer+"\nrenew_hook = touch /tmp/pwned\n"))
	// a metadata record under a path-like name.
	put(kMeta+"../../etc", encodeMeta(&Meta{Name: "x", Domains: []string{"x"}}))
	// Readers read versions and settings at the metadata's revision: touch
	// the metadata so they see the tampered records.
	for _, n := range []string{"a.example", "b.example", "c.example"} {
		put(metaKey(n), get(metaKey(n)))
	}

	for _, n := range []string{"a.example", "b.example"} {
		if _, _, err := s.Current(ctx, n); !errors.Is(err, ErrTampered) {
			t.Errorf("Current(%s) = %v, want ErrTampered", n, err)
		}
	}
	if _, err := s.Settings(ctx, "c.example"); !errors.Is(err, ErrTampered) {
		t.Errorf("Settings(c) = %v, want ErrTampered", err)
	}
	metas, _, err := s.Lineages(ctx, nil)
	if len(metas) != 3 || err == nil || !strings.Contains(err.Error(), "meta/../../etc") {
		t.Errorf("Lineages = %d records, %v; want 3 and an error naming the bad key", len(metas), err)
	}
	tree := newTree(t)
	r, err := s.Sync(ctx, tree, SyncOptions{Metas: metas})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Changes) != 0 || len(r.Errs) != 3 {
		t.Errorf("sync of tampered records: changes %v, errors %v", r.Changes, r.Errs)
	}
	if infos, _ := tree.ListLineages(ctx); len(infos) != 0 {
		t.Errorf("tampered lineages written to the tree: %d", len(infos))
	}
}

// TestBrokenInFlight: an in-flight record that does not open (another
// cluster key, tampered) does not lock the lineage out: LoadInFlight says
// ErrBroken, the holder removes it and orders anew.
func TestBrokenInFlight(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	s := openNode(t, srv, p, key, "web1", nodeOpts{})
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	commitAs(t, s, "example.com", makeVersion(t, "example.com"))
	other, _ := LoadKey(keyFile(t))
	v := makeVersion(t, "example.com")
	b, _ := json.Marshal(inflightRecord{Server: testServer, OrderURL: "https://ca/order/1", Identifiers: []string{"example.com"},
		CSR: makeCSR(t, v.KeyPEM, "example.com"), Key: other.Seal(inflightKey("example.com"), "key", v.KeyPEM), Node: "elsewhere"})
	if _, err := s.cli.Put(ctx, s.abs(inflightKey("example.com")), string(b)); err != nil {
		t.Fatal(err)
	}
	se, err := s.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	h, err := se.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatalf("TryLock with a broken in-flight record: %v", err)
	}
	defer h.Release()
	if _, err := h.LoadInFlight(ctx, "example.com"); !errors.Is(err, storage.ErrBroken) || !errors.Is(err, ErrTampered) {
		t.Errorf("LoadInFlight = %v, want ErrBroken (ErrTampered)", err)
	}
	if err := h.RemoveInFlight(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.LoadInFlight(ctx, "example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LoadInFlight after remove = %v", err)
	}
	if r, _ := s.cli.Get(ctx, s.abs(inflightKey("example.com"))); len(r.Kvs) != 0 {
		t.Error("broken record still in etcd")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestWaitUnlocked: a wait for lineages another node holds ends when the
// last of them is released (not before), at once for lineages nobody
// holds, and with the context's error when a holder keeps its lock.
func TestWaitUnlocked(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	a := openNode(t, srv, p, key, "a", nodeOpts{})
	if err := a.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	b := openNode(t, srv, p, key, "b", nodeOpts{})
	se, err := a.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	h1, err := se.TryLock(ctx, "one.example")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := se.TryLock(ctx, "two.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitUnlocked(ctx, []string{"free.example"}); err != nil {
		t.Errorf("wait for a free lineage: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = b.WaitUnlocked(short, []string{"one.example"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for a held lineage past the deadline = %v, want DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	var released atomic.Int32
	go func() {
		err := b.WaitUnlocked(ctx, []string{"one.example", "two.example", "free.example"})
		if released.Load() != 2 {
			err = fmt.Errorf("returned after %d of 2 releases (%v)", released.Load(), err)
		}
		done <- err
	}()
	released.Add(1)
	h1.Release()
	select {
	case err := <-done:
		t.Fatalf("wait ended with one lineage still held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	released.Add(1)
	h2.Release()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not end after both releases")
	}
}

// TestRenewedMeanwhile: a run that listed a lineage and locks it after
// another node committed a new version is told so (its due decision is
// stale) instead of getting the lock; a lineage unchanged since the
// listing is locked.
func TestRenewedMeanwhile(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	a := openNode(t, srv, p, key, "a", nodeOpts{})
	if err := a.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	se, err := a.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	for _, name := range []string{"one.example", "two.example"} {
		h, err := se.TryLock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Commit(ctx, makeVersion(t, name), testConf()); err != nil {
			t.Fatal(err)
		}
		h.Release()
	}
	b := NewStorage(openNode(t, srv, p, key, "b", nodeOpts{}), newTree(t))
	defer b.Close()
	if _, err := b.ListLineages(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := se.TryLock(ctx, "one.example") // node a renews after b's listing
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Commit(ctx, makeVersion(t, "one.example"), nil); err != nil {
		t.Fatal(err)
	}
	h.Release()
	_, _, err = b.LockLineageContext(ctx, "one.example")
	if !errors.Is(err, ErrRenewedMeanwhile) || !strings.Contains(err.Error(), "node a") {
		t.Errorf("lock after another node's commit = %v, want ErrRenewedMeanwhile naming node a", err)
	}
	_, unlock, err := b.LockLineageContext(ctx, "two.example")
	if err != nil {
		t.Fatalf("lock of an unchanged lineage: %v", err)
	}
	unlock()
}
