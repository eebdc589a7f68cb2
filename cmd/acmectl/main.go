// Command acmectl is a certbot-compatible ACME client: it obtains, renews, lists,
// revokes and deletes certificates in certbot's /etc/letsencrypt tree, and it
// behaves the same when invoked as "certbot" through a symlink.
//
// main is the only place that exits. Exit codes: 0 success, 1 error, 2 usage
// error (unknown flag, conflicting flags, malformed input).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/acmectl/acmectl/challenge/dns01"
	_ "github.com/acmectl/acmectl/internal/prefault" // first touches of the heap in one call (see its doc)
	"github.com/acmectl/acmectl/manager"
)

func main() {
	if filepath.Base(os.Args[0]) == dns01.PluginName {
		// The cluster's build runs this binary's DNS plugin so (registry_host.go).
		if err := dns01.ServePlugin(); err != nil {
			fmt.Fprintln(os.Stderr, dns01.PluginName+":", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// acmectl's live heap is a few MiB, so the default heap goal (twice the
	// live heap, at least 4 MiB) would be most of its footprint; half of that
	// keeps a renew run under 30 MiB on hosts that run it from cron, for a
	// few more short collections. GOGC in the environment wins. From the
	// first collection on: set at once, the 2-MiB goal it implies made a
	// collection of every start (a command that allocates less than 4 MiB
	// then needs none).
	if os.Getenv("GOGC") == "" {
		gcPercentAfterFirstCollection(50)
	}
	err := runApp(nil, os.Args)
	os.Exit(report(os.Stderr, err))
}

// gcPercentAfterFirstCollection sets GOGC to pct once the first collection
// has run (a finalizer of an object nothing references runs after it).
func gcPercentAfterFirstCollection(pct int) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { debug.SetGCPercent(pct) })
}

// gcSentinel is large enough not to share a tiny-allocator block (whose
// finalizers may never run).
type gcSentinel struct {
	_ [32]byte
	_ *int
}

// report prints err and returns the exit code for it: one line, after the
// per-name report and hints of a failed issuance, or certbot's notice of an
// error it words itself; Ctrl-C is certbot's "Exiting due to user request."
// and exit 1.
func report(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ie *manager.IssueError
	var ce *manager.CertbotError
	switch {
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(w, errInterrupted.Error())
		return exitError
	case errors.As(err, &ie):
		writeIssueReport(w, ie)
		fmt.Fprintf(w, "Error: %s\n", ie.Summary())
	case errors.As(err, &ce):
		if ce.Hint != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(ce.Hint))
		}
		fmt.Fprintf(w, "Error: %s\n", oneLine(err.Error()))
	default:
		fmt.Fprintf(w, "Error: %s\n", oneLine(err.Error()))
	}
	return exitCode(err)
}
