package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/storage"
)

// commitAs commits v for name as node s (new lineages get testConf).
func commitAs(t *testing.T, s *Store, name string, v *storage.Version) *Meta {
	t.Helper()
	ctx := t.Context()
	se, err := s.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	h, err := se.TryLock(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	var conf *storage.RenewalConf
	if h.Meta() == nil {
		conf = testConf()
	}
	m, err := h.Commit(ctx, v, conf)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func kinds(r *SyncReport) string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Lineage+":"+string(c.Kind))
	}
	return strings.Join(out, " ")
}

// TestSyncReplica: a node's tree gets the cluster's versions through the
// storage writer (new lineage, then new archive versions), with autorenew =
// False and the marker; unchanged lineages are skipped; a local lineage the
// cluster does not manage is not touched.
func TestSyncReplica(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	s := openNode(t, srv, p, key, "web1", nodeOpts{})
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	tree := newTree(t)
	v1 := makeVersion(t, "example.com")
	commitAs(t, s, "example.com", v1)
	commitAs(t, s, "other.example", makeVersion(t, "other.example"))

	r, err := s.Sync(ctx, tree, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(r); got != "example.com:created other.example:created" {
		t.Errorf("first sync changes = %q (%v)", got, r.Errs)
	}
	l, err := tree.LoadLineage(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.CertPEM, v1.CertPEM) || !bytes.Equal(l.KeyPEM, v1.KeyPEM) {
		t.Error("local lineage is not the cluster's version")
	}
	if !l.Conf.Params.NoAutoRenew || l.Conf.Params.Server != testServer {
		t.Errorf("local conf autorenew off = %v, server %q", l.Conf.Params.NoAutoRenew, l.Conf.Params.Server)
	}
	if st, ok := IsClusterManaged(l.Conf); !ok || st != s.String() {
		t.Errorf("marker = %q, %v", st, ok)
	}
	if l.Conf.Cert != filepath.Join(tree.LiveDir("example.com"), "cert.pem") {
		t.Errorf("local conf cert path = %q", l.Conf.Cert)
	}

	r, err = s.Sync(ctx, tree, SyncOptions{})
	if err != nil || len(r.Changes) != 0 || r.Unchanged != 2 {
		t.Errorf("second sync: %q, unchanged %d, %v", kinds(r), r.Unchanged, err)
	}
	// The sync state is only a shortcut: without it (or with garbage in
	// it) every lineage is compared and nothing is rewritten.
	for _, state := range []string{"", "{not json"} {
		if state == "" {
			os.Remove(statePath(tree))
		} else {
			os.WriteFile(statePath(tree), []byte(state), 0o600)
		}
		r, err = s.Sync(ctx, tree, SyncOptions{})
		if err != nil || len(r.Changes) != 0 || r.Checked != 2 {
			t.Errorf("sync with state %q: %q, checked %d, %v", state, kinds(r), r.Checked, err)
		}
	}
	v2 := makeVersion(t, "example.com")
	commitAs(t, s, "example.com", v2)
	r, err = s.Sync(ctx, tree, SyncOptions{})
	if err != nil || kinds(r) != "example.com:renewed" || r.Checked != 1 {
		t.Errorf("sync after renewal: %q checked %d, %v", kinds(r), r.Checked, err)
	}
	l, _ = tree.LoadLineage(ctx, "example.com")
	if !bytes.Equal(l.CertPEM, v2.CertPEM) || l.Version != 2 {
		t.Errorf("local version %d after renewal", l.Version)
	}

	// settings change only
	se, _ := s.NewSession(ctx)
	h, err := se.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := testConf()
	c.RenewBeforeExpiry = "10 days"
	if err := h.UpdateSettings(ctx, c); err != nil {
		t.Fatal(err)
	}
	h.Release()
	se.Close()
	r, err = s.Sync(ctx, tree, SyncOptions{})
	if err != nil || kinds(r) != "example.com:settings" {
		t.Errorf("sync after settings change: %q, %v", kinds(r), err)
	}
	if c, _ := tree.LoadRenewalConf(ctx, "example.com"); c.RenewBeforeExpiry != "10 days" || !c.Params.NoAutoRenew {
		t.Errorf("local conf after settings change: %+v", c)
	}

	// A local lineage of the same name the cluster does not manage.
	tree2 := newTree(t)
	if _, err := tree2.CreateLineage(ctx, "example.com", makeVersion(t, "example.com"), testConf()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(tree2.Dir, "renewal", "example.com.conf"))
	r, err = s.Sync(ctx, tree2, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errs) != 1 || !errors.Is(r.Errs[0], ErrConflict) || !strings.Contains(r.Errs[0].Error(), "cluster join") {
		t.Errorf("sync over an unmanaged lineage: %v", r.Errs)
	}
	after, _ := os.ReadFile(filepath.Join(tree2.Dir, "renewal", "example.com.conf"))
	if !bytes.Equal(before, after) {
		t.Error("sync rewrote an unmanaged lineage's conf")
	}

	// Removed from the cluster: reported, local copy kept.
	se, _ = s.NewSession(ctx)
	h, _ = se.TryLock(ctx, "other.example")
	if err := h.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	h.Release()
	se.Close()
	r, err = s.Sync(ctx, tree, SyncOptions{})
	if err != nil || kinds(r) != "other.example:removed" {
		t.Errorf("sync after delete: %q, %v", kinds(r), err)
	}
	if _, err := tree.LoadLineage(ctx, "other.example"); err != nil {
		t.Errorf("removed lineage's local copy: %v", err)
	}
}

// TestWatch: a long-running sync follows new versions as they are committed,
// catches up after its connection to etcd was cut, and stops when its
// context is cancelled.
func TestWatch(t *testing.T) {
	t.Parallel()
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	proxy, err := etcdtest.NewProxy(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s := openNode(t, srv, p, key, "web1", nodeOpts{endpoint: proxy.Addr, timeout: 2 * time.Second})
	writer := openNode(t, srv, p, key, "web2", nodeOpts{})
	if err := s.initialize(t.Context()); err != nil {
		t.Fatal(err)
	}
	commitAs(t, writer, "example.com", makeVersion(t, "example.com"))
	tree := newTree(t)
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var seen []string
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, tree, WatchOptions{Debounce: 50 * time.Millisecond, OnSync: func(r *SyncReport, err error) {
			mu.Lock()
			defer mu.Unlock()
			if r != nil {
				seen = append(seen, kinds(r))
			}
		}})
	}()
	has := func(want string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return strings.Contains(strings.Join(seen, " "), want)
		}
	}
	waitFor(t, 20*time.Second, "initial sync", has("example.com:created"))
	v2 := makeVersion(t, "example.com")
	commitAs(t, writer, "example.com", v2)
	waitFor(t, 20*time.Second, "watched renewal", has("example.com:renewed"))
	// Cut off: commits made meanwhile arrive after the connection is back.
	proxy.Cut()
	commitAs(t, writer, "new.example", makeVersion(t, "new.example"))
	v3 := makeVersion(t, "example.com")
	commitAs(t, writer, "example.com", v3)
	restore := time.AfterFunc(3*time.Second, proxy.Restore)
	defer restore.Stop()
	waitFor(t, 60*time.Second, "new lineage after reconnecting", has("new.example:created"))
	waitFor(t, 60*time.Second, "tree at the newest version", func() bool {
		l, err := tree.LoadLineage(t.Context(), "example.com")
		return err == nil && bytes.Equal(l.CertPEM, v3.CertPEM)
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch = %v after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Watch did not stop after cancel")
	}
}

// certbotTree makes a tree with one lineage and its account, as certbot would.
func certbotTree(t *testing.T, names map[string][]string) *storage.Tree {
	t.Helper()
	ctx := t.Context()
	tree := newTree(t)
	k, _ := newKeyPEM(t)
	id, err := tree.SaveAccount(ctx, &storage.Account{Server: testServer, URL: "https://acme.example/acct/1", Key: k})
	if err != nil {
		t.Fatal(err)
	}
	for name, domains := range names {
		c := testConf()
		c.Params.Account = id
		if _, err := tree.CreateLineage(ctx, name, makeVersion(t, domains...), c); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// TestJoinConflictsAndLeave: a first node's lineages and account join; a
// second node with conflicting lineages is refused with one clear error per
// lineage and nothing changes; with the same lineage and Adopt it takes the
// cluster's version; leave hands lineages back; certbot reads the marked
// confs and skips them.
func TestJoinConflictsAndLeave(t *testing.T) {
	t.Parallel()
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	n1 := openNode(t, srv, p, key, "web1", nodeOpts{})
	n2 := openNode(t, srv, p, key, "web2", nodeOpts{})
	t1 := certbotTree(t, map[string][]string{"example.com": {"example.com", "www.example.com"}, "shop.example": {"shop.example"}})
	rep, err := n1.Join(ctx, t1, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Imported, ",") != "example.com,shop.example" || len(rep.Accounts) != 1 {
		t.Errorf("join report = %+v", rep)
	}
	conf, _ := t1.LoadRenewalConf(ctx, "example.com")
	if !conf.Params.NoAutoRenew {
		t.Error("joined lineage still autorenews locally")
	}
	if _, ok := IsClusterManaged(conf); !ok {
		t.Error("joined lineage has no marker")
	}
	// a second join of the same node changes nothing
	if rep, err := n1.Join(ctx, t1, JoinOptions{}); err != nil || len(rep.Imported) != 0 || len(rep.Shared) != 2 {
		t.Errorf("second join = %+v, %v", rep, err)
	}

	t2 := certbotTree(t, map[string][]string{
		"example.com":      {"example.com"},                    // same name, other names
		"shop.example":     {"shop.example"},                   // same name and names, other key
		"www.example-0001": {"www.example.com", "example.com"}, // same names as example.com
		"fine.example":     {"fine.example"},
	})
	snapshot := func() string {
		var b strings.Builder
		filepath.Walk(t2.Dir, func(path string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() && !strings.Contains(path, "/.acmectl/") {
				d, _ := os.ReadFile(path)
				b.WriteString(path + "\n" + string(d))
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	metasBefore, revBefore, _ := n2.Lineages(ctx, nil)
	_, err = n2.Join(ctx, t2, JoinOptions{})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("conflicting join = %v, want ErrConflict", err)
	}
	for _, want := range []string{
		"lineage example.com: the cluster's lineage of that name is for example.com,www.example.com, this node's for example.com",
		"lineage shop.example: the cluster has it with another private key",
		"lineage www.example-0001: the cluster renews the same names with the same key type as lineage example.com",
		"nothing changed",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("join error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "fine.example") {
		t.Errorf("join error names a lineage without conflict:\n%v", err)
	}
	if after := snapshot(); after != before {
		t.Error("a refused join changed the node's tree")
	}
	metasAfter, revAfter, _ := n2.Lineages(ctx, nil)
	if len(metasAfter) != len(metasBefore) || revAfter != revBefore {
		t.Errorf("a refused join changed the cluster (revision %d → %d)", revBefore, revAfter)
	}

	// Only the lineage that is the same but for its key, adopted.
	rep, err = n2.Join(ctx, t2, JoinOptions{Only: []string{"shop.example", "fine.example"}, Adopt: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Adopted, ",") != "shop.example" || strings.Join(rep.Imported, ",") != "fine.example" || len(rep.Repointed) != 1 {
		t.Errorf("adopting join = %+v", rep)
	}
	l1, _ := t1.LoadLineage(ctx, "shop.example")
	l2, _ := t2.LoadLineage(ctx, "shop.example")
	if !bytes.Equal(l1.KeyPEM, l2.KeyPEM) || !bytes.Equal(l1.CertPEM, l2.CertPEM) {
		t.Error("adopted lineage does not have the cluster's key and certificate")
	}
	// The cluster's account is in node 2's tree now (certbot can use it after leave).
	acct, err := n2.Account(ctx, testServer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := t2.LoadAccount(ctx, testServer, acct.ID); err != nil {
		t.Errorf("cluster account not in node 2's tree: %v", err)
	}
	if c, _ := t2.LoadRenewalConf(ctx, "fine.example"); c.Params.Account != acct.ID {
		t.Errorf("imported lineage's account = %q, want the cluster's %q", c.Params.Account, acct.ID)
	}

	// certbot 2.x reads the marked confs and does not renew them.
	certbot(t, t1, "renew")

	lr, err := n1.Leave(ctx, t1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lr.HandedBack, ",") != "example.com,shop.example" {
		t.Errorf("handed back %v", lr.HandedBack)
	}
	conf, _ = t1.LoadRenewalConf(ctx, "example.com")
	if conf.Params.NoAutoRenew {
		t.Error("handed-back lineage still has autorenew = False")
	}
	if _, ok := IsClusterManaged(conf); ok {
		t.Error("handed-back lineage still has the marker")
	}
	if ms, _, _ := n1.Lineages(ctx, nil); len(ms) != 3 {
		t.Errorf("leave removed lineages from the cluster: %d left", len(ms))
	}
	st, err := n1.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lineages) != 3 || st.Lineages[0].RenewedBy != "web1" || len(st.Accounts) != 1 || st.Accounts[0].Thumbprint == "" {
		t.Errorf("status = %+v", st)
	}
}

// certbot runs Debian's certbot on tree and checks that it skips the
// cluster-managed lineages without errors about their confs.
func certbot(t *testing.T, tree *storage.Tree, verb string) {
	t.Helper()
	bin, err := exec.LookPath("certbot")
	if err != nil {
		t.Fatalf("certbot not installed (apt-get install certbot): %v", err)
	}
	work := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, verb, "--config-dir", tree.Dir, "--work-dir", work, "--logs-dir", work, "--non-interactive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("certbot %s: %v\n%s", verb, err, out)
	}
	s := string(out)
	if strings.Contains(s, "is broken") || strings.Contains(s, "parsefail") || !strings.Contains(s, "No renewals were attempted") {
		t.Errorf("certbot %s on a cluster-managed tree:\n%s", verb, s)
	}
}

// TestResponder: the key authorization is token.thumbprint; the thumbprint
// is RFC 7638's; hostile tokens are refused.
func TestResponder(t *testing.T) {
	r := Responder{Thumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}
	tok := "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
	if ka, ok := r.KeyAuthorization(tok); !ok || ka != tok+"."+r.Thumbprint {
		t.Errorf("KeyAuthorization = %q, %v", ka, ok)
	}
	for _, bad := range []string{"", "short", "../../../etc/passwd-aaaaaaaaaaaaaa", "tok/en" + strings.Repeat("a", 30), strings.Repeat("a", 300), "aaaaaaaaaaaaaaaaaaaaaaaa.b"} {
		if _, ok := r.KeyAuthorization(bad); ok {
			t.Errorf("KeyAuthorization(%q) accepted", bad)
		}
	}
	if _, ok := (Responder{}).KeyAuthorization(tok); ok {
		t.Error("a responder without thumbprint answered")
	}
}

// TestThumbprint: RFC 7638 §3: SHA-256 over the required members in
// lexicographic order, without white space.
func TestThumbprint(t *testing.T) {
	k, _ := newKeyPEM(t)
	size := 32
	x := base64.RawURLEncoding.EncodeToString(k.X.FillBytes(make([]byte, size)))
	y := base64.RawURLEncoding.EncodeToString(k.Y.FillBytes(make([]byte, size)))
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	got, err := Thumbprint(&k.PublicKey)
	if err != nil || got != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("Thumbprint = %q, %v", got, err)
	}
}

// TestShareAccountRace: two nodes share their own accounts for one CA at
// once; both end up with the same one.
func TestShareAccountRace(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	var got [2]*storage.Account
	var wg sync.WaitGroup
	for i := range 2 {
		s := openNode(t, srv, p, key, "n", nodeOpts{})
		k, _ := newKeyPEM(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := s.ShareAccount(ctx, &storage.Account{Server: testServer, URL: "https://acme.example/acct/x", Key: k})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = a
		}()
	}
	wg.Wait()
	if got[0] == nil || got[1] == nil || got[0].ID != got[1].ID {
		t.Fatalf("nodes use different accounts: %v %v", got[0], got[1])
	}
	s := openNode(t, srv, p, key, "n", nodeOpts{})
	th, err := s.AccountThumbprint(ctx, testServer)
	want, _ := Thumbprint(got[0].Key.Public())
	if err != nil || th != want {
		t.Errorf("AccountThumbprint = %q, %v; want %q", th, err, want)
	}
}

// fixtureTree unpacks the certbot 2.1 tree made by a real certbot run
// (testdata/certbot: a.example RSA, a.example-0001 ECDSA for the same
// names, webroot-map with reuse_key and a deploy hook).
func fixtureTree(t *testing.T) *storage.Tree {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "letsencrypt")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("tar", "-xzf", filepath.Join("..", "testdata", "certbot", "tree-2.1.tar.gz"), "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpack certbot fixture: %v\n%s", err, out)
	}
	tree, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// TestJoinCertbotFixture: a tree certbot made joins as it is (its RSA and
// ECDSA lineages for one name set included); the shared settings keep
// certbot's options and drop the node's paths; a second node with the same
// lineages joins without a new version, only its confs marked.
func TestJoinCertbotFixture(t *testing.T) {
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	ctx := t.Context()
	n1 := openNode(t, srv, p, key, "web1", nodeOpts{})
	t1 := fixtureTree(t)
	rep, err := n1.Join(ctx, t1, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Imported, ","); got != "a.example,a.example-0001,webroot-map" || len(rep.Accounts) != 1 {
		t.Errorf("join of certbot's tree = %+v", rep)
	}
	conf, err := n1.Settings(ctx, "webroot-map")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := conf.Marshal()
	if !conf.Params.ReuseKey || conf.Params.RenewHook != "true" || conf.Params.EllipticCurve != "secp384r1" ||
		strings.Contains(string(text), "config_dir") || strings.Contains(string(text), "archive_dir") || strings.Contains(string(text), "/live/") ||
		strings.Contains(string(text), MarkerParam) {
		t.Errorf("shared settings of webroot-map:\n%s", text)
	}
	t2 := fixtureTree(t)
	before, _ := t2.LoadLineage(ctx, "a.example")
	n2 := openNode(t, srv, p, key, "web2", nodeOpts{})
	rep, err = n2.Join(ctx, t2, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 0 || len(rep.Shared) != 3 || kinds(rep.Sync) != "a.example:settings a.example-0001:settings webroot-map:settings" {
		t.Errorf("second node's join = %+v, sync %q", rep, kinds(rep.Sync))
	}
	after, _ := t2.LoadLineage(ctx, "a.example")
	if after.Version != before.Version || !after.Conf.Params.NoAutoRenew {
		t.Errorf("second node's a.example: version %d → %d, autorenew off %v", before.Version, after.Version, after.Conf.Params.NoAutoRenew)
	}
}
