package manager

import (
	"context"
	"log/slog"

	"github.com/acmectl/acmectl/storage"
)

// otherWritableLister is a Store on disk that can tell which of its
// directories other users may write (storage.Tree).
type otherWritableLister interface {
	OtherWritableDirs() ([]storage.WritableDir, error)
}

var _ otherWritableLister = (*storage.Tree)(nil)

// warnOtherWritable warns, once per directory, about every directory of the
// tree (or above it) that users other than its owner may write: any local
// user could plant links or swap keys, confs and hooks there for the root
// process that renews. Each warning is one line with its fix (chmod o-w).
// certonly and renew call it first; doctor reports the same list.
func (m *Manager) warnOtherWritable(ctx context.Context) {
	l, ok := m.Store.(otherWritableLister)
	if !ok {
		return
	}
	dirs, err := l.OtherWritableDirs()
	if err != nil {
		m.log().LogAttrs(ctx, slog.LevelWarn, "could not check the tree's permissions", slog.String("error", err.Error()))
		return
	}
	for _, d := range dirs {
		m.warnWritable(ctx, d)
	}
}

func (m *Manager) warnWritable(ctx context.Context, d storage.WritableDir) {
	m.log().LogAttrs(ctx, slog.LevelWarn, "directory writable by other users", slog.String("path", d.Path), slog.String("fix", d.Fix))
	m.emit(Event{Kind: EventWarning, Reason: d.String()})
}

// writableWalker is a Store on disk whose listing can report the lineage
// directories other users may write (storage.Tree): a run that lists every
// lineage anyway checks the rest of the tree first and takes those from the
// listing's own stats, instead of a second stat of each directory.
type writableWalker interface {
	OtherWritableTopDirs() ([]storage.WritableDir, error)
	WalkLineagesWritable(ctx context.Context, only []string, skip map[string]bool, fn func(*storage.LineageInfo) error, writable func(storage.WritableDir)) error
}

var _ writableWalker = (*storage.Tree)(nil)

// warnOtherWritableTop is warnOtherWritable for renew, whose listing
// (listing) reports the directories in archive/ and live/: it warns about
// the others now and returns what the listing calls for those; nil when
// the store cannot (warnOtherWritable then checked everything here) or the
// tree's permissions could not be checked.
func (m *Manager) warnOtherWritableTop(ctx context.Context) func(storage.WritableDir) {
	w, ok := m.Store.(writableWalker)
	if !ok {
		m.warnOtherWritable(ctx)
		return nil
	}
	dirs, err := w.OtherWritableTopDirs()
	if err != nil {
		m.log().LogAttrs(ctx, slog.LevelWarn, "could not check the tree's permissions", slog.String("error", err.Error()))
		return nil
	}
	for _, d := range dirs {
		m.warnWritable(ctx, d)
	}
	return func(d storage.WritableDir) { m.warnWritable(ctx, d) }
}

// listing is the walk of a renew run: the store's WalkLineages, without the
// lineages in skip (a cluster's), reporting the lineage directories others
// may write when warnOtherWritableTop left them to it.
func (r *renewRun) listing(skip map[string]bool) func(context.Context, []string, func(*storage.LineageInfo) error) error {
	if w, ok := r.m.Store.(writableWalker); ok && r.writable != nil {
		return func(ctx context.Context, only []string, fn func(*storage.LineageInfo) error) error {
			return w.WalkLineagesWritable(ctx, only, skip, fn, r.writable)
		}
	}
	if ex, ok := r.m.Store.(interface {
		WalkLineagesExcept(context.Context, []string, map[string]bool, func(*storage.LineageInfo) error) error
	}); ok && len(skip) > 0 {
		return func(ctx context.Context, only []string, fn func(*storage.LineageInfo) error) error {
			return ex.WalkLineagesExcept(ctx, only, skip, fn)
		}
	}
	return r.m.Store.WalkLineages
}

// warnWritableUnlisted warns about the lineage directories others may write
// that warnOtherWritableTop left to a listing that will not run.
func (r *renewRun) warnWritableUnlisted(ctx context.Context) {
	if r.writable != nil {
		// lists none of the lineages: every directory is checked apart
		_ = r.listing(nil)(ctx, []string{}, func(*storage.LineageInfo) error { return nil })
	}
}
