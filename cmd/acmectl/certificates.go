package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

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
			b, err := json.MarshalIndent(manager.Certificate(li, v, now), "  ", "  ")
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

// formatCert is one entry of certbot's `certificates` output
// (cert_manager.human_readable_cert_info), plus the installer when the
// lineage has one (ours).
func formatCert(li *storage.LineageInfo, v manager.Validity, now time.Time) string {
	c := manager.Certificate(li, v, now)
	var validity string
	switch d := c.DaysLeft; {
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
	fmt.Fprintf(&b, "  Certificate Name: %s\n    Serial Number: %s\n    Key Type: %s\n    Identifiers: %s\n", li.Name, li.Serial, li.KeyType, strings.Join(li.Domains, " "))
	fmt.Fprintf(&b, "    Expiry Date: %s (%s)\n", li.NotAfter.UTC().Format("2006-01-02 15:04:05+00:00"), validity)
	fmt.Fprintf(&b, "    Certificate Path: %s\n    Private Key Path: %s\n", li.FullchainPath, li.KeyPath)
	if c.Installer != "" {
		fmt.Fprintf(&b, "    Installer: %s\n", c.Installer)
	}
	return b.String()
}
