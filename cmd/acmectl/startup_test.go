package main

import (
	"bytes"
	"strings"
	"testing"
)

// Help lists certbot's flags however it is asked for (the parser is built
// lazily, on first use).
func TestHelpListsFlagsWithLazyFlags(t *testing.T) {
	for _, args := range [][]string{
		{"acmectl", "-h", "all"},
		{"acmectl", "help", "all"}, // certbot: a first word "help" is --help
		{"acmectl", "-n", "certonly", "--help", "all"},
	} {
		app := newApp()
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
