package storage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure a Tree. The zero value is usable.
type Options struct {
	// LockTimeout bounds every wait for a lock (default 30 s).
	LockTimeout time.Duration
	// Logger receives Debug/Info records; nil discards.
	Logger *slog.Logger
	// Hostname is meta.json creation_host for new accounts (default os.Hostname).
	Hostname string
	// Now replaces the clock (tests).
	Now func() time.Time
	// NoCache disables the listing metadata cache file.
	NoCache bool
	// KeepVersion, when set, is asked before a version is pruned
	// (Version.KeepVersions) or an incomplete one removed, and keeps every
	// file of the versions it reports true for. The tree itself already
	// keeps the versions live/ links and the in-flight order record need.
	KeepVersion func(lineage string, version int) bool
}

// Tree is certbot's configuration directory (--config-dir). It implements
// Storage. A Tree is safe for concurrent use; do not copy it.
type Tree struct {
	// Dir is the absolute config directory.
	Dir  string
	opts Options

	mu       sync.Mutex
	held     map[string]*heldLock
	ariCache *ariFileCache // the ari-retry file last read (ariRetries)
}

var _ Storage = (*Tree)(nil)

// Open returns the tree rooted at configDir, creating the directory (0755)
// when it does not exist. It takes no lock and reads nothing else.
func Open(configDir string, opts *Options) (*Tree, error) {
	if configDir == "" {
		return nil, fmt.Errorf("open config dir: empty path")
	}
	abs, err := filepath.Abs(configDir)
	if err != nil {
		return nil, fmt.Errorf("open config dir %s: %w", configDir, err)
	}
	if err := mkdirs(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open config dir: %w", err)
	}
	t := &Tree{Dir: abs, held: map[string]*heldLock{}}
	if opts != nil {
		t.opts = *opts
	}
	if t.opts.LockTimeout <= 0 {
		t.opts.LockTimeout = 30 * time.Second
	}
	if t.opts.Logger == nil {
		t.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if t.opts.Now == nil {
		t.opts.Now = time.Now
	}
	return t, nil
}

// LiveDir, ArchiveDir and RenewalConfPath are the paths of one lineage.
func (t *Tree) LiveDir(name string) string    { return t.under("live", name) }
func (t *Tree) ArchiveDir(name string) string { return t.under("archive", name) }
func (t *Tree) RenewalConfPath(name string) string {
	return t.under("renewal", name+".conf")
}

// under is filepath.Join(t.Dir, dir, name) without its Clean for the plain
// names lineages have (a listing of 10,000 lineages builds 50,000 paths).
func under(base, dir, name string) string {
	if !plainUnder(base, name) {
		return filepath.Join(base, dir, name)
	}
	return base + string(filepath.Separator) + dir + string(filepath.Separator) + name
}

// plainUnder reports whether base/dir/name needs no Clean: name is one
// plain path element and base does not end in a separator.
func plainUnder(base, name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsRune(name, filepath.Separator) && !strings.ContainsRune(name, '/') &&
		!strings.HasSuffix(base, string(filepath.Separator))
}

func (t *Tree) under(dir, name string) string { return under(t.Dir, dir, name) }

// AccountsDir is accounts/<server-path>, certbot's directory for server's
// accounts (configuration.server_path: host[:port] + path of the URL).
func (t *Tree) AccountsDir(server string) (string, error) {
	p, err := ServerPath(server)
	if err != nil {
		return "", err
	}
	return filepath.Join(t.Dir, "accounts", p), nil
}

// ServerPath is certbot's server_path: the URL's host[:port] followed by its
// path, e.g. "acme.sectigo.com/v2/OV". Empty, "." and ".." components are
// refused (ErrBadName).
func ServerPath(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("server URL %q: want https://host/path: %w", server, ErrBadName)
	}
	p := u.Host + u.EscapedPath()
	if u.RawPath == "" {
		p = u.Host + u.Path
	}
	p = strings.TrimRight(p, "/")
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		if c == "." || c == ".." || strings.ContainsRune(c, 0) || strings.ContainsRune(c, '\\') {
			return "", fmt.Errorf("server URL %q: path component %q: %w", server, c, ErrBadName)
		}
		parts = append(parts, c)
	}
	return filepath.Join(parts...), nil
}

// LockTree holds <config>/.certbot.lock, the lock certbot holds for its
// whole run, until unlock is called. Write methods take it themselves; hold
// it here to keep certbot out for a whole command.
func (t *Tree) LockTree(ctx context.Context) (unlock func(), err error) {
	return t.acquire(ctx, filepath.Join(t.Dir, ".certbot.lock"), true)
}

// LockDir holds <dir>/.certbot.lock, the lock certbot also takes on its
// --work-dir and --logs-dir, until unlock is called; the file is removed on
// release, as certbot does. Like every lock here it is opened with
// O_NOFOLLOW: a link at that path is refused with ErrLockFileUnsafe.
func (t *Tree) LockDir(ctx context.Context, dir string) (unlock func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return t.acquire(ctx, filepath.Join(abs, ".certbot.lock"), true)
}

// LockLineage holds the lineage's lock (<config>/.acmectl/locks/<name>.lock)
// until unlock is called. Write methods on the same lineage through this
// Tree proceed (the lock is re-entrant per Tree); other Trees and processes
// wait.
func (t *Tree) LockLineage(ctx context.Context, name string) (unlock func(), err error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	return t.acquire(ctx, filepath.Join(t.Dir, ".acmectl", "locks", name+".lock"), false)
}

// lockWrite takes the lineage lock (when name != "") then the tree lock.
func (t *Tree) lockWrite(ctx context.Context, name string) (func(), error) {
	var unl func()
	if name != "" {
		u, err := t.LockLineage(ctx, name)
		if err != nil {
			return nil, err
		}
		unl = u
	}
	ut, err := t.LockTree(ctx)
	if err != nil {
		if unl != nil {
			unl()
		}
		return nil, err
	}
	return func() {
		ut()
		if unl != nil {
			unl()
		}
	}, nil
}
