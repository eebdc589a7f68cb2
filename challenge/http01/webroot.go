package http01

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Webroot answers http-01 by writing <root>/.well-known/acme-challenge/<token>
// (0644) under the webroot of each name, creating the two directories (0755)
// when missing. CleanUp removes the file and the directories it created, and
// nothing else. It does not check that a web server serves the root.
//
// The webroot belongs to someone else (a site's owner may write in it), so
// nothing below the root is touched by path: the directories are opened,
// created and chmod'ed relative to open directory descriptors with
// O_NOFOLLOW, and the token file is written to a new file (O_EXCL) renamed
// over the token's name, so a link or a hard link planted there is replaced,
// never written through, and a token file of an earlier run is re-used. A
// symbolic link on the way (.well-known or acme-challenge) is followed only
// while it stays inside the webroot — its owner could write there anyway —
// and one leading out of it is refused with ErrOutsideWebroot, since root
// would then create and write files where that owner could not.
//
// A Webroot is safe for concurrent use.
type Webroot struct {
	roots map[string]string // lower-case name → absolute root

	mu    sync.Mutex
	files map[string]*presented    // token+"\x00"+domain → file written
	open  map[string]*challengeDir // root → its challenge directory, open while a token is presented
}

// presented is one token file Present wrote.
type presented struct {
	cd    *challengeDir
	token string
}

// challengeDir is a webroot's .well-known/acme-challenge, held open from the
// first Present to the last CleanUp so both act on the directory Present
// checked, whatever is renamed meanwhile.
type challengeDir struct {
	fd    int
	made  []madeDir // directories Present created, outermost first
	users int
}

// madeDir is a directory Present created: its name in the open parent.
type madeDir struct {
	parent int
	name   string
}

// ErrOutsideWebroot: a symbolic link under the webroot leads out of it.
var ErrOutsideWebroot = errors.New("the link leads outside the webroot, acmectl does not follow it")

// NewWebroot returns a Webroot for roots, a map from identifier (DNS name or IP
// address) to webroot directory as built by WebrootArgs.Map. Every root must be
// an existing directory.
func NewWebroot(roots map[string]string) (*Webroot, error) {
	if len(roots) == 0 {
		return nil, errors.New("webroot: no webroot given; use -w PATH before -d NAME, or --webroot-map")
	}
	w := &Webroot{roots: map[string]string{}, files: map[string]*presented{}, open: map[string]*challengeDir{}}
	for name, root := range roots {
		abs, err := checkRoot(root)
		if err != nil {
			return nil, err
		}
		w.roots[strings.ToLower(name)] = abs
	}
	return w, nil
}

func checkRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("webroot %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("webroot %s does not exist or is not a directory: %w", root, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("webroot %s is not a directory", root)
	}
	return abs, nil
}

// Root returns the webroot directory used for identifier, or "" when none is set.
func (w *Webroot) Root(identifier string) string {
	return w.roots[strings.ToLower(identifier)]
}

// Present writes keyAuth to <root>/.well-known/acme-challenge/<token> for domain.
// On error nothing it created is left behind.
func (w *Webroot) Present(ctx context.Context, domain, token, keyAuth string) error {
	if err := CheckToken(token); err != nil {
		return err
	}
	root := w.Root(domain)
	if root == "" {
		return fmt.Errorf("webroot: no webroot for %s; give -w PATH before -d %s, or a --webroot-map entry", domain, domain)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	key := token + "\x00" + domain
	if _, ok := w.files[key]; ok {
		return nil // presented already
	}
	cd := w.open[root]
	if cd == nil {
		var err error
		if cd, err = openChallengeDir(root); err != nil {
			return fmt.Errorf("webroot %s: create challenge directory for %s: %w", root, domain, err)
		}
		w.open[root] = cd
	}
	if err := writeTokenFile(cd.fd, token, keyAuth); err != nil {
		if cd.users == 0 {
			cd.release()
			delete(w.open, root)
		}
		return fmt.Errorf("webroot %s: write challenge file for %s: %s: %w", root, domain, filepath.Join(root, ".well-known", "acme-challenge", token), err)
	}
	cd.users++
	w.files[key] = &presented{cd: cd, token: token}
	return nil
}

// openChallengeDir opens (creating what is missing) root/.well-known/acme-challenge.
func openChallengeDir(root string) (*challengeDir, error) {
	rootFd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFd)
	cd := &challengeDir{fd: -1}
	fd, err := cd.openBeneath(root, rootFd, filepath.Join(".well-known", "acme-challenge"))
	if err != nil {
		cd.release()
		return nil, err
	}
	cd.fd = fd
	return cd, nil
}

const maxLinks = 40 // as the kernel's MAXSYMLINKS

// openBeneath opens the directory rel under rootFd component by component
// with O_NOFOLLOW, creating missing ones (0755, recorded in cd.made). A
// symbolic link is read and resolved by hand against the webroot: absolute
// targets must name a path under root, relative ones must not climb above it;
// the walk then restarts from rootFd, so it never leaves the webroot.
func (cd *challengeDir) openBeneath(root string, rootFd int, rel string) (int, error) {
	rootReal, err := filepath.EvalSymlinks(root)
	if err != nil {
		rootReal = root
	}
	comps := splitRel(rel)
	cur, err := unix.Dup(rootFd)
	if err != nil {
		return -1, err
	}
	var walked []string // components of cur under root, none a link
	links, races := 0, 0
	for i := 0; i < len(comps); i++ {
		c := comps[i]
		p := filepath.Join(append([]string{root}, append(walked, c)...)...)
		fd, err := unix.Openat(cur, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			fd, err = cd.mkdirAt(cur, c, p)
			if errors.Is(err, unix.EEXIST) && races < 10 { // made meanwhile by someone else: look again
				races++
				i--
				continue
			}
			if errors.Is(err, unix.ENOENT) && races < 10 {
				// The parent was removed meanwhile (another run's cleanup of an
				// empty .well-known): walk again from the webroot.
				races++
				unix.Close(cur)
				if cur, err = unix.Dup(rootFd); err != nil {
					return -1, err
				}
				walked, i = nil, -1
				continue
			}
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			var st unix.Stat_t
			if serr := unix.Fstatat(cur, c, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				if links++; links > maxLinks {
					unix.Close(cur)
					return -1, fmt.Errorf("%s: too many levels of symbolic links", p)
				}
				next, lerr := linkBeneath(root, rootReal, cur, c, p, walked)
				if lerr != nil {
					unix.Close(cur)
					return -1, lerr
				}
				comps = append(splitRel(next), comps[i+1:]...)
				unix.Close(cur)
				if cur, err = unix.Dup(rootFd); err != nil {
					return -1, err
				}
				walked, i = nil, -1
				continue
			} else if serr == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				unix.Close(cur)
				return -1, fmt.Errorf("%s exists and is not a directory", p)
			}
		}
		if err != nil {
			unix.Close(cur)
			return -1, &fs.PathError{Op: "open", Path: p, Err: err}
		}
		unix.Close(cur)
		cur, walked = fd, append(walked, c)
	}
	return cur, nil
}

// mkdirAt creates name in the open directory parent (0755 whatever the umask,
// as certbot does) and opens it without following a link, so a link swapped
// in after the mkdir is refused rather than chmod'ed through.
func (cd *challengeDir) mkdirAt(parent int, name, p string) (int, error) {
	testHookBeforeMkdir(p)
	if err := unix.Mkdirat(parent, name, 0o755); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return -1, err
		}
		return -1, &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	keep, err := unix.Dup(parent)
	if err != nil {
		_ = unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
		return -1, err
	}
	cd.made = append(cd.made, madeDir{parent: keep, name: name})
	testHookAfterMkdir(p)
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("%s changed while it was being created: %w", p, &fs.PathError{Op: "open", Path: p, Err: err})
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && int(st.Uid) == os.Geteuid() {
		if err := unix.Fchmod(fd, 0o755); err != nil {
			unix.Close(fd)
			return -1, &fs.PathError{Op: "chmod", Path: p, Err: err}
		}
	}
	return fd, nil
}

// testHookAfterMkdir runs between creating a challenge directory and opening
// it (tests swap it for a link there).
var testHookAfterMkdir = func(string) {}

// testHookBeforeMkdir runs just before a challenge directory is created
// (tests remove its parent there, as a concurrent run's cleanup does).
var testHookBeforeMkdir = func(string) {}

// linkBeneath reads the link name in dir (at path p, reached through walked
// under root) and returns the path under root it leads to, or
// ErrOutsideWebroot.
func linkBeneath(root, rootReal string, dir int, name, p string, walked []string) (string, error) {
	target, err := readlinkat(dir, name)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: p, Err: err}
	}
	outside := func() error {
		return fmt.Errorf("%s is a symbolic link to %s: %w; make it a directory, or give the directory it points to as the webroot (-w)",
			p, target, ErrOutsideWebroot)
	}
	if filepath.IsAbs(target) {
		t := filepath.Clean(target)
		for _, base := range []string{root, rootReal} {
			if rel, err := filepath.Rel(base, t); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				return rel, nil
			}
		}
		return "", outside()
	}
	next := filepath.Join(append(append([]string{}, walked...), target)...)
	if next == ".." || strings.HasPrefix(next, "../") {
		return "", outside()
	}
	return next, nil
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		b := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, b)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(b[:n]), nil
		}
		if size > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// splitRel splits a clean relative path into its components ("." is none).
func splitRel(rel string) []string {
	rel = filepath.Clean(rel)
	if rel == "." {
		return nil
	}
	return strings.Split(rel, string(filepath.Separator))
}

// writeTokenFile writes data to a new file (O_EXCL|O_NOFOLLOW, 0644) in dir
// and renames it over token: whatever was at the token's name (a file of an
// earlier run, a link, a hard link) is replaced, never written through.
func writeTokenFile(dir int, token, data string) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := ".acmectl-" + token + "-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	err = f.Chmod(0o644) // the umask must not decide what the web server may read
	if err == nil {
		_, err = f.WriteString(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dir, tmp, dir, token)
	}
	if err != nil {
		_ = unix.Unlinkat(dir, tmp, 0)
	}
	return err
}

// release closes the directory and removes the directories Present made,
// innermost first, when empty (files someone else put there stay, as
// certbot leaves them).
func (cd *challengeDir) release() {
	if cd.fd >= 0 {
		unix.Close(cd.fd)
		cd.fd = -1
	}
	for i := len(cd.made) - 1; i >= 0; i-- {
		m := cd.made[i]
		_ = unix.Unlinkat(m.parent, m.name, unix.AT_REMOVEDIR)
		unix.Close(m.parent)
	}
	cd.made = nil
}

// CleanUp removes the file Present wrote and then, once no other token of the
// same webroot is presented, every directory Present created there (if empty).
// Cleaning up something that was not presented returns nil.
func (w *Webroot) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := token + "\x00" + domain
	pf, ok := w.files[key]
	if !ok {
		return nil
	}
	delete(w.files, key)
	var err error
	if uerr := unix.Unlinkat(pf.cd.fd, pf.token, 0); uerr != nil && !errors.Is(uerr, unix.ENOENT) {
		err = fmt.Errorf("webroot %s: remove %s: %w", w.Root(domain), filepath.Join(w.Root(domain), ".well-known", "acme-challenge", token), uerr)
	}
	if pf.cd.users--; pf.cd.users <= 0 {
		pf.cd.release()
		for r, cd := range w.open {
			if cd == pf.cd {
				delete(w.open, r)
			}
		}
	}
	return err
}
