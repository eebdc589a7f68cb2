package main

import (
	"context"
	"fmt"

	"github.com/acmectl/acmectl/manager"
)

// runRun is certbot's run (and no command): obtain with the chosen
// authenticator, then install into nginx or Apache (manager.Run, which
// reports both through the observer).
func runRun(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).Run(ctx)
	if err == nil && res.Obtained != nil && res.Obtained.HookFailures > 0 {
		err = fmt.Errorf("the certificate was saved, but %d hook(s) failed", res.Obtained.HookFailures)
	}
	return err
}

// runInstall installs an existing certificate (manager.Install); runEnhance
// applies enhancements to an installed one (manager.Enhance).
func runInstall(ctx context.Context, e *env) error {
	return installVerb(ctx, e, (*manager.Manager).Install)
}
func runEnhance(ctx context.Context, e *env) error {
	return installVerb(ctx, e, (*manager.Manager).Enhance)
}

func installVerb(ctx context.Context, e *env, verb func(*manager.Manager, context.Context) (*manager.InstallResult, error)) error {
	st, err := openStore(e)
	if err == nil {
		_, err = verb(e.engine(st), ctx)
	}
	return err
}

// runRollback undoes installer checkpoints (manager.Rollback).
func runRollback(ctx context.Context, e *env) error {
	_, err := e.engine(nil).Rollback(ctx)
	return err
}
