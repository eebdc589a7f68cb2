package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/scm"
)

// The hand-over of scm onboard builds certonly's options in this process:
// the onboarding's server, names, lineage name and e-mail as if given on the
// command line, the user's flags after "--" parsed with certonly's, and the
// EAB credentials set on the options, never through a flag.
func TestOnboardIssueOptions(t *testing.T) {
	const key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	dir := t.TempDir()
	ini := filepath.Join(dir, "cli.ini")
	if err := os.WriteFile(ini, []byte("cert-name = from-ini\nemail = ini@a.example\nserver = https://other.example/dir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ob := &scm.Onboarding{Server: scm.Server{URL: "https://acme.sectigo.com/v2/OV"}, EAB: scm.EAB{KeyID: "kid-1", HMACKey: key},
		Domains: []string{"a.example", "www.a.example"}, CertName: "web-prod-01"}
	base := []string{"--config-dir", dir, "--work-dir", dir, "--logs-dir", dir}
	wantKey, err := acme.DecodeHMACKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		register bool
		email    string
		flags    []string
		want     wantOptions
		wantErr  string
	}{
		{name: "defaults", email: "ops@a.example", flags: []string{"--standalone", "-nv"},
			want: wantOptions{certName: "web-prod-01", emails: "ops@a.example", auth: "standalone", alg: "HS256", nonInteractive: true, verbose: 1}},
		{name: "user's cert name", flags: []string{"--cert-name", "mine", "--webroot", "-w", "/var/www"},
			want: wantOptions{certName: "mine", auth: "webroot", alg: "HS256", webroot: "/var/www"}},
		{name: "cli.ini loses to onboard", flags: []string{"-c", ini, "--standalone"},
			want: wantOptions{certName: "web-prod-01", emails: "ini@a.example", auth: "standalone", alg: "HS256"}},
		{name: "eab algorithm", flags: []string{"--eab-hmac-alg", "HS512", "--standalone"},
			want: wantOptions{certName: "web-prod-01", auth: "standalone", alg: "HS512"}},
		{name: "register", register: true, want: wantOptions{alg: "HS256"}},
		{name: "unknown flag", flags: []string{"--bogus"}, wantErr: "unrecognized arguments: --bogus"},
		{name: "positional", flags: []string{"--standalone", "extra"}, wantErr: `unrecognized arguments: extra`},
		{name: "staging", flags: []string{"--staging"}, wantErr: "--staging conflicts with --server"},
		{name: "bad e-mail", email: "nope", wantErr: `--email "nope" is not an e-mail address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := onboardIssue{Onboarding: ob, RegisterOnly: tc.register, Email: tc.email, CertonlyFlags: append(append([]string{}, base...), tc.flags...)}
			got, out, err := runIssueCaptured(t, r)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != exitUsage || got != nil {
					t.Fatalf("err = %v, want a usage error with %q and no run", err, tc.wantErr)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("run: %v (ran: %v)", err, got != nil)
			}
			if got.Server != ob.Server.URL || got.EAB == nil || got.EAB.KeyID != "kid-1" || !bytes.Equal(got.EAB.HMACKey, wantKey) {
				t.Errorf("server %q, eab %v: want the onboarding's", got.Server, got.EAB)
			}
			if got.Set["eab-kid"] || got.Set["eab-hmac-key"] || got.Set["eab-hmac-key-file"] {
				t.Errorf("EAB credentials came through flags: %v", got.Set)
			}
			wantDomains := ob.Domains
			if tc.register {
				wantDomains = nil
			}
			if !slices.Equal(got.Domains, wantDomains) {
				t.Errorf("domains = %v, want %v", got.Domains, wantDomains)
			}
			if g := (wantOptions{certName: got.CertName, emails: strings.Join(got.Emails, ","), auth: got.Authenticator, alg: got.EAB.Algorithm,
				webroot: got.WebrootMap["www.a.example"], nonInteractive: got.NonInteractive, verbose: got.Verbose}); g != tc.want {
				t.Errorf("options = %+v, want %+v", g, tc.want)
			}
			if strings.Contains(out, key) {
				t.Errorf("output holds the HMAC key:\n%s", out)
			}
		})
	}
}

// wantOptions are the options TestOnboardIssueOptions compares.
type wantOptions struct {
	certName, emails, auth, alg, webroot string
	nonInteractive                       bool
	verbose                              int
}

// runIssueCaptured runs r's hand-over with a handler that only records the
// options it gets.
func runIssueCaptured(t *testing.T, r onboardIssue) (*manager.Config, string, error) {
	var got *manager.Config
	var out bytes.Buffer
	c := cli.NewContext(&cli.App{Writer: &out, ErrWriter: &out, ExitErrHandler: func(*cli.Context, error) {}}, nil, nil)
	c.Context = t.Context()
	err := r.run(c, func(_ context.Context, e *env) error { got = e.o; return nil })
	return got, out.String(), err
}

// An HMAC key SCM hands out that is not base64 fails with a usage error
// before any request, without printing it.
func TestOnboardIssueBadKey(t *testing.T) {
	ob := &scm.Onboarding{Server: scm.Server{URL: "https://acme.sectigo.com/v2/OV"}, EAB: scm.EAB{KeyID: "k", HMACKey: "not base64 !!"},
		Domains: []string{"a.example"}, CertName: "n"}
	r := onboardIssue{Onboarding: ob, CertonlyFlags: []string{"--config-dir", t.TempDir(), "--standalone"}}
	got, _, err := runIssueCaptured(t, r)
	ran := got != nil
	if err == nil || ran || strings.Contains(err.Error(), "not base64 !!") || exitCode(err) != exitUsage {
		t.Errorf("bad key: %v (ran %v)", err, ran)
	}
}
