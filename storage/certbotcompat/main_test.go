package certbotcompat

import (
	"fmt"
	"os"
	"testing"

	"github.com/acmectl/acmectl/internal/testparallel"
)

func TestMain(m *testing.M) {
	// The three end-to-end tests (each its own Pebble and certbot dirs) are
	// chains of certbot runs, ~20 in all; one after another they made this
	// package a long serial tail of make test (issue 19).
	if err := testparallel.AtLeast(3); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
