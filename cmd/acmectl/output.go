package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/manager"
)

// textObserver turns the engine's events into certbot's text: progress and
// per-lineage lines on stderr (not in -q), failures and hook output on
// stderr always. The renew summary goes to stdout (renewSummary).
type textObserver struct {
	stdout, stderr io.Writer
	quiet          bool
	// tty: long waits for the CA show as one line rewritten at each check
	// (stderr is a terminal, no -v); otherwise as a line every 30 s (no -q).
	tty bool
	// json: events go to stdout as JSON lines instead (renew --json).
	json bool

	mu   sync.Mutex
	last map[string]time.Time
	open bool // a progress line is on the terminal
}

func newTextObserver(stdout, stderr io.Writer, quiet, tty bool) *textObserver {
	return &textObserver{stdout: stdout, stderr: stderr, quiet: quiet, tty: tty, last: map[string]time.Time{}}
}

// Event implements manager.Observer.
func (t *textObserver) Event(ev manager.Event) {
	if t.json {
		t.jsonEvent(ev)
		return
	}
	if ev.Kind == manager.EventWaiting {
		t.waiting(ev)
		return
	}
	t.endLine()
	switch ev.Kind {
	case manager.EventLineageFailed:
		var ie *manager.IssueError
		if errors.As(ev.Err, &ie) {
			fmt.Fprintf(t.stderr, "Failed to renew certificate %s with error: %s\n", ev.Lineage, ie.Summary())
			writeIssueReport(t.stderr, ie)
		} else {
			fmt.Fprintf(t.stderr, "Failed to renew certificate %s with error: %s\n", ev.Lineage, manager.OneLine(ev.Err.Error()))
		}
	case manager.EventHook:
		t.hook(ev.Hook)
	case manager.EventSubsetRetry:
		fmt.Fprintf(t.stderr, "Some names failed validation (%s); retrying with the rest (--allow-subset-of-names).\n", strings.Join(ev.Names, ", "))
	case manager.EventAccountRegistered:
		if len(ev.Names) == 0 {
			fmt.Fprintln(t.stderr, "Account registered without an e-mail address: the CA cannot warn you about expiring certificates.")
		} else if !t.quiet {
			fmt.Fprintln(t.stderr, "Account registered.")
		}
	case manager.EventReconfigureTest:
		fmt.Fprintln(t.stderr, "Simulating a renewal with the new options against", ev.Server)
	}
	if !t.quiet {
		t.progressLine(ev)
	}
}

// displayName is how certbot names itself in a sentence ("Certbot failed to
// authenticate"), "acmectl" unless invoked through a certbot symlink.
func displayName() string {
	if progName(os.Args[0]) == "certbot" {
		return "Certbot"
	}
	return "acmectl"
}

// writeIssueReport prints a failed issuance as certbot's auth_handler does:
// the names that failed with the CA's reason, one line each, then one hint
// per kind of failure.
func writeIssueReport(w io.Writer, ie *manager.IssueError) {
	if len(ie.Problems) > 0 {
		fmt.Fprintf(w, "%s failed to authenticate some domains (authenticator: %s). The Certificate Authority reported these problems:\n",
			displayName(), ie.Authenticator)
		for _, p := range ie.Problems {
			fmt.Fprintf(w, "  %s\n", manager.OneLine(p.String()))
		}
	}
	for _, h := range ie.Hints {
		fmt.Fprintf(w, "Hint: %s\n", h)
	}
}

// progressLine prints what certbot prints while working (not in -q).
func (t *textObserver) progressLine(ev manager.Event) {
	switch ev.Kind {
	case manager.EventLineageStarted:
		fmt.Fprintf(t.stderr, "\n%s\nProcessing %s\n", dashes, ev.ConfPath)
	case manager.EventLineageSkipped:
		fmt.Fprintln(t.stderr, "Certificate not yet due for renewal")
	case manager.EventRandomDelay:
		fmt.Fprintf(t.stderr, "Non-interactive renewal: random delay of %s\n", ev.Delay.Round(time.Second))
	case manager.EventWarning:
		fmt.Fprintln(t.stderr, "Warning:", ev.Reason)
	case manager.EventOrderResumed:
		fmt.Fprintln(t.stderr, "Collecting the order an earlier run left after finalize:", ev.Reason)
	case manager.EventIssuing:
		what := "Requesting a certificate for "
		if ev.Renewal {
			what = "Renewing an existing certificate for "
		}
		fmt.Fprintln(t.stderr, what+manager.HumanList(ev.Names))
	case manager.EventInstaller: // certbot's notify: on stdout
		fmt.Fprintln(t.stdout, ev.Reason)
	}
}

func (t *textObserver) hook(h *manager.HookResult) {
	if h.Output != "" {
		fmt.Fprintf(t.stderr, "Output from %s:\n%s\n", h.Name, h.Output)
	}
	if h.Err != nil {
		fmt.Fprintf(t.stderr, "Hook %s failed: %v\n", h.Name, h.Cause)
	}
}

// waiting shows a wait for the CA once it passed 2 s: what is awaited, for
// how long so far, and when the next check is.
func (t *textObserver) waiting(ev manager.Event) {
	w := ev.Wait
	if t.quiet || w.Elapsed < 2*time.Second {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty {
		fmt.Fprintf(t.stderr, "\r\033[KWaiting for %s", w)
	} else if key := string(w.Kind) + " " + w.URL; ev.Time.Sub(t.last[key]) >= 30*time.Second {
		t.last[key] = ev.Time
		fmt.Fprintf(t.stderr, "Waiting for %s\n", w)
	}
	t.open = t.tty
}

// endLine clears the progress line before other output.
func (t *textObserver) endLine() {
	t.mu.Lock()
	if t.open {
		fmt.Fprint(t.stderr, "\r\033[K")
	}
	t.open = false
	t.mu.Unlock()
}

// jsonEvent writes one event as a JSON line on stdout (renew --json).
func (t *textObserver) jsonEvent(ev manager.Event) {
	if ev.Kind == manager.EventWaiting && !t.tty {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stdout.Write(append(b, '\n'))
}

// renewSummary prints certbot's end-of-run report on stdout.
func renewSummary(w io.Writer, res *manager.RenewResult, liveDir func(string) string, quiet bool) {
	var renewed, failed, parseFailed []*manager.Outcome
	skipped := 0
	res.Each(func(oc *manager.Outcome) {
		switch oc.Status {
		case manager.StatusRenewed:
			renewed = append(renewed, oc)
		case manager.StatusSkipped:
			skipped++
		case manager.StatusFailed:
			failed = append(failed, oc)
		default:
			parseFailed = append(parseFailed, oc)
		}
	})
	if quiet && len(renewed)+len(failed)+len(parseFailed) == 0 {
		return
	}
	fullchain := func(oc *manager.Outcome) string {
		return liveDir(oc.Lineage) + string(filepath.Separator) + "fullchain.pem"
	}
	list := func(ocs []*manager.Outcome, what string) {
		for _, oc := range ocs {
			fmt.Fprintf(w, "  %s (%s)\n", fullchain(oc), what)
		}
	}
	fmt.Fprintf(w, "\n%s\n", dashes)
	if skipped > 0 {
		fmt.Fprintln(w, "The following certificates are not due for renewal yet:")
		res.Each(func(oc *manager.Outcome) {
			if oc.Status == manager.StatusSkipped {
				fmt.Fprintf(w, "  %s expires on %s (skipped)\n", fullchain(oc), time.Unix(oc.Expiry, 0).UTC().Format("2006-01-02"))
			}
		})
	}
	sim := ""
	if res.DryRun {
		sim = "simulated "
	}
	switch {
	case len(renewed)+len(failed) == 0:
		fmt.Fprintf(w, "No %srenewals were attempted.\n", sim)
	case len(failed) == 0:
		fmt.Fprintf(w, "Congratulations, all %srenewals succeeded:\n", sim)
		list(renewed, "success")
	case len(renewed) == 0:
		fmt.Fprintf(w, "All %srenewals failed. The following certificates could not be renewed:\n", sim)
		list(failed, "failure")
	default:
		fmt.Fprintf(w, "The following %srenewals succeeded:\n", sim)
		list(renewed, "success")
		fmt.Fprintf(w, "\nThe following %srenewals failed:\n", sim)
		list(failed, "failure")
	}
	if len(parseFailed) > 0 {
		fmt.Fprintf(w, "\nAdditionally, the following renewal configurations were invalid:\n")
		list(parseFailed, "parsefail")
	}
	fmt.Fprintln(w, dashes)
}
