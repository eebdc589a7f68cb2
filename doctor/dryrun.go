package doctor

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/acmectl/acmectl/manager"
)

// checkParams runs the lineage's saved parameters through the engine's
// parameter table, as a renewal would merge them: a value the engine
// refuses (a key type, an RSA size, a curve, a challenge name, a hook the
// conf cannot hold) is a FAIL naming the conf.
func (d *Doctor) checkParams(ctx context.Context, l *Lineage) {
	lin, err := d.tree.LoadLineage(ctx, l.Name)
	if err != nil {
		return // checkLive reported it
	}
	if _, err := manager.LineageConfig(manager.DefaultConfig(), lin); err != nil {
		l.add(Fail, "renewal parameters: "+manager.OneLine(err.Error()), "acmectl reconfigure --cert-name "+l.Name+" with the option to change")
		return
	}
}

// DryRunOptions are the run settings of a dry-run renewal.
type DryRunOptions struct {
	WorkDir, LogsDir, CABundle, UserAgent string
	// Log receives the engine's log (letsencrypt.log); nil discards.
	Log *slog.Logger
}

// DryRun renews lineage l against its CA without saving anything (renew
// --dry-run --cert-name) through the engine, and adds the outcome to l: the
// lineage's own failure reason when it failed.
func (d *Doctor) DryRun(ctx context.Context, l *Lineage, o DryRunOptions) {
	flags := manager.FlagMap{"config-dir": d.configDir, "work-dir": o.WorkDir, "logs-dir": o.LogsDir,
		"dry-run": "true", "cert-name": l.Name, "no-random-sleep-on-renew": "true", "quiet": "true"}
	if o.CABundle != "" {
		flags["ca-bundle"] = o.CABundle
	}
	fix := "see " + filepath.Join(o.LogsDir, "letsencrypt.log") + "; fix the cause, then: acmectl renew --dry-run --cert-name " + l.Name
	cause, err := d.dryRun(ctx, flags, o)
	if err != nil {
		l.add(Fail, "dry-run renewal failed: "+cause, fix)
		return
	}
	l.ok("dry-run renewal succeeded")
}

// dryRun runs the renewal and returns the lineage's failure reason ("" and
// nil on success).
func (d *Doctor) dryRun(ctx context.Context, flags manager.FlagMap, o DryRunOptions) (string, error) {
	cfg, err := manager.LoadConfig(flags, nil)
	if err != nil {
		return manager.OneLine(err.Error()), err
	}
	cfg.UserAgent = o.UserAgent
	st, err := manager.OpenTree(cfg, o.Log)
	if err != nil {
		return manager.OneLine(err.Error()), err
	}
	var (
		mu    sync.Mutex
		cause string
	)
	obs := manager.ObserverFunc(func(ev manager.Event) {
		if ev.Kind == manager.EventLineageFailed {
			mu.Lock()
			cause = manager.OneLine(ev.Err.Error())
			mu.Unlock()
		}
	})
	m := &manager.Manager{Config: cfg, Store: st, Log: o.Log, Observer: obs}
	res, err := m.Renew(ctx)
	if err == nil {
		err = res.Err()
	}
	if err != nil && cause == "" {
		cause = manager.OneLine(err.Error())
	}
	return cause, err
}
