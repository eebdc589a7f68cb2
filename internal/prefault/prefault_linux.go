package prefault

import (
	"syscall"
	"unsafe"
)

// Bytes is how much of the heap init populates.
const Bytes = 1 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14; not in package syscall).
const madvPopulateWrite = 23

// Err is what the kernel answered at init (nil: populated).
var Err error

// anchor is where the range starts: a fresh 8 KiB object on the heap (a
// package variable, so not on the stack) has a span of its size class to
// itself, taken from the page allocator's next free pages, which is where
// the heap grows from. Dropped once used.
var anchor *[8192]byte

func init() {
	anchor = new([8192]byte)
	start := uintptr(unsafe.Pointer(anchor)) &^ 4095
	anchor = nil
	// The runtime maps the heap 4 MiB at a time (the rest of its arena is
	// reserved, PROT_NONE): a range reaching past the mapped part is refused
	// (EINVAL), so it is halved until it fits.
	for n := uintptr(Bytes); n >= 64<<10; n /= 2 {
		if Err = populate(start, n); Err != syscall.EINVAL {
			return
		}
	}
}

// populate maps n bytes from start (page-aligned) as if each page had been
// written, without changing their contents.
func populate(start, n uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, start, n, madvPopulateWrite); e != 0 {
		return e
	}
	return nil
}
