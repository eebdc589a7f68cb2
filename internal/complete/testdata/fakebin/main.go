// Command fakebin stands in for acmectl in the completion script tests: it
// answers "__complete" with the complete package and, for anything else,
// leaves a mark in $FAKEBIN_MARKER, which the tests check is never there.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/acmectl/acmectl/internal/argparse"
	"github.com/acmectl/acmectl/internal/complete"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == complete.Command {
		src := complete.Source{
			Parser:           argparse.MustNew(argparse.Certbot()),
			CertNames:        complete.CertNamesFromDir,
			DNSProviders:     []string{"cloudflare", "route53", "rfc2136", "exec"},
			DefaultConfigDir: os.Getenv("FAKEBIN_CONFIG_DIR"),
			Commands:         []complete.Candidate{{Value: "schedule"}, {Value: "doctor"}},
		}
		if err := complete.Run(os.Stdout, src, os.Args[2:]); err != nil {
			os.Exit(1)
		}
		return
	}
	if m := os.Getenv("FAKEBIN_MARKER"); m != "" {
		_ = os.WriteFile(m, []byte(strings.Join(os.Args, " ")), 0o644)
	}
	fmt.Fprintln(os.Stderr, "fakebin: executed", os.Args)
	os.Exit(3)
}
