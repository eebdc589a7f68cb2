package main

import (
	"bytes"
	"strings"
	"testing"
)

// newAppFor gives certbot's flag table only to the command that runs (and to
// every command for help, gendocs and completion); the command line behaves
// as with every flag built.
func TestNewAppForBuildsFlagsOfTheCommandThatRuns(t *testing.T) {
	tests := []struct {
		args      []string
		withFlags []string // commands that must have flags; all others must not (nil: every spec command)
	}{
		{[]string{"acmectl", "renew", "-q"}, []string{"renew"}},
		{[]string{"certbot", "-n", "-d", "a.example", "certonly", "--standalone"}, []string{"certonly"}},
		{[]string{"certbot", "-d", "a.example", "--standalone"}, []string{"run"}},
		{[]string{"acmectl", "--version"}, []string{}},
		{[]string{"acmectl", "help", "certonly"}, nil},
		{[]string{"acmectl", "completion", "bash"}, nil},
		// doctor --dry-run runs renew, scm onboard runs certonly, in-process.
		{[]string{"acmectl", "doctor", "--dry-run"}, nil},
		{[]string{"acmectl", "scm", "onboard", "--cert-name", "x"}, nil},
	}
	specs := map[string]bool{}
	for _, s := range commandSpecs() {
		specs[s.name] = true
	}
	for _, tc := range tests {
		app := newAppFor(tc.args)
		for _, c := range app.Commands {
			if !specs[c.Name] {
				continue
			}
			want := tc.withFlags == nil
			for _, n := range tc.withFlags {
				want = want || c.Name == n
			}
			if got := len(c.Flags) > 0; got != want {
				t.Errorf("newAppFor(%q): command %s has flags %v, want %v", tc.args, c.Name, got, want)
			}
		}
	}
}

func TestHelpListsFlagsWithLazyFlags(t *testing.T) {
	for _, args := range [][]string{
		{"acmectl", "certonly", "--help"},
		{"acmectl", "help", "certonly"},
		{"acmectl", "-n", "certonly", "--help"},
	} {
		app := newAppFor(args)
		var out bytes.Buffer
		app.Writer = &out
		if err := runApp(app, args); err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		for _, want := range []string{"--webroot-path", "--standalone", "--eab-kid"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%q does not list %s:\n%s", args, want, out.String())
			}
		}
	}
}
