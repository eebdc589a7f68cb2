package manager

import (
	"math"
	"time"

	"github.com/acmectl/acmectl/storage"
)

// CertEntry is one lineage in `certificates --json` (ours).
type CertEntry struct {
	Name          string    `json:"name"`
	Serial        string    `json:"serial,omitempty"`
	KeyType       string    `json:"key_type,omitempty"`
	Identifiers   []string  `json:"identifiers"`
	NotBefore     time.Time `json:"not_before,omitzero"`
	NotAfter      time.Time `json:"not_after,omitzero"`
	Valid         bool      `json:"valid"`
	DaysLeft      int       `json:"days_left"`
	Issuer        string    `json:"issuer,omitempty"`
	Server        string    `json:"server,omitempty"`
	CertPath      string    `json:"certificate_path"`
	FullchainPath string    `json:"fullchain_path"`
	KeyPath       string    `json:"private_key_path"`
	ConfPath      string    `json:"renewal_conf"`
	Invalid       []string  `json:"invalid,omitempty"`    // certbot's reasons: TEST_CERT, EXPIRED, REVOKED
	Revocation    string    `json:"revocation,omitempty"` // good, revoked or unknown
	Error         string    `json:"error,omitempty"`
}

// CertEntryOf is the listing entry of li at now.
func CertEntryOf(li *storage.LineageInfo, v Validity, now time.Time) CertEntry {
	j := CertEntry{Name: li.Name, Serial: li.Serial, KeyType: li.KeyType, Identifiers: li.Domains,
		NotBefore: li.NotBefore, NotAfter: li.NotAfter, Issuer: li.Issuer,
		CertPath: li.CertPath, FullchainPath: li.FullchainPath, KeyPath: li.KeyPath, ConfPath: li.ConfPath,
		Invalid: v.Invalid, Revocation: v.Revocation.Status.String()}
	if j.Identifiers == nil {
		j.Identifiers = []string{}
	}
	if li.Conf != nil {
		j.Server = li.Conf.Server
	}
	if li.Err != nil {
		j.Error = li.Err.Error()
	} else {
		j.Valid = len(v.Invalid) == 0 && now.Before(li.NotAfter)
		j.DaysLeft = DaysLeft(now, li.NotAfter)
	}
	return j
}

// DaysLeft is certbot's whole days until notAfter (rounded down).
func DaysLeft(now, notAfter time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}
