package main

import (
	"context"
)

// runRevoke revokes a certificate given by --cert-path or --cert-name, then
// offers to delete its lineage (--delete-after-revoke / --no-delete-after-revoke).
func runRevoke(ctx context.Context, e *env) error {
	o := e.o
	if (o.CertPath == "") == (o.CertName == "") {
		return usageErrorf("revoke needs exactly one of --cert-path or --cert-name")
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	m := e.engine(st)
	res, err := m.Revoke(ctx)
	if err != nil {
		return err
	}
	e.printf("Congratulations! You have successfully revoked the certificate that was located at %s.\n", res.CertPath)
	if res.Lineage == "" {
		return nil
	}
	del := o.DeleteAfter
	if !o.DeleteAfter && !o.NoDeleteAfter {
		if del, err = e.confirm("Would you like to delete the certificate(s) you just revoked, along with all earlier and later versions of the certificate?", false); err != nil {
			return err
		}
	}
	if !del {
		return nil
	}
	if err := m.DeleteLineage(ctx, res.Lineage); err != nil {
		return err
	}
	e.printf("Deleted all files relating to certificate %s.\n", res.Lineage)
	return nil
}
