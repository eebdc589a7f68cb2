package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"
)

// dnsPersistCommand is "acmectl dns-persist records|check". Its options are
// certbot's command line's (-d, --server, --account, --cert-name, --json,
// --dns, ...; cli.ini read as for a verb), so they are parsed by argparse,
// not urfave/cli; the texts are manager's help topic "dns-persist".
func dnsPersistCommand() *cli.Command {
	return &cli.Command{
		Name:            "dns-persist",
		Usage:           "print, create once (--dns) and check the standing TXT records of dns-persist-01",
		SkipFlagParsing: true,
		HideHelp:        true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			pos := positionals(args)
			sub := ""
			if len(pos) > 0 {
				sub = args[pos[0]]
			}
			run := map[string]handler{"records": runDNSPersistRecords, "check": runDNSPersistCheck}[sub]
			switch {
			case len(pos) > 1:
				return usageErrorf("dns-persist %s: unexpected argument %q (names go with -d)", sub, args[pos[1]])
			case run == nil && sub != "":
				return usageErrorf("dns-persist: unknown subcommand %q (records or check)", sub)
			case run == nil:
				return cmdParser().WriteHelp(c.App.Writer, "acmectl", "dns-persist")
			}
			return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", slices.Delete(args, pos[0], pos[0]+1), nil, "dns-persist", run)
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
	if werr := res.Write(e.stdout, e.o.JSON, e.o.Quiet); werr != nil {
		return werr
	}
	if l := res.PublishedLine(); l != "" {
		e.errorf("%s\n", l)
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
	if err := res.Write(e.stdout, e.o.JSON, e.o.Quiet); err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("the CA would refuse the dns-persist-01 record of %d of %d names", n, len(res.Verdicts))
	}
	return nil
}
