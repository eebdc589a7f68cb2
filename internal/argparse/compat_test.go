package argparse

import (
	"slices"
	"testing"
)

// acmectlOnly are options acmectl has and certbot does not.
var acmectlOnly = []string{"--ca-bundle", "--eab-hmac-key-file", "--json", "--dns", "--dns-propagation-seconds",
	"--dns-credentials", "--tls-alpn", "--tls-alpn-01-port", "--tls-alpn-01-address", "--parallel",
	"--autorenew", "--rollover-key", "--renew-before-expiry"}

func TestPrefixConflicts(t *testing.T) {
	base := MustNew(Certbot())
	if got := PrefixConflicts(base, base); len(got) != 0 {
		t.Fatalf("PrefixConflicts(certbot, certbot) = %q, want none", got)
	}
	spec := Certbot()
	for _, f := range acmectlOnly {
		spec.Options = append(spec.Options, Option{Flags: []string{f}, Dest: f[2:], Action: Store})
	}
	got := PrefixConflicts(base, MustNew(spec))
	// Abbreviations certbot users may type that acmectl's own options would
	// break as plain options.
	for _, want := range []string{
		"--renew-b: --renew-by-default → --renew-by-default, --renew-before-expiry",
		"--auto: --auto-hsts → --auto-hsts, --autorenew",
		"--eab-hmac-k: --eab-hmac-key → --eab-hmac-key, --eab-hmac-key-file",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("PrefixConflicts missed %q", want)
		}
	}
	t.Logf("%d abbreviations certbot resolves that acmectl's extra options would break, e.g. %q", len(got), got[:min(5, len(got))])

	// As Extension options they break none, and still abbreviate where
	// certbot has no match.
	for i := range spec.Options {
		if slices.Contains(acmectlOnly, spec.Options[i].Flags[0]) {
			spec.Options[i].Extension = true
		}
	}
	ext := MustNew(spec)
	if got := PrefixConflicts(base, ext); len(got) != 0 {
		t.Errorf("PrefixConflicts with extension options = %q, want none", got)
	}
	for word, want := range map[string]string{"--renew-b": "--renew-by-default", "--auto": "--auto-hsts",
		"--eab-hmac-k": "--eab-hmac-key", "--renew-be": "--renew-before-expiry", "--autor": "--autorenew", "--parall": "--parallel"} {
		if m, ok := ext.Classify(word); !ok || m.Flag != want {
			t.Errorf("Classify(%s) = %+v, want %s", word, m, want)
		}
	}
}
