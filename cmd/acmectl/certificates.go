package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

// certJSON is one lineage in `certificates --json` (ours).
type certJSON struct {
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

// runCertificates lists lineages in certbot's format, or as JSON, as the
// engine's listing streams by (a tree of 10,000 lineages is never held in
// memory), with certbot's INVALID reasons (TEST_CERT, EXPIRED, REVOKED).
func runCertificates(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	m := e.engine(st)
	now := e.now()
	w := e.stdout
	if e.o.JSON {
		n := 0
		err := m.Certificates(ctx, func(li *storage.LineageInfo, v manager.Validity) error {
			b, err := json.MarshalIndent(certEntryJSON(li, v, now), "  ", "  ")
			if err != nil {
				return err
			}
			sep := ",\n  "
			if n == 0 {
				sep = "[\n  "
			}
			n++
			fmt.Fprint(w, sep)
			_, err = w.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprint(w, "[]\n")
		} else {
			fmt.Fprint(w, "\n]\n")
		}
		return nil
	}
	var bad []*storage.LineageInfo
	good := 0
	fmt.Fprintf(w, "\n%s\n", dashes)
	err = m.Certificates(ctx, func(li *storage.LineageInfo, v manager.Validity) error {
		if li.Err != nil {
			bad = append(bad, li)
			return nil
		}
		if good == 0 {
			fmt.Fprintln(w, "Found the following certs:")
		}
		good++
		fmt.Fprint(w, formatCert(li, v, now))
		return nil
	})
	if err != nil {
		return err
	}
	if good == 0 {
		fmt.Fprintln(w, "No certificates found.")
	}
	if len(bad) > 0 {
		fmt.Fprintln(w, "\nThe following renewal configurations were invalid:")
		for _, li := range bad {
			fmt.Fprintf(w, "  %s: %s\n", li.ConfPath, oneLine(li.Err.Error()))
		}
	}
	fmt.Fprintln(w, dashes)
	return nil
}

func certEntryJSON(li *storage.LineageInfo, v manager.Validity, now time.Time) certJSON {
	j := certJSON{Name: li.Name, Serial: li.Serial, KeyType: li.KeyType, Identifiers: li.Domains,
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
		j.DaysLeft = daysLeft(now, li.NotAfter)
	}
	return j
}

// formatCert is one entry of certbot's `certificates` output
// (cert_manager.human_readable_cert_info).
func formatCert(li *storage.LineageInfo, v manager.Validity, now time.Time) string {
	var validity string
	switch d := daysLeft(now, li.NotAfter); {
	case len(v.Invalid) > 0:
		validity = "INVALID: " + strings.Join(v.Invalid, ", ")
	case d < 1:
		validity = fmt.Sprintf("VALID: %d hour(s)", int(li.NotAfter.Sub(now).Hours()))
	case d == 1:
		validity = "VALID: 1 day"
	default:
		validity = fmt.Sprintf("VALID: %d days", d)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  Certificate Name: %s\n", li.Name)
	fmt.Fprintf(&b, "    Serial Number: %s\n", li.Serial)
	fmt.Fprintf(&b, "    Key Type: %s\n", li.KeyType)
	fmt.Fprintf(&b, "    Identifiers: %s\n", strings.Join(li.Domains, " "))
	fmt.Fprintf(&b, "    Expiry Date: %s (%s)\n", li.NotAfter.UTC().Format("2006-01-02 15:04:05+00:00"), validity)
	fmt.Fprintf(&b, "    Certificate Path: %s\n", li.FullchainPath)
	fmt.Fprintf(&b, "    Private Key Path: %s\n", li.KeyPath)
	return b.String()
}

func daysLeft(now, notAfter time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}
