//go:build !alldns && !dnsembed && dnshost

package dns01

import (
	"errors"
	"os"
	"os/exec"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
)

// PluginProviders reports whether the default providers run in a DNS plugin
// process: in this build (-tags dnshost, the cluster's build that `make
// build` embeds in acmectl) the plugin is the one of the acmectl that
// started this process, $ACMECTL_DNS_HOST run as acmectl-dns.
const PluginProviders = true

func pluginCommand() (*exec.Cmd, func(), error) {
	host := os.Getenv(EnvDNSHost)
	if host == "" {
		return nil, nil, errors.New("the DNS providers of this build run in the acmectl that started it ($" + EnvDNSHost + " is not set): run acmectl itself")
	}
	cmd := exec.Command(host)
	cmd.Args[0] = PluginName
	cmd.Stderr = os.Stderr
	return cmd, nil, nil
}

func newDefaultProvider(name string, opts Options, resolvers []string) (Provider, error) {
	return dnsplugin.New(dnsplugin.Config{
		Provider:   name,
		Command:    pluginCommand,
		Resolvers:  resolvers,
		DNSTimeout: opts.DNSTimeout,
	})
}

// ServePlugin: this build has no providers of its own to serve.
func ServePlugin() error {
	return errors.New("this build runs its DNS providers in the acmectl that started it; it cannot serve them")
}
