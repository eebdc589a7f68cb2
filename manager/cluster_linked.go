//go:build !nocluster

package manager

import (
	"errors"

	"github.com/acmectl/acmectl/cluster"
)

// ClusterLinked says this build has the cluster (the etcd client) linked
// in; a -tags nocluster build (cluster_none.go) hands --store to the
// cluster's own build instead (cmd/acmectl).
const ClusterLinked = true

// ClusterStore is the cluster store Manager.Cluster holds.
type ClusterStore = cluster.Store

type clusterStorage = cluster.Storage

// heldElsewhere: another node holds the lineage or renewed it during this
// run; the lineage is skipped, not failed.
func heldElsewhere(err error) bool {
	return errors.Is(err, cluster.ErrHeld) || errors.Is(err, cluster.ErrRenewedMeanwhile)
}
