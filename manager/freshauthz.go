package manager

import (
	"context"
	"log/slog"

	"github.com/acmectl/acmectl/acme"
)

// warnStaleAuthz is certbot's warning when a dry run could not deactivate
// every reused authorization (client._get_order_and_authorizations).
const warnStaleAuthz = "Certbot was unable to obtain fresh authorizations for every domain. The dry run will continue, but results may not be accurate."

// freshAuthorizations makes a dry run prove the challenge still works, as
// certbot does (client._get_order_and_authorizations, 2.1 and 5.x): it
// creates an order for the identifiers, deactivates every authorization the
// CA is reusing (status valid; RFC 8555 §7.5.2), and lets the issuance
// create the order again, which then gets fresh authorizations whose
// challenges really run. It is only ever called for a dry run (certonly
// --dry-run, renew --dry-run, reconfigure's test issuance): deactivating
// outside one would throw away validations the operator's next real
// issuance could reuse.
//
// It returns how many authorizations were deactivated. A CA that refuses
// the order or a deactivation is reported with certbot's warning and the dry
// run continues.
func (m *Manager) freshAuthorizations(ctx context.Context, cl *acme.Client, ids []acme.Identifier, profile, lineage string) int {
	order, err := cl.NewOrder(ctx, acme.OrderRequest{Identifiers: ids, Profile: profile})
	if err != nil {
		m.staleAuthzWarning(ctx, lineage, err)
		return 0
	}
	deactivated, failed := 0, 0
	for _, u := range order.AuthorizationURLs {
		a, err := cl.GetAuthorization(ctx, u)
		if err != nil {
			failed++
			m.log().LogAttrs(ctx, slog.LevelDebug, "dry run: could not fetch authorization", slog.String("url", u), slog.String("error", err.Error()))
			continue
		}
		if a.Status != acme.StatusValid {
			continue
		}
		if err := cl.DeactivateAuthorization(ctx, u); err != nil {
			failed++
			m.log().LogAttrs(ctx, slog.LevelDebug, "dry run: could not deactivate authorization", slog.String("url", u), slog.String("error", err.Error()))
			continue
		}
		deactivated++
	}
	if deactivated > 0 {
		m.log().LogAttrs(ctx, slog.LevelDebug, "Recreating order after authz deactivations", slog.String("lineage", lineage), slog.Int("deactivated", deactivated))
	}
	if failed > 0 {
		m.staleAuthzWarning(ctx, lineage, nil)
	}
	return deactivated
}

func (m *Manager) staleAuthzWarning(ctx context.Context, lineage string, err error) {
	attrs := []slog.Attr{slog.String("lineage", lineage)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	m.log().LogAttrs(ctx, slog.LevelWarn, warnStaleAuthz, attrs...)
	m.emit(Event{Kind: EventWarning, Lineage: lineage, Reason: warnStaleAuthz})
}
