// Package providers is the curated set of lego DNS providers of acmectl's
// default build, by lego's names. Package dns01 links it in a plain go build;
// `make build` links it only into the DNS plugin (cmd/acmectl-dns) that
// acmectl embeds, so that the providers' SDKs (AWS, Google Cloud, Azure,
// Kerberos for RFC 2136 GSS-TSIG, ...) and their package initialisation stay
// out of acmectl's own start-up.
package providers

import (
	"fmt"
	"slices"

	"github.com/go-acme/lego/v4/challenge"
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

func wrap[T challenge.Provider](f func() (T, error)) func() (challenge.Provider, error) {
	return func() (challenge.Provider, error) {
		p, err := f()
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

var registry = map[string]func() (challenge.Provider, error){
	"azuredns":     wrap(azuredns.NewDNSProvider),
	"cloudflare":   wrap(cloudflare.NewDNSProvider),
	"digitalocean": wrap(digitalocean.NewDNSProvider),
	"exec":         wrap(exec.NewDNSProvider),
	"sakuracloud":  wrap(sakuracloud.NewDNSProvider),
	"ns1":          wrap(ns1.NewDNSProvider),
	"luadns":       wrap(luadns.NewDNSProvider),
	"dnsmadeeasy":  wrap(dnsmadeeasy.NewDNSProvider),
	"dnsimple":     wrap(dnsimple.NewDNSProvider),
	"gandiv5":      wrap(gandiv5.NewDNSProvider),
	"gcloud":       wrap(gcloud.NewDNSProvider),
	"godaddy":      wrap(godaddy.NewDNSProvider),
	"hetzner":      wrap(hetzner.NewDNSProvider),
	"httpreq":      wrap(httpreq.NewDNSProvider),
	"linode":       wrap(linode.NewDNSProvider),
	"namecheap":    wrap(namecheap.NewDNSProvider),
	"ovh":          wrap(ovh.NewDNSProvider),
	"porkbun":      wrap(porkbun.NewDNSProvider),
	"rfc2136":      wrap(rfc2136.NewDNSProvider),
	"route53":      wrap(route53.NewDNSProvider),
}

// New builds the provider called name from its environment variables, or
// returns lego's error; an unknown name is an error.
func New(name string) (challenge.Provider, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown DNS provider %q", name)
	}
	return f()
}

// Names returns the provider names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
