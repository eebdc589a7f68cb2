package manager

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/acmectl/acmectl/acme"
)

// Observer receives the engine's events: the engine never prints, a
// front-end turns events into certbot's text, JSON or nothing. Event is
// called from the goroutines doing the work (renew runs lineages in
// parallel), so an implementation must be safe for concurrent use and should
// not block.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f(e).
func (f ObserverFunc) Event(e Event) { f(e) }

// EventKind says what happened; it is also the "event" of the JSON form.
type EventKind string

// Event kinds of one issuance (certonly, renew, reconfigure), in the order a
// run emits them.
const (
	// EventRandomDelay: a non-interactive renew sleeps Delay first (once).
	EventRandomDelay EventKind = "random_delay"
	// EventIssuing: an order is about to be placed for Names; Renewal says
	// whether the lineage exists.
	EventIssuing EventKind = "issuing"
	// EventWaiting: waiting for the CA (Wait says for what, how long so
	// far and when the next check is).
	EventWaiting EventKind = "waiting"
	// EventOrderResumed: an order recorded before finalize by an earlier run
	// is collected instead of ordering anew (Reason: its URL).
	EventOrderResumed EventKind = "order_resumed"
	// EventWarning: something the operator should know that does not fail
	// the run (Reason; Lineage the lineage it concerns; Names when it is
	// about names).
	EventWarning EventKind = "warning"
	// EventSubsetRetry: some names failed validation (Failures); the order
	// is placed again without them (--allow-subset-of-names).
	EventSubsetRetry EventKind = "subset_retry"
	// EventAccountRegistered: an account was registered (Names are its
	// e-mail addresses, Reason its URL).
	EventAccountRegistered EventKind = "account_registered"
	// EventCertificateSaved: a version was written (Lineage, Names, NotAfter).
	EventCertificateSaved EventKind = "certificate_saved"
	// EventHook: a hook ran (Hook); Hook.Err is set when it failed.
	EventHook EventKind = "hook"
	// EventReconfigureTest: reconfigure runs its test issuance against Server.
	EventReconfigureTest EventKind = "reconfigure_test"
	// EventInstaller: the installer (Installer: nginx, apache) does what
	// Reason says (deploying a certificate into a server block, reloading,
	// rolling back); failures come as EventHook of kind "installer".
	EventInstaller EventKind = "installer"
)

// Event kinds of a renew run's lineages.
const (
	// EventLineageStarted: renew began with a lineage (Lineage, ConfPath).
	EventLineageStarted EventKind = "lineage_started"
	// EventLineageSkipped: not due (Reason says why).
	EventLineageSkipped EventKind = "lineage_skipped"
	// EventLineageRenewed: a renewal (or dry run) succeeded.
	EventLineageRenewed EventKind = "lineage_renewed"
	// EventLineageFailed: the lineage failed (Err, Failures per name);
	// ParseFailed when its conf or files could not be read.
	EventLineageFailed EventKind = "lineage_failed"
)

// Event is one thing that happened in a run. Only the fields its Kind names
// are set.
type Event struct {
	Kind        EventKind
	Time        time.Time
	Lineage     string
	ConfPath    string
	Server      string
	Names       []string
	Renewal     bool
	Reason      string
	ParseFailed bool
	Err         error
	Failures    []NameFailure
	Delay       time.Duration
	NotAfter    time.Time
	Wait        *Wait
	Hook        *HookResult
	Installer   string
}

// NameFailure is why one identifier failed (the CA's problem for its
// authorization).
type NameFailure struct {
	Name string `json:"name"`
	Err  error  `json:"-"`
}

// Wait describes a wait for the CA (from acme's OnWait).
type Wait struct {
	// What is a human description: "authorization for a.example.com
	// (pending)", "order https://… (processing)", "the CA's answer to
	// finalize".
	What string
	// Kind is acme.WaitAuthorization, WaitOrder or WaitFinalize; URL the
	// authorization or order; Identifier the authorization's name; Status
	// the CA's last status for it.
	Kind                    acme.WaitKind
	URL, Identifier, Status string
	Elapsed                 time.Duration // since the wait for What began
	// Next is the time until the next check (0 while a finalize request is
	// held open); RetryAfter what the CA asked for (0: nothing), before the
	// cap (--retry-after-max) and the deadline were applied.
	Next, RetryAfter time.Duration
	Polls            int // checks so far
}

// HookResult is one hook run.
type HookResult struct {
	Kind    string // pre, deploy, post
	Name    string // "pre-hook command 'x'" or the directory hook's path
	Output  string // stdout and stderr, bounded, secrets redacted
	Err     error
	Cause   error  // the process error behind Err ("exit status 1")
	Lineage string // deploy hooks
}

// MarshalJSON renders the event with errors as strings (the JSON observer).
func (e Event) MarshalJSON() ([]byte, error) {
	type out struct {
		Event       EventKind `json:"event"`
		Time        time.Time `json:"time"`
		Lineage     string    `json:"lineage,omitempty"`
		ConfPath    string    `json:"renewal_conf,omitempty"`
		Server      string    `json:"server,omitempty"`
		Names       []string  `json:"names,omitempty"`
		Renewal     bool      `json:"renewal,omitempty"`
		Reason      string    `json:"reason,omitempty"`
		ParseFailed bool      `json:"parse_failed,omitempty"`
		Error       string    `json:"error,omitempty"`
		Failures    []string  `json:"failures,omitempty"`
		DelaySec    float64   `json:"delay_seconds,omitempty"`
		NotAfter    time.Time `json:"not_after,omitzero"`
		WaitFor     string    `json:"waiting_for,omitempty"`
		WaitURL     string    `json:"url,omitempty"`
		WaitStatus  string    `json:"status,omitempty"`
		RetryAfter  float64   `json:"retry_after_seconds,omitempty"`
		ElapsedSec  float64   `json:"elapsed_seconds,omitempty"`
		NextSec     float64   `json:"next_check_seconds,omitempty"`
		Hook        string    `json:"hook,omitempty"`
		HookKind    string    `json:"hook_kind,omitempty"`
		Output      string    `json:"output,omitempty"`
		Installer   string    `json:"installer,omitempty"`
	}
	o := out{Event: e.Kind, Time: e.Time, Lineage: e.Lineage, ConfPath: e.ConfPath, Server: e.Server, Names: e.Names,
		Renewal: e.Renewal, Reason: e.Reason, ParseFailed: e.ParseFailed, DelaySec: e.Delay.Seconds(), NotAfter: e.NotAfter, Installer: e.Installer}
	if e.Err != nil {
		o.Error = OneLine(e.Err.Error())
	}
	for _, f := range e.Failures {
		o.Failures = append(o.Failures, f.Name+": "+OneLine(f.Err.Error()))
	}
	if w := e.Wait; w != nil {
		o.WaitFor, o.ElapsedSec, o.NextSec = w.What, w.Elapsed.Seconds(), w.Next.Seconds()
		o.WaitURL, o.WaitStatus, o.RetryAfter = w.URL, w.Status, w.RetryAfter.Seconds()
	}
	if h := e.Hook; h != nil {
		o.Hook, o.HookKind, o.Output = h.Name, h.Kind, h.Output
		if h.Err != nil {
			o.Error = OneLine(h.Err.Error())
		}
	}
	return json.Marshal(o)
}

// emit sends e to the observer.
func (m *Manager) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	if m.Observer != nil {
		m.Observer.Event(e)
	}
}

// nameFailures lists the identifiers whose authorization failed in err
// (sorted by name), with the CA's reason for each.
func nameFailures(err error) []NameFailure {
	var out []NameFailure
	var walk func(error)
	walk = func(err error) {
		// A walk of the error tree itself: errors.As would find the same
		// authorization error again below every join that holds it.
		switch e := err.(type) {
		case nil:
		case *acme.AuthorizationError:
			out = append(out, NameFailure{Name: e.Identifier.Value, Err: e})
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	sort.SliceStable(out, func(i, k int) bool { return out[i].Name < out[k].Name })
	return out
}

// String is the wait as one line: what is awaited, for how long so far,
// when the next check is ("authorization for a.example.com, pending: 35s so
// far, next check in 1m0s (the CA asked for 5m0s)").
func (w *Wait) String() string {
	s := fmt.Sprintf("%s: %s so far", w.What, w.Elapsed.Round(time.Second))
	if w.Next > 0 {
		s += ", next check in " + w.Next.Round(time.Second).String()
	}
	if w.RetryAfter > w.Next+time.Second {
		s += " (the CA asked for " + w.RetryAfter.Round(time.Second).String() + ")"
	}
	return s
}

// onWait is the acme client's OnWait: every wait for the CA becomes an
// EventWaiting, so a front-end can show what is awaited, for how long so
// far, and when the next check is.
func (m *Manager) onWait(p acme.WaitProgress) {
	m.emit(Event{Kind: EventWaiting, Wait: &Wait{What: waitWhat(p), Kind: p.Kind, URL: p.URL, Identifier: p.Identifier,
		Status: p.Status, Elapsed: p.Elapsed, Next: p.Next, RetryAfter: p.RetryAfter, Polls: p.Polls}})
}

func waitWhat(p acme.WaitProgress) string {
	var s string
	switch p.Kind {
	case acme.WaitAuthorization:
		s = "authorization for " + p.Identifier
	case acme.WaitFinalize:
		return "the CA to issue the certificate (finalize held open)"
	default:
		s = "the CA to issue the certificate (order " + p.URL + ")"
	}
	if p.Status != "" {
		s += ", " + p.Status
	}
	return s
}
