package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/internal/complete"
	"github.com/acmectl/acmectl/manager"
)

// completionProgs are the names the scripts complete: acmectl and a
// certbot symlink to it.
var completionProgs = []string{"acmectl", "certbot"}

// completionSource is what "acmectl __complete" knows: the command line,
// acmectl's own commands, DNS providers, server aliases and the lineage
// names of --config-dir (one ReadDir; nothing is locked, written or asked).
func completionSource() complete.Source {
	src := complete.Source{Parser: cmdParser(), CertNames: complete.CertNamesFromDir, DNSProviders: dns01.Providers(),
		DefaultConfigDir: manager.DefaultConfigDir, Values: map[string][]complete.Candidate{}}
	for _, c := range newApp().VisibleCommands() {
		src.Commands = append(src.Commands, complete.Candidate{Value: c.Name, Description: c.Usage})
	}
	for _, a := range manager.ServerAliasNames() {
		src.Values["server"] = append(src.Values["server"], complete.Candidate{Value: a})
	}
	return src
}

// completionCommand prints a shell completion script: acmectl completion
// bash|zsh|fish. The scripts only ever run "acmectl __complete WORDS...".
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it with:\n   source <(acmectl completion bash)\n" +
			"or save it as /etc/bash_completion.d/acmectl. It completes acmectl and a certbot symlink to it,\n" +
			"and runs nothing but 'acmectl __complete'.",
		Action: func(c *cli.Context) error {
			shell := c.Args().First()
			if shell == "" {
				shell = "bash"
			}
			s, err := complete.Script(shell, "acmectl", completionProgs)
			if err != nil {
				return usageErrorf("%v", err)
			}
			_, err = fmt.Fprint(c.App.Writer, s)
			return err
		},
	}
}
