// Command acmectl is a certbot-compatible ACME client: it obtains, renews, lists,
// revokes and deletes certificates in certbot's /etc/letsencrypt tree, and it
// behaves the same when invoked as "certbot" through a symlink.
//
// main is the only place that exits. Exit codes: 0 success, 1 error, 2 usage
// error (unknown flag, conflicting flags, malformed input).
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

func main() {
	// acmectl's live heap is a few MiB, so the default heap goal (twice the
	// live heap, at least 4 MiB) would be most of its footprint; half of that
	// keeps a renew run under 30 MiB on hosts that run it from cron, for a
	// few more short collections. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	err := runApp(newAppFor(os.Args), os.Args)
	profStop()
	os.Exit(report(os.Stderr, err))
}

// report prints err as one line and returns the exit code for it.
func report(w *os.File, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(w, "Error: %s\n", oneLine(err.Error()))
	return exitCode(err)
}
