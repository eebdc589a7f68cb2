package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/internal/argparse"
	"github.com/acmectl/acmectl/internal/clusterexec"
	"github.com/acmectl/acmectl/internal/complete"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

// env is what a command handler gets: the validated configuration, the
// output streams, the logger, the terminal state and the engine.
type env struct {
	ctx      context.Context // cancelled by SIGINT/SIGTERM (interruptContext)
	o        *manager.Config
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
	stdinTTY bool
	stdin    *bufio.Reader
	now      func() time.Time
	warnings []string
	out      *textObserver
	verb     string
}

// handler is one command's implementation; it returns errors, never exits.
type handler func(ctx context.Context, e *env) error

// verbs are certbot's verbs (after argparse's aliases: auth is certonly,
// everything is run), each with its handler.
var verbs = map[string]handler{
	"run": runRun, "certonly": runCertonly, "renew": runRenew, "certificates": runCertificates,
	"delete": runDelete, "revoke": runRevoke, "register": runRegister, "update_account": runUpdateAccount,
	"unregister": runUnregister, "show_account": runShowAccount, "reconfigure": runReconfigure,
	"install": runInstall, "enhance": runEnhance, "rollback": runRollback,
	"plugins": runPlugins, "update_symlinks": runUpdateSymlinks,
}

// newApp is acmectl's own commands (schedule, doctor, dns-persist, scm, completion,
// gendocs), which urfave/cli parses; certbot's verbs go through argparse
// (runCertbot). It behaves the same whatever argv[0] is.
func newApp() *cli.App {
	return &cli.App{
		Name:            "acmectl",
		HelpName:        "acmectl",
		Usage:           "a certbot-compatible ACME client in one binary",
		Version:         version,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{err}
		},
		Commands: []*cli.Command{completionCommand(), scmCommand(), scheduleCommand(), doctorCommand(), dnsPersistCommand(), clusterCommand(), gendocsCommand()},
	}
}

var cmdParser = sync.OnceValue(func() *argparse.Parser { return argparse.MustNew(manager.CommandLine()) })

// ownCommandNames are the names of newApp's commands (TestOwnCommandNames
// keeps them equal), so that a certbot command line — every run from cron —
// does not build the urfave/cli application it does not use: each start
// pays for the memory it touches.
var ownCommandNames = []string{"completion", "scm", "schedule", "doctor", "dns-persist", "cluster", "gendocs"}

// runApp runs argv: the completion protocol first (it must never run
// anything else), acmectl's own commands when the first word that is no
// option or option value names one (moved to the front, so "acmectl -n
// schedule install" works), else certbot's command line. app is nil for
// newApp's application, built only when one of its commands runs; tests
// pass theirs to capture its output.
func runApp(app *cli.App, args []string) error {
	var stdout, stderr io.Writer = os.Stdout, os.Stderr
	if app != nil && app.Writer != nil {
		stdout = app.Writer
	}
	if app != nil && app.ErrWriter != nil {
		stderr = app.ErrWriter
	}
	rest := args[1:]
	if len(rest) > 0 && rest[0] == complete.Command {
		return complete.Run(stdout, completionSource(), rest[1:])
	}
	if i := ownCommand(rest); i >= 0 {
		if app == nil {
			app = newApp()
		}
		moved := append([]string{args[0], rest[i]}, rest[:i]...)
		return app.Run(append(moved, rest[i+1:]...))
	}
	return runCertbot(context.Background(), stdout, stderr, progName(args[0]), rest, nil, "", nil)
}

// ownCommand returns the index of the first positional word of args when it
// names one of acmectl's own commands, else -1.
func ownCommand(args []string) int {
	if pos := positionals(args); len(pos) > 0 && slices.Contains(ownCommandNames, args[pos[0]]) {
		return pos[0]
	}
	return -1
}

// positionals returns the indexes of the words of args that are neither an
// option nor an option's value by certbot's rules, up to "--".
func positionals(args []string) []int {
	p := cmdParser()
	var out []int
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		if m, isOpt := p.Classify(args[i]); isOpt {
			if m.NeedsValue {
				i++
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// progName is the program name help and --version show: "certbot" when
// invoked through a certbot symlink, else "acmectl".
func progName(argv0 string) string {
	if strings.HasPrefix(filepath.Base(argv0), "certbot") {
		return "certbot"
	}
	return "acmectl"
}

// versionLine is --version's output. As certbot its first word and
// version are certbot's ("certbot 5.6.0"), so "awk '{print $2}'", "cut -d'
// ' -f2" and "grep -o '[0-9.]*' | head -1" read the certbot version scripts
// test for; acmectl's own version follows on the same line.
func versionLine(prog string) string {
	if prog == "certbot" {
		return fmt.Sprintf("certbot %s (acmectl %s)", argparse.CertbotVersion, version)
	}
	return fmt.Sprintf("acmectl %s (certbot %s command line)", version, argparse.CertbotVersion)
}

// runCertbot parses args (argv without the program) by certbot's rules,
// cli.ini first, and runs the verb; adjust, when not nil, has the last word
// on the validated configuration (scm onboard's EAB in memory), and run,
// when not nil, replaces the verb's handler (tests). own names an acmectl
// command that takes certbot's options (dns-persist; "" for none): its help
// topic, its log line and no certbot verb.
func runCertbot(ctx context.Context, stdout, stderr io.Writer, prog string, args []string, adjust func(*manager.Config) error, own string, run handler) error {
	p := cmdParser()
	words, warnings, err := manager.CLIArgs(p, args)
	if err != nil {
		return err
	}
	res, err := p.Parse(words)
	var ue *argparse.UsageError
	switch {
	case errors.As(err, &ue):
		return usageErrorf("%s (see '%s --help')", ue.Msg, prog)
	case err != nil:
		return err
	case res.Help != nil:
		return p.WriteHelp(stdout, prog, cmp.Or(own, res.Help.Topic))
	case res.Version:
		_, err := fmt.Fprintln(stdout, versionLine(prog))
		return err
	}
	o, err := manager.LoadConfig(manager.Parsed{R: res}, append([]string{prog}, args...))
	if err != nil {
		return err
	}
	verb := cmp.Or(own, res.Verb)
	if err := manager.CheckVerb(o, verb); err != nil {
		return err
	}
	if o.Store != "" {
		if err := clusterexec.HandOver(); err != nil { // a build without the cluster runs the cluster's build
			return err
		}
	}
	if o.UserAgent == "" {
		o.UserAgent = defaultUserAgent()
		if o.UserAgentComment != "" {
			o.UserAgent += " (" + o.UserAgentComment + ")"
		}
	}
	if adjust != nil {
		if err := adjust(o); err != nil {
			return err
		}
	}
	if run == nil {
		run = verbs[verb]
	}
	return invoke(ctx, stdout, stderr, verb, o, warnings, run)
}

// invoke opens the log and runs the verb's handler under a context
// cancelled by SIGINT/SIGTERM.
func invoke(ctx context.Context, stdout, errw io.Writer, verb string, o *manager.Config, warnings []string, run handler) error {
	ctx, stop := interruptContext(ctx)
	defer stop()
	e := &env{
		ctx:      ctx,
		o:        o,
		stdinTTY: isTerminal(os.Stdin),
		stdin:    bufio.NewReader(os.Stdin),
		now:      time.Now,
		warnings: warnings,
		verb:     verb,
	}
	// Output is buffered (renew over 10,000 lineages would otherwise make a
	// write system call per line); stderr only for renew and only when it is
	// not a terminal, so progress and prompts still show at once.
	bo := bufio.NewWriterSize(stdout, 64<<10)
	defer bo.Flush()
	e.stdout = &lockedWriter{w: bo}
	if verb == "renew" && !isTerminal(os.Stderr) {
		be := bufio.NewWriterSize(errw, 64<<10)
		defer be.Flush()
		errw = be
	}
	e.stderr = &lockedWriter{w: errw}
	logFile, err := openLog(o.LogsDir, o.MaxLogBackups)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w (run as root, or set --config-dir, --work-dir and --logs-dir to writable paths)", err)
		}
		return err
	}
	defer logFile.Close()
	e.log = newLogger(logFile, e.stderr, o.Quiet, o.Verbose)
	e.out = newTextObserver(e.stdout, e.stderr, o.Quiet, isTerminal(os.Stderr) && !o.Quiet && o.Verbose == 0)
	defer e.out.endLine()
	e.log.LogAttrs(ctx, slog.LevelDebug, "acmectl starting", slog.String("version", version),
		slog.String("command", verb), slog.String("argv0", os.Args[0]))
	for _, w := range warnings {
		e.log.LogAttrs(ctx, slog.LevelWarn, w)
	}
	if !o.Quiet && verb != "certificates" && verb != "dns-persist" || o.Verbose > 0 {
		fmt.Fprintf(e.stderr, "Saving debug log to %s\n", logFile.Name())
	}
	if o.NoVerifySSL {
		const w = "Warning: TLS certificate verification of the ACME server is disabled (--no-verify-ssl); use --ca-bundle to trust a private CA instead."
		fmt.Fprintln(e.stderr, w)
		e.log.LogAttrs(ctx, slog.LevelWarn, w)
	}
	if err := run(ctx, e); err != nil {
		e.log.LogAttrs(ctx, slog.LevelDebug, "command failed", slog.String("error", err.Error()))
		return interrupted(ctx, err)
	}
	return nil
}

// printf writes human output to stdout unless -q.
func (e *env) printf(format string, a ...any) {
	if !e.o.Quiet {
		fmt.Fprintf(e.stdout, format, a...)
	}
}

// errorf writes to stderr (also in -q: errors are always shown).
func (e *env) errorf(format string, a ...any) { fmt.Fprintf(e.stderr, format, a...) }

// interactive reports whether prompts are allowed.
func (e *env) interactive() bool { return e.o.Interactive(e.stdinTTY) }

const dashes = "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -"

// engine builds the engine for this command over st, reporting to the
// command's observer and asking through the terminal.
func (e *env) engine(st storage.Storage) *manager.Manager {
	return &manager.Manager{Config: e.o, Store: st, Log: e.log, Observer: e.out, Prompter: prompter{e},
		Terminal: e.stdinTTY, Now: e.now}
}

// openStore opens --config-dir (see manager.OpenTree).
func openStore(e *env) (*storage.Tree, error) { return manager.OpenTree(e.o, e.log) }

// openLockedStore opens the tree and holds certbot's .certbot.lock for the
// whole command (account commands: no parallel writers wanted).
func openLockedStore(ctx context.Context, e *env) (*storage.Tree, func(), error) {
	st, err := openStore(e)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := st.LockTree(ctx)
	return st, unlock, err
}
