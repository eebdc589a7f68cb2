//go:build !alldns && !dnsembed

package dns01

import (
	"github.com/go-acme/lego/v4/providers/dns/azuredns"
	"github.com/go-acme/lego/v4/providers/dns/gcloud"
	"github.com/go-acme/lego/v4/providers/dns/route53"
)

// CloudPlugin reports whether the cloud providers run in the embedded plugin.
const CloudPlugin = false

func newCloudProvider(name string, _ Options, _ []string) (Provider, error) {
	switch name {
	case "azuredns":
		return azuredns.NewDNSProvider()
	case "gcloud":
		return gcloud.NewDNSProvider()
	default:
		return route53.NewDNSProvider()
	}
}
