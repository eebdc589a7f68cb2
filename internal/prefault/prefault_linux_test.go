package prefault

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"
)

// resident counts the pages of [start, start+n) that are in memory (mincore).
func resident(t *testing.T, start, n uintptr) int {
	t.Helper()
	vec := make([]byte, n/4096)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, start, n, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	c := 0
	for _, v := range vec {
		c += int(v & 1)
	}
	return c
}

// TestPopulate: after populate, every page of the range is in memory and
// none past it, with the contents unchanged (in an anonymous mapping of its
// own, as the Go heap's arenas are, so that no page was in memory before);
// and the init's call on the heap succeeded (or the kernel predates the
// advice).
func TestPopulate(t *testing.T) {
	if Err != nil && !errors.Is(Err, syscall.EINVAL) {
		t.Errorf("init: %v", Err)
	}
	const mib = 1 << 20
	m, err := syscall.Mmap(-1, 0, 3*mib, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	base := uintptr(unsafe.Pointer(&m[0]))
	m[mib+5] = 7 // one page of the range already written
	if got := resident(t, base, 3*mib); got != 1 {
		t.Fatalf("%d pages in memory before populate, want the one written", got)
	}
	if err := populate(base+mib, mib, madvPopulateWrite); err != nil {
		t.Fatalf("populate: %v (MADV_POPULATE_WRITE needs Linux 5.14)", err)
	}
	if got, want := resident(t, base+mib, mib), mib/4096; got != want {
		t.Errorf("%d of %d pages in memory after populate", got, want)
	}
	if got := resident(t, base, mib) + resident(t, base+2*mib, mib); got != 0 {
		t.Errorf("%d pages outside the range in memory", got)
	}
	if m[mib+5] != 7 || m[mib+6] != 0 || m[mib+4096] != 0 {
		t.Errorf("contents changed: %d %d %d", m[mib+5], m[mib+6], m[mib+4096])
	}
}
