package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

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
	Error         string    `json:"error,omitempty"`
}

// runCertificates lists lineages in certbot's format, or as JSON.
func runCertificates(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	infos, err := st.ListLineages(ctx)
	if err != nil {
		return fmt.Errorf("list certificates: %w", err)
	}
	infos = filterLineages(infos, e.o.certName, append(append([]string(nil), e.o.domains...), e.o.ips...))
	now := e.now()
	if e.o.json {
		out := []certJSON{}
		for _, li := range infos {
			j := certJSON{Name: li.Name, Serial: li.Serial, KeyType: li.KeyType, Identifiers: li.Domains,
				NotBefore: li.NotBefore, NotAfter: li.NotAfter, Issuer: li.Issuer,
				CertPath: li.CertPath, FullchainPath: li.FullchainPath, KeyPath: li.KeyPath, ConfPath: li.ConfPath}
			if j.Identifiers == nil {
				j.Identifiers = []string{}
			}
			if li.Conf != nil {
				j.Server = li.Conf.Params.Server
			}
			if li.Err != nil {
				j.Error = li.Err.Error()
			} else {
				j.Valid = now.Before(li.NotAfter)
				j.DaysLeft = daysLeft(now, li.NotAfter)
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := e.stdout
	var good, bad []*storage.LineageInfo
	for _, li := range infos {
		if li.Err != nil {
			bad = append(bad, li)
		} else {
			good = append(good, li)
		}
	}
	fmt.Fprintf(w, "\n%s\n", dashes)
	if len(good) == 0 {
		fmt.Fprintln(w, "No certificates found.")
	} else {
		fmt.Fprintln(w, "Found the following certs:")
		for _, li := range good {
			fmt.Fprint(w, formatCert(li, now))
		}
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

// formatCert is one entry of certbot's `certificates` output.
func formatCert(li *storage.LineageInfo, now time.Time) string {
	var validity string
	if now.Before(li.NotAfter) {
		d := daysLeft(now, li.NotAfter)
		if d < 1 {
			validity = fmt.Sprintf("VALID: %d hour(s)", int(li.NotAfter.Sub(now).Hours()))
		} else {
			validity = fmt.Sprintf("VALID: %d days", d)
		}
	} else {
		validity = "INVALID: EXPIRED"
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

// filterLineages keeps the lineage named certName and those holding every
// one of names (certbot's --cert-name / -d filters).
func filterLineages(in []*storage.LineageInfo, certName string, names []string) []*storage.LineageInfo {
	var out []*storage.LineageInfo
	for _, li := range in {
		if certName != "" && li.Name != certName {
			continue
		}
		if len(names) > 0 && !subsetOf(names, li.Domains) {
			continue
		}
		out = append(out, li)
	}
	return out
}
