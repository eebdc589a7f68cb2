//go:build !alldns

package dns01

import (
	"fmt"
	"slices"
	"strings"
)

// AllProviders reports whether this build links every lego provider (-tags alldns).
const AllProviders = false

// defaultNames is the curated default set, lego's names: every provider
// certbot has a DNS plugin for (gehirn aside, which lego lacks), and a few
// more in wide use (package providers; a test checks that the two agree).
var defaultNames = []string{
	"azuredns", "cloudflare", "digitalocean", "dnsimple", "dnsmadeeasy", "exec", "gandiv5", "gcloud",
	"godaddy", "hetzner", "httpreq", "linode", "luadns", "namecheap", "ns1", "ovh", "porkbun",
	"rfc2136", "route53", "sakuracloud",
}

// Providers returns the provider names this build knows, sorted.
func Providers() []string { return slices.Clone(defaultNames) }

func knownProvider(name string) error {
	if !slices.Contains(defaultNames, name) {
		return fmt.Errorf("unknown DNS provider %q; this build knows %s (build with -tags alldns, `make build-all-dns`, for every lego provider)", name, strings.Join(Providers(), ", "))
	}
	return nil
}

func newProvider(name string, opts Options, resolvers []string) (Provider, error) {
	if err := knownProvider(name); err != nil {
		return nil, err
	}
	return newDefaultProvider(name, opts, resolvers)
}
