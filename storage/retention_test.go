package storage

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// saveVersions creates name and saves versions 2..n, each with keep.
func saveVersions(t *testing.T, tr *Tree, name string, n, keep int) {
	t.Helper()
	ctx := context.Background()
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, name, ca.version(t, name), nil); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n; i++ {
		v := ca.version(t, name)
		v.KeepVersions = keep
		if _, err := tr.SaveVersion(ctx, name, v, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// versionsIn lists the versions in archive/name with all four files, and
// fails on a version with only some of them.
func versionsIn(t *testing.T, tr *Tree, name string) []int {
	t.Helper()
	count := map[int]int{}
	for _, f := range archiveNames(t, tr, name) {
		if m := archiveFileRE().FindStringSubmatch(f); m != nil {
			var n int
			fmt.Sscan(m[2], &n)
			count[n]++
		}
	}
	var out []int
	for n := 1; n <= 100; n++ {
		switch count[n] {
		case 0:
		case len(kinds):
			out = append(out, n)
		default:
			t.Errorf("version %d has %d of its 4 files", n, count[n])
		}
	}
	return out
}

// Issue 16 item 3: every version — private keys included — stays in
// archive/ by default, as certbot 2.1 keeps them (e5320a1 kept the current
// and 5 previous).
func TestArchiveKeepsEveryVersionByDefault(t *testing.T) {
	tr := openTree(t)
	saveVersions(t, tr, "all.example", 8, 0)
	if got := fmt.Sprint(versionsIn(t, tr, "all.example")); got != "[1 2 3 4 5 6 7 8]" {
		t.Errorf("archive/ after 8 versions holds %s, want every one", got)
	}
	if _, err := tr.LoadLineage(context.Background(), "all.example"); err != nil {
		t.Errorf("load: %v", err)
	}
}

// Opt-in pruning (KeepVersions 6 = certbot 2.3+'s current and 5 previous)
// removes the oldest versions, but never one that something still needs: a
// version the KeepVersion predicate names or the version whose key is the
// lineage's recorded in-flight order's (a key a kept privkey link points at:
// TestPruneKeepsReusedKey).
func TestPruneKeepsPinnedVersions(t *testing.T) {
	ctx := context.Background()
	t.Run("KeepVersion predicate", func(t *testing.T) {
		tr := openTree(t)
		var asked []string
		tr.opts.KeepVersion = func(lineage string, v int) bool {
			asked = append(asked, fmt.Sprintf("%s/%d", lineage, v))
			return lineage == "p.example" && v == 2
		}
		saveVersions(t, tr, "p.example", 8, 6)
		if got := fmt.Sprint(versionsIn(t, tr, "p.example")); got != "[2 3 4 5 6 7 8]" {
			t.Errorf("archive/ holds versions %s, want [2 3 4 5 6 7 8] (1 pruned, 2 pinned)", got)
		}
		if len(asked) == 0 {
			t.Errorf("KeepVersion was never asked")
		}
	})
	t.Run("in-flight order's key", func(t *testing.T) {
		tr := openTree(t)
		saveVersions(t, tr, "f.example", 2, 6)
		key1, err := os.ReadFile(filepath.Join(tr.ArchiveDir("f.example"), "privkey1.pem"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePrivateKeyPEM(key1)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "f.example"}, DNSNames: []string{"f.example"}}, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.SaveInFlight(ctx, "f.example", &InFlight{Server: "https://ca.example/dir", OrderURL: "https://ca.example/order/1",
			Identifiers: []string{"f.example"}, CSR: csr, KeyPEM: key1}); err != nil {
			t.Fatal(err)
		}
		ca := newCA(t)
		for i := 3; i <= 8; i++ {
			v := ca.version(t, "f.example")
			v.KeepVersions = 6
			if _, err := tr.SaveVersion(ctx, "f.example", v, nil); err != nil {
				t.Fatal(err)
			}
		}
		if got := fmt.Sprint(versionsIn(t, tr, "f.example")); got != "[1 3 4 5 6 7 8]" {
			t.Errorf("archive/ holds versions %s, want [1 3 4 5 6 7 8] (2 pruned, 1 holds the in-flight order's key)", got)
		}
		// Once the record is gone, version 1 is pruned like any other.
		if err := tr.RemoveInFlight(ctx, "f.example"); err != nil {
			t.Fatal(err)
		}
		v := ca.version(t, "f.example")
		v.KeepVersions = 6
		if _, err := tr.SaveVersion(ctx, "f.example", v, nil); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(versionsIn(t, tr, "f.example")); got != "[4 5 6 7 8 9]" {
			t.Errorf("after the record was removed archive/ holds %s, want [4 5 6 7 8 9]", got)
		}
	})
	t.Run("keep 1", func(t *testing.T) {
		tr := openTree(t)
		saveVersions(t, tr, "one.example", 3, 1)
		if got := fmt.Sprint(versionsIn(t, tr, "one.example")); got != "[3]" {
			t.Errorf("keep 1: archive/ holds %s, want [3]", got)
		}
	})
}
