package storage

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InFlight is the record of one lineage's order in flight: written just
// before finalize, so that after a crash, a kill or a lost answer the next
// run continues that order (acme.ResumeOrder) instead of ordering anew, which
// at Sectigo mints a second certificate (esnet/acme-proxy#56). It holds the
// new certificate key, so the file is 0600 in a 0700 directory.
type InFlight struct {
	// Server is the ACME directory URL and AccountID the account (certbot's
	// id) the order belongs to; a record for another server or account is
	// not resumable with this one.
	Server, AccountID string
	// OrderURL is the order's URL.
	OrderURL string
	// Identifiers are the names ordered: DNS names, then IP addresses.
	Identifiers []string
	// CSR is the DER certificate request sent (or about to be sent) with
	// finalize; KeyPEM the certificate key it was made with.
	CSR    []byte
	KeyPEM []byte
	// Created is when the record was written (UTC, whole seconds).
	Created time.Time
}

// InFlightStore keeps the in-flight order records. *Tree implements it.
// Records are per lineage; writes take the lineage's lock (re-entrant for a
// Tree that already holds it).
type InFlightStore interface {
	// SaveInFlight writes (or replaces) name's record atomically.
	SaveInFlight(ctx context.Context, name string, r *InFlight) error
	// LoadInFlight reads name's record: an error wrapping ErrNotFound when
	// there is none, ErrBroken when it cannot be used (unparsable, or the key
	// does not match the CSR) — the caller removes it and orders anew.
	LoadInFlight(ctx context.Context, name string) (*InFlight, error)
	// RemoveInFlight deletes name's record; none is not an error.
	RemoveInFlight(ctx context.Context, name string) error
}

var _ InFlightStore = (*Tree)(nil)

// inFlightFile is the on-disk form (JSON).
type inFlightFile struct {
	Version     int       `json:"version"`
	Server      string    `json:"server"`
	AccountID   string    `json:"account_id,omitempty"`
	OrderURL    string    `json:"order_url"`
	Identifiers []string  `json:"identifiers"`
	CSR         string    `json:"csr"` // PEM
	Key         string    `json:"key"` // PEM
	Created     time.Time `json:"created"`
}

const maxInFlightFile = 256 << 10

// InFlightPath is <config>/.acmectl/inflight/<name>.json, outside everything
// certbot reads.
func (t *Tree) InFlightPath(name string) string {
	return filepath.Join(t.Dir, ".acmectl", "inflight", name+".json")
}

// SaveInFlight writes the record atomically (0600, directory 0700).
func (t *Tree) SaveInFlight(ctx context.Context, name string, r *InFlight) error {
	if err := ValidLineageName(name); err != nil {
		return err
	}
	if err := checkInFlight(r); err != nil {
		return fmt.Errorf("save in-flight order of %s: %w", name, err)
	}
	created := r.Created
	if created.IsZero() {
		created = t.opts.Now()
	}
	data, err := json.MarshalIndent(inFlightFile{
		Version: 1, Server: r.Server, AccountID: r.AccountID, OrderURL: r.OrderURL, Identifiers: r.Identifiers,
		CSR:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: r.CSR})),
		Key:     string(r.KeyPEM),
		Created: created.UTC().Truncate(time.Second),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("save in-flight order of %s: %w", name, err)
	}
	unlock, err := t.LockLineage(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	path := t.InFlightPath(name)
	dir := filepath.Dir(path)
	if err := mkdirs(dir, 0o700); err != nil {
		return fmt.Errorf("save in-flight order of %s: %w", name, err)
	}
	// Only this lineage's leftovers: the directory is shared by every
	// lineage, and another process may be writing its own record right now.
	removeTempsPrefix(dir, tmpPrefix+filepath.Base(path)+"-")
	if err := writeFileAtomic(path, append(data, '\n'), 0o600, -1); err != nil {
		return fmt.Errorf("save in-flight order of %s: %w", name, err)
	}
	return nil
}

// InFlightNames lists the lineages that have a record (one directory
// read, so a renew run over many lineages knows which to collect without a
// stat each); none is not an error.
func (t *Tree) InFlightNames(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(filepath.Dir(t.InFlightPath("x")))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list in-flight orders: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() && ValidLineageName(n) == nil {
			names = append(names, n)
		}
	}
	return names, nil
}

// LoadInFlight reads and checks the record.
func (t *Tree) LoadInFlight(ctx context.Context, name string) (*InFlight, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	path := t.InFlightPath(name)
	data, err := readSmallLimit(path, maxInFlightFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("in-flight order of %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("in-flight order of %s: %w", name, err)
	}
	broken := func(format string, a ...any) error {
		return fmt.Errorf("in-flight order %s: %s: %w", path, fmt.Sprintf(format, a...), ErrBroken)
	}
	var f inFlightFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, broken("%v", err)
	}
	if f.Version != 1 {
		return nil, broken("version %d not understood", f.Version)
	}
	blk, _ := pem.Decode([]byte(f.CSR))
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, broken("no CSR")
	}
	r := &InFlight{Server: f.Server, AccountID: f.AccountID, OrderURL: f.OrderURL, Identifiers: f.Identifiers,
		CSR: blk.Bytes, KeyPEM: []byte(f.Key), Created: f.Created}
	if err := checkInFlight(r); err != nil {
		return nil, broken("%v", err)
	}
	return r, nil
}

// RemoveInFlight deletes the record (after the certificate was saved, or when
// the order cannot be resumed).
func (t *Tree) RemoveInFlight(ctx context.Context, name string) error {
	if err := ValidLineageName(name); err != nil {
		return err
	}
	unlock, err := t.LockLineage(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	path := t.InFlightPath(name)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove in-flight order of %s: %w", name, err)
	}
	return syncDir(filepath.Dir(path))
}

// CheckInFlight is the check every in-flight record passes before it is
// written or used (the cluster store's records too).
func CheckInFlight(r *InFlight) error { return checkInFlight(r) }

// checkInFlight refuses a record that could not be resumed: no order URL, a
// CSR that does not parse or verify, a key that does not match it.
func checkInFlight(r *InFlight) error {
	if r == nil {
		return errors.New("no record")
	}
	u, err := url.Parse(r.OrderURL)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("order URL %q is not an http(s) URL", r.OrderURL)
	}
	if r.Server == "" {
		return errors.New("no server")
	}
	if len(r.Identifiers) == 0 {
		return errors.New("no identifiers")
	}
	csr, err := x509.ParseCertificateRequest(r.CSR)
	if err != nil {
		return fmt.Errorf("CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return fmt.Errorf("CSR signature: %w", err)
	}
	key, err := ParsePrivateKeyPEM(r.KeyPEM)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	type eq interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := key.Public().(eq); !ok || !pub.Equal(csr.PublicKey) {
		return errors.New("the key does not match the CSR")
	}
	return nil
}

// readSmallLimit reads a regular file of at most limit bytes.
func readSmallLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}
