package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/acmectl/acmectl/acme"
)

// readCSR reads a DER or PEM CSR and checks its signature.
func readCSR(path string) (*x509.CertificateRequest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--csr: %w", err)
	}
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		der = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, usageErrorf("--csr %s is not a certificate request: %v", path, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, usageErrorf("--csr %s: bad signature: %v", path, err)
	}
	return csr, nil
}

// certonlyFromCSR obtains a certificate for --csr and writes cert, chain and
// fullchain to --cert-path/--chain-path/--fullchain-path (./cert.pem,
// ./chain.pem, ./fullchain.pem by default; an existing file is not
// overwritten: NNNN_ is prefixed, as certbot does).
func certonlyFromCSR(ctx context.Context, e *env) error {
	o := e.o
	csr, err := readCSR(o.csr)
	if err != nil {
		return err
	}
	var names []string
	names = append(names, csr.DNSNames...)
	if len(names) == 0 && csr.Subject.CommonName != "" {
		names = append(names, csr.Subject.CommonName)
	}
	domains, err := normalizeDomains(names)
	if err != nil {
		return err
	}
	var ips []string
	for _, ip := range csr.IPAddresses {
		ips = append(ips, ip.String())
	}
	if len(o.domains) > 0 && !sameSet(o.domains, domains) {
		return usageErrorf("--domain names %v differ from the CSR's %v", o.domains, domains)
	}
	if len(domains)+len(ips) == 0 {
		return usageErrorf("--csr %s names no domain", o.csr)
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	cl, _, err := accountClient(ctx, e, st, o.server, o.account, true)
	if err != nil {
		return err
	}
	solvers, err := buildSolvers(ctx, e, o, domains)
	if err != nil {
		return err
	}
	h := newHooks(o.configDir, o.noDirHooks, e.stderr, e.log)
	h.Pre(ctx, o.preHook)
	h.AddPost(o.postHook)
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Minute+o.issuanceTimeout)
	defer cancel()
	cert, err := cl.Obtain(ctx2, acme.ObtainRequest{
		Identifiers: identifiers(domains, ips), CSR: csr.Raw,
		Solvers: solvers.solvers, Preference: solvers.preference, PreferredChain: o.preferredChain,
		Profile: firstNonEmpty(o.reqProfile, o.prefProfile),
	})
	solvers.release()
	if err != nil {
		h.Post(ctx, nil, append(domains, ips...))
		return fmt.Errorf("obtain a certificate for %s: %w", o.csr, err)
	}
	leaf, chain, err := acme.SplitChain(cert.PEM)
	if err != nil {
		return err
	}
	if o.dryRun {
		h.Post(ctx, append(domains, ips...), nil)
		e.printf("The dry run was successful.\n")
		return nil
	}
	full := append(append([]byte(nil), leaf...), chain...)
	cp, err := writeUnique(firstNonEmpty(o.certPath, "cert.pem"), leaf)
	if err != nil {
		return err
	}
	chp, err := writeUnique(firstNonEmpty(o.chainPath, "chain.pem"), chain)
	if err != nil {
		return err
	}
	fp, err := writeUnique(firstNonEmpty(o.fullchainPath, "fullchain.pem"), full)
	if err != nil {
		return err
	}
	h.Post(ctx, append(domains, ips...), nil)
	c, _ := parseCertPEM(leaf)
	e.printf("\nSuccessfully received certificate.\nCertificate is saved at:            %s\nIntermediate CA chain is saved at:  %s\nFull certificate chain is saved at: %s\n", cp, chp, fp)
	if c != nil {
		e.printf("This certificate expires on %s.\n", c.NotAfter.UTC().Format("2006-01-02"))
	}
	return nil
}

func writeUnique(path string, data []byte) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(abs)
	cand := abs
	for i := 0; i < 10000; i++ {
		f, err := os.OpenFile(cand, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.Write(data)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				return "", fmt.Errorf("write %s: %v %v", cand, werr, cerr)
			}
			return cand, nil
		}
		if !os.IsExist(err) {
			return "", fmt.Errorf("write %s: %w", cand, err)
		}
		cand = filepath.Join(dir, fmt.Sprintf("%04d_%s", i, base))
	}
	return "", fmt.Errorf("write %s: too many existing files", abs)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
