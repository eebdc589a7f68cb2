package embedbin

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Memfd unpacks gz into a sealed memfd and returns the path that
// executes it (/proc/self/fd/N; the descriptor stays open for the life of the
// process, and close-on-exec keeps it out of children).
func Memfd(gz []byte, name string) (string, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err != nil {
		// Kernels before 6.3 know no MFD_EXEC (and make every memfd executable).
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return "", fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := Unpack(f, gz); err != nil {
		f.Close()
		return "", err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return "", fmt.Errorf("seal the %s memfd: %w", name, err)
	}
	path := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := os.Stat(path); err != nil {
		f.Close()
		return "", err
	}
	// f is kept open (and reachable) for the life of the process; an exec
	// of the path works although the descriptor is close-on-exec (the kernel
	// opens the path before it closes the descriptors).
	memfds = append(memfds, f)
	return path, nil
}

// memfds keeps the memfds open: a collected *os.File would close them.
var memfds []*os.File
