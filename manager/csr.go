package manager

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/acmectl/acmectl/internal/pemutil"
)

// CSRResult is a certificate obtained for --csr.
type CSRResult struct {
	CertPath, ChainPath, FullchainPath string // "" on a dry run
	Cert                               *x509.Certificate
	HookFailures                       int
}

// readCSR reads a DER or PEM CSR and checks its signature.
func readCSR(path string) (*x509.CertificateRequest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Usagef("--csr: %w", err)
	}
	csr, err := pemutil.ParseCSR(b)
	if err != nil {
		return nil, Usagef("--csr %s: %w", path, err)
	}
	return csr, nil
}

// CertonlyCSR obtains a certificate for Config.CSR and writes cert, chain
// and fullchain to --cert-path/--chain-path/--fullchain-path (./cert.pem,
// ./chain.pem, ./fullchain.pem by default; an existing file is not
// overwritten: NNNN_ is prefixed, as certbot does). No lineage is made.
func (m *Manager) CertonlyCSR(ctx context.Context) (*CSRResult, error) {
	c := m.Config
	csr, err := readCSR(c.CSR)
	if err != nil {
		return nil, err
	}
	domains, ips, err := csrNames(c, csr)
	if err != nil {
		return nil, err
	}
	cl, acct, err := m.accountClient(ctx, c.Server, c.Account, true)
	if err != nil {
		return nil, err
	}
	solvers, err := m.buildSolvers(c, domains)
	if err != nil {
		return nil, err
	}
	h := m.newHooks()
	h.Pre(ctx, c.PreHook)
	h.AddPost(c.PostHook)
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Minute+c.IssuanceTimeout)
	defer cancel()
	req := obtainRequest(c, solvers)
	req.Identifiers, req.CSR, req.Profile = identifiers(domains, ips), csr.Raw, firstNonEmpty(c.ReqProfile, c.PrefProfile)
	cert, err := cl.Obtain(ctx2, req)
	solvers.release()
	names := append(domains, ips...)
	if err != nil {
		h.Post(ctx, nil, names)
		return nil, explainNoSolver(c, fmt.Errorf("obtain a certificate for %s: %w", c.CSR, err))
	}
	plan := &issuePlan{c: c, name: filepath.Base(c.CSR), domains: domains, ips: ips}
	ir, leaf, chain, err := m.issued(ctx, plan, cert, acct)
	if err != nil {
		return nil, err
	}
	res := &CSRResult{Cert: ir.Cert}
	if !c.DryRun {
		if err := writeCSROutputs(c, res, leaf, chain); err != nil {
			return nil, err
		}
	}
	h.Post(ctx, names, nil)
	res.HookFailures = h.Failures()
	return res, nil
}

// csrNames are the CSR's names, checked against -d.
func csrNames(c *Config, csr *x509.CertificateRequest) (domains, ips []string, err error) {
	names := append([]string(nil), csr.DNSNames...)
	if len(names) == 0 && csr.Subject.CommonName != "" {
		names = append(names, csr.Subject.CommonName)
	}
	if domains, err = NormalizeDomains(names); err != nil {
		return nil, nil, err
	}
	for _, ip := range csr.IPAddresses {
		ips = append(ips, ip.String())
	}
	if len(c.Domains) > 0 && !SameSet(c.Domains, domains) {
		return nil, nil, Usagef("--domain names %v differ from the CSR's %v", c.Domains, domains)
	}
	if len(domains)+len(ips) == 0 {
		return nil, nil, Usagef("--csr %s names no domain", c.CSR)
	}
	return domains, ips, nil
}

func writeCSROutputs(c *Config, res *CSRResult, leaf, chain []byte) (err error) {
	full := append(append([]byte(nil), leaf...), chain...)
	if res.CertPath, err = writeUnique(firstNonEmpty(c.CertPath, "cert.pem"), leaf); err != nil {
		return err
	}
	if res.ChainPath, err = writeUnique(firstNonEmpty(c.ChainPath, "chain.pem"), chain); err != nil {
		return err
	}
	res.FullchainPath, err = writeUnique(firstNonEmpty(c.FullchainPath, "fullchain.pem"), full)
	return err
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
				return "", fmt.Errorf("write %s: %w", cand, errors.Join(werr, cerr))
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
