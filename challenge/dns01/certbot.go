package dns01

import (
	"fmt"
	"slices"
	"strings"
)

// certbotProviders maps certbot's DNS plugins (certbot-dns-<plugin>) to the
// lego provider that serves each; "" is a plugin no lego provider serves.
var certbotProviders = map[string]string{
	"cloudflare": "cloudflare", "digitalocean": "digitalocean", "dnsimple": "dnsimple",
	"dnsmadeeasy": "dnsmadeeasy", "gehirn": "", "google": "gcloud", "linode": "linode",
	"luadns": "luadns", "nsone": "ns1", "ovh": "ovh", "rfc2136": "rfc2136",
	"route53": "route53", "sakuracloud": "sakuracloud",
}

// ProviderFor returns the lego provider for the name after "dns-" in an
// authenticator: a certbot plugin name (google → gcloud, nsone → ns1) or a
// lego provider name. A certbot plugin lego cannot serve is an error naming
// the alternatives.
func ProviderFor(name string) (string, error) {
	name = strings.ToLower(name)
	p, ok := certbotProviders[name]
	switch {
	case !ok:
		return name, nil
	case p == "":
		return "", fmt.Errorf("dns-01: certbot's dns-%s plugin has no counterpart in acmectl; use --manual with a --manual-auth-hook that sets the TXT record, or --dns exec", name)
	}
	return p, nil
}

// CertbotNames lists the DNS plugin names "plugins" shows (dns-<name>):
// certbot's plugin names this build serves, then the other providers of
// the build under lego's names, sorted.
func CertbotNames() []string {
	var out []string
	served := map[string]bool{}
	for plugin, p := range certbotProviders {
		if p != "" && knownProvider(p) == nil {
			out = append(out, plugin)
			served[p] = true
		}
	}
	for _, p := range Providers() {
		if !served[p] && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
