//go:build urfave_cli_no_docs

package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// gendocsCommand of a build without urfave/cli's docs (`make build`): the man
// page generator links a Markdown parser whose package initialisation alone
// took a tenth of acmectl's start-up. `make man` runs gendocs from a build
// that has it.
func gendocsCommand() *cli.Command {
	return &cli.Command{
		Name:   "gendocs",
		Usage:  "write the man page and shell completions (for packaging)",
		Hidden: true,
		Action: func(*cli.Context) error {
			return errors.New("gendocs: this acmectl is built without the docs generator (make build); run make man")
		},
	}
}
