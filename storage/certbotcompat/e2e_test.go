package certbotcompat

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/storage"
)

var regen = flag.Bool("regen-certbot", false, "rewrite testdata/certbot/ fixture trees from a real certbot run")

const eabKID, eabKey = "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

type certbotEnv struct {
	t                        *testing.T
	s                        *pebbletest.Server
	config, work, logs, root string
}

func newCertbotEnv(t *testing.T, s *pebbletest.Server) *certbotEnv {
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot not installed (Debian package certbot): %v", err)
	}
	root := t.TempDir()
	e := &certbotEnv{t: t, s: s, root: root, config: filepath.Join(root, "config"),
		work: filepath.Join(root, "work"), logs: filepath.Join(root, "logs")}
	return e
}

// run runs certbot with the tree's dirs and Pebble's CA; it fails the test
// on a non-zero exit and returns stdout+stderr.
func (e *certbotEnv) run(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatalf("certbot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *certbotEnv) try(args ...string) (string, error) {
	// A bound, not a wait: certbot renew took up to ~2 min on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	all := append([]string{"--config-dir", e.config, "--work-dir", e.work, "--logs-dir", e.logs, "-n"}, args...)
	cmd := exec.CommandContext(ctx, "certbot", all...)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+e.s.CABundle)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// webrootServer serves <root-for-host>/.well-known/acme-challenge/ on the
// port Pebble's VA dials, picking the root by Host like a vhost setup.
func webrootServer(t *testing.T, port int, roots map[string]string) func() {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		root, ok := roots[host]
		if !ok || !strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			http.NotFound(w, r)
			return
		}
		http.FileServer(http.Dir(root)).ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	return func() { srv.Close() }
}

type certInfo struct{ name, serial, keyType, domains, certPath, keyPath string }

var certsRE = regexp.MustCompile(`(?m)^\s*(Certificate Name|Serial Number|Key Type|Domains|Identifiers|Certificate Path|Private Key Path): (.*)$`)

// certificates parses `certbot certificates`.
func (e *certbotEnv) certificates() map[string]*certInfo {
	out := e.run("certificates")
	m := map[string]*certInfo{}
	var cur *certInfo
	for _, g := range certsRE.FindAllStringSubmatch(out, -1) {
		v := strings.TrimSpace(g[2])
		switch g[1] {
		case "Certificate Name":
			cur = &certInfo{name: v}
			m[v] = cur
		case "Serial Number":
			cur.serial = v
		case "Key Type":
			cur.keyType = v
		case "Domains", "Identifiers":
			cur.domains = v
		case "Certificate Path":
			cur.certPath = v
		case "Private Key Path":
			cur.keyPath = v
		}
	}
	if strings.Contains(out, "skipping") || strings.Contains(out, "parsefail") {
		e.t.Errorf("certbot certificates complains:\n%s", out)
	}
	return m
}

// TestCertbotWritesStorageReadsE2E: certbot creates accounts and lineages
// (EAB, standalone RSA, webroot map ECDSA P-384 with reuse-key and a deploy
// hook, several versions) and storage reads every one as certbot does.
func TestCertbotWritesStorageReadsE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (certbot + Pebble) skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	s := pebbletest.Start(t, pebbletest.Options{EAB: map[string]string{eabKID: eabKey}})
	e := newCertbotEnv(t, s)
	srv := []string{"--server", s.DirectoryURL}
	e.run(append([]string{"register", "--agree-tos", "-m", "ops@example.com", "--no-eff-email",
		"--eab-kid", eabKID, "--eab-hmac-key", eabKey}, srv...)...)
	standalone := append([]string{"--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1"}, srv...)
	e.run(append([]string{"certonly", "-d", "a.example", "-d", "www.a.example", "--key-type", "rsa", "--rsa-key-size", "2048"}, standalone...)...)
	for i := 0; i < 2; i++ {
		e.run("renew", "--cert-name", "a.example", "--force-renewal", "--no-random-sleep-on-renew")
	}
	w1, w2 := filepath.Join(e.root, "www1"), filepath.Join(e.root, "www2")
	for _, d := range []string{w1, w2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stop := webrootServer(t, s.HTTPPort, map[string]string{"b.example": w1, "c.example": w1, "d.example": w2})
	e.run(append([]string{"certonly", "--webroot", "--webroot-map",
		fmt.Sprintf(`{"b.example,c.example": %q, "d.example": %q}`, w1, w2),
		"-d", "b.example,c.example,d.example", "--cert-name", "webroot-map",
		"--key-type", "ecdsa", "--elliptic-curve", "secp384r1", "--reuse-key", "--deploy-hook", "true"}, srv...)...)
	e.run("renew", "--cert-name", "webroot-map", "--force-renewal", "--no-random-sleep-on-renew")
	stop()
	// a wildcard-less second lineage for the same first domain collides
	e.run(append([]string{"certonly", "-d", "a.example", "--duplicate", "--key-type", "ecdsa"}, standalone...)...)

	tr, err := storage.Open(e.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTreeAgainstCertbot(t, e, tr, s.DirectoryURL)

	// renewal params as certbot wrote them
	l, err := tr.LoadLineage(ctx, "webroot-map")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Conf.Params
	wantMap := []storage.KV{{Key: "b.example", Value: w1}, {Key: "c.example", Value: w1}, {Key: "d.example", Value: w2}}
	if p.Authenticator != "webroot" || p.KeyType != "ecdsa" || p.EllipticCurve != "secp384r1" || !p.ReuseKey ||
		p.RenewHook != "true" || p.Server != s.DirectoryURL || !slices.Equal(p.WebrootMap, wantMap) {
		t.Errorf("webroot-map params = %+v", p)
	}
	if l.Version != 2 {
		t.Errorf("webroot-map version = %d, want 2", l.Version)
	}
	// certbot 2.x writes the reused key again (older certbots made privkey2.pem a symlink)
	k1, _ := os.ReadFile(filepath.Join(l.ArchiveDir, "privkey1.pem"))
	if !bytes.Equal(k1, l.KeyPEM) {
		t.Errorf("certbot --reuse-key: privkey2.pem differs from privkey1.pem")
	}
	la, err := tr.LoadLineage(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	if la.Version != 3 || la.Conf.Params.KeyType != "rsa" ||
		la.Conf.Params.Authenticator != "standalone" || la.Conf.Params.HTTP01Port != s.HTTPPort {
		t.Errorf("a.example version %d params %+v", la.Version, la.Conf.Params)
	}
	if _, err := tr.LoadLineage(ctx, "a.example-0001"); err != nil {
		t.Errorf("collision lineage a.example-0001: %v", err)
	}
	if got, _ := tr.UniqueLineageName(ctx, "", []string{"a.example"}); got != "a.example-0002" {
		t.Errorf("UniqueLineageName after certbot's -0001 = %q", got)
	}

	if *regen {
		dst := filepath.Join(t.TempDir(), "tree")
		for _, d := range []string{"accounts", "archive", "live", "renewal"} {
			if err := copyTree(filepath.Join(e.config, d), filepath.Join(dst, d)); err != nil {
				t.Fatal(err)
			}
		}
		meta := map[string]any{"certbot_version": strings.TrimSpace(strings.TrimPrefix(e.run("--version"), "certbot")),
			"server": s.DirectoryURL, "generated": time.Now().UTC().Format(time.RFC3339), "webroots": []string{w1, w2}}
		b, _ := json.MarshalIndent(meta, "", "  ")
		os.WriteFile(filepath.Join(dst, "FIXTURE.json"), append(b, '\n'), 0o644)
		out := filepath.Join(repoRoot(t), "testdata", "certbot", "tree-2.1.tar.gz")
		if err := writeTarGz(dst, out); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
	if testing.Verbose() {
		b, _ := os.ReadFile(l.ConfPath)
		t.Logf("certbot's %s:\n%s", l.ConfPath, b)
	}
}

// checkTreeAgainstCertbot compares storage's view with `certbot certificates`
// and with the raw files.
func checkTreeAgainstCertbot(t *testing.T, e *certbotEnv, tr *storage.Tree, server string) {
	ctx := context.Background()
	accts, err := tr.ListAccounts(ctx, server)
	if err != nil || len(accts) != 1 {
		t.Fatalf("ListAccounts = %d, %v", len(accts), err)
	}
	a := accts[0]
	if id, _ := storage.AccountID(a.Key.Public()); id != a.ID {
		t.Errorf("certbot's account dir %s, our id rule says %s", a.ID, id)
	}
	var regr struct{ URI string }
	b, _ := os.ReadFile(filepath.Join(a.Dir, "regr.json"))
	if json.Unmarshal(b, &regr); regr.URI == "" || regr.URI != a.URL {
		t.Errorf("account URL %q, regr.json uri %q", a.URL, regr.URI)
	}
	if a.Meta.CreationDT.IsZero() || a.Meta.CreationHost == "" {
		t.Errorf("meta = %+v", a.Meta)
	}

	want := e.certificates()
	infos, err := tr.ListLineages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(want) {
		t.Errorf("storage lists %d lineages, certbot %d", len(infos), len(want))
	}
	for _, in := range infos {
		w := want[in.Name]
		if w == nil {
			t.Errorf("lineage %s not listed by certbot", in.Name)
			continue
		}
		if in.Err != nil {
			t.Errorf("lineage %s: %v", in.Name, in.Err)
			continue
		}
		if in.Serial != w.serial || in.KeyType != w.keyType || strings.Join(in.Domains, " ") != w.domains ||
			in.FullchainPath != w.certPath || in.KeyPath != w.keyPath {
			t.Errorf("lineage %s: storage %s %s %q %s %s\n certbot %+v", in.Name, in.Serial, in.KeyType, in.Domains, in.FullchainPath, in.KeyPath, w)
		}
		if in.Conf.Account != a.ID {
			t.Errorf("lineage %s account %q, want %q", in.Name, in.Conf.Account, a.ID)
		}
		l, err := tr.LoadLineage(ctx, in.Name)
		if err != nil {
			t.Errorf("load %s: %v", in.Name, err)
			continue
		}
		if err := storage.KeyMatchesCert(l.CertPEM, l.KeyPEM); err != nil {
			t.Errorf("load %s: %v", in.Name, err)
		}
		// an unchanged conf is written back byte for byte
		raw, _ := os.ReadFile(l.ConfPath)
		if out, err := l.Conf.Marshal(); err != nil || !bytes.Equal(out, raw) {
			t.Errorf("conf %s does not round-trip (err %v):\n--- certbot\n%s--- storage\n%s", l.ConfPath, err, raw, out)
		}
	}
}

// TestStorageWritesCertbotReadsE2E: an account and a lineage written by
// storage (with acme/ talking to Pebble) are listed by `certbot
// certificates` and renewed by `certbot renew --force-renewal`; storage then
// reads certbot's new version.
func TestStorageWritesCertbotReadsE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (certbot + Pebble) skipped with -short")
	}
	t.Parallel()
	// Bounds the test's own ACME and storage calls, with the certbot runs
	// between them (each bounded in try): certbot alone took minutes under load.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s := pebbletest.Start(t, pebbletest.Options{})
	e := newCertbotEnv(t, s)
	tr, err := storage.Open(e.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	acctKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cl := &acme.Client{DirectoryURL: s.DirectoryURL, HTTPClient: s.HTTPClient(), Key: acctKey}
	acct, err := cl.Register(ctx, acme.AccountRequest{TermsOfServiceAgreed: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := tr.SaveAccount(ctx, &storage.Account{Server: s.DirectoryURL, URL: acct.URL, Key: acctKey})
	if err != nil {
		t.Fatal(err)
	}

	certKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	names := []string{"s.example", "www.s.example"}
	pemChain := obtain(ctx, t, cl, s.HTTPPort, certKey, names)
	certPEM, chainPEM := splitLeaf(t, pemChain)
	kder, _ := x509.MarshalPKCS8PrivateKey(certKey)
	name, err := tr.UniqueLineageName(ctx, "", names)
	if err != nil {
		t.Fatal(err)
	}
	conf := &storage.RenewalConf{Params: storage.RenewalParams{
		Account: id, Server: s.DirectoryURL, Authenticator: "standalone", KeyType: "ecdsa",
		HTTP01Port: s.HTTPPort, HTTP01Address: "127.0.0.1", PrefChalls: []string{"http-01"},
	}}
	if _, err := tr.CreateLineage(ctx, name, &storage.Version{CertPEM: certPEM, ChainPEM: chainPEM,
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}, conf); err != nil {
		t.Fatal(err)
	}
	// the same tree, read by certbot
	checkTreeAgainstCertbot(t, e, tr, s.DirectoryURL)
	out := e.run("renew", "--cert-name", name, "--force-renewal", "--no-random-sleep-on-renew")
	if !strings.Contains(out, "success") {
		t.Errorf("certbot renew output:\n%s", out)
	}
	l, err := tr.LoadLineage(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 || l.Conf.Params.Account != id || !keyOK(l) {
		t.Errorf("after certbot renew: version %d account %q", l.Version, l.Conf.Params.Account)
	}
	// and back: storage saves version 3 on top of certbot's version 2,
	// reusing certbot's key (privkey3.pem becomes a symlink), and certbot
	// renews that once more
	certKey2, ok := l.Key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("certbot's key is %T", l.Key)
	}
	pemChain = obtain(ctx, t, cl, s.HTTPPort, certKey2, names)
	certPEM, chainPEM = splitLeaf(t, pemChain)
	if _, err := tr.SaveVersion(ctx, name, &storage.Version{CertPEM: certPEM, ChainPEM: chainPEM, ReuseKey: true}, nil); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(l.ArchiveDir, "privkey3.pem")); err != nil || target != "privkey2.pem" {
		t.Errorf("privkey3.pem → %q, %v", target, err)
	}
	checkTreeAgainstCertbot(t, e, tr, s.DirectoryURL)
	e.run("renew", "--cert-name", name, "--force-renewal", "--no-random-sleep-on-renew")
	if l, err := tr.LoadLineage(ctx, name); err != nil || l.Version != 4 || !keyOK(l) {
		t.Errorf("after storage v3 + certbot renew: %+v, %v", l, err)
	}
}

func keyOK(l *storage.Lineage) bool { return storage.KeyMatchesCert(l.CertPEM, l.KeyPEM) == nil }

func splitLeaf(t *testing.T, chain []byte) (leaf, rest []byte) {
	blk, rest := pem.Decode(chain)
	if blk == nil {
		t.Fatalf("no PEM in certificate response")
	}
	return pem.EncodeToMemory(blk), bytes.TrimLeft(rest, "\n")
}

// http01 is a minimal http-01 solver for the test.
type http01 struct {
	mu sync.Mutex
	m  map[string]string
}

func (h *http01) Present(_ context.Context, _, token, keyAuth string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[token] = keyAuth
	return nil
}

func (h *http01) CleanUp(_ context.Context, _, token, _ string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, token)
	return nil
}

func obtain(ctx context.Context, t *testing.T, cl *acme.Client, port int, key crypto.Signer, names []string) []byte {
	t.Helper()
	sol := &http01{m: map[string]string{}}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sol.mu.Lock()
		ka, ok := sol.m[strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")]
		sol.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(ka))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	var ids []acme.Identifier
	for _, n := range names {
		ids = append(ids, acme.Identifier{Type: "dns", Value: n})
	}
	c, err := cl.Obtain(ctx, acme.ObtainRequest{Identifiers: ids, CSR: csr, Solvers: map[string]acme.Solver{"http-01": sol}})
	if err != nil {
		t.Fatal(err)
	}
	return c.PEM
}

// TestCertbotFixtures loads the committed certbot-made trees.
func TestCertbotFixtures(t *testing.T) {
	ctx := context.Background()
	dirs, _ := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "certbot", "tree-*.tar.gz"))
	if len(dirs) == 0 {
		t.Fatal("no fixture trees in testdata/certbot (run testdata/certbot/regen.sh)")
	}
	for _, src := range dirs {
		t.Run(strings.TrimSuffix(filepath.Base(src), ".tar.gz"), func(t *testing.T) {
			dir := t.TempDir()
			if err := readTarGz(src, dir); err != nil {
				t.Fatal(err)
			}
			var meta struct{ Server string }
			b, err := os.ReadFile(filepath.Join(dir, "FIXTURE.json"))
			if err != nil || json.Unmarshal(b, &meta) != nil {
				t.Fatalf("FIXTURE.json: %v", err)
			}
			tr, err := storage.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			accts, err := tr.ListAccounts(ctx, meta.Server)
			if err != nil || len(accts) != 1 {
				t.Fatalf("accounts: %d, %v", len(accts), err)
			}
			if id, _ := storage.AccountID(accts[0].Key.Public()); id != accts[0].ID {
				t.Errorf("account id %s, computed %s", accts[0].ID, id)
			}
			infos, err := tr.ListLineages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, in := range infos {
				names = append(names, in.Name)
				if in.Err != nil {
					t.Errorf("%s: %v", in.Name, in.Err)
					continue
				}
				l, err := tr.LoadLineage(ctx, in.Name)
				if err != nil {
					t.Errorf("load %s: %v", in.Name, err)
					continue
				}
				if !keyOK(l) || l.Conf.Params.Account != accts[0].ID || l.Conf.Params.Server != meta.Server {
					t.Errorf("%s: key ok %v, conf %+v", in.Name, keyOK(l), l.Conf.Params)
				}
				raw, _ := os.ReadFile(l.ConfPath)
				if out, _ := l.Conf.Marshal(); !bytes.Equal(out, raw) {
					t.Errorf("%s: conf does not round-trip", in.Name)
				}
			}
			sort.Strings(names)
			if want := []string{"a.example", "a.example-0001", "webroot-map"}; !slices.Equal(names, want) {
				t.Errorf("lineages %v, want %v", names, want)
			}
			// storage can continue a certbot lineage: save the next version
			l, err := tr.LoadLineage(ctx, "webroot-map")
			if err != nil {
				t.Fatal(err)
			}
			next, err := tr.SaveVersion(ctx, "webroot-map", &storage.Version{CertPEM: l.CertPEM, ChainPEM: l.ChainPEM, ReuseKey: true}, nil)
			if err != nil || next.Version != l.Version+1 {
				t.Fatalf("SaveVersion on certbot lineage: %v", err)
			}
			if target, _ := os.Readlink(filepath.Join(next.ArchiveDir, fmt.Sprintf("privkey%d.pem", next.Version))); target != fmt.Sprintf("privkey%d.pem", l.Version) {
				t.Errorf("reused key link → %q, want privkey%d.pem", target, l.Version)
			}
		})
	}
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// copyTree copies files, directories and symlinks (as symlinks).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.Contains(rel, ".certbot.lock") {
				return nil
			}
			return os.WriteFile(to, b, 0o644)
		}
	})
}

// The fixture trees are tarballs: certbot's account paths contain ':'
// (host:port), which Go module zips and Windows checkouts refuse, and the
// live links must stay symlinks.
func writeTarGz(src, out string) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	var paths []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != src {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		h.Name = filepath.ToSlash(rel)
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime = time.Unix(0, 0)
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tw.Write(b)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func readTarGz(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(io.LimitReader(zr, 64<<20))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("tar entry %q escapes", h.Name)
		}
		to := filepath.Join(dst, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(to, os.FileMode(h.Mode).Perm()|0o700)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, to)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(to, b, os.FileMode(h.Mode).Perm()|0o600)
			}
		}
		if err != nil {
			return err
		}
	}
}
