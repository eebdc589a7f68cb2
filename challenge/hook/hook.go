// Package hook runs certbot-style manual hooks (--manual-auth-hook and
// --manual-cleanup-hook) to answer http-01 or dns-01 challenges. Each hook is a
// shell command run as certbot runs it, `/bin/sh -c CMD`, with the CERTBOT_*
// environment of certbot's plugins/manual.py. It does not print instructions or
// wait for a human: without an auth hook there is nothing to run.
//
// Unlike certbot, which only logs a failing auth hook, a non-zero exit aborts the
// challenge and the error carries the hook's stderr.
package hook

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/internal/hookrun"
)

// Challenge types a Hook answers.
const (
	HTTP01 = "http-01"
	DNS01  = "dns-01"
)

// DefaultTimeout bounds one hook run when Hook.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Hook answers one challenge type with shell hooks. It implements the Solver and
// Planner contracts of package acme. Hooks run one at a time, in Present order,
// as certbot runs them.
//
// Set the exported fields before the first call; a Hook is safe for concurrent
// use afterwards.
type Hook struct {
	// Type is HTTP01 or DNS01; it decides CERTBOT_VALIDATION and CERTBOT_TOKEN.
	Type string
	// AuthHook is the shell command run by Present (required).
	AuthHook string
	// CleanupHook is the shell command run by CleanUp (optional).
	CleanupHook string
	// Timeout bounds each run; zero means DefaultTimeout.
	Timeout time.Duration
	// Shell runs the commands; empty means /bin/sh.
	Shell string
	// Env is the base environment of the hooks; nil means os.Environ().
	Env []string
	// Secrets names environment variables never passed to the hooks; Redact
	// lists secret values replaced in their captured output (package hookrun).
	Secrets, Redact []string
	// Logger receives an Info record per run with the hook's stdout. Nil discards.
	Logger *slog.Logger

	sem chan struct{} // serializes runs; created by init

	once    sync.Once
	mu      sync.Mutex
	all     []string            // every identifier of this issuance (Plan)
	started int                 // Present calls so far
	env     map[string][]string // domain+"\x00"+token → CERTBOT_* of the auth run (+ output)
}

// NewHTTP01 returns a Hook answering http-01: CERTBOT_VALIDATION is the key
// authorization, served by something the hook sets up at
// /.well-known/acme-challenge/$CERTBOT_TOKEN.
func NewHTTP01(authHook, cleanupHook string) *Hook {
	return &Hook{Type: HTTP01, AuthHook: authHook, CleanupHook: cleanupHook}
}

// NewDNS01 returns a Hook answering dns-01: CERTBOT_VALIDATION is the TXT value
// base64url(SHA-256(keyAuth)) for _acme-challenge.$CERTBOT_DOMAIN.
func NewDNS01(authHook, cleanupHook string) *Hook {
	return &Hook{Type: DNS01, AuthHook: authHook, CleanupHook: cleanupHook}
}

func (h *Hook) init() {
	h.once.Do(func() {
		h.sem = make(chan struct{}, 1)
		h.env = map[string][]string{}
	})
}

// Plan records every identifier of the issuance, in Present order, for
// CERTBOT_ALL_DOMAINS and CERTBOT_REMAINING_CHALLENGES, and resets the count of
// presented challenges. Without Plan, CERTBOT_ALL_DOMAINS is the one identifier
// and CERTBOT_REMAINING_CHALLENGES is 0.
func (h *Hook) Plan(ctx context.Context, domains []string) error {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append([]string(nil), domains...)
	h.started = 0
	return nil
}

// Validation returns CERTBOT_VALIDATION for keyAuth: keyAuth itself for http-01,
// base64url(SHA-256(keyAuth)) for dns-01 (RFC 8555 §8.3, §8.4).
func Validation(challengeType, keyAuth string) string {
	if challengeType == DNS01 {
		sum := sha256.Sum256([]byte(keyAuth))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return keyAuth
}

// Present runs the auth hook for domain and waits for it to exit. A non-zero
// exit, a timeout, or a cancelled ctx returns an error naming the hook, with its
// stderr. CleanUp still runs the cleanup hook afterwards.
func (h *Hook) Present(ctx context.Context, domain, token, keyAuth string) error {
	if h.Type != HTTP01 && h.Type != DNS01 {
		return fmt.Errorf("manual hook: unsupported challenge type %q", h.Type)
	}
	if strings.TrimSpace(h.AuthHook) == "" {
		return errors.New("manual hook: an auth hook is required (--manual-auth-hook)")
	}
	h.init()
	if err := h.acquire(ctx, "manual-auth-hook", domain); err != nil {
		return err
	}
	defer h.release()
	h.mu.Lock()
	all := h.all
	if len(all) == 0 {
		all = []string{domain}
	}
	remaining := len(all) - h.started - 1
	if remaining < 0 {
		remaining = 0
	}
	h.started++
	vars := []string{
		"CERTBOT_DOMAIN=" + domain,
		"CERTBOT_IDENTIFIER=" + domain,
		"CERTBOT_VALIDATION=" + Validation(h.Type, keyAuth),
		"CERTBOT_ALL_DOMAINS=" + strings.Join(all, ","),
		"CERTBOT_ALL_IDENTIFIERS=" + strings.Join(all, ","),
		"CERTBOT_REMAINING_CHALLENGES=" + strconv.Itoa(remaining),
	}
	if h.Type == HTTP01 {
		vars = append(vars, "CERTBOT_TOKEN="+token)
	}
	key := domain + "\x00" + token
	h.env[key] = vars // recorded first, so CleanUp runs even if the hook fails
	h.mu.Unlock()

	out, err := h.run(ctx, "manual-auth-hook", h.AuthHook, domain, vars)
	h.mu.Lock()
	if v, ok := h.env[key]; ok {
		h.env[key] = append(v, "CERTBOT_AUTH_OUTPUT="+strings.TrimSpace(out))
	}
	h.mu.Unlock()
	return err
}

// CleanUp runs the cleanup hook with the environment of the matching auth run
// plus CERTBOT_AUTH_OUTPUT (the auth hook's stdout, trimmed). It returns nil when
// there is no cleanup hook or Present was not called for domain and token.
func (h *Hook) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	h.init()
	key := domain + "\x00" + token
	h.mu.Lock()
	vars, ok := h.env[key]
	delete(h.env, key)
	h.mu.Unlock()
	if !ok || strings.TrimSpace(h.CleanupHook) == "" {
		return nil
	}
	if err := h.acquire(ctx, "manual-cleanup-hook", domain); err != nil {
		return err
	}
	defer h.release()
	_, err := h.run(ctx, "manual-cleanup-hook", h.CleanupHook, domain, vars)
	return err
}

// acquire waits for the previous hook run to finish: hooks run one at a time.
func (h *Hook) acquire(ctx context.Context, name, domain string) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s for %s: %w", name, domain, ctx.Err())
	}
}

func (h *Hook) release() { <-h.sem }

// run executes cmd through the shell with vars added to the base environment
// (inherited CERTBOT_* and acmectl's secret variables are dropped first; see
// package hookrun) and returns its stdout.
func (h *Hook) run(ctx context.Context, name, cmd, domain string, vars []string) (string, error) {
	r := hookrun.Runner{Timeout: h.Timeout, Shell: h.Shell, Env: h.Env, Secrets: h.Secrets, Redact: h.Redact, Logger: h.Logger}
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	res := r.ShellCommand(ctx, name+" for "+domain, cmd, vars)
	return res.Stdout, res.Err
}
