// Package testparallel raises go test's -parallel for a package whose tests
// mostly wait on other processes (a CA, certbot, a held-open request), where
// the default of GOMAXPROCS slots leaves the cores idle. It is test support
// only: TestMain functions call it; nothing else imports it.
package testparallel

import (
	"flag"
	"fmt"
	"runtime"
)

// AtLeast makes -test.parallel n when neither the command line nor an
// earlier call set it and GOMAXPROCS is below n; an explicit -parallel
// always wins. Call it from
// TestMain before m.Run. It parses the command line (flag.Parse), and returns
// an error only if the testing flags are not registered.
func AtLeast(n int) error {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if set || runtime.GOMAXPROCS(0) >= n {
		return nil
	}
	if err := flag.Set("test.parallel", fmt.Sprint(n)); err != nil {
		return fmt.Errorf("testparallel: set -test.parallel: %w", err)
	}
	return nil
}
