package storage

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	const server = "https://acme.example:14000/v2/OV"
	keys := map[string]crypto.Signer{"rsa": testRSAKey(t)}
	for name, c := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = k
	}
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ids := map[string]string{}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			a := &Account{Server: server, URL: "https://acme.example:14000/acct/" + name, Key: k,
				Meta: AccountMeta{CreationDT: created}}
			id, err := tr.SaveAccount(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			der, _ := x509.MarshalPKIXPublicKey(k.Public())
			sum := md5.Sum(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			if want := hex.EncodeToString(sum[:]); id != want {
				t.Errorf("id = %s, want %s", id, want)
			}
			ids[name] = id
			dir := filepath.Join(tr.Dir, "accounts", "acme.example:14000", "v2", "OV", id)
			if a.Dir != dir {
				t.Errorf("Dir = %s, want %s", a.Dir, dir)
			}
			for p, want := range map[string]os.FileMode{
				filepath.Join(dir, "private_key.json"): 0o400,
				dir:                                    0o700,
				filepath.Join(tr.Dir, "accounts"):      0o700,
				filepath.Join(tr.Dir, "accounts", "acme.example:14000"): 0o700,
			} {
				if got := mode(t, p); got != want {
					t.Errorf("mode %s = %o, want %o", p, got, want)
				}
			}
			b, _ := os.ReadFile(filepath.Join(dir, "regr.json"))
			var regr map[string]any
			if err := json.Unmarshal(b, &regr); err != nil || regr["uri"] != a.URL {
				t.Errorf("regr.json = %s", b)
			}
			got, err := tr.LoadAccount(ctx, server, id)
			if err != nil {
				t.Fatal(err)
			}
			type eq interface{ Equal(crypto.PrivateKey) bool }
			if !got.Key.(eq).Equal(k) || got.URL != a.URL || !got.Meta.CreationDT.Equal(created) || got.Meta.CreationHost != "test.host" {
				t.Errorf("loaded %+v", got)
			}
			// saving again keeps the key file and updates regr
			a.URL += "/x"
			if _, err := tr.SaveAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
			if got, _ := tr.LoadAccount(ctx, server, id); got.URL != a.URL {
				t.Errorf("URL after resave = %s", got.URL)
			}
		})
	}
	list, err := tr.ListAccounts(ctx, server)
	if err != nil || len(list) != 4 {
		t.Fatalf("ListAccounts = %d, %v", len(list), err)
	}
	if l, err := tr.ListAccounts(ctx, "https://other.example/dir"); err != nil || len(l) != 0 {
		t.Errorf("other server: %d, %v", len(l), err)
	}
	if _, err := tr.LoadAccount(ctx, server, "0123"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing account err = %v", err)
	}
	if _, err := tr.LoadAccount(ctx, server, "../x"); !errors.Is(err, ErrBadName) {
		t.Errorf("hostile id err = %v", err)
	}
	// a broken account is reported and the others still list
	os.WriteFile(filepath.Join(list[0].Dir, "regr.json"), []byte("{"), 0o644)
	l2, err := tr.ListAccounts(ctx, server)
	if len(l2) != 3 || err == nil {
		t.Errorf("with one broken: %d accounts, err %v", len(l2), err)
	}
	if err := tr.DeleteAccount(ctx, server, ids["p256"]); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.LoadAccount(ctx, server, ids["p256"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete err = %v", err)
	}
}

func TestServerPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://acme-v02.api.letsencrypt.org/directory", "acme-v02.api.letsencrypt.org/directory"},
		{"https://acme.sectigo.com/v2/OV", "acme.sectigo.com/v2/OV"},
		{"https://127.0.0.1:14000/dir", "127.0.0.1:14000/dir"},
		{"https://x.example/dir/", "x.example/dir"},
	}
	for _, tc := range tests {
		if got, err := ServerPath(tc.in); err != nil || got != tc.want {
			t.Errorf("ServerPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "not a url", "https://x.example/../../etc", "https://x.example/a/./b"} {
		if got, err := ServerPath(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("ServerPath(%q) = %q, %v; want ErrBadName", bad, got, err)
		}
	}
}

func TestJWKCertbotRSA(t *testing.T) {
	// The shape certbot (josepy) writes for an RSA key.
	k := testRSAKey(t)
	b, err := marshalJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	json.Unmarshal(b, &m)
	for _, f := range []string{"n", "e", "d", "p", "q", "dp", "dq", "qi", "kty"} {
		if m[f] == "" {
			t.Errorf("jwk lacks %q", f)
		}
	}
	if m["e"] != "AQAB" {
		t.Errorf("e = %q", m["e"])
	}
	for _, bad := range []string{`{}`, `{"kty":"oct"}`, `{"kty":"EC","crv":"P-256","d":"AA","x":"AA","y":"AA"}`, `{"kty":"RSA","n":"!!"}`, `[`} {
		if _, err := parseJWK([]byte(bad)); err == nil {
			t.Errorf("parseJWK(%s): want error", bad)
		}
	}
}

func TestPickAccount(t *testing.T) {
	ctx := context.Background()
	tr := openTree(t)
	const server = "https://pick.example/dir"
	if _, err := PickAccount(ctx, tr, server, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("no accounts: err = %v", err)
	}
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id1, err := tr.SaveAccount(ctx, &Account{Server: server, URL: "u1", Key: k1})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := PickAccount(ctx, tr, server, ""); err != nil || a.ID != id1 {
		t.Errorf("one account: %v, %v", a, err)
	}
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id2, _ := tr.SaveAccount(ctx, &Account{Server: server, URL: "u2", Key: k2})
	if _, err := PickAccount(ctx, tr, server, ""); err == nil || !strings.Contains(err.Error(), "--account") {
		t.Errorf("two accounts without id: err = %v", err)
	}
	if a, err := PickAccount(ctx, tr, server, id2); err != nil || a.URL != "u2" {
		t.Errorf("by id: %v, %v", a, err)
	}
}
