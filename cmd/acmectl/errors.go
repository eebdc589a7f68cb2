package main

import (
	"errors"
	"fmt"

	"github.com/acmectl/acmectl/manager"
)

// Exit codes (documented in docs/cli.md).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks bad input on the command line or in a config file: exit
// code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// exitCode picks the process exit code for err.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var u *usageError
	if errors.As(err, &u) || manager.IsUsage(err) {
		return exitUsage
	}
	return exitError
}

// oneLine folds a multi-line error message into one line.
func oneLine(s string) string { return manager.OneLine(s) }
