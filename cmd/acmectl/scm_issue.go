package main

// The last step of "acmectl scm onboard": register with the SCM account's
// EAB credentials and obtain the certificate, as a function call into
// certonly/register. This adapter goes once the engine (manager/) takes a
// typed issue request.

import (
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

// runOnboardIssue runs certonly (or register) in this process through
// certbot's command line: onboard's server, lineage name, names and e-mail
// first, then the user's flags after "--" (so a --cert-name there wins, and
// cli.ini cannot override onboard's values), with the EAB credentials set
// on the validated configuration, never in argv.
func runOnboardIssue(c *cli.Context, r onboardIssue) error { return r.run(c, nil) }

// run is runOnboardIssue with the verb's handler replaced by h (nil: none).
func (r onboardIssue) run(c *cli.Context, h handler) error {
	ob := r.Onboarding
	args := []string{r.command(), "--server", ob.Server.URL}
	if !r.RegisterOnly {
		args = append(args, "--cert-name", ob.CertName)
		for _, d := range ob.Domains {
			args = append(args, "-d", d)
		}
	}
	if r.Email != "" {
		args = append(args, "--email", r.Email)
	}
	args = append(args, r.CertonlyFlags...)
	return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", args, func(o *manager.Config) error {
		eab, err := manager.LoadEAB(ob.EAB.KeyID, string(ob.EAB.HMACKey), "", o.EABAlgorithm())
		o.EAB = eab
		return err
	}, "", h)
}
