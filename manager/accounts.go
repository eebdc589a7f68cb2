package manager

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// Register creates an account at Config.Server. A second account for the
// same server is refused unless Config.Account names one.
func (m *Manager) Register(ctx context.Context) (*storage.Account, error) {
	c := m.Config
	if m.clusterMode() {
		return m.registerCluster(ctx)
	}
	if accts, _ := m.Store.ListAccounts(ctx, c.Server); len(accts) > 0 && c.Account == "" {
		return nil, fmt.Errorf("there is already an account for %s (%s); use 'acmectl update_account' to change it", c.Server, accts[0].ID)
	}
	_, a, err := m.register(ctx, c.Server)
	return a, err
}

// AccountUpdate is what UpdateAccount changed.
type AccountUpdate struct {
	RolledOver   bool
	OldID, NewID string
	// Warnings are steps after a successful rollover that failed (lineages
	// not repointed, the old key not removed).
	Warnings []error
	Emails   []string // the new contact addresses, when they were updated
}

// UpdateAccount rolls the account key over (Config.RolloverKey) and/or
// replaces its e-mail contacts (Config.Emails, asked for when interactive).
// A partial result comes back with the error when the rollover succeeded
// and the contact update failed.
func (m *Manager) UpdateAccount(ctx context.Context) (*AccountUpdate, error) {
	c := m.Config
	cl, a, err := m.accountClient(ctx, c.Server, c.Account, false)
	if err != nil {
		return nil, err
	}
	up := &AccountUpdate{}
	if c.RolloverKey {
		if a, err = m.rollover(ctx, cl, a, up); err != nil {
			return nil, err
		}
		if len(c.Emails) == 0 {
			return up, nil
		}
	}
	emails := c.Emails
	if len(emails) == 0 {
		if !m.interactive() {
			return nil, NeedFlag("no new e-mail address given", "--email ADDRESS (or --rollover-key)")
		}
		ans, err := m.ask("Enter email address (comma separated for several): ")
		if err != nil {
			return nil, err
		}
		for _, e := range strings.Split(ans, ",") {
			if e = strings.TrimSpace(e); e != "" {
				emails = append(emails, e)
			}
		}
	}
	acct, err := cl.UpdateAccount(ctx, mailto(emails))
	if err != nil {
		return up, fmt.Errorf("update account %s: %w", a.ID, err)
	}
	a.Regr = accountBody(acct)
	if _, err := m.Store.SaveAccount(ctx, a); err != nil {
		return up, fmt.Errorf("save account: %w", err)
	}
	up.Emails = emails
	return up, nil
}

// rollover replaces the account key. The account id is derived from the
// key: it is saved under the new id, lineages that named the old id are
// repointed, then the old directory is removed.
func (m *Manager) rollover(ctx context.Context, cl *acme.Client, a *storage.Account, up *AccountUpdate) (*storage.Account, error) {
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate account key: %w", err)
	}
	if err := cl.RolloverKey(ctx, newKey); err != nil {
		return nil, fmt.Errorf("roll over the key of account %s: %w", a.ID, err)
	}
	na := &storage.Account{Server: a.Server, URL: a.URL, Key: newKey, Regr: a.Regr, Meta: a.Meta}
	newID, err := m.Store.SaveAccount(ctx, na)
	if err != nil {
		return nil, fmt.Errorf("the CA now has the new key but saving it failed (the old key no longer works): %w", err)
	}
	if err := m.repointLineages(ctx, a.ID, newID); err != nil {
		up.Warnings = append(up.Warnings, err)
	}
	if err := m.Store.DeleteAccount(ctx, a.Server, a.ID); err != nil {
		up.Warnings = append(up.Warnings, fmt.Errorf("remove the old account key: %w", err))
	}
	up.RolledOver, up.OldID, up.NewID = true, a.ID, newID
	cl.Key = newKey
	na.ID = newID
	return na, nil
}

// repointLineages rewrites the account of every lineage that used oldID.
func (m *Manager) repointLineages(ctx context.Context, oldID, newID string) error {
	var names []string
	err := m.Store.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
		if li.Conf != nil && li.Conf.Account == oldID {
			names = append(names, li.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		c, err := m.Store.LoadRenewalConf(ctx, n)
		if err == nil {
			c.Params.Account = newID
			err = m.Store.SaveRenewalConf(ctx, n, c)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Unregister deactivates the account at the CA (after confirming when
// interactive) and removes it from the store.
func (m *Manager) Unregister(ctx context.Context) error {
	cl, a, err := m.accountClient(ctx, m.Config.Server, m.Config.Account, false)
	if err != nil {
		return err
	}
	ok, err := m.confirm("Are you sure you would like to irrevocably deactivate your account?", true)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("deactivation aborted")
	}
	if _, err := cl.DeactivateAccount(ctx); err != nil {
		return fmt.Errorf("deactivate account %s: %w", a.ID, err)
	}
	if err := m.Store.DeleteAccount(ctx, a.Server, a.ID); err != nil {
		return fmt.Errorf("the account is deactivated but removing it from disk failed: %w", err)
	}
	return nil
}

// AccountInfo is an account as the CA reports it.
type AccountInfo struct {
	Server, ID, URL, Status, Thumbprint string
	Contact                             []string
}

// ShowAccount fetches the account from the CA.
func (m *Manager) ShowAccount(ctx context.Context) (*AccountInfo, error) {
	cl, a, err := m.accountClient(ctx, m.Config.Server, m.Config.Account, false)
	if err != nil {
		return nil, err
	}
	acct, err := cl.GetAccount(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch account %s: %w", a.ID, err)
	}
	thumb, err := acme.JWKThumbprint(a.Key.Public())
	if err != nil {
		return nil, err
	}
	return &AccountInfo{Server: a.Server, ID: a.ID, URL: acct.URL, Status: acct.Status, Thumbprint: thumb, Contact: acct.Contact}, nil
}

func mailto(emails []string) []string {
	var contact []string
	for _, e := range emails {
		contact = append(contact, "mailto:"+e)
	}
	return contact
}
