package storage

import "golang.org/x/sys/unix"

// renameExchange atomically swaps two directory entries (renameat2 with
// RENAME_EXCHANGE, Linux 3.15+). File systems without it answer EINVAL.
func renameExchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
