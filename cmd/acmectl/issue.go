package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// issuePlan is one issuance: new lineage, new version of an existing one, or
// a dry run of either.
type issuePlan struct {
	o            *options // effective options (renew: merged with the lineage's)
	name         string
	domains, ips []string
	existing     *storage.Lineage // nil for a new lineage
}

type issueResult struct {
	name      string
	cert      *x509.Certificate
	liveDir   string
	fullchain string
	privkey   string
	names     []string
	accountID string
}

// obtain runs one issuance and saves it (unless --dry-run).
func obtain(ctx context.Context, e *env, st storage.Storage, p *issuePlan) (*issueResult, error) {
	o := p.o
	// Solvers first: a missing webroot, a taken port or a bad DNS credentials
	// file is reported before anything is registered or ordered.
	solvers, err := buildSolvers(ctx, e, o, p.domains)
	if err != nil {
		return nil, err
	}
	defer solvers.release()
	cl, acct, err := accountClient(ctx, e, st, o.server, o.account, true)
	if err != nil {
		return nil, err
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		return nil, err
	}

	// The certificate key is generated while the order is authorized; the
	// CSR waits for it at finalization.
	reuse := false
	var keyOf func() (crypto.Signer, error)
	if p.existing != nil && p.existing.Key != nil && o.reuseKey && !o.newKey && keyMatches(p.existing.Key, o) {
		reuse = true
		keyOf = func() (crypto.Signer, error) { return p.existing.Key, nil }
	} else {
		type keyResult struct {
			key crypto.Signer
			err error
		}
		ch := make(chan keyResult, 1)
		go func() {
			k, err := newCertKey(o.keyType, o.rsaKeySize, o.curve)
			ch <- keyResult{k, err}
		}()
		keyOf = sync.OnceValues(func() (crypto.Signer, error) {
			r := <-ch
			if r.err != nil {
				return nil, fmt.Errorf("generate certificate key: %w", r.err)
			}
			return r.key, nil
		})
	}

	domains, ips := p.domains, p.ips
	var cert *acme.Certificate
	for attempt := 0; ; attempt++ {
		cert, err = obtainOnce(ctx, e, cl, dir, o, p, keyOf, domains, ips, solvers)
		if err == nil {
			break
		}
		if !o.subset || attempt > 0 {
			return nil, err
		}
		failed := failedIdentifiers(err)
		if len(failed) == 0 {
			return nil, err
		}
		domains, ips = without(domains, failed), without(ips, failed)
		if len(domains)+len(ips) == 0 {
			return nil, err
		}
		e.errorf("Some names failed validation (%s); retrying with the rest (--allow-subset-of-names).\n", strings.Join(failed, ", "))
	}

	leafPEM, chainPEM, err := acme.SplitChain(cert.PEM)
	if err != nil {
		return nil, fmt.Errorf("split the certificate chain from %s: %w", cert.URL, err)
	}
	leaf, err := parseCertPEM(leafPEM)
	if err != nil {
		return nil, err
	}
	res := &issueResult{name: p.name, cert: leaf, names: certNames(leaf), accountID: acct.ID}
	if o.dryRun {
		return res, nil
	}

	v := &storage.Version{CertPEM: leafPEM, ChainPEM: chainPEM, ReuseKey: reuse}
	if !reuse {
		key, err := keyOf()
		if err != nil {
			return nil, err
		}
		if v.KeyPEM, err = keyPEM(key); err != nil {
			return nil, err
		}
	}
	var prev *storage.RenewalConf
	if p.existing != nil {
		prev = p.existing.Conf
	}
	conf := renewalConf(o, prev, acct.ID)
	var l *storage.Lineage
	if p.existing != nil {
		l, err = st.SaveVersion(ctx, p.name, v, conf)
	} else {
		l, err = st.CreateLineage(ctx, p.name, v, conf)
	}
	if err != nil {
		return nil, fmt.Errorf("save certificate %s: %w", p.name, err)
	}
	res.liveDir = filepath.Dir(l.FullchainPath)
	res.fullchain, res.privkey = l.FullchainPath, l.KeyPath
	e.log.LogAttrs(ctx, slog.LevelInfo, "certificate saved", slog.String("lineage", p.name),
		slog.Int("version", l.Version), slog.Time("not_after", leaf.NotAfter))
	return res, nil
}

// obtainOnce builds the CSR and solvers and runs the order, retrying once
// without "replaces" when the CA says the certificate was already replaced.
func obtainOnce(ctx context.Context, e *env, cl *acme.Client, dir *acme.Directory, o *options, p *issuePlan,
	keyOf func() (crypto.Signer, error), domains, ips []string, solvers *solverSet) (*acme.Certificate, error) {
	req := acme.ObtainRequest{
		Identifiers: identifiers(domains, ips),
		MakeCSR: func(context.Context) ([]byte, error) {
			key, err := keyOf()
			if err != nil {
				return nil, err
			}
			return makeCSR(key, domains, ips, o.mustStaple)
		},
		Solvers:        solvers.solvers,
		Preference:     solvers.preference,
		PreferredChain: o.preferredChain,
	}
	switch {
	case o.reqProfile != "":
		if _, ok := dir.Meta.Profiles[o.reqProfile]; !ok {
			return nil, fmt.Errorf("the CA at %s does not offer the required profile %q (it offers: %s)", o.server, o.reqProfile, profileNames(dir))
		}
		req.Profile = o.reqProfile
	case o.prefProfile != "":
		if _, ok := dir.Meta.Profiles[o.prefProfile]; ok {
			req.Profile = o.prefProfile
		} else {
			e.log.LogAttrs(ctx, slog.LevelWarn, "preferred profile not offered; using the CA's default",
				slog.String("profile", o.prefProfile))
		}
	}
	if p.existing != nil && p.existing.Cert != nil && dir.RenewalInfoURL != "" {
		if id, err := acme.ARICertID(p.existing.Cert); err == nil {
			req.Replaces = id
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute+o.issuanceTimeout)
	defer cancel()
	if !o.quiet {
		what := "Requesting a certificate for "
		if p.existing != nil {
			what = "Renewing an existing certificate for "
		}
		fmt.Fprintln(e.stderr, what+humanList(append(append([]string(nil), domains...), ips...)))
	}
	cert, err := cl.Obtain(ctx, req)
	if err != nil && req.Replaces != "" && acme.IsProblem(err, acme.ProblemAlreadyReplaced) {
		e.log.LogAttrs(ctx, slog.LevelWarn, "certificate already replaced; ordering without replaces", slog.String("lineage", p.name))
		req.Replaces = ""
		cert, err = cl.Obtain(ctx, req)
	}
	if err != nil {
		return nil, fmt.Errorf("obtain a certificate for %s from %s: %w", strings.Join(append(append([]string(nil), domains...), ips...), ","), o.server, err)
	}
	return cert, nil
}

func profileNames(dir *acme.Directory) string {
	var n []string
	for k := range dir.Meta.Profiles {
		n = append(n, k)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

// failedIdentifiers lists the identifiers whose authorization failed.
func failedIdentifiers(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		var ae *acme.AuthorizationError
		if errors.As(err, &ae) {
			out = append(out, ae.Identifier.Value)
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		} else if u := errors.Unwrap(err); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

func without(list, drop []string) []string {
	var out []string
	for _, x := range list {
		if !contains(drop, x) && !contains(drop, strings.TrimPrefix(x, "*.")) {
			out = append(out, x)
		}
	}
	return out
}

// keyMatches reports whether an existing key has the type the options ask
// for (a --key-type change makes a new key even with --reuse-key).
func keyMatches(k crypto.Signer, o *options) bool {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if o.keyType != "ecdsa" {
			return false
		}
		want := map[string]int{"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}[o.curve]
		return k.Curve.Params().BitSize == want
	case *rsa.PrivateKey:
		return o.keyType == "rsa" && k.N.BitLen() == o.rsaKeySize
	}
	return false
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("the CA's certificate is not PEM")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse the CA's certificate: %w", err)
	}
	return c, nil
}

// humanList is certbot's "a.com and b.com" / "a.com, b.com, and c.com".
func humanList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

// Renewal conf keys for tls-alpn-01 (ours; certbot has no such plugin and
// ignores unknown keys).
const (
	paramTLSALPNPort = "tls_alpn_01_port"
	paramTLSALPNAddr = "tls_alpn_01_address"
)

// renewalConf builds the lineage's renewal conf from the effective options,
// keeping what prev had that the options do not decide (unknown keys,
// renew_before_expiry, ARI state).
func renewalConf(o *options, prev *storage.RenewalConf, accountID string) *storage.RenewalConf {
	var c storage.RenewalConf
	if prev != nil {
		c = *prev
	}
	p := &c.Params
	p.Account = accountID
	p.Server = o.server
	p.Authenticator = o.authenticator
	if strings.HasPrefix(o.authenticator, "dns-") {
		p.Authenticator = o.authenticator
	}
	p.KeyType = o.keyType
	p.RSAKeySize, p.EllipticCurve = 0, ""
	if o.keyType == "rsa" {
		p.RSAKeySize = o.rsaKeySize
	} else {
		p.EllipticCurve = o.curve
	}
	p.RenewHook, p.PreHook, p.PostHook = o.deployHook, o.preHook, o.postHook
	p.ManualAuthHook, p.ManualCleanupHook = "", ""
	if o.authenticator == "manual" {
		p.ManualAuthHook, p.ManualCleanupHook = o.manualAuth, o.manualCleanup
	}
	p.HTTP01Address, p.HTTP01Port = "", 0
	if o.authenticator == "standalone" {
		p.HTTP01Address = o.http01Addr
		if o.http01Port != 80 {
			p.HTTP01Port = o.http01Port
		}
	}
	p.PrefChalls = o.prefChalls
	p.WebrootPath, p.WebrootMap = nil, nil
	if o.authenticator == "webroot" {
		// Saved as certbot would: domain keys in their ASCII (punycode) form,
		// one per domain, so certbot renews with the same map.
		m := map[string]string{}
		for d, r := range o.webrootMap {
			if n, err := normalizeDomain(d); err == nil {
				d = n
			}
			m[d] = r
		}
		seen := map[string]bool{}
		for _, d := range sortedKeys(m) {
			r := m[d]
			p.WebrootMap = append(p.WebrootMap, storage.KV{Key: d, Value: r})
			if !seen[r] {
				seen[r] = true
				p.WebrootPath = append(p.WebrootPath, r)
			}
		}
	}
	p.PreferredChain, p.PreferredProfile, p.RequiredProfile = o.preferredChain, o.prefProfile, o.reqProfile
	p.ConfigDir, p.WorkDir, p.LogsDir = o.configDir, o.workDir, o.logsDir
	if o.set[flgUserAgent] {
		p.UserAgent = o.userAgent
	}
	p.MustStaple, p.AllowSubsetOfNames, p.ReuseKey = o.mustStaple, o.subset, o.reuseKey
	if o.set[flgNoAutorenew] || o.set[flgAutorenew] {
		p.NoAutoRenew = o.noAutorenew
	}
	if o.renewBeforeExpiry != "" {
		c.RenewBeforeExpiry = o.renewBeforeExpiry
	}
	saveDNSParams(&c, o)
	if o.authenticator == "tls-alpn" {
		c.SetParam(paramTLSALPNPort, storage.Scalar(strconv.Itoa(o.tlsALPNPort)))
		if o.tlsALPNAddr != "" {
			c.SetParam(paramTLSALPNAddr, storage.Scalar(o.tlsALPNAddr))
		} else {
			c.DeleteParam(paramTLSALPNAddr)
		}
	}
	return &c
}
