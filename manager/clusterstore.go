package manager

import (
	"context"
	"fmt"

	"github.com/acmectl/acmectl/storage"
)

// The parts of the cluster's plumbing every build has: a build without the
// cluster (-tags nocluster, the front of `make build`'s binary, which runs
// the cluster's own build for --store) still locks lineages the same way.

// clusterMode: this manager works on a cluster's lineages (and is not the
// one already doing so over the cluster's Storage).
func (m *Manager) clusterMode() bool {
	return m.shared == nil && (m.Cluster != nil || m.Config.Store != "")
}

// tree is the node's certbot tree (the cluster's replica).
func (m *Manager) tree() (*storage.Tree, error) {
	t, ok := m.Store.(*storage.Tree)
	if !ok {
		return nil, fmt.Errorf("a cluster needs the node's certbot tree as the store (have %T)", m.Store)
	}
	return t, nil
}

// lockLineage holds the lineage's lock. The context returned is ctx, also
// cancelled when the lock is lost (a cluster node whose lease expired):
// the lineage's work runs under it.
func (m *Manager) lockLineage(ctx context.Context, name string) (context.Context, func(), error) {
	if l, ok := m.Store.(interface {
		LockLineageContext(context.Context, string) (context.Context, func(), error)
	}); ok {
		return l.LockLineageContext(ctx, name)
	}
	unlock, err := m.Store.LockLineage(ctx, name)
	return ctx, unlock, err
}
