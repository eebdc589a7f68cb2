package manager

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
func (m *Manager) findAccount(ctx context.Context, server, id string) (*storage.Account, error) {
	st := m.Store
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
		m.log().LogAttrs(ctx, slog.LevelWarn, "some accounts could not be read", slog.String("error", errs.Error()))
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
	if !m.interactive() {
		return nil, NeedFlag(fmt.Sprintf("%d accounts are registered at %s", len(accts), server), "--account ID (one of "+strings.Join(ids, ", ")+")")
	}
	var q strings.Builder
	q.WriteString("Please choose an account\n")
	for i, a := range accts {
		fmt.Fprintf(&q, "%d: %s (%s)\n", i+1, a.ID, a.Meta.CreationDT.Format("2006-01-02"))
	}
	q.WriteString("Select the appropriate number [1-" + fmt.Sprint(len(accts)) + "] then [enter]: ")
	ans, err := m.ask(q.String())
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
func (m *Manager) accountClient(ctx context.Context, server, accountID string, allowRegister bool) (*acme.Client, *storage.Account, error) {
	// The account and its client are reused within one command (renew runs
	// many issuances against one CA); a lookup that found nothing is not.
	ck := server + "\n" + accountID
	m.acctMu.Lock()
	c, ok := m.acctClients[ck]
	m.acctMu.Unlock()
	if ok {
		return c.cl, c.a, nil
	}
	a, err := m.findAccount(ctx, server, accountID)
	if err != nil {
		return nil, nil, err
	}
	if a != nil {
		m.acctMu.Lock()
		defer m.acctMu.Unlock()
		if c, ok := m.acctClients[ck]; ok {
			return c.cl, c.a, nil
		}
		cl, err := m.newClient(server, a.Key, a.URL)
		if err != nil {
			return nil, nil, err
		}
		if m.acctClients == nil {
			m.acctClients = map[string]acctClient{}
		}
		m.acctClients[ck] = acctClient{cl, a}
		return cl, a, nil
	}
	if !allowRegister {
		return nil, nil, fmt.Errorf("no account is registered at %s; run 'acmectl register --server %s'", server, server)
	}
	return m.register(ctx, server)
}

// register creates an account at server: checks EAB, terms of service and
// e-mail before generating a key, then saves it (never the EAB key).
func (m *Manager) register(ctx context.Context, server string) (*acme.Client, *storage.Account, error) {
	o := m.Config
	cl, err := m.newClient(server, nil, "")
	if err != nil {
		return nil, nil, err
	}
	dir, err := cl.Directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	if dir.Meta.ExternalAccountRequired && o.EAB == nil {
		return nil, nil, Usagef("the CA at %s requires external account binding; pass --eab-kid and --eab-hmac-key (or --eab-hmac-key-file, or set %s)", server, EnvEABHMACKey)
	}
	if tos := dir.Meta.TermsOfService; tos != "" && !o.AgreeTOS {
		if !m.interactive() {
			return nil, nil, NeedFlag("you must agree to the CA's terms of service at "+tos, "--agree-tos")
		}
		ok, err := m.confirm("Please read the Terms of Service at "+tos+". You must agree in order to register with the ACME server. Do you agree?", false)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, errors.New("the terms of service must be agreed to register an account")
		}
	}
	emails := o.Emails
	if len(emails) == 0 && !o.NoEmail {
		if !m.interactive() {
			return nil, nil, NeedFlag("an e-mail address is needed for the account", "--email ADDRESS (or --register-unsafely-without-email)")
		}
		e, err := m.askEmail()
		if err != nil {
			return nil, nil, err
		}
		if e != "" {
			emails = []string{e}
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
	acct, err := cl.Register(ctx, acme.AccountRequest{Contact: contact, TermsOfServiceAgreed: true, EAB: o.EAB})
	if err != nil {
		return nil, nil, explainRegister(o, server, err)
	}
	sa := &storage.Account{Server: server, URL: acct.URL, Key: key, Regr: accountBody(acct)}
	id, err := m.Store.SaveAccount(ctx, sa)
	if err != nil {
		return nil, nil, fmt.Errorf("save account: %w", err)
	}
	sa.ID = id
	m.log().LogAttrs(ctx, slog.LevelInfo, "account registered", slog.String("account_url", acct.URL), slog.String("account_id", id))
	m.emit(Event{Kind: EventAccountRegistered, Server: server, Names: emails, Reason: acct.URL})
	return cl, sa, nil
}

// askEmail asks for the account's e-mail address until it looks like one,
// as certbot 5.x does (display/ops.get_email): an empty answer skips it,
// "c" cancels, and a mistyped address is asked again with "There is a
// problem with your email address." in front (certbot 2.1 aborted instead).
func (m *Manager) askEmail() (string, error) {
	prefix := ""
	for {
		ans, err := m.ask(prefix + "Enter email address or hit Enter to skip.\n (Enter 'c' to cancel): ")
		if err != nil {
			return "", err
		}
		switch {
		case ans == "c" || ans == "C":
			return "", &CertbotError{Msg: "Error getting email address."}
		case ans == "" || safeEmail(ans):
			return ans, nil
		}
		prefix = "There is a problem with your email address. "
	}
}

// safeEmail is certbot's util.safe_email: [a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+,
// not starting with a dot, without "..".
func safeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	ok = true
	for _, r := range local {
		ok = ok && (isAlnum(r) || strings.ContainsRune("._%+-", r))
	}
	for _, r := range domain {
		ok = ok && (isAlnum(r) || r == '.' || r == '-')
	}
	return ok
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
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

// explainRegister words a refused registration. A key ID the CA already
// bound to another account key (Sectigo binds it to the first key that uses
// it: certbot/certbot#8944, win-acme/win-acme#1904, cert-manager#2882) gets
// what happened and the ways out instead of the CA's bare words.
func explainRegister(c *Config, server string, err error) error {
	err = fmt.Errorf("register account at %s: %w", server, err)
	if !errors.Is(err, acme.ErrEABAlreadyBound) {
		return err
	}
	kid := ""
	if c.EAB != nil {
		kid = " " + c.EAB.KeyID
	}
	var p *acme.Problem
	said := ""
	if errors.As(err, &p) && p.Detail != "" {
		said = fmt.Sprintf(" (the CA said: %q)", p.Detail)
	}
	return &explainedError{err: err, msg: fmt.Sprintf(
		"the EAB key ID%s is already bound to another ACME account (a first server, or an earlier install whose accounts/ was lost)%s: "+
			"copy %s/accounts/ from the first server to use that account, or create a new ACME account in SCM for a fresh key ID "+
			"(acmectl scm account create ... or acmectl scm onboard); Sectigo can also enable EAB reuse on request",
		kid, said, c.ConfigDir)}
}
