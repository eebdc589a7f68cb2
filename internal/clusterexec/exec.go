//go:build nocluster

// Package clusterexec hands a command that needs the cluster (--store, the
// cluster verbs) to the cluster's build of acmectl when this build has none.
//
// `make build` builds acmectl with -tags nocluster: the etcd client (gRPC,
// protobuf descriptors) stays out of it, its package initialisation having
// been a third of every start. The cluster's build of the same program
// (-tags dnshost) is carried gzipped, unpacked once into the cache
// directory (embedbin.CacheDir: /var/cache/acmectl for root) and executed
// in place of this process with the same arguments and environment; it
// uses this binary's DNS plugin ($ACMECTL_DNS_HOST).
package clusterexec

import (
	_ "embed"
	"os"
	"strings"

	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/internal/embedbin"
)

// clusterGz is `make build`'s cluster build of acmectl, gzipped; the file is
// not in the repository (make build hands it to go build with -overlay).
//
//go:embed acmectl-cluster.gz
var clusterGz []byte

// sum is the SHA-256 of clusterGz (-ldflags -X, make build).
var sum string

// HandOver replaces this process with the cluster's build, run with this
// process's arguments; it returns only on failure.
func HandOver() error {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, dns01.EnvDNSHost+"=") {
			env = append(env, kv)
		}
	}
	if exe, err := os.Executable(); err == nil {
		env = append(env, dns01.EnvDNSHost+"="+exe)
	}
	b := &embedbin.Binary{Name: "acmectl-cluster", Gz: clusterGz, Sum: sum}
	return b.Exec(os.Args, env)
}
