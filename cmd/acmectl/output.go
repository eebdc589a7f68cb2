package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	// progress shows long waits for the CA (stderr is a terminal, no -q,
	// less than -vv): one line per 5 s once a wait passed 2 s.
	progress bool
	// json: events go to stdout as JSON lines instead (renew --json).
	json bool

	mu   sync.Mutex
	last map[string]time.Time
}

func newTextObserver(stdout, stderr io.Writer, quiet, progress bool) *textObserver {
	return &textObserver{stdout: stdout, stderr: stderr, quiet: quiet, progress: progress, last: map[string]time.Time{}}
}

// Event implements manager.Observer.
func (t *textObserver) Event(ev manager.Event) {
	if t.json {
		t.jsonEvent(ev)
		return
	}
	switch ev.Kind {
	case manager.EventLineageFailed:
		var ie *manager.IssueError
		if errors.As(ev.Err, &ie) {
			fmt.Fprintf(t.stderr, "Failed to renew certificate %s with error: %s\n", ev.Lineage, ie.Summary())
			writeIssueReport(t.stderr, ie)
		} else {
			fmt.Fprintf(t.stderr, "Failed to renew certificate %s with error: %s\n", ev.Lineage, manager.OneLine(ev.Err.Error()))
		}
	case manager.EventWarning:
		fmt.Fprintln(t.stderr, ev.Reason)
	case manager.EventHook:
		t.hook(ev.Hook)
	case manager.EventSubsetRetry:
		fmt.Fprintf(t.stderr, "Some names failed validation (%s); retrying with the rest (--allow-subset-of-names).\n", joinComma(ev.Names))
	case manager.EventAccountRegistered:
		if len(ev.Names) == 0 {
			fmt.Fprintln(t.stderr, "Account registered without an e-mail address: the CA cannot warn you about expiring certificates.")
		} else if !t.quiet {
			fmt.Fprintln(t.stderr, "Account registered.")
		}
	case manager.EventReconfigureTest:
		fmt.Fprintln(t.stderr, "Simulating a renewal with the new options against", ev.Server)
	case manager.EventWaiting:
		t.waiting(ev)
	}
	if !t.quiet {
		t.progressLine(ev)
	}
}

// writeIssueReport prints a failed issuance as certbot's auth_handler does:
// the names that failed with the CA's reason, one line each, then one hint
// per kind of failure.
// displayName is how certbot names itself in a sentence ("Certbot failed to
// authenticate"), "acmectl" unless invoked through a certbot symlink.
func displayName() string {
	if progName(os.Args[0]) == "certbot" {
		return "Certbot"
	}
	return "acmectl"
}

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
	case manager.EventIssuing:
		what := "Requesting a certificate for "
		if ev.Renewal {
			what = "Renewing an existing certificate for "
		}
		fmt.Fprintln(t.stderr, what+manager.HumanList(ev.Names))
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

// waiting shows a long wait on a terminal: what is awaited, the time
// elapsed and the next check; short waits are not worth a line.
func (t *textObserver) waiting(ev manager.Event) {
	w := ev.Wait
	if !t.progress || w.Elapsed < 2*time.Second {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ev.Time.Sub(t.last[w.What]) < 5*time.Second {
		return
	}
	t.last[w.What] = ev.Time
	fmt.Fprintf(t.stderr, "Waiting for %s: %s elapsed, next check in %s\n", w.What,
		w.Elapsed.Round(time.Second), w.Next.Round(100*time.Millisecond))
}

// jsonEvent writes one event as a JSON line on stdout (renew --json).
func (t *textObserver) jsonEvent(ev manager.Event) {
	if ev.Kind == manager.EventWaiting && !t.progress {
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

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
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
