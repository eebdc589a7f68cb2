package manager

import (
	"context"
	"fmt"
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
	Error         string    `json:"error,omitempty"`
}

// Certificate describes a listed lineage at now. The installer is the web
// server its renewals reload ("" for none; certbot's null installer too).
func Certificate(li *storage.LineageInfo, now time.Time) CertificateInfo {
	j := CertificateInfo{Name: li.Name, Serial: li.Serial, KeyType: li.KeyType, Identifiers: li.Domains,
		NotBefore: li.NotBefore, NotAfter: li.NotAfter, Issuer: li.Issuer,
		CertPath: li.CertPath, FullchainPath: li.FullchainPath, KeyPath: li.KeyPath, ConfPath: li.ConfPath}
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
		j.Valid = now.Before(li.NotAfter)
		j.DaysLeft = int(math.Floor(li.NotAfter.Sub(now).Hours() / 24))
	}
	return j
}

// Matches reports whether li holds every one of names (certbot's -d filter
// of certificates; none matches all).
func Matches(li *storage.LineageInfo, names []string) bool {
	return len(names) == 0 || SubsetOf(names, li.Domains)
}

// Certificates calls fn for every lineage the listing holds that
// Config.CertName (when set) and Config.Domains/IPs (certbot's -d filter)
// select, in name order, as the listing streams by.
func (m *Manager) Certificates(ctx context.Context, fn func(li *storage.LineageInfo) error) error {
	c := m.Config
	var only []string
	if c.CertName != "" {
		only = []string{c.CertName}
	}
	names := append(append([]string(nil), c.Domains...), c.IPs...)
	err := m.Store.WalkLineages(ctx, only, func(li *storage.LineageInfo) error {
		if !Matches(li, names) {
			return nil
		}
		return fn(li)
	})
	if err != nil {
		return fmt.Errorf("list certificates: %w", err)
	}
	return nil
}
