package main

import (
	"context"

	"github.com/urfave/cli/v2"
)

// dnsPersistCommand is "acmectl dns-persist records|check". Its options are
// certbot's command line's (-d, --server, --account, --json, --dns, ...;
// cli.ini read as for a verb), parsed by argparse, not urfave/cli; its help
// is manager's topic "dns-persist".
func dnsPersistCommand() *cli.Command {
	return &cli.Command{Name: "dns-persist", Usage: "print, create once (--dns) and check the standing TXT records of dns-persist-01",
		SkipFlagParsing: true, HideHelp: true, Action: func(c *cli.Context) error {
			args, pos, sub := c.Args().Slice(), positionals(c.Args().Slice()), ""
			if len(pos) > 0 {
				sub = args[pos[0]]
			}
			switch {
			case len(pos) > 1:
				return usageErrorf("dns-persist %s: unexpected argument %q (names go with -d)", sub, args[pos[1]])
			case sub == "":
				return cmdParser().WriteHelp(c.App.Writer, "acmectl", "dns-persist")
			case sub != "records" && sub != "check":
				return usageErrorf("dns-persist: unknown subcommand %q (records or check)", sub)
			}
			rest := append(args[:pos[0]:pos[0]], args[pos[0]+1:]...)
			return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", rest, nil, "dns-persist", func(ctx context.Context, e *env) error {
				st, err := openStore(e)
				if err != nil {
					return err
				}
				return e.engine(st).DNSPersist(ctx, sub == "check", e.stdout, e.stderr)
			})
		}}
}
