package storage

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func inFlightRecord(t *testing.T) *InFlight {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"a.example"}}, k)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return &InFlight{Server: "https://acme.sectigo.com/v2/OV", AccountID: "0123abcd", OrderURL: "https://acme.sectigo.com/v2/OV/order/xyz",
		Identifiers: []string{"a.example"}, CSR: csr, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		Created: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
}

// TestInFlightRoundTrip: the record is written 0600 in a 0700 directory
// under .acmectl/ (nothing certbot reads), read back equal, and removed.
func TestInFlightRoundTrip(t *testing.T) {
	tr, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := tr.LoadInFlight(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadInFlight before save: %v, want ErrNotFound", err)
	}
	r := inFlightRecord(t)
	if err := tr.SaveInFlight(ctx, "a.example", r); err != nil {
		t.Fatal(err)
	}
	path := tr.InFlightPath("a.example")
	if !strings.HasPrefix(path, filepath.Join(tr.Dir, ".acmectl")+string(filepath.Separator)) {
		t.Errorf("record at %s, want it under .acmectl/", path)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record mode: %v %v, want 0600", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", di.Mode().Perm())
	}
	got, err := tr.LoadInFlight(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderURL != r.OrderURL || got.Server != r.Server || got.AccountID != r.AccountID || string(got.CSR) != string(r.CSR) ||
		string(got.KeyPEM) != string(r.KeyPEM) || !got.Created.Equal(r.Created) || strings.Join(got.Identifiers, ",") != "a.example" {
		t.Errorf("loaded %+v, want %+v", got, r)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the record (no temp files)", len(ents))
	}
	if err := tr.RemoveInFlight(ctx, "a.example"); err != nil {
		t.Fatal(err)
	}
	if err := tr.RemoveInFlight(ctx, "a.example"); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if _, err := tr.LoadInFlight(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadInFlight after remove: %v", err)
	}
	if err := tr.SaveInFlight(ctx, "../escape", r); !errors.Is(err, ErrBadName) {
		t.Errorf("hostile name: %v, want ErrBadName", err)
	}
}

// TestInFlightRefusesUnusableRecords: a record that cannot be resumed is
// refused when saved and reported as ErrBroken when read.
func TestInFlightRefusesUnusableRecords(t *testing.T) {
	tr, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	other := inFlightRecord(t)
	for _, tc := range []struct {
		name   string
		modify func(r *InFlight)
	}{
		{"key of another CSR", func(r *InFlight) { r.KeyPEM = other.KeyPEM }},
		{"no order URL", func(r *InFlight) { r.OrderURL = "" }},
		{"CSR garbage", func(r *InFlight) { r.CSR = []byte("nope") }},
		{"no identifiers", func(r *InFlight) { r.Identifiers = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inFlightRecord(t)
			tc.modify(r)
			if err := tr.SaveInFlight(ctx, "a.example", r); err == nil {
				t.Errorf("SaveInFlight accepted an unusable record")
			}
		})
	}
	path := tr.InFlightPath("a.example")
	os.MkdirAll(filepath.Dir(path), 0o700)
	for _, body := range []string{"", "{", `{"version":2}`, `{"version":1,"order_url":"https://x/o","server":"https://x","identifiers":["a"],"csr":"","key":""}`} {
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := tr.LoadInFlight(ctx, "a.example"); !errors.Is(err, ErrBroken) {
			t.Errorf("LoadInFlight(%q) = %v, want ErrBroken", body, err)
		}
	}
}

// TestInFlightNames: the lineages with a record, from one directory read;
// temporary files and other names are not listed.
func TestInFlightNames(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	if names, err := tr.InFlightNames(ctx); err != nil || len(names) != 0 {
		t.Fatalf("no records: %q, %v", names, err)
	}
	for _, n := range []string{"b.example", "a.example"} {
		if err := tr.SaveInFlight(ctx, n, inFlightRecord(t)); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Dir(tr.InFlightPath("x"))
	os.WriteFile(filepath.Join(dir, ".tmp-123"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	names, err := tr.InFlightNames(ctx)
	sort.Strings(names)
	if err != nil || strings.Join(names, ",") != "a.example,b.example" {
		t.Errorf("InFlightNames = %q, %v", names, err)
	}
}

// TestInFlightConcurrentLineages: records of different lineages are
// written at the same time (renew --parallel, or several certonly runs);
// one writer's clean-up never removes another's temporary file before its
// rename. Each writer is its own Tree, as separate processes are.
func TestInFlightConcurrentLineages(t *testing.T) {
	dir := t.TempDir()
	rec := inFlightRecord(t)
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			tr, err := Open(dir, nil)
			if err != nil {
				errs <- err
				return
			}
			name := fmt.Sprintf("l%d.example", w)
			for range 40 {
				if err := tr.SaveInFlight(t.Context(), name, rec); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
