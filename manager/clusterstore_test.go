package manager

import (
	"testing"

	"github.com/acmectl/acmectl/cluster"
)

// TestClusterEnvNames: the engine's names for the cluster's environment
// (spelt out so a build without the cluster has them) are the cluster's.
func TestClusterEnvNames(t *testing.T) {
	for _, c := range [][2]string{
		{EnvEtcdUser, cluster.EnvUser},
		{EnvEtcdPassword, cluster.EnvPassword},
		{EnvEtcdPasswordFile, cluster.EnvPasswordFile},
		{EnvClusterKeyFile, cluster.EnvKeyFile},
	} {
		if c[0] != c[1] {
			t.Errorf("manager says %s, cluster reads %s", c[0], c[1])
		}
	}
}
