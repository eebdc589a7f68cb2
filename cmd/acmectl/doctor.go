package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/doctor"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/schedule"
)

// doctorCommand is "acmectl doctor".
func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that every certificate's next renewal would work, and say how to fix what would not",
		Description: "For each lineage (or --cert-name): the renewal conf parses, its authenticator is supported, " +
			"webroots exist and are writable, hooks exist and are executable, its account exists, key and certificate " +
			"match, the live links resolve, permissions are sane and the CA's directory answers; with dns-persist-01, each name's " +
			"record names the lineage's account and the CA (policy=wildcard for wildcards, persistUntil not passed, a warning " +
			"within 30 days). --dry-run then runs " +
			"'renew --dry-run' for each lineage that passed. Exits 1 when any lineage would fail.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgCertName, Usage: "check only this lineage"},
			&cli.BoolFlag{Name: flgDryRun, Usage: "also renew each lineage against its CA without saving (renew --dry-run)"},
			&cli.StringFlag{Name: flgConfigDir, Value: defaultConfigDir, Usage: "configuration directory (certbot's tree)"},
			&cli.StringFlag{Name: flgWorkDir, Value: defaultWorkDir, Usage: "working directory (for --dry-run)"},
			&cli.StringFlag{Name: flgLogsDir, Value: defaultLogsDir, Usage: "log directory (for --dry-run)"},
			&cli.StringFlag{Name: flgCABundle, EnvVars: []string{envCABundle}, Usage: "PEM file of extra roots to trust for the CA's HTTPS"},
			&cli.BoolFlag{Name: flgQuiet, Aliases: []string{"q"}, Usage: "print only the lineages that would fail"},
			&cli.BoolFlag{Name: flgNonInteractive, Aliases: []string{"n"}, Usage: "accepted for compatibility (doctor never asks)"},
			&cli.StringFlag{Name: flgSchedRoot, Value: "/", Hidden: true, Usage: "root whose scheduled renewal is reported (tests)"},
		},
		Action: runDoctor,
	}
}

func runDoctor(c *cli.Context) error {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	w := c.App.Writer
	if w == nil {
		w = os.Stdout
	}
	client, err := manager.NewHTTPClient(c.String(flgCABundle))
	if err != nil {
		return usageErrorf("doctor: %v", err)
	}
	client.Timeout = doctor.CATimeout
	configDir, _ := filepath.Abs(c.String(flgConfigDir))
	d, err := doctor.New(configDir, client)
	if err != nil {
		return err
	}
	d.UserAgent = defaultUserAgent()
	dry, closeLog, err := doctorDryRunOptions(c)
	if err != nil {
		return err
	}
	defer closeLog()
	return d.Run(ctx, w, doctor.RunOptions{CertName: c.String(flgCertName), Quiet: c.Bool(flgQuiet), DryRun: dry,
		Footer: func() string { return (&schedule.Host{Root: c.String(flgSchedRoot), Staged: true}).Renewal().Summary() }})
}

// doctorDryRunOptions are the dry-run settings of --dry-run (nil without
// it): the engine logs to letsencrypt.log as renew does.
func doctorDryRunOptions(c *cli.Context) (*doctor.DryRunOptions, func(), error) {
	if !c.Bool(flgDryRun) {
		return nil, func() {}, nil
	}
	work, _ := filepath.Abs(c.String(flgWorkDir))
	logs, _ := filepath.Abs(c.String(flgLogsDir))
	o := &doctor.DryRunOptions{WorkDir: work, LogsDir: logs, CABundle: c.String(flgCABundle), UserAgent: defaultUserAgent()}
	f, err := openLog(logs, 1000)
	if err != nil {
		return nil, nil, err
	}
	o.Log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return o, func() { f.Close() }, nil
}
