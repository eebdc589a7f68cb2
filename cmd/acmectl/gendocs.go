//go:build !urfave_cli_no_docs

package main

// acmectl gendocs --out DIR (hidden): the man page and the shell completions,
// generated from the command-line definition itself, for make man,
// make completions and make install.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/internal/complete"
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

// writeDocs writes the man page (the command line's help, by topic, and
// acmectl's own commands) and the bash, zsh and fish completions of app
// under out and returns the paths written.
func writeDocs(app *cli.App, out string) ([]string, error) {
	var man strings.Builder
	var own [][2]string
	for _, c := range app.VisibleCommands() {
		own = append(own, [2]string{"acmectl " + c.Name, c.Usage + " (acmectl " + c.Name + " --help)"})
	}
	if err := cmdParser().WriteMan(&man, "acmectl", "1", version, own); err != nil {
		return nil, err
	}
	files := []struct{ rel, data string }{{gendocsFiles.man, man.String() + gendocsManExtra}}
	for shell, rel := range map[string]string{"bash": gendocsFiles.bash, "zsh": gendocsFiles.zsh, "fish": gendocsFiles.fish} {
		s, err := complete.Script(shell, "acmectl", completionProgs)
		if err != nil {
			return nil, err
		}
		files = append(files, struct{ rel, data string }{rel, s})
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
