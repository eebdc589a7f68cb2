package storage

import "golang.org/x/sys/unix"

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
	if d.fd < 0 {
		return statKey(d.path + "/" + rel)
	}
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, rel, &st, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileKey{}, false
		}
		break
	}
	return fileKey{Size: st.Size, MtimeNS: st.Mtim.Nano(), Inode: st.Ino}, true
}

func (d *dirHandle) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
	}
}
