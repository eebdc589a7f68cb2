package prefault

import (
	"syscall"
	"unsafe"
)

// heapBytes is how much of the heap init populates.
const heapBytes = 1 << 20

// madvise advice not in package syscall (Linux 5.14).
const (
	madvPopulateRead  = 22
	madvPopulateWrite = 23
)

// heapErr is what the kernel answered for the heap at init (nil:
// populated); codeErr for the executable's code.
var heapErr, codeErr error

// anchor is where the heap range starts: a fresh 8 KiB object on the heap
// (a package variable, so not on the stack) has a span of its size class to
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
	for n := uintptr(heapBytes); n >= 64<<10; n /= 2 {
		if heapErr = populate(start, n, madvPopulateWrite); heapErr != syscall.EINVAL {
			break
		}
	}
	codeErr = image() // after the heap, so that what it allocates is in populated pages
}

// image maps the executable's code into the page tables at once: start-up
// runs code in most of its 64-KiB windows anyway (74 of 99), a window per
// fault. Its read-only data is left alone (populating it too measured no
// faster, and showed as 3.8 MiB more RSS: the function tables, which a
// start reads a third of), as is the writable segment (writing would copy
// pages no one needs: the embedded plugins live there).
func image() error {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		return err
	}
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 16<<10)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	syscall.Close(fd)
	var first error
	codeMappings(buf[:n], st.Ino, func(start, end uintptr) {
		if e := populate(start, end-start, madvPopulateRead); e != nil && first == nil {
			first = e
		}
	})
	return first
}

// codeMappings calls f with the [start, end) of each read-only executable
// mapping (r-x) of the file with inode ino in a /proc/self/maps text
// ("start-end perms offset dev inode path" per line); a truncated last line
// is ignored.
func codeMappings(maps []byte, ino uint64, f func(start, end uintptr)) {
	for len(maps) > 0 {
		i := 0
		for i < len(maps) && maps[i] != '\n' {
			i++
		}
		if i == len(maps) {
			return // no newline: truncated
		}
		line := maps[:i]
		maps = maps[i+1:]
		var fl [5][]byte
		for k := range fl {
			fl[k], line = field(line)
		}
		perms, inode := fl[1], fl[4]
		if len(perms) != 4 || perms[0] != 'r' || perms[1] != '-' || perms[2] != 'x' {
			continue
		}
		if v, ok := number(inode, 10); !ok || v != ino {
			continue
		}
		dash := 0
		for dash < len(fl[0]) && fl[0][dash] != '-' {
			dash++
		}
		start, ok1 := number(fl[0][:dash], 16)
		end, ok2 := number(fl[0][min(dash+1, len(fl[0])):], 16)
		if ok1 && ok2 && end > start {
			f(uintptr(start), uintptr(end))
		}
	}
}

// field returns the first space-separated word of line and the rest.
func field(line []byte) (word, rest []byte) {
	for len(line) > 0 && line[0] == ' ' {
		line = line[1:]
	}
	j := 0
	for j < len(line) && line[j] != ' ' {
		j++
	}
	return line[:j], line[j:]
}

// number parses a non-empty unsigned number in base 10 or 16. Not strconv:
// importing it (or strings, bytes) lets some 45 more packages initialise
// before this one (inittrace: 15th of 113 without, 60th with), the heavy
// ones among them.
func number(b []byte, base uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		v = v*base + d
	}
	return v, true
}

// populate maps n bytes from start (page-aligned) into the page tables, as
// reading (or writing) each page would, without changing their contents.
func populate(start, n uintptr, advice int) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, start, n, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}
