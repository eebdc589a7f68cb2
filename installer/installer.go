// Package installer holds what the nginx and Apache installers share: the
// interface the engine calls (authenticate http-01, deploy a lineage, enhance,
// test, reload, roll back), certbot-compatible checkpoints of every file an
// installer changes (Reverter), and certbot's TLS options files.
//
// It is not a web server driver itself: installer/nginx and installer/apache
// implement Installer. It does not import acme: the authenticator half is the
// plain-string solver shape acme declares (Present, Wait, CleanUp).
//
// The sequence certbot runs (certbot/_internal/client.py deploy_certificate and
// enhance_config) is Install; the engine calls it once per lineage and Reload once
// per run.
package installer

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Lineage names the files of one certbot lineage, as live/<name>/ holds them.
// Paths are absolute.
type Lineage struct {
	Name      string
	Cert      string // live/<name>/cert.pem
	Chain     string // live/<name>/chain.pem
	Fullchain string // live/<name>/fullchain.pem
	Key       string // live/<name>/privkey.pem
}

// LiveLineage returns the paths certbot's live/<name>/ directory holds under
// configDir.
func LiveLineage(configDir, name string) Lineage {
	d := strings.TrimRight(configDir, "/") + "/live/" + name + "/"
	return Lineage{Name: name, Cert: d + "cert.pem", Chain: d + "chain.pem", Fullchain: d + "fullchain.pem", Key: d + "privkey.pem"}
}

// Enhancement is one of certbot's --redirect, --hsts, --uir, --staple-ocsp.
type Enhancement string

const (
	Redirect   Enhancement = "redirect"    // certbot "redirect"
	HSTS       Enhancement = "hsts"        // certbot "ensure-http-header" Strict-Transport-Security
	UIR        Enhancement = "uir"         // certbot "ensure-http-header" Upgrade-Insecure-Requests
	StapleOCSP Enhancement = "staple-ocsp" // certbot "staple-ocsp"
)

// Enhancements lists them in the order certbot applies them (client.py
// enhance_config: hsts, redirect, staple, uir).
var Enhancements = []Enhancement{HSTS, Redirect, StapleOCSP, UIR}

// ErrAlreadyPresent is wrapped by Enhance when the enhancement is already set
// (certbot's PluginEnhancementAlreadyPresent); callers log it and go on.
var ErrAlreadyPresent = errors.New("enhancement already present")

// ErrNotSupported is wrapped by Enhance for an enhancement the installer does not
// apply (nginx has no UIR in certbot 2.1's plugin; we do, see installer/nginx).
var ErrNotSupported = errors.New("enhancement not supported")

// ConfigError is a problem in a web server's configuration file, at a line when
// known (Line 0 means the whole file).
type ConfigError struct {
	File string
	Line int
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Installer configures one web server the way certbot's plugin of the same name
// does. One Installer serves one run: it is safe for concurrent Present, Wait and
// CleanUp calls (acme calls them per identifier), and every other method is
// called from one goroutine. Prepare must come first and Close last.
//
// Files change on disk only inside a checkpoint (Reverter): the temporary one for
// challenges, the in-progress one for Deploy and Enhance until Save finalizes it.
// Recover reverts both; Rollback(n) undoes n finalized checkpoints.
type Installer interface {
	// Name is "nginx" or "apache", the renewal-conf value of authenticator/installer.
	Name() string

	// Prepare checks the control binary, runs the config test, reverts what an
	// interrupted run left (certbot's recovery_routine), takes the server-root
	// lock, reads the configuration and installs the TLS options file and DH
	// parameters into the config dir.
	Prepare(ctx context.Context) error
	// PrepareRollback is Prepare for rollback: it checks the control binary,
	// takes the lock and reverts what an interrupted run left, but neither
	// tests nor reads the configuration — rollback must work on the broken
	// configuration it repairs (certbot lets a misconfigured plugin roll back).
	PrepareRollback(ctx context.Context) error

	// Present records one http-01 challenge; nothing is written yet.
	Present(ctx context.Context, domain, token, keyAuth string) error
	// Wait writes every recorded challenge in one temporary checkpoint, tests the
	// configuration and reloads once (the first Wait of a batch does it), then
	// waits until the server answers the key authorization for domain locally.
	Wait(ctx context.Context, domain, token, keyAuth string) error
	// CleanUp forgets one challenge; when the last one is gone the temporary
	// checkpoint is reverted and the server reloaded. It runs also after
	// cancellation (the caller passes a fresh context).
	CleanUp(ctx context.Context, domain, token, keyAuth string) error

	// Deploy points the server blocks / virtual hosts answering names at the
	// lineage's fullchain and key (adding TLS listeners, the options include and
	// DH parameters as certbot does), or updates them in place. Changes go to the
	// in-progress checkpoint; call Save to finalize.
	Deploy(ctx context.Context, names []string, l Lineage) error
	// Enhance applies e for names. An enhancement already set wraps
	// ErrAlreadyPresent and changes nothing.
	Enhance(ctx context.Context, names []string, e Enhancement, l Lineage) error
	// Save finalizes the in-progress checkpoint under title (certbot's
	// finalize_checkpoint) and reports whether there was one to finalize.
	Save(title string) (saved bool, err error)

	// ConfigTest runs nginx -t / apache2ctl configtest.
	ConfigTest(ctx context.Context) error
	// Reload runs ConfigTest and then reloads the server gracefully (starting it
	// when it is not running), and waits until the new configuration serves.
	Reload(ctx context.Context) error

	// Recover reverts the temporary and in-progress checkpoints (what a failed or
	// interrupted run changed) and rereads the configuration.
	Recover(ctx context.Context) error
	// Rollback undoes the n newest finalized checkpoints.
	Rollback(ctx context.Context, n int) error

	// Deployed reports whether every one of names is already served by a
	// server block / virtual host that points at l's fullchain and key with
	// TLS on (a renewal then only reloads). It never changes anything.
	Deployed(names []string, l Lineage) bool
	// Names lists the names the configuration serves (server_name,
	// ServerName, ServerAlias), for certbot's "Which names would you like to
	// activate HTTPS for?" question; wildcards and regexes are left out.
	Names() []string

	// Close releases the server-root lock.
	Close() error
}

// InstallOptions choose the enhancements Install applies after the deployment.
type InstallOptions struct {
	Enhancements []Enhancement
}

// Install runs certbot's deploy-and-enhance sequence for one lineage
// (client.py deploy_certificate, enhance_config): Deploy, Save("Deployed ACME
// Certificate"), and when reload is true Reload; each enhancement, Save("Add
// enhancement X"), Reload. On a failure before the checkpoint is saved the
// in-progress changes are reverted (Recover); a failed test or reload after it
// rolls the checkpoint back; either way the server is reloaded with the
// configuration it had, and the first error is returned.
//
// With reload false (a renew run that reloads once at the end) the caller must
// call Reload and, if it fails, roll back the checkpoints Install made.
// Install returns how many checkpoints it finalized.
func Install(ctx context.Context, in Installer, names []string, l Lineage, opts InstallOptions, reload bool) (checkpoints int, err error) {
	if err := in.Deploy(ctx, names, l); err != nil {
		return restore(ctx, in, fmt.Errorf("could not install certificate: %w", err), 0, reload)
	}
	saved := 0
	if ok, err := in.Save("Deployed ACME Certificate"); err != nil {
		return restore(ctx, in, err, 0, reload)
	} else if ok {
		saved++
	}
	if reload || len(opts.Enhancements) > 0 {
		if err := in.ConfigTest(ctx); err != nil {
			return restore(ctx, in, fmt.Errorf("the configuration with the new certificate failed the test, restored: %w", err), saved, reload)
		}
	}
	n, err := enhance(ctx, in, names, l, opts.Enhancements, saved, reload)
	return saved + n, err
}

// Enhance runs certbot's enhance_config for an installed lineage: each
// enhancement in certbot's order, Save("Add enhancement X"), ConfigTest; then
// one Reload when reload is true. A failure restores the configuration as
// Install does. It returns how many checkpoints it finalized.
func Enhance(ctx context.Context, in Installer, names []string, l Lineage, es []Enhancement, reload bool) (checkpoints int, err error) {
	return enhance(ctx, in, names, l, es, 0, reload)
}

// enhance applies es after earlier checkpoints of the same operation (which a
// failure rolls back too) and reloads.
func enhance(ctx context.Context, in Installer, names []string, l Lineage, es []Enhancement, earlier int, reload bool) (int, error) {
	saved := 0
	for _, e := range ordered(es) {
		if err := in.Enhance(ctx, names, e, l); err != nil && !errors.Is(err, ErrAlreadyPresent) {
			return restore(ctx, in, fmt.Errorf("unable to set the %s enhancement: %w", e, err), earlier+saved, reload)
		}
		if ok, err := in.Save("Add enhancement " + enhancementLabel(e)); err != nil {
			return restore(ctx, in, err, earlier+saved, reload)
		} else if ok {
			saved++
		}
		if err := in.ConfigTest(ctx); err != nil {
			return restore(ctx, in, fmt.Errorf("the configuration with enhancement %s failed the test, restored: %w", e, err), earlier+saved, reload)
		}
	}
	if reload {
		if err := in.Reload(ctx); err != nil {
			return restore(ctx, in, fmt.Errorf("reload failed, previous configuration restored: %w", err), earlier+saved, reload)
		}
	}
	return saved, nil
}

// restore undoes a failed operation: the in-progress changes (Recover), the
// checkpoints it finalized (Rollback), and reloads the server with the
// configuration it had when reload is set. It returns err, with the restore's
// own failure when there was one.
func restore(ctx context.Context, in Installer, err error, saved int, reload bool) (int, error) {
	// Recover may fail only to reread a configuration that is still broken;
	// the rollback that follows repairs it and rereads it.
	rerr := in.Recover(ctx)
	if saved > 0 {
		rerr = in.Rollback(ctx, saved)
	}
	if rerr == nil && reload {
		rerr = in.Reload(ctx)
	}
	if rerr != nil {
		return 0, fmt.Errorf("%w (and restoring the configuration failed: %v)", err, rerr)
	}
	return 0, err
}

func ordered(es []Enhancement) []Enhancement {
	var out []Enhancement
	for _, e := range Enhancements {
		for _, x := range es {
			if x == e {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func enhancementLabel(e Enhancement) string {
	switch e {
	case HSTS:
		return "Strict-Transport-Security"
	case UIR:
		return "Upgrade-Insecure-Requests"
	}
	return string(e)
}
