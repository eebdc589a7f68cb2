package prefault

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
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
	if heapErr != nil && !errors.Is(heapErr, syscall.EINVAL) {
		t.Errorf("init: %v", heapErr)
	}
	const mib = 1 << 20
	m, err := syscall.Mmap(-1, 0, 3*mib, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	// Small pages whatever the host's transparent huge page setting: with
	// THP "always" the first write would fault in 2 MiB at once.
	if err := syscall.Madvise(m, syscall.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
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

// TestCodeMappings: only the r-x mappings of the executable's inode, parsed
// from maps lines as Linux prints them; a truncated last line is ignored.
func TestCodeMappings(t *testing.T) {
	maps := "00400000-00a2a000 r-xp 00000000 fe:00 1234                               /usr/bin/acmectl\n" +
		"00a2a000-01061000 r--p 0062a000 fe:00 1234                               /usr/bin/acmectl\n" +
		"01061000-03229000 rw-p 00c61000 fe:00 1234                               /usr/bin/acmectl\n" +
		"03229000-0524e000 rw-p 00000000 00:00 0 \n" +
		"7f0000000000-7f0000021000 r-xp 00000000 fe:00 99 /lib/other\n" +
		"7f1000000000-7f1000001000 r-xp 00000000 fe:00 12345 /usr/bin/acmectl-prefix\n" +
		"7f2000000000-7f2000001000 r-xp 00000000 fe:00 1234"
	var got [][2]uintptr
	codeMappings([]byte(maps), 1234, func(s, e uintptr) { got = append(got, [2]uintptr{s, e}) })
	if want := [][2]uintptr{{0x400000, 0xa2a000}}; !slices.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

// TestImageOwnCode: the running test binary's code is found, and after
// init every page of it is mapped (smaps' Rss, the pages with page-table
// entries, equals its Size; mincore would only tell the page cache).
func TestImageOwnCode(t *testing.T) {
	if codeErr != nil {
		t.Errorf("init: %v", codeErr)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	pc := reflect.ValueOf(TestImageOwnCode).Pointer()
	found := false
	codeMappings(maps, st.Ino, func(s, e uintptr) {
		if s > pc || pc >= e {
			return
		}
		found = true
		head := fmt.Sprintf("%08x-%08x ", s, e)
		i := strings.Index(string(smaps), head)
		if i < 0 {
			t.Fatalf("%s not in smaps", head)
		}
		var size, rss int
		for _, line := range strings.Split(string(smaps[i:]), "\n")[1:] {
			fmt.Sscanf(line, "Size: %d kB", &size)
			fmt.Sscanf(line, "Rss: %d kB", &rss)
			if rss != 0 {
				break
			}
		}
		if size == 0 || rss != size {
			t.Errorf("code mapping %s: %d of %d KiB mapped after init", head, rss, size)
		}
	})
	if !found {
		t.Errorf("no code mapping holds this function (%#x):\n%s", pc, maps)
	}
}
