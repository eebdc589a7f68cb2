//go:build !alldns && dnsembed

package dns01

import (
	_ "embed"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
)

// PluginProviders reports whether the default providers run in the DNS plugin
// embedded in the binary (-tags dnsembed, as `make build` builds).
const PluginProviders = true

// pluginGz is cmd/acmectl-dns, gzipped. The file is not in the repository:
// `make build` builds it and hands it to go build with -overlay.
//
//go:embed acmectl-dns.gz
var pluginGz []byte

var pluginCommand = dnsplugin.Embedded(pluginGz, "acmectl-dns")

func newDefaultProvider(name string, opts Options, resolvers []string) (Provider, error) {
	return dnsplugin.New(dnsplugin.Config{
		Provider:   name,
		Command:    pluginCommand,
		Resolvers:  resolvers,
		DNSTimeout: opts.DNSTimeout,
	})
}
