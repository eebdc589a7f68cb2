// Package webtest is test support for the installer packages and the
// end-to-end tests: Debian's nginx and apache2 started on free loopback ports
// with their own server roots, test certificates
// in a certbot lineage layout, TLS and HTTP probes with SNI and Host, and file
// tree snapshots. Only tests import it.
package webtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/testport"
)

// Lineage writes a CA-signed certificate for names under
// configDir/live/<name>/ (real files, not links) and returns its paths and the
// leaf.
func Lineage(t testing.TB, configDir, name string, names ...string) (installer.Lineage, *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "itest CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	l := installer.LiveLineage(configDir, name)
	if err := os.MkdirAll(filepath.Dir(l.Cert), 0o755); err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chainPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for p, b := range map[string][]byte{l.Cert: certPEM, l.Chain: chainPEM, l.Fullchain: append(certPEM, chainPEM...),
		l.Key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return l, leaf
}

// LeafFromFile reads the first certificate of a PEM file.
func LeafFromFile(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ServedCert returns the leaf the server at addr presents for SNI name.
func ServedCert(addr, name string) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true}) //nolint:gosec // the test compares the served certificate itself
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// WaitServed polls until the server at addr presents want for name.
func WaitServed(t testing.TB, addr, name string, want *x509.Certificate) {
	t.Helper()
	var last error
	// Bounded by time, not by a count of tries: a reload under load may take
	// seconds before new connections reach the new workers.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		c, err := ServedCert(addr, name)
		if err == nil && c.SerialNumber.Cmp(want.SerialNumber) == 0 {
			return
		}
		if err == nil {
			last = fmt.Errorf("serial %x, want %x", c.SerialNumber, want.SerialNumber)
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s (SNI %s) does not serve the certificate: %v", addr, name, last)
}

// Get sends one GET to http(s)://addr path with Host host, without following
// redirects.
func Get(scheme, addr, host, path string) (*http.Response, string, error) {
	hc := &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}}} //nolint:gosec // test
	req, _ := http.NewRequest(http.MethodGet, scheme+"://"+addr+path, nil)
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil || sb.Len() > 1<<16 {
			break
		}
	}
	return resp, sb.String(), nil
}

// Snapshot reads every regular file and symlink under dir.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			out[p] = "-> " + l
			return nil
		}
		if d.Type().IsRegular() && !strings.HasSuffix(p, ".pid") && !strings.HasSuffix(p, ".log") && !strings.HasSuffix(p, ".certbot.lock") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameFiles fails the test when the snapshots differ, naming the files.
func SameFiles(t testing.TB, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		if !ok {
			t.Errorf("%s: removed", p)
		} else if a != b {
			t.Errorf("%s: changed:\n--- before\n%s\n--- after\n%s", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: left behind:\n%s", p, after[p])
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 for a server another process
// starts (see internal/testport).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := testport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// WaitListening waits until addr accepts connections.
func WaitListening(t testing.TB, addr string, alive func() error) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if err := alive(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after 10 s", addr)
}
