package scm

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// EAB is the External Account Binding of an SCM ACME account (RFC 8555
// §7.3.4): the key id (SCM's macId) and the base64url HMAC key (macKey).
// String, GoString, LogValue and MarshalJSON never show the key: they print
// "redacted" (so does %v of a struct holding an EAB). Use string(HMACKey)
// where the key is needed.
type EAB struct {
	KeyID   string
	HMACKey Secret
}

func (e EAB) String() string { return "EAB{kid:" + e.KeyID + " hmac:" + e.HMACKey.String() + "}" }

// GoString is String, so %#v redacts as well.
func (e EAB) GoString() string { return e.String() }

// LogValue logs the key id and "redacted".
func (e EAB) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", e.KeyID), slog.String("hmac_key", e.HMACKey.String()))
}

// OnboardRequest is what Onboard sets up: the SCM ACME account AccountName
// in organization OrganizationID on the ACME server Server, with Domains
// assigned to it.
type OnboardRequest struct {
	OrganizationID int
	AccountName    string
	// Server is an SCM server name or directory URL, or an alias that
	// ServerAlias maps to a directory URL (see Client.FindServer).
	Server      string
	ServerAlias func(string) (string, error)
	// Domains may hold comma lists; Onboard normalizes them (NormalizeDomains).
	Domains []string
	// Progress hears each step as it is taken; nil hears nothing.
	Progress func(OnboardEvent)
}

// OnboardStep is one step Onboard took.
type OnboardStep string

// The steps, in the order they can happen.
const (
	StepAccountCreated OnboardStep = "account_created" // no account of that name: created
	StepAccountFound   OnboardStep = "account_found"   // the existing account is used
	StepDomainsAdded   OnboardStep = "domains_added"   // Domains were assigned to it
	StepDomainsPresent OnboardStep = "domains_present" // every domain was assigned already
)

// OnboardEvent reports one step: the server and the account (never printing
// its key), and the domains added (StepDomainsAdded) or requested
// (StepDomainsPresent).
type OnboardEvent struct {
	Step    OnboardStep
	Server  *Server
	Account *Account
	Domains []string
}

// Onboarding is what Onboard leaves in memory for the ACME side: which
// server to register with, with which EAB credentials, and what to issue.
type Onboarding struct {
	Server  Server  // the tenant's ACME server; Server.URL is the directory URL
	Account Account // the SCM ACME account (its MACKey redacts itself)
	Created bool    // Onboard created the account
	// Added are the domains Onboard assigned; empty when all were assigned.
	Added []string
	// EAB binds the ACME account to Account (newAccount, RFC 8555 §7.3.4).
	EAB EAB
	// Domains are the names to issue for, normalized, in request order.
	Domains []string
	// CertName is the lineage name to issue under unless the caller has
	// one: the account name.
	CertName string
}

// Validate checks r before any request: a positive organization id, an
// account name, a server and at least one valid domain name. Errors are
// *InputError.
func (r OnboardRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.AccountName) == "":
		return inputErrorf("onboard: empty SCM ACME account name")
	case r.OrganizationID <= 0:
		return inputErrorf("onboard: organization id %d: want a positive SCM organization id", r.OrganizationID)
	case strings.TrimSpace(r.Server) == "":
		return inputErrorf("onboard: no ACME server")
	}
	domains, err := NormalizeDomains(r.Domains)
	if err == nil && len(domains) == 0 {
		err = inputErrorf("onboard: no domains")
	}
	return err
}

// Onboard makes the SCM side ready for an ACME client and returns its EAB
// credentials, in memory; it is safe to repeat:
//
//  1. find the account AccountName in OrganizationID on Server, or create it
//     (several of that name is an error: SCM cannot tell them apart);
//  2. assign the domains it lacks (nothing is sent when it has all; domains
//     SCM refuses come back as a *DomainError);
//  3. read its EAB key id and HMAC key (an account without them is an error).
//
// Bad input is an *InputError, an unknown server an *UnknownServerError; SCM
// errors are *Error. Nothing is printed: steps go to r.Progress.
func (c *Client) Onboard(ctx context.Context, r OnboardRequest) (*Onboarding, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	domains, _ := NormalizeDomains(r.Domains)
	name := strings.TrimSpace(r.AccountName)
	progress := r.Progress
	if progress == nil {
		progress = func(OnboardEvent) {}
	}
	srv, err := c.FindServer(ctx, r.Server, r.ServerAlias)
	if err != nil {
		return nil, err
	}
	ob := &Onboarding{Server: *srv, Domains: domains, CertName: name}
	acct, created, err := c.findOrCreateAccount(ctx, srv, r.OrganizationID, name)
	if err != nil {
		return nil, err
	}
	ob.Account, ob.Created = *acct, created
	step := StepAccountFound
	if created {
		step = StepAccountCreated
	}
	progress(OnboardEvent{Step: step, Server: srv, Account: acct})
	if ob.Added, err = c.assignDomains(ctx, acct.ID, domains); err != nil {
		return nil, err
	}
	if len(ob.Added) > 0 {
		progress(OnboardEvent{Step: StepDomainsAdded, Server: srv, Account: acct, Domains: ob.Added})
	} else {
		progress(OnboardEvent{Step: StepDomainsPresent, Server: srv, Account: acct, Domains: domains})
	}
	if acct.MACID == "" || acct.MACKey == "" {
		return nil, fmt.Errorf("SCM ACME account %d has no EAB credentials (macId/macKey); check it in the SCM portal", acct.ID)
	}
	ob.EAB = EAB{KeyID: acct.MACID, HMACKey: acct.MACKey}
	return ob, nil
}

// findOrCreateAccount finds the one account name in org on srv (read in
// full, with its EAB credentials), or creates it.
func (c *Client) findOrCreateAccount(ctx context.Context, srv *Server, org int, name string) (*Account, bool, error) {
	list, err := c.ListAccounts(ctx, AccountFilter{OrganizationID: org, Name: name})
	if err != nil {
		return nil, false, fmt.Errorf("find SCM ACME account %q: %w", name, err)
	}
	var ids []string
	for _, a := range list {
		if a.Name == name && a.OrganizationID == org && srv.Matches(a.ACMEServer) {
			ids = append(ids, strconv.Itoa(a.ID))
		}
	}
	switch len(ids) {
	case 0:
		a, err := c.CreateAccount(ctx, AccountRequest{Name: name, ACMEServer: srv.URL, OrganizationID: org})
		return a, err == nil, err
	case 1:
		id, _ := strconv.Atoi(ids[0])
		a, err := c.GetAccount(ctx, id)
		return a, false, err
	}
	return nil, false, fmt.Errorf("several SCM ACME accounts are named %q in organization %d on %s (ids %s); rename or delete the extra ones",
		name, org, srv.URL, strings.Join(ids, ", "))
}

// assignDomains adds the domains account id lacks and returns them.
func (c *Client) assignDomains(ctx context.Context, id int, domains []string) ([]string, error) {
	have, err := c.ListDomains(ctx, id, DomainFilter{})
	if err != nil {
		return nil, err
	}
	haveSet := map[string]bool{}
	for _, d := range have {
		haveSet[strings.TrimSuffix(strings.ToLower(d.Name), ".")] = true
	}
	var missing []string
	for _, d := range domains {
		if !haveSet[d] {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if err := c.AddDomains(ctx, id, missing); err != nil {
		return nil, err // a *DomainError names the domains SCM refused
	}
	return missing, nil
}
