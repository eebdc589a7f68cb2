package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestTLSAndPasswordAuth: etcd with TLS client certificates and user/password
// authentication, as an operator secures it: the store URL names the CA and
// the client certificate, the password comes from a file; a wrong password
// or a missing client certificate fails with a clear error that does not
// repeat the password.
func TestTLSAndPasswordAuth(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t, etcdtest.Options{TLS: true})
	ctx := t.Context()

	// Set up users as an administrator would (etcdctl user add …, auth enable).
	admin := adminClient(t, srv)
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "acmectl"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "acmectl", "/fleet/", clientv3.GetPrefixRangeEnd("/fleet/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := admin.UserAdd(ctx, "web", "correct horse"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "web", "acmectl"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("etcd auth setup: %v", err)
		}
	}
	admin.Close()

	dir := t.TempDir()
	pw := filepath.Join(dir, "etcd.pw")
	os.WriteFile(pw, []byte("correct horse\n"), 0o600)
	key := keyFile(t)
	url := "etcds://web@" + srv.Addr + "/fleet?ca=" + srv.CAFile + "&cert=" + srv.ClientCertFile + "&key=" + srv.ClientKeyFile +
		"&password-file=" + pw + "&cluster-key=" + key + "&node=web1"
	cfg, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RequestTimeout, cfg.DialTimeout = 5*time.Second, 5*time.Second
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open over TLS with password: %v", err)
	}
	defer s.Close()
	tree := certbotTree(t, map[string][]string{"example.com": {"example.com"}})
	if _, err := s.Join(ctx, tree, JoinOptions{}); err != nil {
		t.Fatalf("Join over TLS with auth: %v", err)
	}
	se, err := s.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := se.TryLock(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Commit(ctx, makeVersion(t, "example.com"), nil); err != nil {
		t.Fatalf("Commit with auth: %v", err)
	}
	h.Release()
	se.Close()

	// Wrong password.
	bad := *cfg
	bad.Password = NewSecret("battery staple")
	_, err = Open(ctx, &bad)
	if err == nil || strings.Contains(err.Error(), "battery staple") || strings.Contains(err.Error(), "correct horse") {
		t.Errorf("Open with a wrong password = %v", err)
	} else if !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("Open with a wrong password: %v, want the reason", err)
	}
	// No client certificate: the TLS handshake is refused.
	nocert := *cfg
	nocert.CertFile, nocert.KeyFile = "", ""
	nocert.DialTimeout = 2 * time.Second
	if _, err := Open(ctx, &nocert); err == nil {
		t.Error("Open without a client certificate succeeded")
	}
	// A key file others can read is refused before connecting.
	open := filepath.Join(dir, "client-key.pem")
	b, _ := os.ReadFile(srv.ClientKeyFile)
	os.WriteFile(open, b, 0o644)
	loose := *cfg
	loose.KeyFile = open
	if _, err := Open(ctx, &loose); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open with a world-readable client key = %v", err)
	}
	// Outside its role's prefix the user is refused.
	other := *cfg
	other.Prefix = "/elsewhere"
	o, err := Open(ctx, &other)
	if err == nil {
		_, err = o.Join(ctx, tree, JoinOptions{})
		o.Close()
	}
	if err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("Join outside the user's prefix = %v, want a permission error", err)
	}
}

func adminClient(t *testing.T, srv *etcdtest.Server) *clientv3.Client {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(srv.ClientCertFile, srv.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(srv.CAFile)
	pool.AppendCertsFromPEM(b)
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUnavailableChangesNothing: with etcd unreachable (connections hang),
// every call fails within the request timeout with ErrUnavailable and the
// node's tree is not touched.
func TestUnavailableChangesNothing(t *testing.T) {
	t.Parallel()
	srv := sharedEtcd(t)
	p, key := testPrefix(t), keyFile(t)
	proxy, err := etcdtest.NewProxy(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s := openNode(t, srv, p, key, "web1", nodeOpts{endpoint: proxy.Addr, timeout: time.Second})
	ctx := t.Context()
	if err := s.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	commitAs(t, s, "example.com", makeVersion(t, "example.com"))
	tree := newTree(t)
	if _, err := s.Sync(ctx, tree, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	before := snapshotTree(t, tree.Dir)
	proxy.Hold()
	defer proxy.Restore()
	for name, call := range map[string]func(context.Context) error{
		"Sync":        func(ctx context.Context) error { _, err := s.Sync(ctx, tree, SyncOptions{Verify: true}); return err },
		"NewSession":  func(ctx context.Context) error { _, err := s.NewSession(ctx); return err },
		"Lineages":    func(ctx context.Context) error { _, _, err := s.Lineages(ctx, nil); return err },
		"Status":      func(ctx context.Context) error { _, err := s.Status(ctx); return err },
		"Join":        func(ctx context.Context) error { _, err := s.Join(ctx, tree, JoinOptions{}); return err },
		"AccountInfo": func(ctx context.Context) error { _, err := s.AccountThumbprint(ctx, testServer); return err },
	} {
		start := time.Now()
		err := call(ctx)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with etcd unreachable = %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %s to fail", name, d)
		}
	}
	if after := snapshotTree(t, tree.Dir); after != before {
		t.Error("calls with etcd unreachable changed the tree")
	}
}

func snapshotTree(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !strings.Contains(path, "/.acmectl/") {
			b.WriteString(path + " " + fi.Mode().String() + "\n")
			if fi.Mode().IsRegular() {
				d, _ := os.ReadFile(path)
				b.Write(d)
			}
			if fi.Mode()&os.ModeSymlink != 0 {
				l, _ := os.Readlink(path)
				b.WriteString(l + "\n")
			}
		}
		return nil
	})
	return b.String()
}
