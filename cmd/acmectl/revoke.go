package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// runRevoke revokes a certificate given by --cert-path or --cert-name, signed
// by the account (or by the certificate's key with --key-path), then offers
// to delete its lineage (--delete-after-revoke / --no-delete-after-revoke).
func runRevoke(ctx context.Context, e *env) error {
	o := e.o
	if (o.certPath == "") == (o.certName == "") {
		return usageErrorf("revoke needs exactly one of --cert-path or --cert-name")
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	var (
		cert     *x509.Certificate
		lineage  string
		server   = o.server
		account  = o.account
		certPath = o.certPath
	)
	if o.certName != "" {
		l, err := st.LoadLineage(ctx, o.certName)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", o.certName)
			}
			return err
		}
		cert, lineage = l.Cert, l.Name
		if l.Conf != nil && !o.set[flgServer] && !o.set[flgStaging] && l.Conf.Params.Server != "" {
			server = l.Conf.Params.Server
		}
		if l.Conf != nil && !o.set[flgAccount] {
			account = l.Conf.Params.Account
		}
		certPath = l.CertPath
	} else {
		b, err := os.ReadFile(certPath)
		if err != nil {
			return usageErrorf("--cert-path: %w", err)
		}
		blk, _ := pem.Decode(b)
		der := b
		if blk != nil {
			der = blk.Bytes
		}
		if cert, err = x509.ParseCertificate(der); err != nil {
			return usageErrorf("--cert-path %s is not a certificate: %v", certPath, err)
		}
		lineage = lineageOfPath(st, certPath)
		if lineage != "" && !o.set[flgServer] && !o.set[flgStaging] {
			if l, err := st.LoadLineage(ctx, lineage); err == nil && l.Conf != nil {
				if l.Conf.Params.Server != "" {
					server = l.Conf.Params.Server
				}
				if !o.set[flgAccount] {
					account = l.Conf.Params.Account
				}
			}
		}
	}
	var certKey crypto.Signer
	var cl *acme.Client
	if o.keyPath != "" {
		b, err := os.ReadFile(o.keyPath)
		if err != nil {
			return usageErrorf("--key-path: %w", err)
		}
		if certKey, err = parseKeyPEM(b); err != nil {
			return usageErrorf("--key-path %s: %v", o.keyPath, err)
		}
		if cl, err = e.newClient(server, certKey, ""); err != nil {
			return err
		}
	} else {
		if cl, _, err = accountClient(ctx, e, st, server, account, false); err != nil {
			return err
		}
	}
	if err := cl.Revoke(ctx, cert.Raw, o.reason, certKey); err != nil {
		return fmt.Errorf("revoke %s: %w", certPath, err)
	}
	e.printf("Congratulations! You have successfully revoked the certificate that was located at %s.\n", certPath)
	if lineage == "" {
		return nil
	}
	del := o.deleteAfter
	if !o.deleteAfter && !o.noDeleteAfter {
		if del, err = e.confirm("Would you like to delete the certificate(s) you just revoked, along with all earlier and later versions of the certificate?", false); err != nil {
			return err
		}
	}
	if del {
		unlock, err := st.LockLineage(ctx, lineage)
		if err != nil {
			return err
		}
		defer unlock()
		if err := st.DeleteLineage(ctx, lineage); err != nil {
			return fmt.Errorf("delete certificate %s: %w", lineage, err)
		}
		e.printf("Deleted all files relating to certificate %s.\n", lineage)
	}
	return nil
}

// lineageOfPath returns the lineage a live or archive path belongs to.
func lineageOfPath(st *storage.Tree, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	for _, sub := range []string{"live", "archive"} {
		rel, err := filepath.Rel(filepath.Join(st.Dir, sub), abs)
		if err == nil && rel != "." && !filepath.IsAbs(rel) && rel[0] != '.' {
			return filepath.Dir(rel)
		}
	}
	return ""
}

// parseKeyPEM reads a PKCS#8, PKCS#1 or SEC 1 private key.
func parseKeyPEM(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("not a private key")
}
