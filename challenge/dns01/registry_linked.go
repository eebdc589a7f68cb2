//go:build !alldns && !dnsembed && !dnshost

package dns01

import (
	"os"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
	"github.com/acmectl/acmectl/challenge/dns01/providers"
)

// PluginProviders reports whether the default providers run in the DNS plugin
// embedded in the binary (-tags dnsembed, as `make build` builds).
const PluginProviders = false

func newDefaultProvider(name string, _ Options, _ []string) (Provider, error) {
	return providers.New(name)
}

// ServePlugin serves the linked providers as the DNS plugin does, over
// stdin and stdout (acmectl started as acmectl-dns).
func ServePlugin() error { return dnsplugin.Serve(os.Stdin, os.Stdout, providers.New) }
