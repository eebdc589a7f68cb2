package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

func init() {
	// -v is --verbose (certbot); the version flag gets no short alias.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
}

// env is what a command handler gets: the validated configuration, the
// output streams, the logger, the terminal state and the engine.
type env struct {
	o        *manager.Config
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
	stdinTTY bool
	stdin    *bufio.Reader
	now      func() time.Time
	warnings []string
	out      *textObserver
	args     []string // the command's positional arguments
}

// handler is one command's implementation; it returns errors, never exits.
type handler func(ctx context.Context, e *env) error

type commandSpec struct {
	name, usage, description string
	aliases                  []string
	run                      handler
	hidden                   bool
	// noLog: the command does not open letsencrypt.log.
	noLog bool
}

func commandSpecs() []commandSpec {
	return []commandSpec{
		{name: "certonly", usage: "obtain or renew a certificate, do not install it", run: runCertonly, description: helpCertonly},
		{name: "renew", usage: "renew every certificate that is due (or --cert-name)", run: runRenew, description: helpRenew},
		{name: "certificates", usage: "list the certificates acmectl and certbot manage", run: runCertificates, description: helpCertificates},
		{name: "delete", usage: "delete a certificate lineage (--cert-name)", run: runDelete, description: helpDelete},
		{name: "revoke", usage: "revoke a certificate (--cert-path or --cert-name)", run: runRevoke, description: helpRevoke},
		{name: "register", usage: "create an ACME account", run: runRegister, description: helpRegister},
		{name: "update_account", aliases: []string{"update-account"}, usage: "change the account's e-mail or key (--rollover-key)", run: runUpdateAccount, description: helpUpdateAccount},
		{name: "unregister", usage: "deactivate the ACME account", run: runUnregister, description: helpUnregister},
		{name: "show_account", aliases: []string{"show-account"}, usage: "show the account's URL, contact and thumbprint", run: runShowAccount, description: helpShowAccount},
		{name: "reconfigure", usage: "change a lineage's renewal options after a test issuance", run: runReconfigure, description: helpReconfigure},
		{name: "cluster", usage: "share certificates among servers through etcd: join|leave|status|sync", run: runCluster, description: helpCluster},
		{name: "run", usage: "obtain and install (not supported: use certonly)", run: runRun, hidden: true},
	}
}

// newApp builds the command line with every command's flags. It behaves the
// same whatever argv[0] is, so "ln -s acmectl certbot" works.
func newApp() *cli.App { return newAppFor(nil) }

// newAppFor builds the command line for running args: only the command that
// runs gets certbot's flag table (every command accepts every flag, so building
// them all was a third of acmectl's start-up). A nil args and the commands of
// needsAllFlags get them for every command.
func newAppFor(args []string) *cli.App {
	app := &cli.App{
		Name:                   "acmectl",
		HelpName:               "acmectl",
		Usage:                  "a certbot-compatible ACME client in one binary",
		UsageText:              "acmectl [command] [options]   (also as 'certbot' through a symlink)",
		Version:                version,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		HideHelpCommand:        false,
		Description:            helpApp,
		ExitErrHandler:         func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{err}
		},
		CommandNotFound: func(c *cli.Context, name string) {},
	}
	for _, s := range commandSpecs() {
		s := s
		app.Commands = append(app.Commands, &cli.Command{
			Name:                   s.name,
			Aliases:                s.aliases,
			Usage:                  s.usage,
			Description:            s.description,
			Hidden:                 s.hidden,
			UseShortOptionHandling: true,
			OnUsageError: func(_ *cli.Context, err error, _ bool) error {
				return &usageError{fmt.Errorf("%s: %w", s.name, err)}
			},
			Action: func(c *cli.Context) error { return invoke(c, s) },
		})
	}
	specs := app.Commands
	name, all := "", args == nil
	if !all {
		if a := normalizeArgs(args, app.Commands); len(a) > 1 {
			name = a[1]
		}
		all = needsAllFlags(name)
	}
	for _, c := range specs {
		if all || c.HasName(name) {
			c.Flags = commandFlags(c.Name)
		}
	}
	app.Commands = append(app.Commands, completionCommand())
	app.Commands = append(app.Commands, scmCommand(), scheduleCommand(), doctorCommand(), gendocsCommand())
	app.Action = func(c *cli.Context) error {
		if c.Args().Len() > 0 {
			return usageErrorf("unknown command %q; see acmectl --help", c.Args().First())
		}
		return cli.ShowAppHelp(c)
	}
	return app
}

// normalizeArgs moves the first command word to args[1] so that flags before
// it reach the command (certbot's parser has no command-position rules). With
// flags but no command, "run" is inserted (certbot's default command).
func normalizeArgs(args []string, commands []*cli.Command) []string {
	if len(args) < 2 {
		return args
	}
	isCmd := func(s string) bool {
		for _, c := range commands {
			if c.HasName(s) {
				return true
			}
		}
		return s == "help" || s == "h"
	}
	rest := args[1:]
	sawFlag := false
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				sawFlag = true
				continue
			}
			switch name {
			case "help", "h", "version", "generate-bash-completion":
				if i == 0 {
					return args
				}
				continue
			}
			sawFlag = true
			if p, ok := manager.ParamByName[name]; ok && p.Kind != manager.KindBool && p.Kind != manager.KindCount {
				i++ // skip the value, even one starting with '-'
			}
			continue
		}
		if isCmd(a) {
			if i == 0 {
				return args
			}
			out := []string{args[0], a}
			out = append(out, rest[:i]...)
			return append(out, rest[i+1:]...)
		}
		return args // a positional word that is not a command: let the parser complain
	}
	if sawFlag {
		return append([]string{args[0], "run"}, rest...)
	}
	return args
}

// Run is newApp().Run with certbot's argument order accepted.
func runApp(app *cli.App, args []string) error {
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.Metadata["argv"] = args
	args = clusterArgs(normalizeArgs(args, app.Commands))
	keepFlagsOf(app, args)
	return app.Run(args)
}

// needsAllFlags reports whether command name needs the flags of other
// commands: help and the docs show them, doctor --dry-run runs renew and scm
// onboard runs certonly in-process (doctorRunNested, scm.go).
func needsAllFlags(name string) bool {
	switch name {
	case "help", "h", "gendocs", "completion", "doctor", "scm":
		return true
	}
	return false
}

// keepFlagsOf drops the flags of the commands that will not run in this
// process: urfave/cli's Setup renders every categorized flag of every command
// (for help), which was a third of acmectl's start-up. The commands of
// needsAllFlags keep them all.
func keepFlagsOf(app *cli.App, args []string) {
	name := ""
	if len(args) > 1 {
		name = args[1]
	}
	if needsAllFlags(name) {
		return
	}
	for _, c := range app.Commands {
		if !c.HasName(name) {
			c.Flags = nil
		}
	}
}

// invoke merges cli.ini, validates the options, opens the log and runs the
// handler under a context cancelled by SIGINT/SIGTERM.
func invoke(c *cli.Context, s commandSpec) error {
	argv, _ := c.App.Metadata["argv"].([]string)
	if argv == nil {
		argv = os.Args
	}
	return invokeWith(c, s, argv, nil)
}

// invokeWith is invoke with the command line argv (for the order of -w and
// -d) given, and adjust, when not nil, having the last word on the validated
// configuration: scm onboard hands its EAB credentials over that way (set
// Config.EAB), never in argv.
func invokeWith(c *cli.Context, s commandSpec, argv []string, adjust func(*manager.Config) error) error {
	warnings, err := manager.ApplyCLIIni(c, c.String(flgConfig))
	if err != nil {
		return &usageError{err}
	}
	o, err := manager.LoadConfig(c, argv)
	if err != nil {
		return err
	}
	if o.UserAgent == "" {
		o.UserAgent = defaultUserAgent()
	}
	if adjust != nil {
		if err := adjust(o); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{
		o:        o,
		stdout:   c.App.Writer,
		stdinTTY: isTerminal(os.Stdin),
		stdin:    bufio.NewReader(os.Stdin),
		now:      time.Now,
		warnings: warnings,
		args:     c.Args().Slice(),
	}
	if e.stdout == nil {
		e.stdout = os.Stdout
	}
	errw := c.App.ErrWriter
	if errw == nil {
		errw = os.Stderr
	}
	// Output is buffered (renew over 10,000 lineages would otherwise make a
	// write system call per line); stderr only for renew and only when it is
	// not a terminal, so progress and prompts still show at once.
	bo := bufio.NewWriterSize(e.stdout, 64<<10)
	defer bo.Flush()
	e.stdout = &lockedWriter{w: bo}
	if s.name == "renew" && !isTerminal(os.Stderr) {
		be := bufio.NewWriterSize(errw, 64<<10)
		defer be.Flush()
		errw = be
	}
	e.stderr = &lockedWriter{w: errw}
	var logFile *os.File
	if !s.noLog {
		logFile, err = openLog(o.LogsDir, o.MaxLogBackups)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("%w (run as root, or set --config-dir, --work-dir and --logs-dir to writable paths)", err)
			}
			return err
		}
		defer logFile.Close()
	}
	var lf io.Writer
	if logFile != nil {
		lf = logFile
	}
	e.log = newLogger(lf, e.stderr, o.Quiet, o.Verbose)
	e.out = newTextObserver(e.stdout, e.stderr, o.Quiet, isTerminal(os.Stderr) && !o.Quiet && o.Verbose < 2)
	e.log.LogAttrs(ctx, slog.LevelDebug, "acmectl starting", slog.String("version", version),
		slog.String("command", s.name), slog.String("argv0", os.Args[0]))
	for _, w := range warnings {
		e.log.LogAttrs(ctx, slog.LevelWarn, w)
	}
	if logFile != nil && !o.Quiet && s.name != "certificates" || (logFile != nil && o.Verbose > 0) {
		fmt.Fprintf(e.stderr, "Saving debug log to %s\n", logFile.Name())
	}
	if err := s.run(ctx, e); err != nil {
		e.log.LogAttrs(ctx, slog.LevelDebug, "command failed", slog.String("error", err.Error()))
		return err
	}
	return nil
}

func runRun(context.Context, *env) error {
	return usageErrorf("no command given; acmectl does not install certificates into web servers: use 'acmectl certonly' (with --deploy-hook to reload the server)")
}

// printf writes human output to stdout unless -q.
func (e *env) printf(format string, a ...any) {
	if e.o.Quiet {
		return
	}
	fmt.Fprintf(e.stdout, format, a...)
}

// errorf writes to stderr (also in -q: errors are always shown).
func (e *env) errorf(format string, a ...any) {
	fmt.Fprintf(e.stderr, format, a...)
}

// interactive reports whether prompts are allowed.
func (e *env) interactive() bool { return e.o.Interactive(e.stdinTTY) }

// ask prints a question on stderr and reads one line from stdin.
func (e *env) ask(question string) (string, error) {
	fmt.Fprint(e.stderr, question)
	line, err := e.stdin.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read answer: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// confirm asks a yes/no question; non-interactive runs take def.
func (e *env) confirm(question string, def bool) (bool, error) {
	if !e.interactive() {
		return def, nil
	}
	suffix := " (Y)es/(N)o: "
	for range 5 {
		a, err := e.ask(question + suffix)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(a) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		case "":
			return def, nil
		}
	}
	return def, nil
}

const dashes = "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -"

// engine builds the engine for this command over st, reporting to the
// command's observer and asking through the terminal.
func (e *env) engine(st storage.Storage) *manager.Manager {
	return &manager.Manager{Config: e.o, Store: st, Log: e.log, Observer: e.out, Prompter: prompter{e},
		Terminal: e.stdinTTY, Now: e.now}
}

// prompter is the engine's Prompter over the command's terminal.
type prompter struct{ e *env }

func (p prompter) Interactive() bool                        { return p.e.interactive() }
func (p prompter) Ask(q string) (string, error)             { return p.e.ask(q) }
func (p prompter) Confirm(q string, def bool) (bool, error) { return p.e.confirm(q, def) }

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
	if err != nil {
		return nil, nil, err
	}
	return st, unlock, nil
}
