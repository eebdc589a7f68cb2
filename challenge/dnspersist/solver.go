package dnspersist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ValidationMargin is how far ahead of now the Solver checks persistUntil:
// the CA validates a moment after the check, and a record expiring in
// between would make it mark the authorization invalid.
const ValidationMargin = 2 * time.Minute

// Solver answers dns-persist-01 by checking, before the CA is asked, that
// the record it will look for is there and acceptable (acme.PersistSolver).
// It creates and deletes nothing. The zero value reads the authoritative
// servers through /etc/resolv.conf. It is safe for concurrent use.
type Solver struct {
	// Resolver reads the records; nil means the zero Resolver.
	Resolver *Resolver
	// Now is the clock seam; nil means time.Now.
	Now func() time.Time
	// Logger receives each verdict; nil discards.
	Logger *slog.Logger
	// Report, when set, is told every verdict (a caller shows the warning of
	// a persistUntil within 30 days). It may be called concurrently.
	Report func(Verdict)
	// Names are all the names of the issuance, when known: a name whose
	// wildcard is among them is told to publish policy=wildcard in the
	// record they share.
	Names []string
}

// Present is not how dns-persist-01 is answered: package acme calls
// PresentPersist, which has the challenge's details. It returns an error.
func (s *Solver) Present(ctx context.Context, domain, token, keyAuth string) error {
	return errors.New("dns-persist-01: the solver needs the challenge's issuer domain names and the account URL (PresentPersist)")
}

// CleanUp does nothing: the record stays for the next issuance.
func (s *Solver) CleanUp(ctx context.Context, domain, token, keyAuth string) error { return nil }

// PresentPersist checks the record of domain (*.domain when wildcard) as
// the CA will: one of issuerDomainNames, accountURL, policy=wildcard for a
// wildcard, persistUntil not passed ValidationMargin from now. It returns
// nil when the CA would accept it, else a *RecordError naming the record to
// publish, or an error when the CA's issuer domain names are malformed
// (draft §3.1: empty, more than 10, not lower-case A-label names).
func (s *Solver) PresentPersist(ctx context.Context, domain string, wildcard bool, issuerDomainNames []string, accountURL string) error {
	if err := CheckIssuerDomainNames(issuerDomainNames); err != nil {
		return fmt.Errorf("the CA's dns-persist-01 challenge is malformed: %w", err)
	}
	if accountURL == "" {
		return errors.New("dns-persist-01: no account URL")
	}
	name := domain
	if wildcard {
		name = "*." + domain
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	v := CheckName(ctx, s.Resolver, name, Expect{IssuerDomainNames: issuerDomainNames, AccountURL: accountURL, At: now().Add(ValidationMargin),
		Wildcard: WildcardBases(s.Names)[domain]})
	if s.Report != nil {
		s.Report(v)
	}
	if s.Logger != nil {
		level := slog.LevelInfo
		if !v.OK() || v.Warning != "" {
			level = slog.LevelWarn
		}
		s.Logger.LogAttrs(ctx, level, "dns-persist-01 record checked", slog.String("identifier", v.Name),
			slog.String("record_name", v.RecordName), slog.String("status", string(v.Status)),
			slog.String("source", v.Source), slog.String("warning", v.Warning))
	}
	return v.Err()
}
