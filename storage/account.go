package storage

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// AccountID is certbot's account id for key: the MD5 hex of the public key's
// SubjectPublicKeyInfo PEM (account.Account.__init__).
func AccountID(key crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("account id: %w", err)
	}
	sum := md5.Sum(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return hex.EncodeToString(sum[:]), nil
}

type regrJSON struct {
	Body json.RawMessage `json:"body"`
	URI  string          `json:"uri"`
	// new_authzr_uri and terms_of_service appear in files of old certbots;
	// they are ignored on read and not written.
}

type metaJSON struct {
	CreationDT    string `json:"creation_dt"`
	CreationHost  string `json:"creation_host"`
	RegisterToEFF string `json:"register_to_eff,omitempty"`
}

const maxJSONFile = 1 << 20

func readSmall(path string) ([]byte, error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxJSONFile {
		return nil, fmt.Errorf("%s: larger than 1 MiB", path)
	}
	b := make([]byte, fi.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && n != len(b) {
		return nil, err
	}
	return b[:n], nil
}

// SaveAccount writes accounts/<server-path>/<id>/{private_key.json (0400),
// regr.json, meta.json} with directories 0700, and returns the id. a.Server,
// a.URL and a.Key are required. An existing private_key.json is kept.
func (t *Tree) SaveAccount(ctx context.Context, a *Account) (string, error) {
	if a == nil || a.Key == nil || a.Server == "" {
		return "", fmt.Errorf("save account: server and key are required")
	}
	id, err := AccountID(a.Key.Public())
	if err != nil {
		return "", fmt.Errorf("save account: %w", err)
	}
	base, err := t.AccountsDir(a.Server)
	if err != nil {
		return "", fmt.Errorf("save account: %w", err)
	}
	jwk, err := marshalJWK(a.Key)
	if err != nil {
		return "", fmt.Errorf("save account: %w", err)
	}
	unlock, err := t.lockWrite(ctx, "")
	if err != nil {
		return "", fmt.Errorf("save account %s: %w", id, err)
	}
	defer unlock()
	dir := filepath.Join(base, id)
	if err := mkdirs(filepath.Join(t.Dir, "accounts"), 0o700); err != nil {
		return "", err
	}
	if err := mkdirs(dir, 0o700); err != nil {
		return "", fmt.Errorf("save account %s: %w", id, err)
	}
	keyPath := filepath.Join(dir, "private_key.json")
	if _, err := os.Lstat(keyPath); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(keyPath, jwk, 0o400, -1); err != nil {
			return "", fmt.Errorf("save account %s: %w", id, err)
		}
	}
	body := a.Regr
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	regr, err := json.Marshal(regrJSON{Body: body, URI: a.URL})
	if err != nil {
		return "", fmt.Errorf("save account %s: regr: %w", id, err)
	}
	m := a.Meta
	if m.CreationDT.IsZero() {
		m.CreationDT = t.opts.Now()
	}
	if m.CreationHost == "" {
		m.CreationHost = t.opts.Hostname
		if m.CreationHost == "" {
			m.CreationHost, _ = os.Hostname()
		}
	}
	meta, err := json.Marshal(metaJSON{
		CreationDT:    m.CreationDT.UTC().Truncate(time.Second).Format(time.RFC3339),
		CreationHost:  m.CreationHost,
		RegisterToEFF: m.RegisterToEFF,
	})
	if err != nil {
		return "", fmt.Errorf("save account %s: meta: %w", id, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "regr.json"), regr, 0o644, -1); err != nil {
		return "", fmt.Errorf("save account %s: %w", id, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "meta.json"), meta, 0o644, -1); err != nil {
		return "", fmt.Errorf("save account %s: %w", id, err)
	}
	a.ID, a.Dir, a.Meta = id, dir, m
	t.opts.Logger.Info("account saved", slog.String("account_id", id), slog.String("server", a.Server))
	return id, nil
}

// LoadAccount reads the account id of server. A missing directory wraps
// ErrNotFound; a broken file names the file.
func (t *Tree) LoadAccount(ctx context.Context, server, id string) (*Account, error) {
	base, err := t.AccountsDir(server)
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	if id == "" || id == "." || id == ".." || filepath.Base(id) != id {
		return nil, fmt.Errorf("load account %q: %w", id, ErrBadName)
	}
	return loadAccountDir(server, filepath.Join(base, id))
}

func loadAccountDir(server, dir string) (*Account, error) {
	id := filepath.Base(dir)
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("load account %s for %s: %w", id, server, ErrNotFound)
	}
	a := &Account{ID: id, Server: server, Dir: dir}
	b, err := readSmall(filepath.Join(dir, "private_key.json"))
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	if a.Key, err = parseJWK(b); err != nil {
		return nil, fmt.Errorf("load account %s: %s: %w", id, filepath.Join(dir, "private_key.json"), err)
	}
	b, err = readSmall(filepath.Join(dir, "regr.json"))
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	var r regrJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("load account %s: %s: %w", id, filepath.Join(dir, "regr.json"), err)
	}
	a.URL, a.Regr = r.URI, r.Body
	b, err = readSmall(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	var m metaJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("load account %s: %s: %w", id, filepath.Join(dir, "meta.json"), err)
	}
	a.Meta.CreationHost, a.Meta.RegisterToEFF = m.CreationHost, m.RegisterToEFF
	if m.CreationDT != "" {
		if ts, err := time.Parse(time.RFC3339Nano, m.CreationDT); err == nil {
			a.Meta.CreationDT = ts
		}
	}
	return a, nil
}

// ListAccounts returns server's accounts sorted by id. Directories that do
// not load are skipped; their errors are joined into errs.
func (t *Tree) ListAccounts(ctx context.Context, server string) ([]*Account, error) {
	base, err := t.AccountsDir(server)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	ents, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var out []*Account
	var errs []error
	for _, e := range ents {
		if e.Name()[0] == '.' {
			continue
		}
		p := filepath.Join(base, e.Name())
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(p, "private_key.json")); err != nil {
			continue // a server path prefix (accounts/host/v2 under accounts/host)
		}
		a, err := loadAccountDir(server, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, errors.Join(errs...)
}

// DeleteAccount removes the account's directory (and nothing else), also
// when its files no longer load.
func (t *Tree) DeleteAccount(ctx context.Context, server, id string) error {
	base, err := t.AccountsDir(server)
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	if id == "" || id == "." || id == ".." || filepath.Base(id) != id {
		return fmt.Errorf("delete account %q: %w", id, ErrBadName)
	}
	dir := filepath.Join(base, id)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("delete account %s for %s: %w", id, server, ErrNotFound)
	}
	unlock, err := t.lockWrite(ctx, "")
	if err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	defer unlock()
	// a symlinked account dir (certbot's LE_REUSE_SERVERS) loses only the link
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("delete account %s: %w", id, err)
		}
	} else if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return syncDir(filepath.Dir(dir))
}

// jwk is private_key.json. Field order follows josepy's output loosely;
// readers do not care.
type jwk struct {
	Kty string `json:"kty"`
	// RSA
	N  string `json:"n,omitempty"`
	E  string `json:"e,omitempty"`
	D  string `json:"d,omitempty"`
	P  string `json:"p,omitempty"`
	Q  string `json:"q,omitempty"`
	DP string `json:"dp,omitempty"`
	DQ string `json:"dq,omitempty"`
	QI string `json:"qi,omitempty"`
	// EC
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

var b64 = base64.RawURLEncoding

func b64int(n *big.Int) string { return b64.EncodeToString(n.Bytes()) }

func b64fixed(n *big.Int, size int) string {
	b := make([]byte, size)
	return b64.EncodeToString(n.FillBytes(b))
}

func marshalJWK(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		k.Precompute()
		if len(k.Primes) != 2 {
			return nil, fmt.Errorf("account key: multi-prime RSA is not supported")
		}
		return json.Marshal(jwk{Kty: "RSA", N: b64int(k.N), E: b64int(big.NewInt(int64(k.E))), D: b64int(k.D),
			P: b64int(k.Primes[0]), Q: b64int(k.Primes[1]),
			DP: b64int(k.Precomputed.Dp), DQ: b64int(k.Precomputed.Dq), QI: b64int(k.Precomputed.Qinv)})
	case *ecdsa.PrivateKey:
		var crv string
		switch k.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return nil, fmt.Errorf("account key: unsupported curve")
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		d, err := k.Bytes() // fixed-length big-endian D, as RFC 7518 §6.2.2.1 wants
		if err != nil {
			return nil, fmt.Errorf("account key: %w", err)
		}
		return json.Marshal(jwk{Kty: "EC", Crv: crv, X: b64fixed(k.X, size), Y: b64fixed(k.Y, size), D: base64.RawURLEncoding.EncodeToString(d)})
	}
	return nil, fmt.Errorf("account key: unsupported type %T", key)
}

func b64dec(s, field string) (*big.Int, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		// tolerate padding
		b, err = base64.URLEncoding.DecodeString(s)
	}
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("jwk field %q: not base64url", field)
	}
	return new(big.Int).SetBytes(b), nil
}

func parseJWK(data []byte) (crypto.Signer, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("parse jwk: %w", err)
	}
	switch j.Kty {
	case "RSA":
		var ints [3]*big.Int
		for i, f := range []struct{ v, n string }{{j.N, "n"}, {j.E, "e"}, {j.D, "d"}} {
			x, err := b64dec(f.v, f.n)
			if err != nil {
				return nil, err
			}
			ints[i] = x
		}
		if !ints[1].IsInt64() || ints[1].Int64() > 1<<31 {
			return nil, fmt.Errorf("jwk: bad RSA exponent")
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: ints[0], E: int(ints[1].Int64())}, D: ints[2]}
		if j.P != "" && j.Q != "" {
			p, err := b64dec(j.P, "p")
			if err != nil {
				return nil, err
			}
			q, err := b64dec(j.Q, "q")
			if err != nil {
				return nil, err
			}
			k.Primes = []*big.Int{p, q}
		} else {
			return nil, fmt.Errorf("jwk: RSA key without p and q is not supported")
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
		k.Precompute()
		return k, nil
	case "EC":
		var c elliptic.Curve
		switch j.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("jwk: unsupported curve %q", j.Crv)
		}
		d, err := b64dec(j.D, "d")
		if err != nil {
			return nil, err
		}
		size := (c.Params().BitSize + 7) / 8
		k, err := ecdsa.ParseRawPrivateKey(c, d.FillBytes(make([]byte, size)))
		if err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
		x, err := b64dec(j.X, "x")
		if err != nil {
			return nil, err
		}
		pub, _ := k.PublicKey.Bytes()
		if len(pub) != 1+2*size || new(big.Int).SetBytes(pub[1:1+size]).Cmp(x) != 0 {
			return nil, fmt.Errorf("jwk: x does not match d")
		}
		return k, nil
	case "":
		return nil, fmt.Errorf("jwk: missing kty")
	}
	return nil, fmt.Errorf("jwk: unsupported kty %q", j.Kty)
}

// PickAccount chooses the account to use for server: id when set (certbot
// --account, or the lineage conf's account), else the only account stored
// for server. None wraps ErrNotFound; several without id is an error listing
// their ids, asking for --account.
func PickAccount(ctx context.Context, s Storage, server, id string) (*Account, error) {
	if id != "" {
		return s.LoadAccount(ctx, server, id)
	}
	accts, err := s.ListAccounts(ctx, server)
	switch {
	case len(accts) == 1:
		return accts[0], nil
	case len(accts) == 0 && err != nil:
		return nil, fmt.Errorf("no usable account for %s: %w", server, err)
	case len(accts) == 0:
		return nil, fmt.Errorf("no account for %s: %w", server, ErrNotFound)
	}
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	return nil, fmt.Errorf("%d accounts for %s (%s): choose one with --account", len(accts), server, strings.Join(ids, ", "))
}
