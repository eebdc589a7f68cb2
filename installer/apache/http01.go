package apache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/b64url"
)

// ChallengeDir holds the key authorizations served (certbot's
// <work>/http_challenges).
func (a *Apache) ChallengeDir() string { return filepath.Join(a.cfg.WorkDir, "http_challenges") }

func (a *Apache) challengeConf(which string) string {
	return filepath.Join(a.cfg.ChallengeLocation, "le_http_01_challenge_"+which+".conf")
}

// Present implements installer.Installer: it records the challenge.
func (a *Apache) Present(ctx context.Context, domain, token, keyAuth string) error {
	if !b64url.IsToken(token, 1, 1024) {
		return fmt.Errorf("apache: refusing a malformed challenge token for %s", domain)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied {
		return errors.New("apache: a challenge was presented after the configuration was written; present all before waiting")
	}
	a.pending = append(a.pending, challenge{domain, token, keyAuth})
	return nil
}

// Wait implements installer.Installer: the first call writes every challenge
// (certbot's ApacheHttp01.perform) and reloads gracefully.
func (a *Apache) Wait(ctx context.Context, domain, token, keyAuth string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.applied {
		a.applied = true
		a.applyErr = a.apply(ctx)
	}
	return a.applyErr
}

// CleanUp implements installer.Installer.
func (a *Apache) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending = slices.DeleteFunc(a.pending, func(c challenge) bool { return c.token == token && c.domain == domain })
	if len(a.pending) > 0 || !a.applied {
		return nil
	}
	a.applied, a.applyErr = false, nil
	if err := a.rev.RevertTemporary(); err != nil {
		return fmt.Errorf("apache: remove the challenge configuration: %w", err)
	}
	if err := a.load(ctx); err != nil {
		return err
	}
	return a.Reload(ctx)
}

const (
	preTmpl = `RewriteEngine on
RewriteRule ^/\.well-known/acme-challenge/([A-Za-z0-9-_=]+)$ %s/$1 [END]
`
	postTmpl = `<Directory %s>
    Require all granted
</Directory>
<Location /.well-known/acme-challenge>
    Require all granted
</Location>
`
)

func (a *Apache) apply(ctx context.Context) error {
	fail := func(err error) error {
		if rerr := a.rev.RevertTemporary(); rerr != nil {
			err = fmt.Errorf("%w (and reverting failed: %v)", err, rerr)
		}
		_ = a.load(ctx)
		return err
	}
	port := strconv.Itoa(a.cfg.HTTPPort)
	if err := a.ensureListen(port, false); err != nil {
		return fail(err)
	}
	for _, m := range []string{"rewrite", "authz_core"} {
		if err := a.enableMod(ctx, m, true); err != nil {
			return fail(err)
		}
	}
	if err := a.writeKeyAuths(); err != nil {
		return fail(err)
	}
	sel := a.challengeVHosts(port)
	if len(sel) == 0 {
		return fail(fmt.Errorf("apache: unable to find a virtual host listening on port %s, which is needed to prove to the CA that you control the domain; add a virtual host for port %s", port, port))
	}
	pre, post := a.challengeConf("pre"), a.challengeConf("post")
	for _, v := range sel {
		ind := bodyIndent(v.Node)
		v.Node.Children = append([]*Node{newLine(v.File, ind, "Include", pre)}, v.Node.Children...)
		v.Node.Children = append(v.Node.Children, newLine(v.File, ind, "Include", post))
	}
	if err := a.rev.AddNewFiles(true, pre, post); err != nil {
		return fail(err)
	}
	if err := installer.WriteFile(pre, []byte(fmt.Sprintf(preTmpl, a.ChallengeDir())), 0o644); err != nil {
		return fail(err)
	}
	if err := installer.WriteFile(post, []byte(fmt.Sprintf(postTmpl, a.ChallengeDir())), 0o644); err != nil {
		return fail(err)
	}
	if err := a.write(ctx, true, "HTTP Challenge\n"); err != nil {
		return fail(err)
	}
	if err := a.Reload(ctx); err != nil {
		err = fail(err)
		if rerr := a.Reload(context.WithoutCancel(ctx)); rerr != nil {
			a.cfg.Logger.Error("apache reload after reverting the challenge failed", slog.String("error", rerr.Error()))
		}
		return err
	}
	return nil
}

// writeKeyAuths writes each pending key authorization into the challenge
// directory, registered as new files of the temporary checkpoint.
func (a *Apache) writeKeyAuths() error {
	if err := os.MkdirAll(a.ChallengeDir(), 0o755); err != nil {
		return fmt.Errorf("apache: couldn't create the root for http-01 challenges: %w", err)
	}
	for _, c := range a.pending {
		p := filepath.Join(a.ChallengeDir(), c.token)
		if err := a.rev.AddNewFiles(true, p); err != nil {
			return err
		}
		if err := installer.WriteFile(p, []byte(c.keyAuth), 0o644); err != nil {
			return fmt.Errorf("apache: %w", err)
		}
	}
	return nil
}

// challengeVHosts selects the virtual hosts that get the challenge includes:
// those naming a pending domain; with one of them on the port also every
// unnamed one (certbot #8890), else every plain vhost on the port.
func (a *Apache) challengeVHosts(port string) []*VHost {
	var sel []*VHost
	found := false
	for _, c := range a.pending {
		for _, v := range a.vhosts {
			if inNames(v.Names(), c.domain) && !slices.Contains(sel, v) {
				sel = append(sel, v)
				found = found || v.port(port)
			}
		}
	}
	for _, v := range a.vhosts {
		if slices.Contains(sel, v) {
			continue
		}
		if found && v.Name == "" || !found && !v.SSL && v.port(port) {
			sel = append(sel, v)
		}
	}
	return sel
}
