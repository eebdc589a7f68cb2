//go:build !urfave_cli_no_docs

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// appWithOps is newApp with the operating commands, whether or not app.go
// wires them yet.
func appWithOps() *cli.App {
	app := newApp()
	have := map[string]bool{}
	for _, c := range app.Commands {
		have[c.Name] = true
	}
	for _, c := range []*cli.Command{scheduleCommand(), doctorCommand(), gendocsCommand()} {
		if !have[c.Name] {
			app.Commands = append(app.Commands, c)
		}
	}
	return app
}

func TestWriteDocs(t *testing.T) {
	out := t.TempDir()
	var buf bytes.Buffer
	app := appWithOps()
	app.Writer = &buf
	if err := app.Run([]string{"acmectl", "gendocs", "--out", out}); err != nil {
		t.Fatalf("gendocs: %v", err)
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{gendocsFiles.man, []string{`.TH ACMECTL 1`, "certonly", "renew", "acmectl schedule", "acmectl doctor", "EXIT STATUS", "/etc/letsencrypt",
			`\-\-dns\-cloudflare\-credentials`, `\-\-no\-verify\-ssl`, "update_symlinks"}},
		{gendocsFiles.bash, []string{"complete ", "__complete", "acmectl certbot"}},
		{gendocsFiles.zsh, []string{"#compdef acmectl certbot", "__complete"}},
		{gendocsFiles.fish, []string{"complete -c acmectl", "complete -c certbot", "__complete"}},
	} {
		p := filepath.Join(out, tc.file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("gendocs did not write %s: %v", tc.file, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", tc.file, w)
			}
		}
		if !strings.Contains(buf.String(), p) {
			t.Errorf("gendocs output does not list %s:\n%s", p, buf.String())
		}
	}
	// The hidden command stays out of the docs.
	man, _ := os.ReadFile(filepath.Join(out, gendocsFiles.man))
	if strings.Contains(string(man), "gendocs") {
		t.Errorf("man page documents the hidden gendocs command")
	}
	// The bash script parses.
	if outb, err := exec.Command("bash", "-n", filepath.Join(out, gendocsFiles.bash)).CombinedOutput(); err != nil {
		t.Errorf("bash -n %s: %v\n%s", gendocsFiles.bash, err, outb)
	}
	// The man page renders without warnings.
	if _, err := exec.LookPath("groff"); err != nil {
		t.Fatalf("groff is needed (Debian package groff-base): %v", err)
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", filepath.Join(out, gendocsFiles.man))
	if outb, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(outb)) > 0 {
		t.Errorf("groff -ww: %v\n%s", err, outb)
	}
}
