//go:build !alldns

package dns01

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-acme/lego/v4/providers/dns/cloudflare"
	"github.com/go-acme/lego/v4/providers/dns/digitalocean"
	"github.com/go-acme/lego/v4/providers/dns/exec"
	"github.com/go-acme/lego/v4/providers/dns/gandiv5"
	"github.com/go-acme/lego/v4/providers/dns/godaddy"
	"github.com/go-acme/lego/v4/providers/dns/hetzner"
	"github.com/go-acme/lego/v4/providers/dns/httpreq"
	"github.com/go-acme/lego/v4/providers/dns/linode"
	"github.com/go-acme/lego/v4/providers/dns/namecheap"
	"github.com/go-acme/lego/v4/providers/dns/ovh"
	"github.com/go-acme/lego/v4/providers/dns/porkbun"
	"github.com/go-acme/lego/v4/providers/dns/rfc2136"
)

// AllProviders reports whether this build links every lego provider (-tags alldns).
const AllProviders = false

func wrap[T Provider](f func() (T, error)) func() (Provider, error) {
	return func() (Provider, error) {
		p, err := f()
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// registry is the curated default set, lego's names, without the cloud
// providers (cloudNames), which registry_cloud*.go build.
var registry = map[string]func() (Provider, error){
	"cloudflare":   wrap(cloudflare.NewDNSProvider),
	"digitalocean": wrap(digitalocean.NewDNSProvider),
	"exec":         wrap(exec.NewDNSProvider),
	"gandiv5":      wrap(gandiv5.NewDNSProvider),
	"godaddy":      wrap(godaddy.NewDNSProvider),
	"hetzner":      wrap(hetzner.NewDNSProvider),
	"httpreq":      wrap(httpreq.NewDNSProvider),
	"linode":       wrap(linode.NewDNSProvider),
	"namecheap":    wrap(namecheap.NewDNSProvider),
	"ovh":          wrap(ovh.NewDNSProvider),
	"porkbun":      wrap(porkbun.NewDNSProvider),
	"rfc2136":      wrap(rfc2136.NewDNSProvider),
}

// Providers returns the provider names this build knows, sorted.
func Providers() []string {
	names := make([]string, 0, len(registry)+len(cloudNames))
	for n := range registry {
		names = append(names, n)
	}
	names = append(names, cloudNames...)
	slices.Sort(names)
	return names
}

// cloudNames are the providers of the default set whose SDKs (AWS, Google
// Cloud, Azure) cost more start-up time than the rest of acmectl: `make build`
// runs them in the embedded plugin (registry_cloud_plugin.go), a plain go build
// links them (registry_cloud_linked.go).
var cloudNames = []string{"azuredns", "gcloud", "route53"}

func knownProvider(name string) error {
	if _, ok := registry[name]; !ok && !slices.Contains(cloudNames, name) {
		return fmt.Errorf("unknown DNS provider %q; this build knows %s (build with -tags alldns, `make build-all-dns`, for every lego provider)", name, strings.Join(Providers(), ", "))
	}
	return nil
}

func newProvider(name string, opts Options, resolvers []string) (Provider, error) {
	if err := knownProvider(name); err != nil {
		return nil, err
	}
	if slices.Contains(cloudNames, name) {
		return newCloudProvider(name, opts, resolvers)
	}
	return registry[name]()
}
