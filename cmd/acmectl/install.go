package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/manager"
)

// runRun is certbot's run (and no command): obtain with the chosen
// authenticator, then install into nginx or Apache (manager.Run).
func runRun(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).Run(ctx)
	if res != nil && res.Obtained != nil && res.Obtained.IssueResult != nil {
		if perr := printObtained(e, res.Obtained); err == nil {
			err = perr
		}
	}
	if err != nil || res.Installer == "" {
		return err
	}
	printInstalled(e, res)
	return nil
}

// runInstall installs an existing certificate (manager.Install).
func runInstall(ctx context.Context, e *env) error {
	return installVerb(ctx, e, (*manager.Manager).Install)
}

// runEnhance applies enhancements to an installed certificate (manager.Enhance).
func runEnhance(ctx context.Context, e *env) error {
	return installVerb(ctx, e, (*manager.Manager).Enhance)
}

func installVerb(ctx context.Context, e *env, verb func(*manager.Manager, context.Context) (*manager.InstallResult, error)) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := verb(e.engine(st), ctx)
	if err != nil {
		return err
	}
	printInstalled(e, res)
	return nil
}

func printInstalled(e *env, res *manager.InstallResult) {
	var es []string
	for _, x := range res.Enhancements {
		es = append(es, string(x))
	}
	if len(es) > 0 {
		e.printf("Enhancements for %s: %s (%s).\n", manager.HumanList(res.Names), strings.Join(es, ", "), res.Installer)
	}
	https := make([]string, len(res.Names))
	for i, n := range res.Names {
		https[i] = "https://" + n
	}
	e.printf("Congratulations! You have successfully enabled HTTPS on %s\n", manager.HumanList(https))
	if res.ConfUpdated {
		e.printf("Renewals of %s now reload %s (installer = %s in its renewal configuration).\n", res.Lineage, res.Installer, res.Installer)
	}
}

// runRollback undoes installer checkpoints (manager.Rollback).
func runRollback(ctx context.Context, e *env) error {
	server, err := e.engine(nil).Rollback(ctx)
	if err != nil {
		return err
	}
	e.printf("Rolled back %d checkpoint(s) of the %s configuration and reloaded %s.\n", e.o.Checkpoints, server, server)
	return nil
}

// printObtained is certonly's report of a saved certificate.
func printObtained(e *env, res *manager.CertonlyResult) error {
	e.printf("\nSuccessfully received certificate.\nCertificate is saved at: %s\nKey is saved at:         %s\nThis certificate expires on %s.\nThese files will be updated when the certificate renews.\n",
		res.Fullchain, res.Privkey, res.Cert.NotAfter.UTC().Format("2006-01-02"))
	if res.HookFailures > 0 {
		return fmt.Errorf("the certificate was saved, but %d hook(s) failed", res.HookFailures)
	}
	return nil
}
