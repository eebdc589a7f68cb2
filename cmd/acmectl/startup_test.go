package main

import (
	"bytes"
	"strings"
	"testing"
)

// Help lists certbot's flags however it is asked for (the parser is built
// lazily, on first use).
func TestHelpAllListsFlags(t *testing.T) {
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

// TestDNSPersistHelpAndRouting: "dns-persist" is acmectl's own command
// wherever its word stands among certbot's options; its help (with or
// without a subcommand) lists its options and how to use them, "--help
// all" lists them too, and a wrong subcommand or a stray word is a usage
// error naming the fix.
func TestDNSPersistHelpAndRouting(t *testing.T) {
	if got := ownCommand([]string{"--config-dir", "/x", "dns-persist", "check"}); got != 2 {
		t.Errorf("ownCommand = %d, want 2", got)
	}
	for _, args := range [][]string{
		{"acmectl", "dns-persist"},
		{"acmectl", "dns-persist", "--help"},
		{"acmectl", "-n", "dns-persist", "records", "-d", "a.example", "--help"},
		{"acmectl", "dns-persist", "check", "-h"},
		{"acmectl", "--help", "all"},
	} {
		app := newApp()
		var out bytes.Buffer
		app.Writer = &out
		if err := runApp(app, args); err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		for _, want := range []string{"dns-persist records -d example.com", "--persist-wildcard", "--persist-until", "--dns-resolver", "policy=wildcard"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%q does not show %q:\n%s", args, want, out.String())
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"acmectl", "dns-persist", "publish"}, `dns-persist: unknown subcommand "publish" (records or check)`},
		{[]string{"acmectl", "dns-persist", "check", "a.example"}, `dns-persist check: unexpected argument "a.example" (names go with -d)`},
		{[]string{"acmectl", "dns-persist", "records", "renew"}, `unexpected argument "renew"`},
		{[]string{"acmectl", "dns-persist", "records", "--preferred-challenges", "dns-persist-02"}, "Unrecognized challenges: dns-persist-02"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		err := runApp(app, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("%q = %v (exit %d), want a usage error with %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}
