package storage

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// dirHandle stats paths relative to a directory opened once, so a listing
// does not make the kernel walk <config>/renewal/... for every lineage.
type dirHandle struct {
	fd   int
	path string
}

func openDirHandle(path string) *dirHandle {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &dirHandle{fd: -1, path: path}
	}
	return &dirHandle{fd: fd, path: path}
}

// key stats rel (following symlinks, as os.Stat does).
func (d *dirHandle) key(rel string) (fileKey, bool) {
	k, _, ok := d.keyDir(rel)
	return k, ok
}

// keyDir is key that also tells whether rel (followed) is a directory that
// users other than its owner may write: a candidate for a WritableDir.
func (d *dirHandle) keyDir(rel string) (k fileKey, otherWritable, ok bool) {
	if d.fd < 0 {
		return statKeyDir(d.path + "/" + rel)
	}
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, rel, &st, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileKey{}, false, false
		}
		break
	}
	ow := st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&0o002 != 0
	return fileKey{Size: st.Size, MtimeNS: st.Mtim.Nano(), Inode: st.Ino}, ow, true
}

// otherWritableSubdirs calls fn with the name of each directory in dir that
// users other than its owner may write (o+w; by an lstat relative to dir: a
// link is none), but for the names skip takes. It reads the entries with
// getdents and stats only those that are directories or of a type the file
// system does not say, and that skip leaves (skip must not keep name).
func otherWritableSubdirs(dir string, skip func(name []byte) bool, fn func(name string)) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 19 || off+reclen > n {
				return
			}
			typ, name := buf[off+18], buf[off+19:off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if (typ != unix.DT_DIR && typ != unix.DT_UNKNOWN) || string(name) == "." || string(name) == ".." || skip(name) {
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
				st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&0o002 != 0 {
				fn(string(name))
			}
		}
	}
}

func (d *dirHandle) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
	}
}
