package main

import (
	"github.com/urfave/cli/v2"
	"slices"

	"github.com/acmectl/acmectl/manager"
)

// Flag names the front-end's own commands (doctor, schedule, scm) use; the
// engine's parameters, with their names, aliases, conf keys and validation,
// are manager.Params.
const (
	flgConfig         = "config"
	flgConfigDir      = "config-dir"
	flgWorkDir        = "work-dir"
	flgLogsDir        = "logs-dir"
	flgVerbose        = "verbose"
	flgQuiet          = "quiet"
	flgNonInteractive = "non-interactive"
	flgServer         = "server"
	flgCABundle       = "ca-bundle"
	flgEABKid         = "eab-kid"
	flgEABHMACKey     = "eab-hmac-key"
	flgEABKeyFile     = "eab-hmac-key-file"
	flgEmail          = "email"
	flgDomains        = "domains"
	flgCertName       = "cert-name"
	flgDryRun         = "dry-run"
	flgNoRandomSleep  = "no-random-sleep-on-renew"
)

// Environment variables and defaults the front-end reads.
const (
	envEABHMACKey   = manager.EnvEABHMACKey
	envCABundle     = manager.EnvCABundle
	envSystemConfig = manager.EnvSystemCLIIni

	defaultConfigDir = manager.DefaultConfigDir
	defaultWorkDir   = manager.DefaultWorkDir
	defaultLogsDir   = manager.DefaultLogsDir
)

// commandFlags builds fresh flag values for command cmd from the parameter
// table (urfave/cli keeps parse state in the flag values, so every command
// and every newApp gets its own).
func commandFlags(cmd string) []cli.Flag {
	var out []cli.Flag
	for _, p := range manager.Params {
		hidden := p.Hidden
		if len(p.Cmds) > 0 && !slices.Contains(p.Cmds, cmd) {
			hidden = true
		}
		switch p.Kind {
		case manager.KindBool:
			out = append(out, &cli.BoolFlag{Name: p.Name, Aliases: p.Aliases, Usage: p.Usage, Category: p.Category, Hidden: hidden})
		case manager.KindCount:
			out = append(out, &cli.BoolFlag{Name: p.Name, Aliases: p.Aliases, Usage: p.Usage, Category: p.Category, Hidden: hidden, Count: new(int)})
		case manager.KindList:
			out = append(out, &cli.StringSliceFlag{Name: p.Name, Aliases: p.Aliases, Usage: p.Usage, Category: p.Category, Hidden: hidden})
		default:
			out = append(out, &cli.StringFlag{Name: p.Name, Aliases: p.Aliases, Usage: p.Usage, Category: p.Category, Hidden: hidden, DefaultText: p.Default})
		}
	}
	return out
}

// resolveServer turns a --server alias or URL into a directory URL.
func resolveServer(s string) (string, error) { return manager.ResolveServer(s) }
