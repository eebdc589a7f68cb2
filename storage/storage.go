package storage

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the account or lineage does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrExist: a lineage with that name already exists (CreateLineage).
	ErrExist = errors.New("storage: already exists")
	// ErrLocked: a lock could not be taken within the wait bound.
	ErrLocked = errors.New("storage: locked")
	// ErrBadName: a lineage name or server path component is refused.
	ErrBadName = errors.New("storage: bad name")
	// ErrNameIsFlag: a name starts with '-' (it also wraps ErrBadName). On a
	// command line that is a usage error: the CLI exits 2, as argparse does
	// for certbot --cert-name -x.
	ErrNameIsFlag = fmt.Errorf("%w: starts with '-'", ErrBadName)
	// ErrBroken: a lineage is on disk but unusable (dangling link, missing
	// archive file, key not matching the certificate).
	ErrBroken = errors.New("storage: broken lineage")
)

// Storage is the set of operations cmd/ needs, at the level of accounts and
// lineages. *Tree (certbot's file tree) implements it; a shared backend may
// implement it later.
//
// Every method may be called concurrently from several goroutines and
// processes. Writers are serialized by the implementation's locks; readers
// never see a half-written account or version. "Not found" is reported as an
// error wrapping ErrNotFound. Methods that wait on a lock return an error
// wrapping ErrLocked when ctx or the implementation's bound expires.
type Storage interface {
	// SaveAccount stores a (possibly new) account for server and returns its
	// id. Saving an account again overwrites regr.json and meta.json and keeps
	// the key. EAB secrets are never part of Account and never stored.
	SaveAccount(ctx context.Context, a *Account) (id string, err error)
	// LoadAccount loads the account id registered at server.
	LoadAccount(ctx context.Context, server, id string) (*Account, error)
	// ListAccounts lists the accounts for server, sorted by id; none is not an
	// error. Accounts that fail to load are skipped and reported in errs.
	ListAccounts(ctx context.Context, server string) (accts []*Account, errs error)
	// DeleteAccount removes the account's directory.
	DeleteAccount(ctx context.Context, server, id string) error

	// UniqueLineageName returns the name a new lineage gets: certName, else
	// the first domain without "*." and, when that is taken, name-0001,
	// name-0002, ... (certbot's rule). Hostile names wrap ErrBadName.
	UniqueLineageName(ctx context.Context, certName string, domains []string) (string, error)
	// CreateLineage writes version 1 of a new lineage, its live links,
	// README and renewal conf. It fails with ErrExist if name is taken.
	CreateLineage(ctx context.Context, name string, v *Version, conf *RenewalConf) (*Lineage, error)
	// SaveVersion writes the next version of an existing lineage, swaps the
	// live links to it and rewrites the renewal conf (conf may be nil to
	// keep it). Older versions stay unless v.KeepVersions asks to prune.
	SaveVersion(ctx context.Context, name string, v *Version, conf *RenewalConf) (*Lineage, error)
	// RepairLineage finishes a save that died while swapping live links.
	RepairLineage(ctx context.Context, name string) (*Lineage, error)
	// LoadLineage loads the lineage's current version (cert, chain, key, conf).
	LoadLineage(ctx context.Context, name string) (*Lineage, error)
	// ListLineages returns every lineage sorted by name. A lineage that
	// cannot be read appears with Err set; the other entries stay usable.
	ListLineages(ctx context.Context) ([]*LineageInfo, error)
	// WalkLineages calls fn for each lineage in name order (only those named
	// in only, when it is not nil) without holding the whole list; it stops
	// at fn's first error and returns it.
	WalkLineages(ctx context.Context, only []string, fn func(*LineageInfo) error) error
	// LiveDir is live/<name>, where the lineage's current files are linked.
	LiveDir(name string) string
	// LoadRenewalConf reads and parses renewal/<name>.conf.
	LoadRenewalConf(ctx context.Context, name string) (*RenewalConf, error)
	// SaveRenewalConf rewrites renewal/<name>.conf (e.g. ARI retry-after).
	SaveRenewalConf(ctx context.Context, name string, conf *RenewalConf) error
	// SetARIRetryAfter saves when to ask the CA for the lineage's ARI
	// window next ([acme_renewal_info] ari_retry_after in its conf).
	SetARIRetryAfter(ctx context.Context, name string, at time.Time) error
	// SetARIRetryAfters does SetARIRetryAfter for many lineages at once
	// (name → time, and the serial of the certificate the CA was asked
	// about: the time holds for it only); a lineage it could not save is
	// named in the error, the others are saved. Listings and LoadLineage
	// give the saved time as the conf's ARIRetryAfter.
	SetARIRetryAfters(ctx context.Context, times map[string]ARIRetry) error
	// DeleteLineage removes live/<name>, archive/<name> and the conf.
	DeleteLineage(ctx context.Context, name string) error
	// LockLineage holds the lineage's lock until unlock is called.
	LockLineage(ctx context.Context, name string) (unlock func(), err error)
}

// Account is one ACME account as certbot stores it.
type Account struct {
	// ID is certbot's account id: the MD5 hex of the public key's
	// SubjectPublicKeyInfo PEM. SaveAccount fills it.
	ID string
	// Server is the ACME directory URL the account belongs to.
	Server string
	// URL is the account URL (kid), regr.json "uri".
	URL string
	// Key is the account key: *rsa.PrivateKey or *ecdsa.PrivateKey
	// (P-256, P-384, P-521). Stored as a JWK in private_key.json, mode 0400.
	Key crypto.Signer
	// Regr is regr.json "body". certbot writes {}; nil writes {}.
	Regr json.RawMessage
	// Meta is meta.json.
	Meta AccountMeta
	// Dir is the account directory (set by Load/List/Save).
	Dir string
}

// AccountMeta is meta.json.
type AccountMeta struct {
	// CreationDT is "creation_dt" (RFC 3339, UTC, whole seconds). Zero means
	// "now" on save.
	CreationDT time.Time
	// CreationHost is "creation_host"; empty means os.Hostname on save.
	CreationHost string
	// RegisterToEFF is "register_to_eff" (an e-mail), omitted when empty.
	RegisterToEFF string
}

// Version is the content of one lineage version to save.
type Version struct {
	// CertPEM is the leaf certificate; ChainPEM the issuers (may be empty).
	// fullchain is CertPEM + ChainPEM (a newline is added after CertPEM when
	// missing).
	CertPEM, ChainPEM []byte
	// KeyPEM is the certificate's private key (PKCS#8, PKCS#1 or SEC 1 PEM).
	// With ReuseKey it must be nil: privkeyN.pem becomes a symlink to the
	// previous version's key, as certbot's --reuse-key does.
	KeyPEM   []byte
	ReuseKey bool
	// KeepVersions, for SaveVersion: how many versions archive/ keeps after
	// this save, the new one included; older ones are removed. Zero (the
	// default) keeps every version, as certbot 2.1 does; certbot 2.3+ keeps
	// the current and 5 previous (6). Never removed: a version a live/ link
	// points at, the version holding the key of the lineage's recorded
	// in-flight order, a version Options.KeepVersion reports, and a key a
	// kept version's privkey link points at.
	KeepVersions int
}

// Lineage is one lineage's current version, loaded.
type Lineage struct {
	Name string
	// Version is N of archive/<name>/*N.pem the live links point at.
	Version int
	// Pending is a complete version newer than Version that was written but
	// never linked (certbot's has_pending_deployment); 0 when none. It is
	// left alone: the next save writes the version after it.
	Pending int
	// NeedsRepair: the live links disagree (a save died while swapping
	// them); Version is the newest linked complete version, which
	// RepairLineage or the next save links everywhere.
	NeedsRepair bool
	// Live paths (symlinks) and the archive directory, absolute.
	CertPath, ChainPath, FullchainPath, KeyPath, ArchiveDir string
	CertPEM, ChainPEM, FullchainPEM, KeyPEM                 []byte
	Cert                                                    *x509.Certificate
	// Key is the parsed private key (matches Cert).
	Key crypto.Signer
	// Conf is renewal/<name>.conf.
	Conf *RenewalConf
	// ConfPath is the renewal conf's path.
	ConfPath string
	// ARIRetryAfter is when to ask the CA for Cert's renewal window next:
	// the later of the conf's ari_retry_after and the time a renew run
	// saved for Cert (SetARIRetryAfters); zero when neither says.
	ARIRetryAfter time.Time
}

// ConfSummary is the part of a renewal conf a listing keeps: which CA and
// account the lineage belongs to and what decides whether it is due.
type ConfSummary struct {
	Server, Account   string
	Installer         string // the web server renewals reload (nginx, apache); "" for none
	RenewBeforeExpiry string
	NoAutoRenew       bool
	ARIRetryAfter     time.Time
}

// LineageInfo is a lineage's metadata as listed by ListLineages.
type LineageInfo struct {
	Name    string
	Version int
	// Domains are the DNS names then IP addresses of the current cert.
	Domains []string
	// CommonName is the subject CN (may be empty).
	CommonName          string
	NotBefore, NotAfter time.Time
	// Serial is the serial number in lower-case hex without leading zeros
	// (as certbot certificates prints it).
	Serial string
	// KeyType is "RSA" or "ECDSA" (certbot certificates), KeyBits the size
	// (2048, 256, ...).
	KeyType string
	KeyBits int
	// Issuer is the issuer's distinguished name.
	Issuer string
	// CertPath, FullchainPath, KeyPath are the live link paths.
	CertPath, FullchainPath, KeyPath string
	ConfPath                         string
	// Conf is what the listing keeps of the renewal conf (nil when it failed
	// to parse); LoadRenewalConf or LoadLineage read all of it.
	Conf *ConfSummary
	// AuthorityKeyID is the current cert's authority key identifier (with
	// the serial, its ARI identity).
	AuthorityKeyID []byte
	// NoRevocationSource: the current cert names neither an OCSP responder
	// nor a CRL distribution point, so there is nowhere to ask whether it
	// was revoked (false when unknown).
	NoRevocationSource bool
	// Err is why this lineage cannot be used (bad conf with file:line,
	// dangling link, ...); nil when it is fine.
	Err error
}
