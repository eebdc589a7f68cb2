//go:build nocluster

package manager

import (
	"context"
	"errors"
	"io"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/argparse"
	"github.com/acmectl/acmectl/storage"
)

// A build with -tags nocluster leaves the etcd client out (its package
// initialisation was a third of acmectl's start-up): `make build`'s acmectl
// is such a build and runs the cluster's own build (embedded in it) for any
// command with --store or the cluster verbs, before the engine sees them.
// The engine of this build refuses a store it cannot open.

// ClusterLinked says this build has the cluster linked in (it has not).
const ClusterLinked = false

// ErrNoCluster: this build cannot open a cluster store.
var ErrNoCluster = errors.New("this build of acmectl has no cluster support (built with -tags nocluster): use a build without that tag for --store")

// ClusterStore stands for the cluster store in a build without one.
type ClusterStore struct{}

type clusterStorage struct{}

func heldElsewhere(error) bool { return false }

// checkStore leaves --store to the cluster's build, which the front-end
// hands such a command to before the engine runs.
func checkStore(*Config) error { return nil }

func (r *renewRun) renewCluster(context.Context, []string, *outcomeList) (map[string]bool, error) {
	if r.m.clusterMode() {
		return nil, ErrNoCluster
	}
	return nil, nil
}

func (m *Manager) certonlyCluster(context.Context) (*CertonlyResult, error) { return nil, ErrNoCluster }

func (m *Manager) registerCluster(context.Context) (*storage.Account, error) {
	return nil, ErrNoCluster
}

func (m *Manager) sharedAccount(_ context.Context, cl *acme.Client, sa *storage.Account) (*acme.Client, *storage.Account, error) {
	return cl, sa, nil
}

func (m *Manager) sharedStandalone(*Config) func(context.Context) (map[string]acme.Solver, func(), error) {
	return func(context.Context) (map[string]acme.Solver, func(), error) { return nil, nil, ErrNoCluster }
}

func heldBy(err error) string { return err.Error() }

func lostLease(_ context.Context, err error) error { return err }

// ClusterArgs: the cluster verbs are the cluster build's.
func ClusterArgs(_ *argparse.Parser, args []string) (verb string, cmdline []string) { return "", args }

// ClusterCommand: the cluster verbs are the cluster build's.
func (m *Manager) ClusterCommand(context.Context, string, io.Writer, io.Writer) error {
	return ErrNoCluster
}
