// Command acmectl-dns-cloud is the DNS plugin `make build` embeds in acmectl:
// it serves lego's route53, gcloud and azuredns providers over stdin and
// stdout (package dnsplugin). acmectl starts it itself; it is not meant to be
// run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/providers/dns/azuredns"
	"github.com/go-acme/lego/v4/providers/dns/gcloud"
	"github.com/go-acme/lego/v4/providers/dns/route53"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
)

func newProvider(name string) (challenge.Provider, error) {
	switch name {
	case "azuredns":
		return azuredns.NewDNSProvider()
	case "gcloud":
		return gcloud.NewDNSProvider()
	case "route53":
		return route53.NewDNSProvider()
	}
	return nil, fmt.Errorf("acmectl-dns-cloud serves azuredns, gcloud and route53, not %q", name)
}

func main() {
	if err := dnsplugin.Serve(os.Stdin, os.Stdout, newProvider); err != nil {
		fmt.Fprintln(os.Stderr, "acmectl-dns-cloud:", err)
		os.Exit(1)
	}
}
