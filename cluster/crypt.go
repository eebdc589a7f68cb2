package cluster

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// ErrTampered: a sealed record does not open with this node's cluster key
// under the etcd key it was read from (changed, moved to another key, or
// sealed with another cluster key).
var ErrTampered = errors.New("cluster: sealed data does not authenticate")

// Key is the cluster key: AES-256-GCM over every private key the cluster
// stores, authenticated together with the etcd key the record lives under, so
// a record copied to another key does not open. It never leaves the node: it
// is read from a file (LoadKey) and never written to etcd; only its ID (an
// HMAC of a fixed string, which reveals nothing of the key) is.
//
// AES-256-GCM from the standard library rather than XChaCha20-Poly1305: the
// number of records sealed under one key stays far below the 2^32 random
// nonces GCM allows, and it needs no dependency.
//
// Printing a Key shows only its ID.
type Key struct {
	aead cipher.AEAD
	id   string
}

const (
	keyFileSize = 32
	sealVersion = 1
	keyIDLen    = 8
	nonceLen    = 12
)

// GenerateKeyFile writes a new random cluster key to path (mode 0600, the
// file must not exist): 32 bytes, base64, one line. Copy the same file to
// every node.
func GenerateKeyFile(path string) (*Key, error) {
	raw := make([]byte, keyFileSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	line := base64.StdEncoding.EncodeToString(raw) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("cluster key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("cluster key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("cluster key %s: %w", path, err)
	}
	return newKey(raw)
}

// LoadKey reads the cluster key file: 32 bytes as base64 (standard or URL
// alphabet) or 64 hex digits, surrounding white space ignored. A file that
// group or others can access (mode beyond 0600), a symlink target that is
// not a regular file, or a key of another length is refused.
func LoadKey(path string) (*Key, error) {
	if path == "" {
		return nil, errors.New("no cluster key file: set cluster-key= in the store URL or " + EnvKeyFile)
	}
	b, err := readPrivateFile(path, "cluster key", 4096, true)
	if err != nil {
		return nil, err
	}
	s := string(bytes.TrimSpace(b))
	var raw []byte
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if r, err := dec(s); err == nil && len(r) == keyFileSize {
			raw = r
			break
		}
	}
	if raw == nil {
		return nil, fmt.Errorf("cluster key %s: want 32 bytes as base64 or 64 hex digits (generate one with: head -c 32 /dev/urandom | base64)", path)
	}
	return newKey(raw)
}

func newKey(raw []byte) (*Key, error) {
	blk, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("acmectl cluster key id v1"))
	return &Key{aead: aead, id: hex.EncodeToString(m.Sum(nil)[:keyIDLen])}, nil
}

// ID identifies the key (16 hex digits) without revealing it.
func (k *Key) ID() string { return k.id }

func (k *Key) String() string       { return "cluster key " + k.id }
func (k *Key) GoString() string     { return "cluster.Key(" + k.id + ")" }
func (k *Key) LogValue() slog.Value { return slog.StringValue("cluster key " + k.id) }

// aad binds a sealed value to the etcd key (relative to the prefix) and the
// field it is stored in.
func aad(relKey, field string) []byte {
	return []byte("acmectl-cluster-v1\x00" + relKey + "\x00" + field)
}

// Seal encrypts plaintext for the record at relKey (the etcd key below the
// cluster prefix) and field. The result is version(1) | key ID(8) |
// nonce(12) | ciphertext+tag.
func (k *Key) Seal(relKey, field string, plaintext []byte) []byte {
	id, _ := hex.DecodeString(k.id)
	out := make([]byte, 0, 1+keyIDLen+nonceLen+len(plaintext)+k.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, id...)
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		panic("cluster: crypto/rand failed: " + err.Error())
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad(relKey, field))
}

// Open decrypts what Seal returned for the same relKey and field. Data
// sealed with another cluster key, changed, or read from another key or
// field wraps ErrTampered (the message says which when it can tell).
func (k *Key) Open(relKey, field string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+keyIDLen+nonceLen+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%s %s: not a sealed value of this format: %w", relKey, field, ErrTampered)
	}
	id := hex.EncodeToString(sealed[1 : 1+keyIDLen])
	if id != k.id {
		return nil, fmt.Errorf("%s %s: sealed with cluster key %s, this node has %s (copy the cluster's key file to this node): %w", relKey, field, id, k.id, ErrTampered)
	}
	nonce := sealed[1+keyIDLen : 1+keyIDLen+nonceLen]
	pt, err := k.aead.Open(nil, nonce, sealed[1+keyIDLen+nonceLen:], aad(relKey, field))
	if err != nil {
		return nil, fmt.Errorf("%s %s: changed or moved from another key: %w", relKey, field, ErrTampered)
	}
	return pt, nil
}
