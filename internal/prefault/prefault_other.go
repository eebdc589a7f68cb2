//go:build !linux

package prefault

// Bytes is how much of the heap init populates: nothing outside Linux.
const Bytes = 0

// Err is nil: there is nothing to do.
var Err error
