package clustere2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/cluster"
	"github.com/acmectl/acmectl/internal/acmectlbin"
	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// acmectlBin is the binary the end-to-end tests of every package share
// (internal/acmectlbin: built once per state of the source).
func acmectlBin(t *testing.T) string {
	t.Helper()
	bin, err := acmectlbin.Path()
	if err != nil {
		t.Fatalf("build acmectl: %v", err)
	}
	return bin
}

// fastDir is a directory on tmpfs when there is one (the trees of three
// nodes × hundreds of lineages are fsynced file by file; the test is about
// coordination, not about the disk), else t.TempDir().
func fastDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "acmectl-clustere2e-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

type clusterMeta = cluster.Meta

// world is one test's etcd, Pebble (behind a request-counting proxy), the
// http-01 load balancer in front of the nodes, and the cluster key.
type world struct {
	t      *testing.T
	bin    string
	dir    string
	etcd   *etcdtest.Server
	pebble *pebbletest.Server
	ca     *faultproxy.Proxy
	lb     *roundRobin
	key    string
	prefix string
	nodes  []*node
}

type worldOpts struct {
	nodes int
	lease string // lease= of the store URL ("" = default)
	env   []string
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	w := &world{t: t, bin: acmectlBin(t), dir: fastDir(t), prefix: "/" + strings.ReplaceAll(t.Name(), "/", "_")}
	w.etcd = etcdtest.Start(t, etcdtest.Options{})
	w.lb = startRoundRobin(t)
	w.pebble = pebbletest.Start(t, pebbletest.Options{HTTPPort: w.lb.port, Env: o.env})
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	w.ca, err = faultproxy.Start(w.pebble.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"),
		filepath.Join(mod, "test/certs/localhost/key.pem"), w.pebble.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	w.ca.Serialize()
	t.Cleanup(func() { w.ca.Close() })
	w.key = filepath.Join(w.dir, "cluster.key")
	for i := 0; i < o.nodes; i++ {
		w.addNode(o.lease)
	}
	return w
}

// node is one server of the cluster: its own certbot tree and logs, its
// own http-01 port behind the load balancer, its own etcd connection
// (through a proxy that can cut it).
type node struct {
	w                  *world
	name               string
	config, work, logs string
	port               int
	etcdProxy          *etcdtest.Proxy
	lease              string
}

func (w *world) addNode(lease string) *node {
	i := len(w.nodes)
	n := &node{w: w, name: fmt.Sprintf("node%d", i), lease: lease}
	base := filepath.Join(w.dir, n.name)
	n.config, n.work, n.logs = filepath.Join(base, "config"), filepath.Join(base, "work"), filepath.Join(base, "logs")
	n.port = freePort(w.t)
	p, err := etcdtest.NewProxy(w.etcd.Addr)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(p.Close)
	n.etcdProxy = p
	w.lb.add(fmt.Sprintf("127.0.0.1:%d", n.port))
	w.nodes = append(w.nodes, n)
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	return pebbletest.FreePort(t)
}

// store is the node's store URL: its etcd proxy, the test's prefix, its name.
func (n *node) store() string {
	u := fmt.Sprintf("etcd://%s%s?node=%s", n.etcdProxy.Addr, n.w.prefix, n.name)
	if n.lease != "" {
		u += "&lease=" + n.lease
	}
	return u
}

// args are the flags every run of the node gets: its tree, Pebble's
// trust, the cluster (unless local), and a User-Agent naming the node.
func (n *node) args(args ...string) []string {
	local := len(args) > 0 && args[0] == "local"
	if local {
		args = args[1:]
	}
	args = append(args, "--config-dir", n.config, "--work-dir", n.work, "--logs-dir", n.logs,
		"--ca-bundle", n.w.pebble.CABundle, "--user-agent", "acmectl-"+n.name)
	if !local {
		args = append(args, "--store", n.store(), "--cluster-key-file", n.w.key)
	}
	return args
}

// standalone are the flags of http-01 on the node's own port.
func (n *node) standalone() []string {
	return []string{"--standalone", "--http-01-port", fmt.Sprint(n.port), "--http-01-address", "127.0.0.1"}
}

type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Round(time.Millisecond), tail(r.stdout), tail(r.stderr))
}

func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}

func (n *node) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(n.w.bin, n.args(args...)...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(n.w.dir, n.name, "xdg"), "ACMECTL_SYSTEM_CLI_INI=", "HOME="+filepath.Join(n.w.dir, n.name))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	return cmd, &so, &se
}

func (n *node) run(args ...string) result {
	n.w.t.Helper()
	cmd, so, se := n.command(args...)
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			n.w.t.Fatalf("%s: %v", n.name, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

func (n *node) mustRun(args ...string) result {
	n.w.t.Helper()
	r := n.run(args...)
	n.w.t.Logf("%s: acmectl %s: %s", n.name, strings.Join(args[:min(2, len(args))], " "), r.took.Round(time.Millisecond))
	if r.code != 0 {
		n.w.t.Fatalf("%s: acmectl %s: %s", n.name, strings.Join(args, " "), r)
	}
	return r
}

// tree opens the node's certbot tree.
func (n *node) tree() *storage.Tree {
	n.w.t.Helper()
	t, err := storage.Open(n.config, nil)
	if err != nil {
		n.w.t.Fatal(err)
	}
	return t
}

// clusterStore opens the cluster as an observer (not through a node's proxy).
func (w *world) clusterStore() *cluster.Store {
	w.t.Helper()
	s, err := cluster.Open(w.t.Context(), &cluster.Config{Endpoints: []string{w.etcd.Addr}, Prefix: w.prefix, ClusterKeyFile: w.key, Node: "observer"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { s.Close() })
	return s
}

// register makes the node's account at Pebble (through the counting proxy).
func (n *node) register() string {
	n.w.t.Helper()
	n.mustRun("local", "register", "-n", "--agree-tos", "-m", "ops@example.com", "--server", n.w.ca.DirectoryURL)
	accts, err := n.tree().ListAccounts(n.w.t.Context(), n.w.ca.DirectoryURL)
	if err != nil || len(accts) != 1 {
		n.w.t.Fatalf("accounts after register: %v, %v", accts, err)
	}
	return accts[0].ID
}

// fakeCA issues the "old" certificates a node had before the test: no
// authority key identifier, so the renewal orders carry no ARI "replaces"
// for a certificate Pebble never issued.
type fakeCA struct {
	key  *ecdsa.PrivateKey
	tmpl *x509.Certificate
	pem  []byte
}

func newFakeCA(t *testing.T) *fakeCA {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old test CA"},
		NotBefore: time.Now().Add(-365 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SubjectKeyId = nil // leaves get no authority key identifier
	return &fakeCA{key: k, tmpl: tmpl, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

var serial atomic.Int64

// dueVersion is a certificate for names that is due: 80 of 90 days gone.
func (ca *fakeCA) dueVersion(t *testing.T, names ...string) *storage.Version {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1000 + serial.Add(1)), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-80 * 24 * time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.tmpl, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pemutil.EncodePrivateKey(k)
	return &storage.Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ChainPEM: ca.pem, KeyPEM: keyPEM}
}

// seed writes n due lineages (site000.cluster.example.com, …) into the
// node's tree, renewing at the test's Pebble with account acct through the
// standalone authenticator, as certbot would have left them.
func (n *node) seed(acct string, count int, prefix string) []string {
	t := n.w.t
	t.Helper()
	tree := n.tree()
	ca := newFakeCA(t)
	names := make([]string, count)
	err := parallel(count, 8, func(i int) error {
		name := fmt.Sprintf("%s%03d.cluster.example.com", prefix, i)
		names[i] = name
		conf := &storage.RenewalConf{}
		conf.Params.Server, conf.Params.Account, conf.Params.Authenticator = n.w.ca.DirectoryURL, acct, "standalone"
		conf.Params.KeyType = "ecdsa"
		_, err := tree.CreateLineage(t.Context(), name, ca.dueVersion(t, name), conf)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func parallel(n, width int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, width)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// roundRobin is the load balancer in front of the nodes' http-01
// listeners: each validation request goes to the next node in turn; a node
// whose port refuses (its run ended) is passed over, as a load balancer's
// health check would. It records which node answered what.
type roundRobin struct {
	port int
	srv  *http.Server
	tr   *http.Transport

	mu       sync.Mutex
	backends []string
	next     int
	hits     []hit
}

type hit struct {
	backend int
	path    string
	status  int
}

func startRoundRobin(t *testing.T) *roundRobin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rr := &roundRobin{port: ln.Addr().(*net.TCPAddr).Port,
		tr: &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext, DisableKeepAlives: true, ResponseHeaderTimeout: 10 * time.Second}}
	rr.srv = &http.Server{Handler: rr, ReadHeaderTimeout: 10 * time.Second}
	go rr.srv.Serve(ln)
	t.Cleanup(func() { rr.srv.Close() })
	return rr
}

func (rr *roundRobin) add(backend string) {
	rr.mu.Lock()
	rr.backends = append(rr.backends, backend)
	rr.mu.Unlock()
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.mu.Lock()
	n := len(rr.backends)
	start := rr.next
	rr.next = (rr.next + 1) % max(1, n)
	backends := append([]string(nil), rr.backends...)
	rr.mu.Unlock()
	for k := 0; k < n; k++ {
		i := (start + k) % n
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://"+backends[i]+r.URL.RequestURI(), nil)
		req.Host = r.Host
		resp, err := rr.tr.RoundTrip(req)
		if err != nil {
			continue // not listening: the next node
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		rr.mu.Lock()
		rr.hits = append(rr.hits, hit{backend: i, path: r.URL.Path, status: resp.StatusCode})
		rr.mu.Unlock()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	http.Error(w, "no node listening", http.StatusBadGateway)
}

func (rr *roundRobin) reset() {
	rr.mu.Lock()
	rr.hits = nil
	rr.mu.Unlock()
}

func (rr *roundRobin) log() []hit {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]hit(nil), rr.hits...)
}

// keyMatches: the tree's live key is the live certificate's.
func keyMatches(t *testing.T, l *storage.Lineage) bool {
	k, err := pemutil.ParsePrivateKey(l.KeyPEM)
	if err != nil {
		t.Errorf("%s: %v", l.Name, err)
		return false
	}
	return pemutil.KeyMatches(l.Cert, k)
}

// checkReplicas: every node's tree serves the cluster's current
// certificate of every lineage, with the matching key, marked as a
// cluster lineage certbot does not renew.
func (w *world) checkReplicas(ctx context.Context, metas []*cluster.Meta) {
	w.t.Helper()
	for _, n := range w.nodes {
		tree := n.tree()
		bad := 0
		for _, m := range metas {
			l, err := tree.LoadLineage(ctx, m.Name)
			switch {
			case err != nil:
				w.t.Errorf("%s: %s: %v", n.name, m.Name, err)
			case l.Cert.SerialNumber.Text(16) != m.Serial:
				w.t.Errorf("%s: %s serves serial %s, the cluster's is %s", n.name, m.Name, l.Cert.SerialNumber.Text(16), m.Serial)
			case !keyMatches(w.t, l):
				w.t.Errorf("%s: %s: the live key does not match the live certificate", n.name, m.Name)
			case !l.Conf.Params.NoAutoRenew:
				w.t.Errorf("%s: %s: the local conf lacks autorenew = False", n.name, m.Name)
			default:
				continue
			}
			if bad++; bad > 5 {
				w.t.Fatalf("%s: more lineages differ", n.name)
			}
		}
	}
}
