// Package acme is an RFC 8555 (ACME) client: directory, nonces, JWS, accounts with
// external account binding, orders, authorizations, challenges, finalization,
// certificate download with alternate chains, revocation, ARI (RFC 9773) and
// profiles.
//
// It is not a certificate manager: it never touches the disk, reads no flags or
// environment, and knows nothing of certbot's tree. Keys arrive as crypto.Signer
// and certificates leave as PEM bytes. Challenges are answered by Solver values
// that the caller supplies (package challenge implements them without importing
// this package).
//
// Retry policy (STYLE §5): GET/HEAD are retried on transport errors and 5xx;
// signed POSTs are re-signed with a fresh nonce on badNonce (§6.5) and on 5xx, and
// re-signed after a transport error only where the request is idempotent at the
// CA — never finalize, which after any doubt is followed by polling the order so a
// second certificate is never minted. A rateLimited problem is returned at once as
// a *RateLimitError that says when to retry.
//
// Timing: every request is bounded by its context — RequestTimeout (45 s) for
// ordinary ones, the issuance deadline (IssuanceTimeout) for finalize, which a
// CA may hold open for minutes. Polls honour Retry-After as the minimum
// spacing, capped at MaxPollWait and never past the deadline, and are reported
// through OnWait.
//
// Behaviours of real CAs (Sectigo above all) are handled where they are met:
// solvers are asked for only for pending authorizations (SolverFor), a
// finalized order is recorded before finalize (BeforeFinalize) and can be
// resumed (ResumeOrder), an EAB key ID bound to another account key is an
// *EABBoundError, and a certificate naming a free extra www./base name is
// accepted with Certificate.ExtraNames set.
package acme
