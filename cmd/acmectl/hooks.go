package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// hookTimeout bounds one hook command.
const hookTimeout = 10 * time.Minute

// Hook kinds, also the renewal-hooks/<kind> directory names.
const (
	hookPre    = "pre"
	hookDeploy = "deploy"
	hookPost   = "post"
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
// Hook commands run through /bin/sh -c, as certbot's do (operators write
// "systemctl reload nginx && ..."); directory hooks are executed directly.
// A failing hook is reported and counted but does not stop the run.
type hooks struct {
	configDir string
	noDirs    bool
	stderr    io.Writer
	log       *slog.Logger
	timeout   time.Duration

	preMu    sync.Mutex // held while pre hooks run: nothing is attempted before they finish
	mu       sync.Mutex
	preRan   map[string]bool
	dirPre   bool
	post     []string
	failures int
}

func newHooks(configDir string, noDirs bool, stderr io.Writer, log *slog.Logger) *hooks {
	return &hooks{configDir: configDir, noDirs: noDirs, stderr: stderr, log: log, timeout: hookTimeout, preRan: map[string]bool{}}
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
		h.runDir(ctx, hookPre, nil)
	}
	if runCmd {
		h.runShell(ctx, "pre-hook", cmd, nil)
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
func (h *hooks) Deploy(ctx context.Context, cmd, liveDir string, domains []string) {
	env := deployEnv(liveDir, domains)
	if !h.noDirs {
		h.runDir(ctx, hookDeploy, env)
	}
	if cmd != "" {
		h.runShell(ctx, "deploy-hook", cmd, env)
	}
}

// Post runs the post directory hooks and every remembered post hook once.
func (h *hooks) Post(ctx context.Context, renewed, failed []string) {
	env := postEnv(renewed, failed)
	if !h.noDirs {
		h.runDir(ctx, hookPost, env)
	}
	h.mu.Lock()
	cmds := append([]string(nil), h.post...)
	h.mu.Unlock()
	for _, c := range cmds {
		h.runShell(ctx, "post-hook", c, env)
	}
}

func deployEnv(liveDir string, domains []string) []string {
	return []string{"RENEWED_LINEAGE=" + liveDir, "RENEWED_DOMAINS=" + strings.Join(domains, " ")}
}

func postEnv(renewed, failed []string) []string {
	return []string{"RENEWED_DOMAINS=" + strings.Join(renewed, " "), "FAILED_DOMAINS=" + strings.Join(failed, " ")}
}

// dirHooks lists the executables in renewal-hooks/<kind> in byte order,
// skipping names ending in "~" and non-executable files (as certbot does).
func dirHooks(configDir, kind string) []string {
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

func (h *hooks) runDir(ctx context.Context, kind string, env []string) {
	for _, p := range dirHooks(h.configDir, kind) {
		h.run(ctx, kind+"-hook "+p, exec.Command(p), env)
	}
}

func (h *hooks) runShell(ctx context.Context, what, cmd string, env []string) {
	h.run(ctx, what+" command "+strconvQuote(cmd), exec.Command("/bin/sh", "-c", cmd), env)
}

func (h *hooks) run(ctx context.Context, what string, c *exec.Cmd, env []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, c.Args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	h.log.LogAttrs(ctx, slog.LevelInfo, "running hook", slog.String("hook", what))
	err := cmd.Run()
	if s := strings.TrimSpace(out.String()); s != "" {
		h.log.LogAttrs(ctx, slog.LevelInfo, "hook output", slog.String("hook", what), slog.String("output", s))
		fmt.Fprintf(h.stderr, "Output from %s:\n%s\n", what, s)
	}
	if err != nil {
		h.mu.Lock()
		h.failures++
		h.mu.Unlock()
		h.log.LogAttrs(ctx, slog.LevelError, "hook failed", slog.String("hook", what), slog.String("error", err.Error()))
		fmt.Fprintf(h.stderr, "Hook %s failed: %v\n", what, err)
	}
}

func strconvQuote(s string) string { return "'" + s + "'" }
