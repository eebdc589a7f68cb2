package main

import (
	"context"
)

// runRevoke revokes a certificate given by --cert-path or --cert-name; the
// engine then deletes its lineage unless --no-delete-after-revoke (asking on
// a terminal, as certbot does).
func runRevoke(ctx context.Context, e *env) error {
	o := e.o
	if (o.CertPath == "") == (o.CertName == "") {
		return usageErrorf("revoke needs exactly one of --cert-path or --cert-name")
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	res, err := e.engine(st).Revoke(ctx)
	if res != nil && res.Deleted {
		e.printf("Deleted all files relating to certificate %s.\n", res.Lineage)
	}
	if err != nil {
		return err
	}
	e.printf("Congratulations! You have successfully revoked the certificate that was located at %s.\n", res.CertPath)
	return nil
}
