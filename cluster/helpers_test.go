package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/storage"
)

// One etcd for the tests that do not stop it; each test uses its own prefix.
var (
	sharedOnce sync.Once
	shared     *etcdtest.Server
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
		os.RemoveAll(shared.Dir)
	}
	os.Exit(code)
}

func sharedEtcd(t testing.TB) *etcdtest.Server {
	t.Helper()
	sharedOnce.Do(func() {
		parent := os.TempDir()
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			parent = "/dev/shm"
		}
		shared, sharedErr = etcdtest.Launch(etcdtest.Options{}, parent)
	})
	if sharedErr != nil {
		t.Fatalf("etcd: %v", sharedErr)
	}
	return shared
}

// testPrefix is a prefix unique to the test.
func testPrefix(t testing.TB) string {
	return "/t/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
}

// keyFile writes a cluster key file for the test.
func keyFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cluster.key")
	if _, err := GenerateKeyFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

type nodeOpts struct {
	ttl      time.Duration
	endpoint string // host:port (a proxy's), default the server's
	timeout  time.Duration
}

// openNode opens a Store as node name on srv under prefix.
func openNode(t testing.TB, srv *etcdtest.Server, prefix, key, name string, o nodeOpts) *Store {
	t.Helper()
	ep := o.endpoint
	if ep == "" {
		ep = srv.Addr
	}
	if o.timeout == 0 {
		o.timeout = 3 * time.Second
	}
	cfg := &Config{Endpoints: []string{ep}, Prefix: prefix, ClusterKeyFile: key, Node: name,
		SessionTTL: o.ttl, DialTimeout: o.timeout, RequestTimeout: o.timeout}
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCA signs test certificates.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

var (
	caOnce sync.Once
	theCA  *testCA
)

func ca() *testCA {
	caOnce.Do(func() {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cluster test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3, 4}}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		c, _ := x509.ParseCertificate(der)
		theCA = &testCA{key: k, cert: c, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	})
	return theCA
}

var serialMu sync.Mutex
var serialN int64 = 1000

// issue signs a certificate for pub and domains.
func (c *testCA) issue(t testing.TB, pub any, domains []string) []byte {
	serialMu.Lock()
	serialN++
	n := serialN
	serialMu.Unlock()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: domains[0]}, DNSNames: domains,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		t.Errorf("issue: %v", err)
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newKeyPEM(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// makeCSR is a DER CSR for domains signed by keyPEM.
func makeCSR(t testing.TB, keyPEM []byte, domains ...string) []byte {
	t.Helper()
	k, err := storage.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: domains[0]}, DNSNames: domains}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// makeVersion is a certificate, chain and new key for domains.
func makeVersion(t testing.TB, domains ...string) *storage.Version {
	k, kp := newKeyPEM(t)
	return &storage.Version{CertPEM: ca().issue(t, &k.PublicKey, domains), ChainPEM: ca().pem, KeyPEM: kp}
}

const testServer = "https://acme.example/directory"

func testConf() *storage.RenewalConf {
	c := &storage.RenewalConf{}
	c.Params.Server = testServer
	c.Params.Authenticator = "standalone"
	c.Params.KeyType = "ecdsa"
	c.RenewBeforeExpiry = "30 days"
	return c
}

// newTree is an empty certbot tree, on tmpfs when there is one (the storage
// writer fsyncs every file; the replica tests write hundreds).
func newTree(t testing.TB) *storage.Tree {
	t.Helper()
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "acmectl-cluster-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			dir = d
		}
	}
	tr, err := storage.Open(filepath.Join(dir, "letsencrypt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
