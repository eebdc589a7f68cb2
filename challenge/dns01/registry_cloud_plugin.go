//go:build !alldns && dnsembed

package dns01

import (
	_ "embed"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
)

// CloudPlugin reports whether the cloud providers run in the embedded plugin.
const CloudPlugin = true

// cloudPluginGz is cmd/acmectl-dns-cloud, gzipped. The file is not in the
// repository: `make build` builds it and hands it to go build with -overlay.
//
//go:embed acmectl-dns-cloud.gz
var cloudPluginGz []byte

var cloudPluginCommand = dnsplugin.Embedded(cloudPluginGz, "acmectl-dns-cloud")

func newCloudProvider(name string, opts Options, resolvers []string) (Provider, error) {
	return dnsplugin.New(dnsplugin.Config{
		Provider:   name,
		Command:    cloudPluginCommand,
		Resolvers:  resolvers,
		DNSTimeout: opts.DNSTimeout,
	})
}
