//go:build !alldns && !dnsembed

package dns01

import "github.com/acmectl/acmectl/challenge/dns01/providers"

// PluginProviders reports whether the default providers run in the DNS plugin
// embedded in the binary (-tags dnsembed, as `make build` builds).
const PluginProviders = false

func newDefaultProvider(name string, _ Options, _ []string) (Provider, error) {
	return providers.New(name)
}
