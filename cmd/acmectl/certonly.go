package main

import (
	"context"
	"fmt"

	"github.com/acmectl/acmectl/manager"
)

// runCertonly obtains a certificate into a lineage (new, or a new version of
// the lineage with the same names / --cert-name), or from --csr into plain
// files. It never installs anything.
func runCertonly(ctx context.Context, e *env) error {
	if e.o.CSR != "" {
		return certonlyCSR(ctx, e)
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).Certonly(ctx)
	if err != nil {
		return err
	}
	switch {
	case res.NotDue:
		e.printf("Certificate not yet due for renewal; no action taken.\n")
		return nil
	case e.o.DryRun:
		e.printf("The dry run was successful.\n")
		return nil
	}
	expires := res.Cert.NotAfter.UTC().Format("2006-01-02")
	e.printf("\nSuccessfully received certificate.\nCertificate is saved at: %s\nKey is saved at:         %s\nThis certificate expires on %s.\n",
		res.Fullchain, res.Privkey, expires)
	e.printf("%s", manager.RenewalNextSteps(e.o, expires))
	if res.HookFailures > 0 {
		return fmt.Errorf("the certificate was saved, but %d hook(s) failed", res.HookFailures)
	}
	return nil
}

// certonlyCSR obtains a certificate for a CSR and writes --cert-path,
// --chain-path and --fullchain-path (no lineage, as certbot does).
func certonlyCSR(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).CertonlyCSR(ctx)
	if err != nil {
		return err
	}
	if e.o.DryRun {
		e.printf("The dry run was successful.\n")
		return nil
	}
	e.printf("\nSuccessfully received certificate.\nCertificate is saved at:            %s\nIntermediate CA chain is saved at:  %s\nFull certificate chain is saved at: %s\n", res.CertPath, res.ChainPath, res.FullchainPath)
	if res.Cert != nil {
		e.printf("This certificate expires on %s.\n", res.Cert.NotAfter.UTC().Format("2006-01-02"))
	}
	e.printf("%s", manager.RenewalNextSteps(e.o, ""))
	return nil
}

// runReconfigure changes a lineage's renewal parameters after a test
// issuance against its CA (nothing but the renewal conf is saved).
func runReconfigure(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	if _, err := e.engine(st).Reconfigure(ctx); err != nil {
		return err
	}
	e.printf("Successfully updated configuration.\nChanges will apply when the certificate renews.\n")
	return nil
}
