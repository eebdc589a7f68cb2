// Package hookrun is the one process runner for every hook acmectl runs:
// pre, deploy and post hooks, the renewal-hooks directories, and the manual
// auth and cleanup hooks. It runs a shell command (`/bin/sh -c CMD`, as certbot
// does) or an executable, and it owns what every hook run must get right:
//
//   - a timeout that kills the whole process group, so a hook's children die too;
//   - no wait beyond WaitDelay for pipes held by a background grandchild (a hook
//     that starts a daemon with `&` succeeds when it exits 0);
//   - bounded captured output (MaxOutput bytes of stdout and of stderr);
//   - a clean environment: inherited CERTBOT_*, RENEWED_* and FAILED_* variables
//     are dropped before the run's own are added, and acmectl's secret variables
//     (Runner.Secrets) never reach a hook;
//   - secret values (Runner.Redact) replaced in the captured output, so they are
//     never copied to a log.
//
// It does not decide which hooks run or when (the engine does), prints nothing
// and never imports the rest of acmectl.
package hookrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// MaxOutput bounds how much of a hook's stdout, and of its stderr, is kept.
const MaxOutput = 64 << 10

// DefaultTimeout bounds one run when Runner.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// WaitDelay is how long a run waits for output pipes after the hook exited.
const WaitDelay = 2 * time.Second

// ownPrefixes are the variables a run sets itself; inherited copies are dropped.
var ownPrefixes = []string{"CERTBOT_", "RENEWED_", "FAILED_"}

// Runner runs hooks. Set its fields before the first Run; it is safe for
// concurrent use afterwards.
type Runner struct {
	// Timeout bounds each run; zero means DefaultTimeout.
	Timeout time.Duration
	// Shell runs commands; empty means /bin/sh.
	Shell string
	// Env is the base environment; nil means os.Environ().
	Env []string
	// Secrets names environment variables removed from every hook's
	// environment (ACMECTL_EAB_HMAC_KEY, SCM_PASSWORD, ...).
	Secrets []string
	// Redact lists secret values replaced by "[redacted]" in captured output.
	Redact []string
	// Combined captures stderr into Stdout, interleaved as written (pre,
	// deploy and post hooks, whose output is shown as one block).
	Combined bool
	// Logger gets one Info record per run (name, duration, redacted output).
	// Nil discards.
	Logger *slog.Logger
}

// Result is the outcome of one run.
type Result struct {
	Name           string // what ran, for messages: "pre-hook command 'x'"
	Stdout, Stderr string // captured (bounded, redacted)
	Duration       time.Duration
	// Err is nil on exit status 0; otherwise it names the hook and says
	// why (exit status, timeout, cancellation), with the stderr.
	Err error
	// Cause is the process error behind Err ("exit status 1").
	Cause error
}

// Output is stdout and stderr together, trimmed.
func (r Result) Output() string {
	return strings.TrimSpace(strings.TrimSpace(r.Stdout) + "\n" + strings.TrimSpace(r.Stderr))
}

// ShellCommand runs cmd through the shell with vars added to the clean environment.
func (r *Runner) ShellCommand(ctx context.Context, name, cmd string, vars []string) Result {
	shell := r.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	return r.run(ctx, name, cmd, shell, []string{"-c", cmd}, vars)
}

// Exec runs the executable at path (renewal-hooks directories) with vars.
func (r *Runner) Exec(ctx context.Context, name, path string, vars []string) Result {
	return r.run(ctx, name, path, path, nil, vars)
}

// Environ is the environment a hook gets: the base without inherited
// CERTBOT_*/RENEWED_*/FAILED_* variables and without the secrets, plus vars.
func (r *Runner) Environ(vars []string) []string {
	base := r.Env
	if base == nil {
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		if !r.dropped(kv) {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

func (r *Runner) dropped(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	for _, p := range ownPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, s := range r.Secrets {
		if name == s {
			return true
		}
	}
	return false
}

func (r *Runner) run(ctx context.Context, name, what, path string, args, vars []string) Result {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	name, what = r.redact(name), r.redact(what)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, path, args...)
	c.Env = r.Environ(vars)
	var stdout, stderr limitedBuffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if r.Combined {
		c.Stderr = &stdout
	}
	// Kill the whole process group on timeout, so that a hook's children die
	// too, and do not wait forever for pipes held by a background grandchild.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = WaitDelay

	err := c.Run()
	if errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil && c.ProcessState.Success() {
		err = nil
	}
	res := Result{Name: name, Stdout: r.redact(stdout.String()), Stderr: r.redact(stderr.String()), Duration: time.Since(start)}
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "ran "+name, slog.Duration("duration", res.Duration),
		slog.String("stdout", strings.TrimSpace(res.Stdout)), slog.String("stderr", strings.TrimSpace(res.Stderr)))
	if err != nil {
		res.Cause = err
		res.Err = describe(ctx, err, name, what, timeout, start, strings.TrimSpace(res.Stderr))
	}
	return res
}

func describe(ctx context.Context, err error, name, what string, timeout time.Duration, start time.Time, stderr string) error {
	if stderr == "" {
		stderr = "(no stderr)"
	}
	var exitErr *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && time.Since(start) >= timeout:
		return fmt.Errorf("%s: timed out after %s: %s", name, timeout, stderr)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w: %s", name, ctx.Err(), stderr)
	case errors.As(err, &exitErr):
		return fmt.Errorf("%s: %q exited with status %d: %s", name, what, exitErr.ExitCode(), stderr)
	default:
		return fmt.Errorf("%s: run %q: %w", name, what, err)
	}
}

func (r *Runner) redact(s string) string {
	for _, v := range r.Redact {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// limitedBuffer keeps the first MaxOutput bytes written and discards the rest.
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := MaxOutput - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return l.b.String() }

var _ io.Writer = (*limitedBuffer)(nil)
