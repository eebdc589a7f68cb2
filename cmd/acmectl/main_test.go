package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/acmectl/acmectl/internal/testparallel"
)

func TestMain(m *testing.M) {
	// The end-to-end tests mostly wait: on certbot's fixed one-second polls,
	// on a CA that holds finalize open for 50 s, on the production timeouts
	// of a dead CA (140 s). At -parallel = GOMAXPROCS (2 on a 2-core
	// machine) the package used about half a core and took over 6 minutes,
	// the longest of make test (issue 19).
	if err := testparallel.AtLeast(8); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
