package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/schedule"
)

// runRenew renews every due lineage through the engine, prints certbot's
// summary and records the run for `acmectl schedule status`.
func runRenew(ctx context.Context, e *env) error {
	start := time.Now()
	if len(e.o.Domains) > 0 {
		return usageErrorf("renew renews every certificate that is due, or one chosen with --cert-name; to renew by domain names use certonly -d")
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	e.out.json = e.o.JSON
	res, err := e.engine(st).Renew(ctx)
	if err != nil {
		return err
	}
	if !e.o.JSON {
		renewSummary(e.stdout, res, st.LiveDir, e.o.Quiet)
	}
	err = res.Err()
	if !e.o.DryRun {
		writeLastRun(ctx, e, start, res, err)
	}
	return err
}

// writeLastRun records when the timer last ran and how it went.
func writeLastRun(ctx context.Context, e *env, start time.Time, res *manager.RenewResult, err error) {
	lr := schedule.LastRun{Time: start, Command: "renew", Version: version, OK: err == nil, Duration: time.Since(start).Round(time.Millisecond).String()}
	lr.Renewed, lr.Failed = res.Lineages()
	if err != nil {
		lr.Error = oneLine(err.Error())
	}
	if werr := schedule.WriteLastRun(e.o.WorkDir, lr); werr != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "could not write the last-run status", slog.String("error", werr.Error()))
	}
}
