package manager

import (
	"math"
	"time"

	"github.com/acmectl/acmectl/storage"
)

// CertificateInfo is one lineage as `certificates` lists it (the JSON form
// of `certificates --json`, ours).
type CertificateInfo struct {
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
	Installer     string    `json:"installer,omitempty"`
	CertPath      string    `json:"certificate_path"`
	FullchainPath string    `json:"fullchain_path"`
	KeyPath       string    `json:"private_key_path"`
	ConfPath      string    `json:"renewal_conf"`
	Invalid       []string  `json:"invalid,omitempty"`    // certbot's reasons: TEST_CERT, EXPIRED, REVOKED
	Revocation    string    `json:"revocation,omitempty"` // good, revoked or unknown
	Error         string    `json:"error,omitempty"`
}

// Certificate describes a listed lineage with its validity (Certificates)
// at now. The installer is the web server its renewals reload ("" for none;
// certbot's null installer too).
func Certificate(li *storage.LineageInfo, v Validity, now time.Time) CertificateInfo {
	j := CertificateInfo{Name: li.Name, Serial: li.Serial, KeyType: li.KeyType, Identifiers: li.Domains,
		NotBefore: li.NotBefore, NotAfter: li.NotAfter, Issuer: li.Issuer,
		CertPath: li.CertPath, FullchainPath: li.FullchainPath, KeyPath: li.KeyPath, ConfPath: li.ConfPath,
		Invalid: v.Invalid, Revocation: v.Revocation.Status.String()}
	if j.Identifiers == nil {
		j.Identifiers = []string{}
	}
	if li.Conf != nil {
		j.Server = li.Conf.Server
		if isWeb(li.Conf.Installer) {
			j.Installer = li.Conf.Installer
		}
	}
	if li.Err != nil {
		j.Error = li.Err.Error()
	} else {
		j.Valid = len(v.Invalid) == 0 && now.Before(li.NotAfter)
		j.DaysLeft = int(math.Floor(li.NotAfter.Sub(now).Hours() / 24))
	}
	return j
}
