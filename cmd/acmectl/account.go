package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/storage"
)

// findAccount returns the account to use at server: --account (or the
// lineage's saved account) when given, the only one when there is one, a
// choice on a terminal when there are several. It returns (nil, nil) when
// the server has no account yet.
func findAccount(ctx context.Context, e *env, st storage.Storage, server, id string) (*storage.Account, error) {
	if id != "" {
		a, err := st.LoadAccount(ctx, server, id)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("account %s is not registered at %s (see 'acmectl show_account' or omit --account)", id, server)
			}
			return nil, err
		}
		return a, nil
	}
	accts, errs := st.ListAccounts(ctx, server)
	if errs != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "some accounts could not be read", slog.String("error", errs.Error()))
	}
	switch len(accts) {
	case 0:
		return nil, nil
	case 1:
		return accts[0], nil
	}
	var ids []string
	for _, a := range accts {
		ids = append(ids, a.ID)
	}
	if !e.interactive() {
		return nil, errNeedFlag(fmt.Sprintf("%d accounts are registered at %s", len(accts), server), "--account ID (one of "+strings.Join(ids, ", ")+")")
	}
	fmt.Fprintln(e.stderr, "Please choose an account")
	for i, a := range accts {
		fmt.Fprintf(e.stderr, "%d: %s (%s)\n", i+1, a.ID, a.Meta.CreationDT.Format("2006-01-02"))
	}
	ans, err := e.ask("Select the appropriate number [1-" + fmt.Sprint(len(accts)) + "] then [enter]: ")
	if err != nil {
		return nil, err
	}
	for i, a := range accts {
		if ans == fmt.Sprint(i+1) || ans == a.ID {
			return a, nil
		}
	}
	return nil, fmt.Errorf("no account chosen")
}

// accountClient returns a client logged in to server with an existing or new
// account. With allowRegister false, a missing account is an error.
func accountClient(ctx context.Context, e *env, st storage.Storage, server, accountID string, allowRegister bool) (*acme.Client, *storage.Account, error) {
	// The account and its client are reused within one command (renew runs
	// many issuances against one CA); a lookup that found nothing is not.
	ck := server + "\n" + accountID
	e.acctMu.Lock()
	c, ok := e.acctClients[ck]
	e.acctMu.Unlock()
	if ok {
		return c.cl, c.a, nil
	}
	a, err := findAccount(ctx, e, st, server, accountID)
	if err != nil {
		return nil, nil, err
	}
	if a != nil {
		e.acctMu.Lock()
		defer e.acctMu.Unlock()
		if c, ok := e.acctClients[ck]; ok {
			return c.cl, c.a, nil
		}
		cl, err := e.newClient(server, a.Key, a.URL)
		if err != nil {
			return nil, nil, err
		}
		if e.acctClients == nil {
			e.acctClients = map[string]acctClient{}
		}
		e.acctClients[ck] = acctClient{cl, a}
		return cl, a, nil
	}
	if !allowRegister {
		return nil, nil, fmt.Errorf("no account is registered at %s; run 'acmectl register --server %s'", server, server)
	}
	return register(ctx, e, st, server)
}

// register creates an account at server: checks EAB, terms of service and
// e-mail before generating a key, then saves it (never the EAB key).
func register(ctx context.Context, e *env, st storage.Storage, server string) (*acme.Client, *storage.Account, error) {
	o := e.o
	cl, err := e.newClient(server, nil, "")
	if err != nil {
		return nil, nil, err
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	if dir.Meta.ExternalAccountRequired && o.eab == nil {
		return nil, nil, usageErrorf("the CA at %s requires external account binding; pass --eab-kid and --eab-hmac-key (or --eab-hmac-key-file, or set %s)", server, envEABHMACKey)
	}
	if tos := dir.Meta.TermsOfService; tos != "" && !o.agreeTOS {
		if !e.interactive() {
			return nil, nil, errNeedFlag("you must agree to the CA's terms of service at "+tos, "--agree-tos")
		}
		ok, err := e.confirm("Please read the Terms of Service at "+tos+". You must agree in order to register with the ACME server. Do you agree?", false)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, errors.New("the terms of service must be agreed to register an account")
		}
	}
	emails := o.emails
	if len(emails) == 0 && !o.noEmail {
		if !e.interactive() {
			return nil, nil, errNeedFlag("an e-mail address is needed for the account", "--email ADDRESS (or --register-unsafely-without-email)")
		}
		ans, err := e.ask("Enter email address or hit Enter to skip.\n (Enter 'c' to cancel): ")
		if err != nil {
			return nil, nil, err
		}
		if ans == "c" {
			return nil, nil, errors.New("registration cancelled")
		}
		if ans != "" {
			emails = []string{ans}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate account key: %w", err)
	}
	cl.Key = key
	var contact []string
	for _, m := range emails {
		contact = append(contact, "mailto:"+m)
	}
	acct, err := cl.Register(ctx, acme.AccountRequest{Contact: contact, TermsOfServiceAgreed: true, EAB: o.eab})
	if err != nil {
		return nil, nil, fmt.Errorf("register account at %s: %w", server, err)
	}
	sa := &storage.Account{Server: server, URL: acct.URL, Key: key, Regr: accountBody(acct)}
	id, err := st.SaveAccount(ctx, sa)
	if err != nil {
		return nil, nil, fmt.Errorf("save account: %w", err)
	}
	sa.ID = id
	e.log.LogAttrs(ctx, slog.LevelInfo, "account registered", slog.String("account_url", acct.URL), slog.String("account_id", id))
	if len(emails) == 0 {
		fmt.Fprintln(e.stderr, "Account registered without an e-mail address: the CA cannot warn you about expiring certificates.")
	} else if !o.quiet {
		fmt.Fprintln(e.stderr, "Account registered.")
	}
	return cl, sa, nil
}

// accountBody is regr.json's "body" as certbot writes it for new accounts.
func accountBody(a *acme.Account) json.RawMessage {
	body := map[string]any{}
	if len(a.Contact) > 0 {
		body["contact"] = a.Contact
	}
	if a.Status != "" {
		body["status"] = a.Status
	}
	b, _ := json.Marshal(body)
	return b
}

func runRegister(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	if accts, _ := st.ListAccounts(ctx, e.o.server); len(accts) > 0 && e.o.account == "" {
		return fmt.Errorf("there is already an account for %s (%s); use 'acmectl update_account' to change it", e.o.server, accts[0].ID)
	}
	_, a, err := register(ctx, e, st, e.o.server)
	if err != nil {
		return err
	}
	e.printf("Account registered: %s\nAccount ID: %s\n", a.URL, a.ID)
	return nil
}

func runUpdateAccount(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	cl, a, err := accountClient(ctx, e, st, e.o.server, e.o.account, false)
	if err != nil {
		return err
	}
	if e.o.rolloverKey {
		newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("generate account key: %w", err)
		}
		if err := cl.RolloverKey(ctx, newKey); err != nil {
			return fmt.Errorf("roll over the key of account %s: %w", a.ID, err)
		}
		// The account id is derived from the key: save under the new id,
		// then move lineages that named the old id, then drop the old dir.
		oldID := a.ID
		na := &storage.Account{Server: a.Server, URL: a.URL, Key: newKey, Regr: a.Regr, Meta: a.Meta}
		newID, err := st.SaveAccount(ctx, na)
		if err != nil {
			return fmt.Errorf("the CA now has the new key but saving it failed (the old key no longer works): %w", err)
		}
		if err := repointLineages(ctx, st, oldID, newID); err != nil {
			e.errorf("warning: %v\n", err)
		}
		if err := st.DeleteAccount(ctx, a.Server, oldID); err != nil {
			e.errorf("warning: remove the old account key: %v\n", err)
		}
		e.printf("The account key was rolled over. Account ID: %s (was %s)\n", newID, oldID)
		if len(e.o.emails) == 0 {
			return nil
		}
		cl.Key = newKey
		a = na
		a.ID = newID
	}
	if len(e.o.emails) == 0 && !e.o.rolloverKey {
		if !e.interactive() {
			return errNeedFlag("no new e-mail address given", "--email ADDRESS (or --rollover-key)")
		}
		ans, err := e.ask("Enter email address (comma separated for several): ")
		if err != nil {
			return err
		}
		for _, m := range strings.Split(ans, ",") {
			if m = strings.TrimSpace(m); m != "" {
				e.o.emails = append(e.o.emails, m)
			}
		}
	}
	var contact []string
	for _, m := range e.o.emails {
		contact = append(contact, "mailto:"+m)
	}
	acct, err := cl.UpdateAccount(ctx, contact)
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.ID, err)
	}
	a.Regr = accountBody(acct)
	if _, err := st.SaveAccount(ctx, a); err != nil {
		return fmt.Errorf("save account: %w", err)
	}
	e.printf("Your e-mail address was updated to %s.\n", strings.Join(e.o.emails, ","))
	return nil
}

// repointLineages rewrites the account of every lineage that used oldID.
func repointLineages(ctx context.Context, st storage.Storage, oldID, newID string) error {
	var names []string
	err := st.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
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
		c, err := st.LoadRenewalConf(ctx, n)
		if err == nil {
			c.Params.Account = newID
			err = st.SaveRenewalConf(ctx, n, c)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func runUnregister(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	cl, a, err := accountClient(ctx, e, st, e.o.server, e.o.account, false)
	if err != nil {
		return err
	}
	ok, err := e.confirm("Are you sure you would like to irrevocably deactivate your account?", true)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("deactivation aborted")
	}
	if _, err := cl.DeactivateAccount(ctx); err != nil {
		return fmt.Errorf("deactivate account %s: %w", a.ID, err)
	}
	if err := st.DeleteAccount(ctx, a.Server, a.ID); err != nil {
		return fmt.Errorf("the account is deactivated but removing it from disk failed: %w", err)
	}
	e.printf("Account deactivated.\n")
	return nil
}

func runShowAccount(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	cl, a, err := accountClient(ctx, e, st, e.o.server, e.o.account, false)
	if err != nil {
		return err
	}
	acct, err := cl.GetAccount(ctx)
	if err != nil {
		return fmt.Errorf("fetch account %s: %w", a.ID, err)
	}
	thumb, err := acme.JWKThumbprint(a.Key.Public())
	if err != nil {
		return err
	}
	var emails []string
	for _, c := range acct.Contact {
		emails = append(emails, strings.TrimPrefix(c, "mailto:"))
	}
	if e.o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"server": a.Server, "id": a.ID, "url": acct.URL, "status": acct.Status,
			"contact": acct.Contact, "thumbprint": thumb,
		})
	}
	fmt.Fprintf(e.stdout, "Account details for server %s:\n  Account URL: %s\n  Account ID: %s\n  Account Thumbprint: %s\n",
		a.Server, acct.URL, a.ID, thumb)
	if len(emails) == 0 {
		fmt.Fprintln(e.stdout, "  Email contact: none")
	} else {
		fmt.Fprintf(e.stdout, "  Email contacts: %s\n", strings.Join(emails, ", "))
	}
	return nil
}
