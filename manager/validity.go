package manager

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/revocation"
	"github.com/acmectl/acmectl/storage"
)

// Reasons a certificate is listed as INVALID (certbot cert_manager.
// human_readable_cert_info, 2.1 and 5.x).
const (
	InvalidTestCert = "TEST_CERT"
	InvalidExpired  = "EXPIRED"
	InvalidRevoked  = "REVOKED"
)

// RevocationCacheFile is the revocation cache in the work directory.
const RevocationCacheFile = "acmectl-revocation.json"

// Validity is what a listing says about a lineage's certificate.
type Validity struct {
	// Invalid holds certbot's reasons, in its order: TEST_CERT, then EXPIRED
	// or REVOKED; empty when the certificate is valid.
	Invalid []string
	// Revocation is the revocation check's answer (Unknown when the
	// certificate is expired, or names no responder nor CRL).
	Revocation revocation.Result
}

// IsTestCert is certbot's storage.is_test_cert (util.is_staging): the
// lineage's server is Let's Encrypt's staging directory or has "staging"
// anywhere in its URL.
func IsTestCert(server string) bool {
	return server == StagingServerURL || strings.Contains(server, "staging")
}

// revocationChecker is the run's revocation checker: answers cached in the
// work directory, its own HTTP client (never the ACME one).
func (m *Manager) revocationChecker() *revocation.Checker {
	m.revOnce.Do(func() {
		if m.Revocation == nil {
			m.Revocation = &revocation.Checker{UserAgent: m.Config.UserAgent, Log: m.log(), Now: m.Now}
			if m.Config.WorkDir != "" {
				m.Revocation.CachePath = filepath.Join(m.Config.WorkDir, RevocationCacheFile)
			}
		}
	})
	return m.Revocation
}

// SaveRevocationCache keeps the run's revocation answers for the next run
// (best-effort: a user who cannot write the work directory loses nothing
// but the cache).
func (m *Manager) SaveRevocationCache(ctx context.Context) {
	if m.Revocation == nil {
		return
	}
	if err := m.Revocation.Save(); err != nil {
		m.log().LogAttrs(ctx, slog.LevelDebug, "revocation cache not saved", slog.String("error", err.Error()))
	}
}

// LineageValidity is a listed lineage's validity as certbot shows it: test
// certificate, expired, or revoked (OCSP, else CRL; from the cache when
// fresh, so a listing of many lineages makes no request while the answers
// last).
func (m *Manager) LineageValidity(ctx context.Context, li *storage.LineageInfo) Validity {
	var v Validity
	if li.Conf != nil && IsTestCert(li.Conf.Server) {
		v.Invalid = append(v.Invalid, InvalidTestCert)
	}
	if !m.now().Before(li.NotAfter) {
		return Validity{Invalid: append(v.Invalid, InvalidExpired)}
	}
	v.Revocation = m.revoked(ctx, li)
	if v.Revocation.Status == revocation.Revoked {
		v.Invalid = append(v.Invalid, InvalidRevoked)
	}
	return v
}

// revoked checks a listed lineage's current certificate: nothing to check
// when the listing knows it names no OCSP responder and no CRL; from the
// cache when fresh (no file read), else from its cert.pem and chain.pem.
func (m *Manager) revoked(ctx context.Context, li *storage.LineageInfo) revocation.Result {
	if li.NoRevocationSource {
		// Nothing to ask (Pebble's, many private CAs'): reading and parsing
		// two files per lineage on every run only to learn that was 58% of a
		// nothing-due renew over 10,000 lineages.
		return revocation.Result{}
	}
	rc := m.revocationChecker()
	if li.Serial != "" {
		if r, ok := rc.Cached(revocation.Key(li.AuthorityKeyID, li.Serial)); ok {
			return r
		}
	}
	cert, issuer, err := readCertAndIssuer(li.CertPath)
	if err != nil {
		return revocation.Result{Err: err}
	}
	return rc.Check(ctx, cert, issuer)
}

// readCertAndIssuer reads live/<name>/cert.pem and the first certificate of
// chain.pem beside it.
func readCertAndIssuer(certPath string) (*x509.Certificate, *x509.Certificate, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	cert, err := pemutil.ParseCert(cb)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	chainPath := filepath.Join(filepath.Dir(certPath), "chain.pem")
	chb, err := os.ReadFile(chainPath)
	if err != nil {
		return cert, nil, err
	}
	issuer, err := pemutil.ParseCert(chb)
	if err != nil {
		return cert, nil, fmt.Errorf("%s: %w", chainPath, err)
	}
	return cert, issuer, nil
}

// revokedLineage reports whether a loaded lineage's certificate is revoked
// (certbot's storage.should_autorenew: "Should renew, certificate is
// revoked").
func (m *Manager) revokedLineage(ctx context.Context, l *storage.Lineage) bool {
	if l.Cert == nil || !m.now().Before(l.Cert.NotAfter) {
		return false
	}
	rc := m.revocationChecker()
	if r, ok := rc.Cached(revocation.Key(l.Cert.AuthorityKeyId, l.Cert.SerialNumber.Text(16))); ok {
		return r.Status == revocation.Revoked
	}
	issuer, err := pemutil.ParseCert(l.ChainPEM)
	if err != nil {
		return false
	}
	return rc.Check(ctx, l.Cert, issuer).Status == revocation.Revoked
}

// Certificates walks the lineages certbot's `certificates` lists (only
// Config.CertName when set; only those holding every name of Config.Domains
// and Config.IPs) and calls fn with each one's validity; a lineage that
// cannot be read comes with li.Err set and an empty validity. The
// revocation answers are saved for the next run at the end.
func (m *Manager) Certificates(ctx context.Context, fn func(li *storage.LineageInfo, v Validity) error) error {
	c := m.Config
	var only []string
	if c.CertName != "" {
		only = []string{c.CertName}
	}
	names := append(append([]string(nil), c.Domains...), c.IPs...)
	defer m.SaveRevocationCache(ctx)
	err := m.Store.WalkLineages(ctx, only, func(li *storage.LineageInfo) error {
		if len(names) > 0 && !SubsetOf(names, li.Domains) {
			return nil
		}
		if li.Err != nil {
			return fn(li, Validity{})
		}
		return fn(li, m.LineageValidity(ctx, li))
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("list certificates: %w", err)
	}
	return err
}
