package main

// The last step of "acmectl scm onboard": register with the SCM account's
// EAB credentials and obtain the certificate, as a function call into
// certonly/register. This adapter goes once the engine (manager/) takes a
// typed issue request.

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/scm"
)

// onboardIssue is what scm onboard hands to certonly (or register).
type onboardIssue struct {
	Onboarding   *scm.Onboarding // server, EAB credentials, names, default lineage name
	RegisterOnly bool            // register the ACME account, obtain no certificate
	Email        string          // --email of scm onboard
	// CertonlyFlags are the user's flags after "--", for certonly. Never a
	// secret: onboard refuses --eab-*, --server, -d and --email there.
	CertonlyFlags []string
}

func (r onboardIssue) command() string {
	if r.RegisterOnly {
		return "register"
	}
	return "certonly"
}

// runOnboardIssue runs certonly (or register) in this process, as the
// command line would with r's values, and the EAB credentials handed over
// as a value.
func runOnboardIssue(c *cli.Context, r onboardIssue) error {
	for _, s := range commandSpecs() {
		if s.name == r.command() {
			return r.run(c, s)
		}
	}
	return fmt.Errorf("no command %s", r.command())
}

// run parses r.CertonlyFlags with the flags of s (urfave/cli's parser, as
// for the command itself: aliases, -nv), sets the onboarding's server,
// names, default lineage name and e-mail on them as if given (cli.ini cannot
// override them; validation is the command's own), then calls s's handler
// with the EAB credentials set on the validated options. The app is not run
// again: the user's flags are the only words parsed, never the key.
func (r onboardIssue) run(c *cli.Context, s commandSpec) error {
	ob := r.Onboarding
	var order []string // onboard's -d come before the user's flags (certbot's -w/-d pairing)
	if !r.RegisterOnly {
		for _, d := range ob.Domains {
			order = append(order, "-d", d)
		}
	}
	cmd := &cli.Command{
		Name: s.name, Flags: commandFlags(s.name), HideHelp: true, HideHelpCommand: true, UseShortOptionHandling: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErrorf("%s: %w", s.name, err) },
		Action: func(cc *cli.Context) error {
			if cc.NArg() > 0 {
				return usageErrorf("unexpected argument %q: certonly flags go after \"--\"", cc.Args().First())
			}
			if err := r.preset(cc); err != nil {
				return err
			}
			return invokeWith(cc, s, append(order, r.CertonlyFlags...), func(o *manager.Config) error {
				eab, err := manager.LoadEAB(ob.EAB.KeyID, string(ob.EAB.HMACKey), "", cc.String("eab-hmac-alg"))
				o.EAB = eab
				return err
			})
		},
	}
	cc := cli.NewContext(c.App, nil, nil)
	cc.Context = c.Context
	return cmd.Run(cc, append([]string{s.name}, r.CertonlyFlags...)...)
}

// preset sets onboard's own values on the parsed flags: the server, and for
// certonly the names and the lineage name (unless the user gave one), and
// the e-mail.
func (r onboardIssue) preset(cc *cli.Context) error {
	ob := r.Onboarding
	set := [][2]string{{flgServer, ob.Server.URL}}
	if !r.RegisterOnly {
		for _, d := range ob.Domains {
			set = append(set, [2]string{flgDomains, d})
		}
		if !cc.IsSet(flgCertName) {
			set = append(set, [2]string{flgCertName, ob.CertName})
		}
	}
	if r.Email != "" {
		set = append(set, [2]string{flgEmail, r.Email})
	}
	for _, kv := range set {
		if err := cc.Set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("set --%s: %w", kv[0], err)
		}
	}
	return nil
}
