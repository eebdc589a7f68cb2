// Package prefault makes the memory a start of acmectl touches first cost a
// few system calls instead of a page fault per page. Imported (blank) by
// cmd/acmectl, its init asks Linux (5.14 and later) to populate
//
//   - the next MiB of the Go heap, where the other packages' initialisation
//     and the command-line parsing allocate next (MADV_POPULATE_WRITE), and
//   - the executable's code segment (MADV_POPULATE_READ; found in
//     /proc/self/maps by the inode of /proc/self/exe), most of which a start
//     runs anyway, one 64-KiB fault-around window per fault.
//
// Why: most of a short acmectl run — --version, a renew with nothing due —
// is process start-up, and most of start-up is first touches of memory.
// On the virtual machines acmectl runs on a page fault can be a trap to the
// hypervisor: on the 2-core build machine a Go program that touches 1 MiB of
// fresh heap starts 3.4 ms later than one that does not (hello-world 4.6 ms,
// with the MiB 8.0 ms, with the MiB populated in one call 6.7 ms). acmectl
// --version: 534 → 348 page faults and about 2 ms less with the heap part,
// 348 → about 300 faults and 0.5–1 ms less with the code (medians of 80–120
// interleaved runs; README, Performance). Where faults are cheap it
// costs about what the faults would have: the heap pages are zeroed either
// way, and the code pages are mostly mapped by the faults' fault-around.
// Peak RSS shows about 1 MiB more: code pages of the executable, shared with
// the page cache, not memory the run allocates.
//
// How it stays harmless: populating changes no byte of memory, only the page
// tables. The heap range starts at a fresh allocation of this package, where
// the Go runtime's page allocator hands out the next pages; a range reaching
// past the heap's mapped part is refused (EINVAL) and halved until it fits.
// Kernels without the advice answer EINVAL, other systems have nothing to
// do; either way start-up goes on as before. The package imports only
// syscall and unsafe, so by the Go initialisation order (the first package,
// by import path, whose imports are initialised) it runs before the heavy
// package initialisers: GODEBUG=inittrace=1 acmectl --version shows it
// among the first twenty.
package prefault
