//go:build !urfave_cli_no_docs

package main

// acmectl gendocs --out DIR (hidden): the man page and the shell completions,
// generated from the command-line definition itself, for make man,
// make completions and make install.

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

const flgGendocsOut = "out"

// gendocsFiles are the files gendocs writes, relative to --out.
var gendocsFiles = struct{ man, bash, zsh, fish string }{
	man:  "man/acmectl.1",
	bash: "completions/acmectl.bash",
	zsh:  "completions/_acmectl",
	fish: "completions/acmectl.fish",
}

// gendocsManExtra is appended to urfave/cli's generated page.
const gendocsManExtra = `
.SH EXIT STATUS
0 on success, 1 on an error (doctor: a certificate would fail to renew), 2 on a usage error.
.SH FILES
.TP
/etc/letsencrypt
certbot's configuration tree (--config-dir): accounts/, archive/, live/, renewal/, renewal-hooks/.
.TP
/var/lib/letsencrypt/acmectl-last-run.json
the result of the last renew run, shown by acmectl schedule status.
.TP
/var/log/letsencrypt/letsencrypt.log
the debug log of the last run (--logs-dir).
.TP
/etc/systemd/system/acmectl-renew.timer, /etc/cron.d/acmectl
written by acmectl schedule install.
.SH SEE ALSO
certbot(1), systemd.timer(5), crontab(5)
`

// writeDocs writes the man page and the bash, zsh and fish completions of
// app under out and returns the paths written.
func writeDocs(app *cli.App, out string) ([]string, error) {
	man, err := app.ToManWithSection(1)
	if err != nil {
		return nil, fmt.Errorf("gendocs: man page: %w", err)
	}
	fish, err := app.ToFishCompletion()
	if err != nil {
		return nil, fmt.Errorf("gendocs: fish completion: %w", err)
	}
	files := []struct{ rel, data string }{
		{gendocsFiles.man, man + gendocsManExtra},
		{gendocsFiles.bash, bashCompletion},
		{gendocsFiles.zsh, zshCompletion},
		{gendocsFiles.fish, fish},
	}
	var wrote []string
	for _, f := range files {
		p := filepath.Join(out, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return wrote, fmt.Errorf("gendocs: %w", err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return wrote, fmt.Errorf("gendocs: %w", err)
		}
		wrote = append(wrote, p)
	}
	return wrote, nil
}

// gendocsCommand is the hidden "acmectl gendocs --out DIR".
func gendocsCommand() *cli.Command {
	return &cli.Command{
		Name:   "gendocs",
		Usage:  "write the man page and shell completions (for packaging)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgGendocsOut, Value: "dist", Usage: "directory to write man/ and completions/ into"},
		},
		Action: func(c *cli.Context) error {
			wrote, err := writeDocs(c.App, c.String(flgGendocsOut))
			for _, p := range wrote {
				fmt.Fprintln(c.App.Writer, p)
			}
			return err
		},
	}
}
