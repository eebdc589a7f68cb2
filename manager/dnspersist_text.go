package manager

// The output of "acmectl dns-persist records|check": zone-file lines and a
// per-name report for people, the same values as JSON (--json) for scripts.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// DNSPersist runs "dns-persist records" (check false) or "dns-persist
// check" and writes the result to w: zone-file lines or the per-name
// report, JSON with Config.JSON, less with Config.Quiet; the records --dns
// created are said on errw. What was found is written also when an error
// follows (records --dns that failed half-way; check, when the CA would
// refuse a name's record: then the error counts them).
func (m *Manager) DNSPersist(ctx context.Context, check bool, w, errw io.Writer) error {
	c := m.Config
	if check {
		res, err := m.DNSPersistCheck(ctx)
		if err != nil {
			return err
		}
		if err := res.Write(w, c.JSON, c.Quiet); err != nil {
			return err
		}
		if n := res.Failed(); n > 0 {
			return fmt.Errorf("the CA would refuse the dns-persist-01 record of %d of %d names", n, len(res.Verdicts))
		}
		return nil
	}
	res, err := m.DNSPersistRecords(ctx)
	if res == nil {
		return err
	}
	if werr := res.Write(w, c.JSON, c.Quiet); werr != nil {
		return werr
	}
	if l := res.PublishedLine(); l != "" {
		fmt.Fprintln(errw, l)
	}
	return err
}

// Write prints the records: with quiet only the zone-file lines, else each
// after a comment naming the account, the CA's issuer domain names and the
// names it proves; with asJSON the whole value, indented.
func (r *PersistRecords) Write(w io.Writer, asJSON, quiet bool) error {
	if asJSON {
		return writeJSON(w, r)
	}
	var b strings.Builder
	if !quiet {
		fmt.Fprintf(&b, "; dns-persist-01 records for account %s (%s) at %s\n", r.AccountID, r.AccountURL, r.Server)
		fmt.Fprintf(&b, "; issuer domain names this CA accepts: %s\n", strings.Join(r.IssuerDomainNames, ", "))
	}
	for _, rec := range r.Records {
		if !quiet {
			fmt.Fprintf(&b, "; %s\n", strings.Join(rec.For, ", "))
		}
		fmt.Fprintln(&b, rec.ZoneLine())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Write prints one block per name — OK, WARN or FAIL with the reason, the
// record that decided, where it was read, and the fix — or, with asJSON,
// the whole value. quiet leaves out the heading and the names that are OK
// without a warning.
func (p *PersistCheck) Write(w io.Writer, asJSON, quiet bool) error {
	if asJSON {
		return writeJSON(w, p)
	}
	var b strings.Builder
	if !quiet {
		fmt.Fprintf(&b, "Account %s (%s) at %s; issuer domain names: %s\n", p.AccountID, p.AccountURL, p.Server, strings.Join(p.IssuerDomainNames, ", "))
	}
	for _, v := range p.Verdicts {
		switch {
		case !v.OK():
			fmt.Fprintf(&b, "%s: FAIL (%s) %s\n", v.Name, v.Status, v.Reason)
		case v.Warning != "":
			fmt.Fprintf(&b, "%s: WARN %s\n", v.Name, v.Warning)
		case quiet:
			continue
		default:
			fmt.Fprintf(&b, "%s: OK the CA would accept it\n", v.Name)
		}
		for _, l := range [][2]string{{"record", recordText(v.RecordName, v.Record)}, {"read from", v.Source}, {"fix", v.Fix}} {
			if l[1] != "" {
				fmt.Fprintf(&b, "  %s: %s\n", l[0], l[1])
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PublishedLine says which records --dns created ("" when none).
func (r *PersistRecords) PublishedLine() string {
	n := len(r.Published)
	switch n {
	case 0:
		return ""
	case 1:
		return "Created 1 record through --dns " + r.Provider + "; 'acmectl dns-persist check' shows when the CA can see it."
	}
	return fmt.Sprintf("Created %d records through --dns %s; 'acmectl dns-persist check' shows when the CA can see them.", n, r.Provider)
}

func recordText(name, value string) string {
	if value == "" {
		return ""
	}
	return fmt.Sprintf("TXT %s %q", name, value)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
