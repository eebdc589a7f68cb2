// Package prefault makes the memory a start of acmectl touches first cost
// one system call instead of a page fault per page: imported (blank) by
// cmd/acmectl, its init asks Linux (5.14 and later) to populate the next
// MiB of the Go heap, where the other packages' initialisation and the
// command-line parsing allocate next, with madvise(MADV_POPULATE_WRITE).
//
// Why: most of a short acmectl run — --version, a renew with nothing due —
// is process start-up, and most of start-up is first touches of memory.
// On the virtual machines acmectl runs on a page fault can be a trap to the
// hypervisor: on the 2-core build machine a Go program that touches 1 MiB of
// fresh heap starts 3.4 ms later than one that does not (hello-world 4.6 ms,
// with the MiB 8.0 ms, with the MiB populated in one call 6.7 ms), and
// acmectl --version took 1.7 ms less with this package (16.7 → 15.1 ms,
// medians of 80 interleaved runs). Where faults are cheap it costs what
// the faults would have: the pages are zeroed either way.
//
// How it stays harmless: populating changes no byte of memory, only the page
// tables; the range starts at a fresh allocation of this package, where the
// Go runtime's page allocator hands out the next pages, and is bounded (1 MiB,
// which a start uses: --version allocates about 0.6 MiB before it exits, a
// renew much more). Pages past the heap's mapped part make the call fail
// there, which is ignored, as are kernels without the advice (EINVAL) and
// other systems (no-op). It has no imports but syscall and unsafe, so by
// the Go initialisation order (the first package, by import path, whose
// imports are initialised) it runs before the heavy package initialisers:
// GODEBUG=inittrace=1 acmectl --version shows it among the first twenty.
package prefault
