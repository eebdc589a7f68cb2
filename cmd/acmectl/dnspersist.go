package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/manager"
)

const helpDNSPersist = `dns-persist-01 (draft-ietf-acme-dns-persist) proves a name by ONE standing TXT
record at _validation-persist.<name> that names the CA and your ACME account.
Publish it once; every issuance and renewal with --preferred-challenges
dns-persist-01 then validates against it, with no DNS change and no DNS
credentials on the server. A wildcard (*.example.com) is proven by the record
of example.com with policy=wildcard.

  acmectl dns-persist records -d example.com -d '*.example.com'   print the records to create
  acmectl dns-persist check   -d example.com -d '*.example.com'   read them back, say what the CA would do

The account is the one registered at --server (or --account, or the lineage's
with --cert-name). Anyone holding that account's key can get certificates for
every name whose record names the account: keep the key as you kept the DNS
credentials.`

// dnsPersistCommand is "acmectl dns-persist records|check". Both take the
// parameter table's flags.
func dnsPersistCommand() *cli.Command {
	sub := func(name, usage, desc string, run handler) *cli.Command {
		s := commandSpec{name: "dns-persist", run: run}
		return &cli.Command{
			Name: name, Usage: usage, Description: desc,
			Flags:                  commandFlags("dns-persist"),
			UseShortOptionHandling: true,
			OnUsageError: func(_ *cli.Context, err error, _ bool) error {
				return &usageError{fmt.Errorf("dns-persist %s: %w", name, err)}
			},
			Action: func(c *cli.Context) error {
				if c.Args().Len() > 0 {
					return usageErrorf("dns-persist %s: unexpected argument %q (names go with -d)", name, c.Args().First())
				}
				return invoke(c, s)
			},
		}
	}
	return &cli.Command{
		Name:        "dns-persist",
		Usage:       "print, create once (--dns) and check the standing TXT records of dns-persist-01",
		Description: helpDNSPersist,
		Subcommands: []*cli.Command{
			sub("records", "print the dns-persist-01 records to create for -d names (zone-file lines, or --json)",
				"Prints one TXT record per name (a name and its wildcard share one, with policy=wildcard) naming the CA's "+
					"first issuer domain name (or --persist-issuer) and the account's URL; --persist-wildcard and "+
					"--persist-until add those parameters. Nothing is ordered. With --dns rfc2136 or --dns exec (and "+
					"--dns-credentials FILE) the records are also created, once; the credentials are not saved.",
				runDNSPersistRecords),
			sub("check", "say per name whether the CA would accept its dns-persist-01 record (exit 1 when not)",
				"Reads each name's record from its zone's authoritative servers (or --dns-resolver) and checks it as the CA "+
					"does: issuer domain name, account URL, policy=wildcard for wildcards, persistUntil (a warning within 30 days). "+
					"Changes nothing.",
				runDNSPersistCheck),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usageErrorf("dns-persist: unknown subcommand %q (records or check)", c.Args().First())
			}
			return cli.ShowSubcommandHelp(c)
		},
	}
}

func runDNSPersistRecords(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).DNSPersistRecords(ctx)
	if res == nil {
		return err
	}
	if e.o.JSON {
		if jerr := writeJSON(e, res); jerr != nil {
			return jerr
		}
		return err
	}
	if !e.o.Quiet {
		fmt.Fprintf(e.stdout, "; dns-persist-01 records for account %s (%s) at %s\n", res.AccountID, res.AccountURL, res.Server)
		fmt.Fprintf(e.stdout, "; issuer domain names this CA accepts: %s\n", strings.Join(res.IssuerDomainNames, ", "))
	}
	for _, r := range res.Records {
		if !e.o.Quiet {
			fmt.Fprintf(e.stdout, "; %s\n", strings.Join(r.For, ", "))
		}
		fmt.Fprintln(e.stdout, r.ZoneLine())
	}
	if len(res.Published) > 0 {
		e.errorf("Created %s through --dns %s; 'acmectl dns-persist check' shows when the CA can see them.\n",
			plural(len(res.Published), "record"), strings.TrimPrefix(e.o.Authenticator, "dns-"))
	}
	return err
}

func runDNSPersistCheck(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).DNSPersistCheck(ctx)
	if err != nil {
		return err
	}
	if e.o.JSON {
		if err := writeJSON(e, res); err != nil {
			return err
		}
	} else {
		writePersistCheck(e, res)
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("the CA would refuse the dns-persist-01 record of %d of %d names", n, len(res.Verdicts))
	}
	return nil
}

// writePersistCheck prints one block per name: status and reason, the
// record that decided, where it was read, and the fix.
func writePersistCheck(e *env, res *manager.PersistCheck) {
	w := e.stdout
	if !e.o.Quiet {
		fmt.Fprintf(w, "Account %s (%s) at %s; issuer domain names: %s\n", res.AccountID, res.AccountURL, res.Server, strings.Join(res.IssuerDomainNames, ", "))
	}
	for _, v := range res.Verdicts {
		if e.o.Quiet && v.OK() && v.Warning == "" {
			continue
		}
		switch {
		case !v.OK():
			fmt.Fprintf(w, "%s: FAIL (%s) %s\n", v.Name, v.Status, v.Reason)
		case v.Warning != "":
			fmt.Fprintf(w, "%s: WARN %s\n", v.Name, v.Warning)
		default:
			fmt.Fprintf(w, "%s: OK the CA would accept it\n", v.Name)
		}
		if v.Record != "" {
			fmt.Fprintf(w, "  record: TXT %s %q\n", v.RecordName, v.Record)
		}
		if v.Source != "" {
			fmt.Fprintf(w, "  read from: %s\n", v.Source)
		}
		if v.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", v.Fix)
		}
	}
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
