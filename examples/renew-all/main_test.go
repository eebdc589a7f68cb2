package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// TestRenewAll builds the example and runs it on a tree holding one lineage
// that is not due: its observer reports it skipped, and nothing is asked
// of any CA.
func TestRenewAll(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "renew-all")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "config")
	tree, err := storage.Open(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), DNSNames: []string{"fresh.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(80 * 24 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	keyPEM, _ := pemutil.EncodePrivateKey(key)
	v := &storage.Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM}
	conf := &storage.RenewalConf{Params: storage.RenewalParams{Server: "https://127.0.0.1:9/dir", Authenticator: "standalone"},
		ARIRetryAfter: time.Now().Add(time.Hour)} // no renewal-info request is due
	if _, err := tree.CreateLineage(t.Context(), "fresh.example", v, conf); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, config).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "fresh.example: lineage_skipped not yet due <nil>" {
		t.Errorf("renew-all = %v:\n%s", err, out)
	}
}
