package storage

import (
	"errors"
	"os"
	"syscall"
)

// openFile is os.OpenFile for the tree's small regular files, without the
// runtime's poller: os.OpenFile makes each file it opens non-blocking and
// offers it to epoll, which refuses a regular file, and makes it blocking
// again (four system calls more per file; a listing over a fresh tree opens
// thousands). os.NewFile asks the
// descriptor's flags once. perm takes only the permission bits.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
