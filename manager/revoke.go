package manager

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// RevokeResult is a revoked certificate.
type RevokeResult struct {
	CertPath string
	Lineage  string // "" when the certificate is outside the tree
	// Deleted says the lineage was deleted after the revocation.
	Deleted bool
}

// Revoke revokes the certificate of Config.CertName or at Config.CertPath,
// signed by the account (the lineage's own unless --server/--account say
// otherwise) or, with Config.KeyPath, by the certificate's key.
func (m *Manager) Revoke(ctx context.Context) (*RevokeResult, error) {
	c := m.Config
	if (c.CertPath == "") == (c.CertName == "") {
		return nil, Usagef("revoke needs exactly one of --cert-path or --cert-name")
	}
	t, err := m.revokeTarget(ctx)
	if err != nil {
		return nil, err
	}
	var certKey crypto.Signer
	var cl *acme.Client
	if c.KeyPath != "" {
		b, err := os.ReadFile(c.KeyPath)
		if err != nil {
			return nil, Usagef("--key-path: %w", err)
		}
		if certKey, err = pemutil.ParsePrivateKey(b); err != nil {
			return nil, Usagef("--key-path %s: %w", c.KeyPath, err)
		}
		if cl, err = m.newClient(t.server, certKey, ""); err != nil {
			return nil, err
		}
	} else if cl, _, err = m.accountClient(ctx, t.server, t.account, false); err != nil {
		return nil, err
	}
	if err := cl.Revoke(ctx, t.cert.Raw, c.Reason, certKey); err != nil {
		return nil, fmt.Errorf("revoke %s: %w", t.path, err)
	}
	res := &RevokeResult{CertPath: t.path, Lineage: t.lineage}
	if t.lineage == "" {
		return res, nil
	}
	del, err := m.deleteAfterRevoke()
	if err != nil || !del {
		return res, err
	}
	if err := m.DeleteLineage(ctx, t.lineage); err != nil {
		return res, err
	}
	res.Deleted = true
	return res, nil
}

// deleteAfterRevoke decides whether the revoked certificate's lineage goes
// (certbot main._delete_if_appropriate, 2.1 and 5.x): --delete-after-revoke
// and --no-delete-after-revoke decide; otherwise the operator is asked, and
// the default — also with -n — is to delete: a revoked certificate left in
// live/ would go on being served and listed.
func (m *Manager) deleteAfterRevoke() (bool, error) {
	c := m.Config
	switch {
	case c.DeleteAfter:
		return true, nil
	case c.NoDeleteAfter:
		return false, nil
	}
	return m.yesNo(YesNo{Question: "Would you like to delete the certificate(s) you just revoked, along with all earlier and later versions of the certificate?",
		Yes: "Yes (recommended)", No: "No", Default: true})
}

type revokeTarget struct {
	cert                           *x509.Certificate
	lineage, server, account, path string
}

// revokeTarget finds the certificate and the CA and account to revoke it with.
func (m *Manager) revokeTarget(ctx context.Context) (*revokeTarget, error) {
	c := m.Config
	t := &revokeTarget{server: c.Server, account: c.Account, path: c.CertPath}
	if c.CertName != "" {
		l, err := m.Store.LoadLineage(ctx, c.CertName)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", c.CertName)
			}
			return nil, err
		}
		t.cert, t.lineage, t.path = l.Cert, l.Name, l.CertPath
		m.savedServer(t, l.Conf)
		return t, nil
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return nil, Usagef("--cert-path: %w", err)
	}
	if t.cert, err = pemutil.ParseCertPEMOrDER(b); err != nil {
		return nil, Usagef("--cert-path %s is not a certificate: %w", t.path, err)
	}
	t.lineage = lineageOfPath(c.ConfigDir, t.path)
	if t.lineage != "" && !c.setByUser("server", "staging") {
		if l, err := m.Store.LoadLineage(ctx, t.lineage); err == nil {
			m.savedServer(t, l.Conf)
		}
	}
	return t, nil
}

// savedServer applies the lineage's saved server and account unless given.
func (m *Manager) savedServer(t *revokeTarget, conf *storage.RenewalConf) {
	if conf == nil {
		return
	}
	if !m.Config.setByUser("server", "staging") && conf.Params.Server != "" {
		t.server = conf.Params.Server
	}
	if !m.Config.setByUser("account") {
		t.account = conf.Params.Account
	}
}

// lineageOfPath returns the lineage a live or archive path belongs to.
func lineageOfPath(configDir, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	for _, sub := range []string{"live", "archive"} {
		rel, err := filepath.Rel(filepath.Join(configDir, sub), abs)
		if err == nil && rel != "." && !filepath.IsAbs(rel) && rel[0] != '.' {
			return filepath.Dir(rel)
		}
	}
	return ""
}

// DeleteLineage removes a lineage (under its lock).
func (m *Manager) DeleteLineage(ctx context.Context, name string) error {
	unlock, err := m.Store.LockLineage(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.Store.DeleteLineage(ctx, name); err != nil {
		return fmt.Errorf("delete certificate %s: %w", name, err)
	}
	// An order left in flight goes with the lineage: a later certonly of
	// the same name orders anew.
	if st, ok := m.Store.(storage.InFlightStore); ok {
		if err := st.RemoveInFlight(ctx, name); err != nil {
			return fmt.Errorf("delete certificate %s: %w", name, err)
		}
	}
	return nil
}
