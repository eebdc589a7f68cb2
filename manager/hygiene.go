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
		m.log().LogAttrs(ctx, slog.LevelWarn, "directory writable by other users", slog.String("path", d.Path), slog.String("fix", d.Fix))
		m.emit(Event{Kind: EventWarning, Reason: d.String()})
	}
}
