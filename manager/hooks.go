package manager

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/acmectl/acmectl/internal/hookrun"
)

// Hook kinds, also the renewal-hooks/<kind> directory names.
const (
	HookPre    = "pre"
	HookDeploy = "deploy"
	HookPost   = "post"
)

// hooks runs certbot's hooks for one command run:
//   - pre: each distinct command (from the flags and from every lineage's
//     saved pre_hook) once, plus renewal-hooks/pre/*, all before the first
//     certificate is attempted;
//   - deploy: after each certificate saved, with RENEWED_LINEAGE and
//     RENEWED_DOMAINS, plus renewal-hooks/deploy/*;
//   - post: each distinct command once at the end, plus renewal-hooks/post/*,
//     with RENEWED_DOMAINS and FAILED_DOMAINS.
//
// Every hook runs through the one runner (package hookrun): /bin/sh -c for
// commands, directly for directory hooks, without acmectl's secrets in its
// environment. A failing hook is reported and counted but does not stop the
// run.
type hooks struct {
	m      *Manager
	noDirs bool
	runner *hookrun.Runner

	preMu    sync.Mutex // held while pre hooks run: nothing is attempted before they finish
	mu       sync.Mutex
	preRan   map[string]bool
	dirPre   bool
	post     []string
	failures int
	deployed bool    // the installer deployed at least one lineage
	install  []error // the installer's failures (also counted in failures)
}

// installed reports an installer step as a hook run of kind "installer".
func (h *hooks) installed(lineage, step string, err error) {
	h.mu.Lock()
	if err != nil {
		h.failures++
		h.install = append(h.install, err)
	} else if step == "deploy" {
		h.deployed = true
	}
	h.mu.Unlock()
	if err != nil {
		h.m.emit(Event{Kind: EventHook, Lineage: lineage, Err: err,
			Hook: &HookResult{Kind: "installer", Name: "installer " + step, Err: err, Cause: err, Lineage: lineage}})
	}
}

// installErr joins the installer's failures (nil when none).
func (h *hooks) installErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return errors.Join(h.install...)
}

func (h *hooks) deployedAny() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.deployed
}

// newHooks returns the hook state of one run.
func (m *Manager) newHooks() *hooks {
	return &hooks{m: m, noDirs: m.Config.NoDirHooks, runner: m.hookRunner(), preRan: map[string]bool{}}
}

// hookRunner is the runner for this run's hooks: acmectl's secret variables
// removed, their values (and the EAB key) redacted from the output.
func (m *Manager) hookRunner() *hookrun.Runner {
	r := &hookrun.Runner{Secrets: SecretEnv, Combined: true, Logger: m.log()}
	for _, name := range SecretEnv {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			r.Redact = append(r.Redact, v)
		}
	}
	if e := m.Config.EAB; e != nil {
		r.Redact = append(r.Redact, base64.RawURLEncoding.EncodeToString(e.HMACKey),
			base64.URLEncoding.EncodeToString(e.HMACKey), base64.StdEncoding.EncodeToString(e.HMACKey))
	}
	return r
}

// Failures is the number of hooks that failed so far.
func (h *hooks) Failures() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failures
}

// Pre runs cmd (if not run yet in this run) and, the first time, the pre
// directory hooks.
func (h *hooks) Pre(ctx context.Context, cmd string) {
	h.preMu.Lock()
	defer h.preMu.Unlock()
	h.mu.Lock()
	runDir := !h.dirPre && !h.noDirs
	h.dirPre = true
	runCmd := cmd != "" && !h.preRan[cmd]
	if runCmd {
		h.preRan[cmd] = true
	}
	h.mu.Unlock()
	if runDir {
		h.runDir(ctx, HookPre, "", nil)
	}
	if runCmd {
		h.runShell(ctx, HookPre, "", cmd, nil)
	}
}

// AddPost remembers a post hook to run once at the end.
func (h *hooks) AddPost(cmd string) {
	if cmd == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !contains(h.post, cmd) {
		h.post = append(h.post, cmd)
	}
}

// Deploy runs the deploy directory hooks and cmd for one saved lineage.
func (h *hooks) Deploy(ctx context.Context, lineage, cmd, liveDir string, domains []string) {
	env := []string{"RENEWED_LINEAGE=" + liveDir, "RENEWED_DOMAINS=" + strings.Join(domains, " ")}
	if !h.noDirs {
		h.runDir(ctx, HookDeploy, lineage, env)
	}
	if cmd != "" {
		h.runShell(ctx, HookDeploy, lineage, cmd, env)
	}
}

// Post runs the post directory hooks and every remembered post hook once.
func (h *hooks) Post(ctx context.Context, renewed, failed []string) {
	env := []string{"RENEWED_DOMAINS=" + strings.Join(renewed, " "), "FAILED_DOMAINS=" + strings.Join(failed, " ")}
	if !h.noDirs {
		h.runDir(ctx, HookPost, "", env)
	}
	h.mu.Lock()
	cmds := append([]string(nil), h.post...)
	h.mu.Unlock()
	for _, c := range cmds {
		h.runShell(ctx, HookPost, "", c, env)
	}
}

// DirHooks lists the executables in renewal-hooks/<kind> in byte order,
// skipping names ending in "~" and non-executable files (as certbot does).
func DirHooks(configDir, kind string) []string {
	dir := filepath.Join(configDir, "renewal-hooks", kind)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, "~") {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (h *hooks) runDir(ctx context.Context, kind, lineage string, env []string) {
	for _, p := range DirHooks(h.m.Config.ConfigDir, kind) {
		h.report(kind, lineage, h.runner.Exec(context.WithoutCancel(ctx), kind+"-hook "+p, p, env))
	}
}

func (h *hooks) runShell(ctx context.Context, kind, lineage, cmd string, env []string) {
	name := kind + "-hook command '" + cmd + "'"
	h.report(kind, lineage, h.runner.ShellCommand(context.WithoutCancel(ctx), name, cmd, env))
}

func (h *hooks) report(kind, lineage string, res hookrun.Result) {
	if res.Err != nil {
		h.mu.Lock()
		h.failures++
		h.mu.Unlock()
	}
	h.m.emit(Event{Kind: EventHook, Lineage: lineage, Err: res.Err,
		Hook: &HookResult{Kind: kind, Name: res.Name, Output: res.Output(), Err: res.Err, Cause: res.Cause, Lineage: lineage}})
}
