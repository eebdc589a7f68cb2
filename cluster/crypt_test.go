package cluster

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealRoundTripAndTamper(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKeyFile(filepath.Join(dir, "cluster.key"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(filepath.Join(dir, "cluster.key"))
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != k2.ID() {
		t.Fatalf("reloaded key ID %s, want %s", k2.ID(), k.ID())
	}
	secret := []byte("-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n")
	sealed := k.Seal("cert/example.com/0000000002", "privkey", secret)
	if bytes.Contains(sealed, []byte("PRIVATE KEY")) {
		t.Fatal("sealed value holds the plaintext")
	}
	got, err := k2.Open("cert/example.com/0000000002", "privkey", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, err := GenerateKeyFile(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	tests := []struct {
		name       string
		key        *Key
		rel, field string
		data       []byte
		wantMsg    string
	}{
		{"other lineage", k, "cert/example.org/0000000002", "privkey", sealed, "moved from another key"},
		{"other version", k, "cert/example.com/0000000001", "privkey", sealed, "moved from another key"},
		{"other field", k, "cert/example.com/0000000002", "key", sealed, "moved from another key"},
		{"flipped ciphertext", k, "cert/example.com/0000000002", "privkey", flip(len(sealed) - 20), "changed"},
		{"flipped nonce", k, "cert/example.com/0000000002", "privkey", flip(10), "changed"},
		{"flipped tag", k, "cert/example.com/0000000002", "privkey", flip(len(sealed) - 1), "changed"},
		{"truncated", k, "cert/example.com/0000000002", "privkey", sealed[:20], "not a sealed value"},
		{"wrong version byte", k, "cert/example.com/0000000002", "privkey", flip(0), "not a sealed value"},
		{"other cluster key", other, "cert/example.com/0000000002", "privkey", sealed, "sealed with cluster key " + k.ID()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.key.Open(tc.rel, tc.field, tc.data)
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Open = %v, want ErrTampered with %q", err, tc.wantMsg)
			}
		})
	}
	if s := fmt.Sprintf("%v %s %#v", k, k, k); strings.Contains(s, "aead") || !strings.Contains(s, k.ID()) {
		t.Errorf("printed key: %s", s)
	}
}

func TestLoadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	raw := bytes.Repeat([]byte{7}, 32)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	hexKey := write("hex", hex.EncodeToString(raw)+"\n", 0o600)
	b64Key := write("b64", "  BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", 0o400)
	k1, err := LoadKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(b64Key)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID() != k2.ID() {
		t.Errorf("hex and base64 of one key give IDs %s and %s", k1.ID(), k2.ID())
	}
	for name, p := range map[string]string{
		"group readable": write("g", hex.EncodeToString(raw), 0o640),
		"world readable": write("w", hex.EncodeToString(raw), 0o604),
		"short":          write("s", hex.EncodeToString(raw[:16]), 0o600),
		"garbage":        write("x", "not a key at all", 0o600),
		"missing":        filepath.Join(dir, "missing"),
		"directory":      dir,
		"empty path":     "",
	} {
		if _, err := LoadKey(p); err == nil {
			t.Errorf("%s: LoadKey accepted it", name)
		}
	}
	if _, err := GenerateKeyFile(hexKey); err == nil {
		t.Error("GenerateKeyFile overwrote an existing file")
	}
	fi, err := os.Stat(filepath.Join(dir, "new.key"))
	if err == nil {
		t.Fatal(fi)
	}
	if _, err := GenerateKeyFile(filepath.Join(dir, "new.key")); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(filepath.Join(dir, "new.key"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key mode %04o", fi.Mode().Perm())
	}
}
