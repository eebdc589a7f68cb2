package http01

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Webroot answers http-01 by writing <root>/.well-known/acme-challenge/<token>
// (0644) under the webroot of each name, creating the two directories (0755)
// when missing. CleanUp removes the file and the directories it created, and
// nothing else. It does not check that a web server serves the root.
//
// A Webroot is safe for concurrent use.
type Webroot struct {
	roots map[string]string // lower-case name → absolute root

	mu      sync.Mutex
	files   map[string]string // token+"\x00"+domain → file written
	dirs    map[string]int    // created directory → live files below it
	created []string          // directories this Webroot created, in creation order
}

// NewWebroot returns a Webroot for roots, a map from identifier (DNS name or IP
// address) to webroot directory as built by WebrootArgs.Map. Every root must be
// an existing directory.
func NewWebroot(roots map[string]string) (*Webroot, error) {
	if len(roots) == 0 {
		return nil, errors.New("webroot: no webroot given; use -w PATH before -d NAME, or --webroot-map")
	}
	w := &Webroot{roots: map[string]string{}, files: map[string]string{}, dirs: map[string]int{}}
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
	dir := filepath.Join(root, ".well-known", "acme-challenge")
	file := filepath.Join(dir, token)

	w.mu.Lock()
	defer w.mu.Unlock()
	key := token + "\x00" + domain
	if _, ok := w.files[key]; ok {
		return nil // presented already
	}
	var made []string
	for _, d := range []string{filepath.Join(root, ".well-known"), dir} {
		err := os.Mkdir(d, 0o755)
		if errors.Is(err, fs.ErrExist) {
			if fi, statErr := os.Stat(d); statErr == nil && fi.IsDir() {
				continue
			}
			err = fmt.Errorf("%s exists and is not a directory", d)
		}
		if err != nil {
			w.undoDirsLocked(made)
			return fmt.Errorf("webroot %s: create challenge directory for %s: %w", root, domain, err)
		}
		// Mkdir's mode is masked by the umask; certbot makes these 0755 regardless.
		if err := os.Chmod(d, 0o755); err != nil {
			made = append(made, d)
			w.undoDirsLocked(made)
			return fmt.Errorf("webroot %s: chmod %s: %w", root, d, err)
		}
		made = append(made, d)
	}
	if err := writeFile(file, keyAuth); err != nil {
		w.undoDirsLocked(made)
		return fmt.Errorf("webroot %s: write challenge file for %s: %w", root, domain, err)
	}
	w.created = append(w.created, made...)
	w.files[key] = file
	for _, d := range []string{filepath.Join(root, ".well-known"), dir} {
		w.dirs[d]++
	}
	return nil
}

func writeFile(name, data string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// undoDirsLocked removes directories made by a failed Present, deepest first.
func (w *Webroot) undoDirsLocked(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		_ = os.Remove(made[i])
	}
}

// CleanUp removes the file Present wrote and then every directory this Webroot
// created that no other presented token still uses (and that is empty). Cleaning
// up something that was not presented returns nil.
func (w *Webroot) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := token + "\x00" + domain
	file, ok := w.files[key]
	if !ok {
		return nil
	}
	delete(w.files, key)
	var errs []error
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("webroot: remove %s: %w", file, err))
	}
	dir := filepath.Dir(file)
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if w.dirs[d]--; w.dirs[d] <= 0 {
			delete(w.dirs, d)
		}
	}
	kept := w.created[:0]
	for i := len(w.created) - 1; i >= 0; i-- {
		d := w.created[i]
		if w.dirs[d] > 0 {
			continue
		}
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Not empty: someone else put files there; leave it as certbot does.
			continue
		}
		w.created[i] = ""
	}
	for _, d := range w.created {
		if d != "" {
			kept = append(kept, d)
		}
	}
	w.created = kept
	return errors.Join(errs...)
}
