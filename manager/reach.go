package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acmectl/acmectl/acme"
)

// CAUnreachableError is the failure of a lineage whose CA was found
// unreachable earlier in the same run (a transport failure: refused, reset,
// TLS, silence, a stalled body — acme.ErrCAUnreachable): the lineage was not
// attempted, so a dead CA costs one call chain per run, not one per lineage.
// It wraps the first failure, so errors.Is(err, acme.ErrCAUnreachable) holds.
type CAUnreachableError struct {
	Server string
	Err    error // the failure that marked the CA
}

func (e *CAUnreachableError) Error() string {
	return fmt.Sprintf("the CA at %s is unreachable (not contacted again in this run; earlier: %s)", e.Server, OneLine(e.Err.Error()))
}

func (e *CAUnreachableError) Unwrap() error { return e.Err }

// unreachableCA returns a *CAUnreachableError when server failed at the
// transport level earlier in this run, nil otherwise.
func (m *Manager) unreachableCA(server string) error {
	m.caMu.Lock()
	defer m.caMu.Unlock()
	if err := m.caDown[server]; err != nil {
		return &CAUnreachableError{Server: server, Err: err}
	}
	return nil
}

// noteCAError remembers server as unreachable for the rest of the run when
// err says so (acme.ErrCAUnreachable). Not counted: a request cut by the
// run's own deadline or cancellation (runCtx is the run's context; its
// Err is checked first), an order whose own time ran out while the CA was
// answering (orderTimeoutError), and an order left in flight
// (*acme.OrderInFlightError: the CA took the finalize, a later run collects).
func (m *Manager) noteCAError(runCtx context.Context, server string, err error) {
	if err == nil || runCtx.Err() != nil || !errors.Is(err, acme.ErrCAUnreachable) {
		return
	}
	var (
		inFlight *acme.OrderInFlightError
		timedOut *orderTimeoutError
		known    *CAUnreachableError
	)
	if errors.As(err, &inFlight) || errors.As(err, &timedOut) || errors.As(err, &known) {
		return
	}
	m.caMu.Lock()
	if m.caDown == nil {
		m.caDown = map[string]error{}
	}
	_, seen := m.caDown[server]
	if !seen {
		m.caDown[server] = err
	}
	m.caMu.Unlock()
	if !seen {
		m.log().LogAttrs(runCtx, slog.LevelWarn, "CA unreachable: its other lineages fail without contacting it for the rest of this run",
			slog.String("server", server), slog.String("error", err.Error()))
	}
}

// orderTimeoutError: an order did not complete within its own time
// (10 min + --issuance-timeout) though the CA answered; a request that time
// cut short says nothing about the CA being down.
type orderTimeoutError struct {
	limit time.Duration
	err   error
}

func (e *orderTimeoutError) Error() string {
	return fmt.Sprintf("the order did not complete within %s: %v", e.limit, e.err)
}

func (e *orderTimeoutError) Unwrap() error { return e.err }

// DeadlineError is the failure of a lineage that renew's deadline
// (--renew-deadline) stopped or left unattempted; the next run renews it.
type DeadlineError struct {
	Deadline time.Duration
	Err      error // what was cut short; nil when the lineage was not attempted
}

func (e *DeadlineError) Error() string {
	s := fmt.Sprintf("renew reached its deadline (--renew-deadline %s); the next run renews this certificate", e.Deadline)
	if e.Err == nil {
		return s + " (not attempted)"
	}
	return s + ": " + OneLine(e.Err.Error())
}

func (e *DeadlineError) Unwrap() error {
	if e.Err == nil {
		return context.DeadlineExceeded
	}
	return e.Err
}
