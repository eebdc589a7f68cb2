//go:build unix && !linux

package storage

import "golang.org/x/sys/unix"

// Without OFD locks, POSIX record locks exclude other processes only; the
// Tree's re-entry map covers the Tree itself.
const (
	lockSetCmd = unix.F_SETLK
	lockGetCmd = unix.F_GETLK
)
