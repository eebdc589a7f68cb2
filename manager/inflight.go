package manager

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// inFlight is one lineage's record of an order in flight (storage's
// InFlightStore): written just before finalize, so that a run killed,
// crashed or timed out after finalize was sent leaves the next certonly or
// renew of the lineage the order to collect instead of ordering anew — at
// Sectigo every finalized order mints a certificate the customer pays for
// (esnet/acme-proxy#56). All methods run under the lineage's lock and are
// no-ops on a nil *inFlight (dry runs, stores without records).
type inFlight struct {
	m     *Manager
	store storage.InFlightStore
	p     *issuePlan
	acct  *storage.Account
}

// inFlightFor returns the record keeper for p, or nil when there is none:
// a dry run records nothing and resumes nothing.
func (m *Manager) inFlightFor(p *issuePlan, acct *storage.Account) *inFlight {
	st, ok := m.Store.(storage.InFlightStore)
	if !ok || p.c.DryRun || p.name == "" {
		return nil
	}
	return &inFlight{m: m, store: st, p: p, acct: acct}
}

// resume collects the lineage's recorded order, if any. It returns the
// certificate and the key of its CSR; (nil, nil, nil) when there is nothing
// to resume (no record, a broken one, one for another CA, account or names,
// or an order the CA can no longer continue — the record is then removed
// and the caller orders anew). Any other failure keeps the record and is
// returned: ordering anew could mint a second certificate.
func (f *inFlight) resume(ctx context.Context, cl *acme.Client) (*acme.Certificate, crypto.Signer, error) {
	if f == nil {
		return nil, nil, nil
	}
	name, c := f.p.name, f.p.c
	rec, err := f.store.LoadInFlight(ctx, name)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil, nil
	case errors.Is(err, storage.ErrBroken):
		f.discard(ctx, "the record cannot be used", err)
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("read the order recorded for %s before finalize: %w; nothing was ordered (fix or remove the file to order anew)", name, err)
	}
	if why := f.mismatch(rec); why != "" {
		f.discard(ctx, why, nil)
		return nil, nil, nil
	}
	key, err := pemutil.ParsePrivateKey(rec.KeyPEM)
	if err != nil {
		f.discard(ctx, "its key cannot be read", err)
		return nil, nil, nil
	}
	f.m.log().LogAttrs(ctx, slog.LevelInfo, "resuming the order recorded before finalize", slog.String("lineage", name),
		slog.String("order_url", rec.OrderURL), slog.Time("recorded", rec.Created))
	f.m.emit(Event{Kind: EventOrderResumed, Lineage: name, Names: rec.Identifiers, Reason: rec.OrderURL})
	domains, ips := SplitNames(rec.Identifiers)
	cert, err := cl.ResumeOrder(ctx, acme.ResumeRequest{OrderURL: rec.OrderURL, CSR: rec.CSR, Identifiers: identifiers(domains, ips),
		PreferredChain: c.PreferredChain, ExtraNames: acme.ExtraNamesAny, RecordedAt: rec.Created})
	switch {
	case err == nil:
		return cert, key, nil
	case errors.Is(err, acme.ErrOrderNotResumable):
		f.discard(ctx, "the CA can no longer continue it", err)
		return nil, nil, nil
	}
	return nil, nil, &explainedError{err: err, msg: fmt.Sprintf(
		"the order recorded for %s before finalize (%s) could not be collected yet: %s; the record is kept, nothing new was ordered, and the next certonly or renew of %s tries it again",
		name, rec.OrderURL, OneLine(err.Error()), name)}
}

// mismatch says why rec is not this issuance's order ("" when it is): the
// lineage now renews at another CA or account, or for other names (a
// record from --allow-subset-of-names holds a subset of them).
func (f *inFlight) mismatch(rec *storage.InFlight) string {
	c := f.p.c
	switch {
	case rec.Server != c.Server:
		return "it is for another CA (" + rec.Server + ")"
	case f.acct == nil || rec.AccountID != f.acct.ID:
		return "it is for another account (" + rec.AccountID + ")"
	}
	names := append(append([]string(nil), f.p.domains...), f.p.ips...)
	if SameSet(rec.Identifiers, names) || c.Subset && SubsetOf(rec.Identifiers, names) {
		return ""
	}
	return "it is for other names (" + strings.Join(rec.Identifiers, ", ") + ")"
}

func (f *inFlight) discard(ctx context.Context, why string, err error) {
	attrs := []slog.Attr{slog.String("lineage", f.p.name), slog.String("reason", why)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	f.m.log().LogAttrs(ctx, slog.LevelWarn, "the order recorded before finalize is discarded; ordering anew", attrs...)
	f.m.emit(Event{Kind: EventWarning, Lineage: f.p.name, Reason: "the order recorded before finalize is discarded (" + why + "); ordering anew"})
	f.remove(ctx)
}

// record is acme.ObtainRequest.BeforeFinalize: the order URL, the CSR and
// the new key, saved before finalize is sent. If it cannot be saved,
// finalize is not sent.
func (f *inFlight) record(keyOf func() (crypto.Signer, error), domains, ips []string) func(context.Context, string, []byte) error {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, orderURL string, csr []byte) error {
		key, err := keyOf()
		if err != nil {
			return err
		}
		keyPEM, err := pemutil.EncodePrivateKey(key)
		if err != nil {
			return err
		}
		acct := ""
		if f.acct != nil {
			acct = f.acct.ID
		}
		return f.store.SaveInFlight(ctx, f.p.name, &storage.InFlight{Server: f.p.c.Server, AccountID: acct, OrderURL: orderURL,
			Identifiers: append(append([]string(nil), domains...), ips...), CSR: csr, KeyPEM: keyPEM})
	}
}

// failed decides about the record after a failed issuance: kept when the CA
// may still issue (or have issued) for the order — it was left in flight,
// or the CA stopped answering — and removed when the outcome is known (a
// refusal, an invalid order, a certificate refused as not ours).
func (f *inFlight) failed(ctx context.Context, err error) error {
	if f == nil {
		return err
	}
	if !mayStillIssue(err) {
		f.remove(ctx)
		return err
	}
	if _, lerr := f.store.LoadInFlight(ctx, f.p.name); lerr != nil {
		return err // nothing was recorded: finalize was never sent
	}
	return &explainedError{err: err, msg: fmt.Sprintf(
		"%s; the order is recorded, and the next certonly or renew of %s collects it without ordering again (raise --issuance-timeout if the CA is this slow)",
		OneLine(err.Error()), f.p.name)}
}

// saveFailed explains a save that failed after the CA issued (a full disk,
// an I/O error): the record stays, so the certificate is not lost — the
// next run collects it once the save can succeed.
func (f *inFlight) saveFailed(ctx context.Context, err error) error {
	if f == nil {
		return err
	}
	if _, lerr := f.store.LoadInFlight(ctx, f.p.name); lerr != nil {
		return err
	}
	return &explainedError{err: err, msg: fmt.Sprintf(
		"%s; the CA issued the certificate and its order is recorded: once the save can succeed (free space on the disk), the next certonly or renew of %s collects it without ordering again",
		OneLine(err.Error()), f.p.name)}
}

// mayStillIssue: after finalize, err leaves the order's outcome open.
func mayStillIssue(err error) bool {
	var inFlight *acme.OrderInFlightError
	var p *acme.Problem
	switch {
	case errors.As(err, &inFlight), errors.Is(err, acme.ErrCAUnreachable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &p):
		return p.Status >= 500 || p.Type == acme.ProblemRateLimited
	}
	return false
}

// done removes the record once the certificate is saved.
func (f *inFlight) done(ctx context.Context) {
	if f != nil {
		f.remove(ctx)
	}
}

func (f *inFlight) remove(ctx context.Context) {
	if err := f.store.RemoveInFlight(context.WithoutCancel(ctx), f.p.name); err != nil {
		f.m.log().LogAttrs(ctx, slog.LevelWarn, "could not remove the in-flight order record", slog.String("lineage", f.p.name), slog.String("error", err.Error()))
	}
}

// inFlightNames are the lineages with a recorded order in flight (none
// when the store keeps no records or cannot list them).
func (m *Manager) inFlightNames(ctx context.Context) map[string]bool {
	lister, ok := m.Store.(interface {
		InFlightNames(context.Context) ([]string, error)
	})
	if !ok {
		return nil
	}
	names, err := lister.InFlightNames(ctx)
	if err != nil {
		m.log().LogAttrs(ctx, slog.LevelWarn, "could not list in-flight orders", slog.String("error", err.Error()))
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// inFlightNow reports whether name still has a recorded order (read under
// the lineage's lock; a broken record counts: collecting it discards it).
func (m *Manager) inFlightNow(ctx context.Context, name string) bool {
	st, ok := m.Store.(storage.InFlightStore)
	if !ok {
		return false
	}
	_, err := st.LoadInFlight(ctx, name)
	return !errors.Is(err, storage.ErrNotFound)
}

// keepInFlightVersion is storage's Options.KeepVersion: a version whose
// private key is the key of the lineage's recorded order in flight is never
// pruned, so a resumed order always finds the key it was made with.
func keepInFlightVersion(t *storage.Tree, lineage string, version int) bool {
	rec, err := t.LoadInFlight(context.Background(), lineage)
	if err != nil {
		return false
	}
	recKey, err := pemutil.ParsePrivateKey(rec.KeyPEM)
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(t.ArchiveDir(lineage), fmt.Sprintf("privkey%d.pem", version)))
	if err != nil {
		return false
	}
	k, err := pemutil.ParsePrivateKey(b)
	if err != nil {
		return false
	}
	return sameKey(k, recKey)
}
