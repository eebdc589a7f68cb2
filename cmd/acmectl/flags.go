package main

import (
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

// resolveServer turns a --server alias or URL into a directory URL.
func resolveServer(s string) (string, error) { return manager.ResolveServer(s) }
