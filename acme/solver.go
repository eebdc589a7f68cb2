package acme

import (
	"context"
	"time"
)

// Solver makes one challenge answerable and later removes it. Implementations live
// in challenge/ and do not import this package: the arguments are plain strings.
//
// domain is the identifier value (a DNS name without any "*." prefix, or an IP
// address in its textual form), token the challenge token (already checked to be
// base64url by this package), keyAuth the key authorization (§8.1). For dns-01
// the TXT value is DNS01TXTRecordValue(keyAuth); solvers may compute it themselves.
//
// Present and CleanUp may be called concurrently for different identifiers.
// CleanUp is called for every Present that was attempted, also on failure and
// after ctx is cancelled (with a fresh, short context). CleanUp of something that
// is not there returns nil.
type Solver interface {
	Present(ctx context.Context, domain, token, keyAuth string) error
	CleanUp(ctx context.Context, domain, token, keyAuth string) error
}

// Waiter is implemented by solvers that must wait after Present before the CA may
// validate (DNS propagation). Obtain calls Wait for every presented challenge,
// after all of them were presented and before the CA is told.
type Waiter interface {
	Wait(ctx context.Context, domain, token, keyAuth string) error
}

// Planner is implemented by solvers that want to know, before the first Present,
// every identifier they will be asked to present in this issuance (the manual hook
// exports CERTBOT_ALL_DOMAINS and CERTBOT_REMAINING_CHALLENGES). domains is in the
// order Present will be called.
type Planner interface {
	Plan(ctx context.Context, domains []string) error
}

// Sequencer is implemented by solvers that can hold only one challenge at a time
// (lego's rfc2136 and exec providers replace the whole TXT record set). When
// Sequential reports true, Obtain solves that solver's authorizations one after
// another — present, wait, validate, clean up — pausing d between two.
type Sequencer interface {
	Sequential() (one bool, d time.Duration)
}

// PersistSolver answers dns-persist-01 (draft-ietf-acme-dns-persist), whose
// challenge carries no token: the CA looks for a standing TXT record at
// _validation-persist.<domain> that names one of issuerDomainNames and the
// account (accountURL), with policy=wildcard when wildcard is set.
//
// Obtain calls PresentPersist for every dns-persist-01 challenge of an order
// before any other solver's Present and before the CA is told anything, and
// joins their errors: a missing or wrong record stops the issuance while the
// authorizations are still pending. domain is the base name (no "*."),
// wildcard tells whether the authorization is for *.domain. issuerDomainNames
// are the challenge's, as the CA sent them (not checked by this package).
// Present is never called for such a challenge; CleanUp is, with an empty
// token and key authorization. It may be called concurrently.
type PersistSolver interface {
	Solver
	PresentPersist(ctx context.Context, domain string, wildcard bool, issuerDomainNames []string, accountURL string) error
}
