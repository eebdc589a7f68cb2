//go:build !alldns && dnsembed

package dns01

import (
	_ "embed"
	"fmt"
	"os"
	"syscall"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
	"github.com/acmectl/acmectl/internal/embedbin"
)

// PluginProviders reports whether the default providers run in the DNS plugin
// embedded in the binary (-tags dnsembed, as `make build` builds).
const PluginProviders = true

// pluginGz is cmd/acmectl-dns, gzipped. The file is not in the repository:
// `make build` builds it and hands it to go build with -overlay.
//
//go:embed acmectl-dns.gz
var pluginGz []byte

var pluginCommand = dnsplugin.Embedded(pluginGz, PluginName)

func newDefaultProvider(name string, opts Options, resolvers []string) (Provider, error) {
	return dnsplugin.New(dnsplugin.Config{
		Provider:   name,
		Command:    pluginCommand,
		Resolvers:  resolvers,
		DNSTimeout: opts.DNSTimeout,
	})
}

// ServePlugin replaces this process with the embedded plugin (its stdin and
// stdout are the plugin's): acmectl started as acmectl-dns does this for
// the cluster's build, which carries no second copy of the plugin
// (registry_host.go). It returns only on failure.
func ServePlugin() error {
	path, err := embedbin.Memfd(pluginGz, PluginName)
	if err != nil {
		return err
	}
	return fmt.Errorf("run the embedded DNS plugin: %w", syscall.Exec(path, []string{PluginName}, os.Environ()))
}
