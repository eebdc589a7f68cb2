//go:build !alldns

package dns01

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-acme/lego/v4/providers/dns/azuredns"
	"github.com/go-acme/lego/v4/providers/dns/cloudflare"
	"github.com/go-acme/lego/v4/providers/dns/digitalocean"
	"github.com/go-acme/lego/v4/providers/dns/dnsimple"
	"github.com/go-acme/lego/v4/providers/dns/dnsmadeeasy"
	"github.com/go-acme/lego/v4/providers/dns/exec"
	"github.com/go-acme/lego/v4/providers/dns/gandiv5"
	"github.com/go-acme/lego/v4/providers/dns/gcloud"
	"github.com/go-acme/lego/v4/providers/dns/godaddy"
	"github.com/go-acme/lego/v4/providers/dns/hetzner"
	"github.com/go-acme/lego/v4/providers/dns/httpreq"
	"github.com/go-acme/lego/v4/providers/dns/linode"
	"github.com/go-acme/lego/v4/providers/dns/luadns"
	"github.com/go-acme/lego/v4/providers/dns/namecheap"
	"github.com/go-acme/lego/v4/providers/dns/ns1"
	"github.com/go-acme/lego/v4/providers/dns/ovh"
	"github.com/go-acme/lego/v4/providers/dns/porkbun"
	"github.com/go-acme/lego/v4/providers/dns/rfc2136"
	"github.com/go-acme/lego/v4/providers/dns/route53"
	"github.com/go-acme/lego/v4/providers/dns/sakuracloud"
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

// registry is the curated default set, lego's names: every provider
// certbot has a DNS plugin for (gehirn aside, which lego lacks), and a few
// more in wide use.
var registry = map[string]func() (Provider, error){
	"azuredns":     wrap(azuredns.NewDNSProvider),
	"cloudflare":   wrap(cloudflare.NewDNSProvider),
	"digitalocean": wrap(digitalocean.NewDNSProvider),
	"dnsimple":     wrap(dnsimple.NewDNSProvider),
	"dnsmadeeasy":  wrap(dnsmadeeasy.NewDNSProvider),
	"exec":         wrap(exec.NewDNSProvider),
	"gandiv5":      wrap(gandiv5.NewDNSProvider),
	"gcloud":       wrap(gcloud.NewDNSProvider),
	"godaddy":      wrap(godaddy.NewDNSProvider),
	"hetzner":      wrap(hetzner.NewDNSProvider),
	"httpreq":      wrap(httpreq.NewDNSProvider),
	"linode":       wrap(linode.NewDNSProvider),
	"luadns":       wrap(luadns.NewDNSProvider),
	"namecheap":    wrap(namecheap.NewDNSProvider),
	"ns1":          wrap(ns1.NewDNSProvider),
	"ovh":          wrap(ovh.NewDNSProvider),
	"porkbun":      wrap(porkbun.NewDNSProvider),
	"rfc2136":      wrap(rfc2136.NewDNSProvider),
	"route53":      wrap(route53.NewDNSProvider),
	"sakuracloud":  wrap(sakuracloud.NewDNSProvider),
}

// Providers returns the provider names this build knows, sorted.
func Providers() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func knownProvider(name string) error {
	if _, ok := registry[name]; !ok {
		return fmt.Errorf("unknown DNS provider %q; this build knows %s (build with -tags alldns, `make build-all-dns`, for every lego provider)", name, strings.Join(Providers(), ", "))
	}
	return nil
}

func newProvider(name string) (Provider, error) {
	if err := knownProvider(name); err != nil {
		return nil, err
	}
	return registry[name]()
}
