// Command acmectl-dns is the DNS plugin that `make build` embeds in acmectl:
// it serves the default set of lego DNS providers (package
// challenge/dns01/providers) over stdin and stdout (package dnsplugin).
// acmectl starts it itself; it is not meant to be run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/acmectl/acmectl/challenge/dns01/dnsplugin"
	"github.com/acmectl/acmectl/challenge/dns01/providers"
)

func main() {
	if err := dnsplugin.Serve(os.Stdin, os.Stdout, providers.New); err != nil {
		fmt.Fprintln(os.Stderr, "acmectl-dns:", err)
		os.Exit(1)
	}
}
