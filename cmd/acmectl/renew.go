package main

import (
	"context"
	"log/slog"
	"time"

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
		renewed, failed := res.Lineages()
		errLine := ""
		if err != nil {
			errLine = oneLine(err.Error())
		}
		if werr := schedule.RecordRenew(e.o.WorkDir, version, start, renewed, failed, errLine); werr != nil {
			e.log.LogAttrs(ctx, slog.LevelWarn, "could not write the last-run status", slog.String("error", werr.Error()))
		}
	}
	return err
}
