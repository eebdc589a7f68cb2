package cluster

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/acmectl/acmectl/storage"
)

// Key layout below the prefix P (every value is JSON unless said otherwise):
//
//	P/cluster                   formatRecord: format version, cluster key ID
//	P/account/<server-path>     accountRecord: the CA account (one per CA), key sealed
//	P/meta/<lineage>            Meta (binary, metacodec.go): what renew decides on; read as one range
//	P/conf/<lineage>            the renewal conf (certbot's text) without node paths, sealed
//	P/cert/<lineage>/<N>        versionRecord N (10 digits): cert, chain, key sealed
//	P/inflight/<lineage>        inflightRecord: the order being finalized, key sealed
//	P/lock/<lineage>            nodeRecord of the holder, bound to its session's lease
//	P/node/<lease>              nodeRecord: a running session's node name, bound to its lease
//
// The two newest versions are kept; a commit of N+1 deletes N-1.
const (
	kFormat   = "cluster"
	kAccount  = "account/"
	kMeta     = "meta/"
	kConf     = "conf/"
	kCert     = "cert/"
	kInflight = "inflight/"
	kLock     = "lock/"
	kNode     = "node/"
)

// formatVersion is the layout above; a newer one is refused.
const formatVersion = 1

func metaKey(name string) string     { return kMeta + name }
func confKey(name string) string     { return kConf + name }
func inflightKey(name string) string { return kInflight + name }
func lockKey(name string) string     { return kLock + name }
func certKey(name string, n int) string {
	return kCert + name + "/" + fmt.Sprintf("%010d", n)
}
func certPrefix(name string) string { return kCert + name + "/" }

type formatRecord struct {
	Format    int       `json:"format"`
	KeyID     string    `json:"key_id"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// Meta is what the cluster knows of one lineage without its certificate: all
// that renew needs to decide that nothing is due, and what status shows. It
// is written only by the node holding the lineage's lock. It is stored in a
// compact binary form (metacodec.go: renew reads every lineage's Meta, and
// JSON decoding was most of that time); its JSON tags are for output.
type Meta struct {
	Name string `json:"name"`
	// Version is the cluster's current version N (P/cert/<name>/<N>).
	Version int `json:"version"`
	// Domains are the current certificate's DNS names then IP addresses.
	Domains []string `json:"domains"`
	// Serial is the certificate's serial (lower-case hex, no leading zeros);
	// AuthorityKeyID with it is the certificate's ARI identity.
	Serial         string    `json:"serial"`
	AuthorityKeyID []byte    `json:"aki,omitempty"`
	NotBefore      time.Time `json:"not_before"`
	NotAfter       time.Time `json:"not_after"`
	// KeyID identifies the certificate's public key (SHA-256 of its SPKI, hex)
	// so join can tell the same key from another one without the private key.
	KeyID string `json:"key_id"`
	// KeyType is the key's algorithm: "rsa", "ecdsa" or "ed25519" (a name
	// set may have one lineage per type: certbot's RSA + ECDSA pairs).
	KeyType string `json:"key_type"`
	// Server and Account are the CA directory URL and certbot's account id.
	Server  string `json:"server"`
	Account string `json:"account,omitempty"`
	// NoAutoRenew is the lineage's own "autorenew = False" (the shared
	// setting; every node's local copy says False whatever this is).
	NoAutoRenew bool `json:"no_autorenew,omitempty"`
	// NoRevocationSource: the certificate names no OCSP responder and no
	// CRL (storage.LineageInfo's; false in records written before it).
	NoRevocationSource bool `json:"no_revocation_source,omitempty"`
	// RenewBeforeExpiry is renew_before_expiry ("" when unset).
	RenewBeforeExpiry string `json:"renew_before_expiry,omitempty"`
	// ARI: the CA's suggested window and when to ask again (RFC 9773).
	ARIStart      time.Time `json:"ari_start,omitzero"`
	ARIEnd        time.Time `json:"ari_end,omitzero"`
	ARIRetryAfter time.Time `json:"ari_retry_after,omitzero"`
	// Failures counts renewals that failed since the last success; LastError
	// is the last one's message and FailedAt its time.
	Failures  int       `json:"failures,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	FailedAt  time.Time `json:"failed_at,omitzero"`
	// RenewedBy and RenewedAt say which node committed the current version
	// and when (the node that joined it, for an imported version).
	RenewedBy string    `json:"renewed_by,omitempty"`
	RenewedAt time.Time `json:"renewed_at,omitzero"`
	// SettingsRev counts changes of P/conf/<name> (replicas compare it).
	SettingsRev int `json:"settings_rev"`
	// CommitID is a random id of the write that made this record, so a
	// writer whose answer was lost can tell whether its write landed.
	CommitID string `json:"commit_id,omitempty"`

	// ModRevision is the etcd revision of this record (not stored).
	ModRevision int64 `json:"mod_revision"`
}

// versionRecord is P/cert/<name>/<N>.
type versionRecord struct {
	Cert  string `json:"cert"`
	Chain string `json:"chain"`
	// Key is the certificate's private key PEM, sealed under a field bound
	// to Cert and Chain (versionField).
	Key []byte `json:"key"`
	// ReusedKey: the key is the previous version's (reuse_key).
	ReusedKey bool      `json:"reused_key,omitempty"`
	Created   time.Time `json:"created"`
	Node      string    `json:"node"`
}

// InFlight is an order the holder of a lineage is finalizing: written before
// the finalize request so that whoever holds the lineage next finishes this
// order instead of creating another (no second certificate). It is the
// single-node record's type, and *Hold is a storage.InFlightStore, so one
// resume logic serves a node's tree and the cluster: fetch the order; valid →
// download and commit; processing → poll; ready → finalize once with CSR;
// invalid or expired → remove and order anew.
type InFlight = storage.InFlight

// inflightRecord is InFlight as stored: the key sealed, and which node
// recorded it.
type inflightRecord struct {
	Server      string    `json:"server"`
	AccountID   string    `json:"account_id,omitempty"`
	OrderURL    string    `json:"order_url"`
	Identifiers []string  `json:"identifiers"`
	CSR         []byte    `json:"csr"`
	Key         []byte    `json:"key"`
	Created     time.Time `json:"created"`
	Node        string    `json:"node"`
}

// accountRecord is P/account/<server-path>: the CA account every node uses.
type accountRecord struct {
	ID           string          `json:"id"`
	Server       string          `json:"server"`
	URL          string          `json:"url"`
	Regr         json.RawMessage `json:"regr,omitempty"`
	CreationDT   time.Time       `json:"creation_dt"`
	CreationHost string          `json:"creation_host"`
	// Key is the account key as PKCS#8 PEM, sealed under field "key".
	Key []byte `json:"key"`
}

type nodeRecord struct {
	Node    string    `json:"node"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// Info is m as the engine's listing sees a lineage (storage.LineageInfo with
// its conf summary), so the due decision it makes for a node's tree applies
// to the cluster's lineages unchanged. Paths are empty: the lineage is in
// etcd, not in a tree.
func (m *Meta) Info() *storage.LineageInfo {
	li := &storage.LineageInfo{Name: m.Name, Version: m.Version, Domains: m.Domains, NotBefore: m.NotBefore, NotAfter: m.NotAfter,
		Serial: m.Serial, AuthorityKeyID: m.AuthorityKeyID, NoRevocationSource: m.NoRevocationSource,
		Conf: &storage.ConfSummary{Server: m.Server, Account: m.Account, RenewBeforeExpiry: m.RenewBeforeExpiry,
			NoAutoRenew: m.NoAutoRenew, ARIRetryAfter: m.ARIRetryAfter}}
	switch m.KeyType {
	case "rsa":
		li.KeyType = "RSA"
	case "ecdsa":
		li.KeyType = "ECDSA"
	case "ed25519":
		li.KeyType = "Ed25519"
	}
	if len(m.Domains) > 0 {
		li.CommonName = m.Domains[0]
	}
	return li
}
