package storage

import "golang.org/x/sys/unix"

// Open file description locks conflict with certbot's lockf (POSIX record
// locks) and, unlike them, also between two descriptors of one process.
const (
	lockSetCmd = unix.F_OFD_SETLK
	lockGetCmd = unix.F_OFD_GETLK
)
