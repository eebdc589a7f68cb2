package main

// acmectl schedule install|remove|status: the front-end of package schedule
// (flags, the certbot prompt, output, exit codes). Everything below works on
// a root directory ("/" on the real system, --root for packaging and tests);
// with --root systemctl never runs.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/schedule"
)

// Flag names of the schedule command (the global ones come from flags.go).
const (
	flgSchedRoot    = "root"
	flgSchedBinary  = "binary"
	flgSchedReplace = "replace-certbot"
	flgSchedRestore = "restore-certbot"
)

const statusTimeLayout = "2006-01-02 15:04:05 MST"

// scheduleCommand is "acmectl schedule install|remove|status".
func scheduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "install, remove or show scheduled renewal (systemd timer or cron)",
		Description: "install writes " + schedule.UnitDir + "/" + schedule.ServiceName + " and " + schedule.TimerName +
			" (twice a day, RandomizedDelaySec=1h, Persistent=true) when systemd runs, else " + schedule.CronPath +
			"; both run '<acmectl> renew -q'. --replace-certbot disables certbot's own timer or cron entry so the" +
			" two never race; remove --restore-certbot hands renewal back to certbot.",
		Flags: scheduleFlags(""),
		Subcommands: []*cli.Command{
			{Name: "install", Usage: "schedule 'acmectl renew -q' twice a day", Flags: scheduleFlags("install"), Action: scheduleInstall},
			{Name: "remove", Usage: "remove the timer or cron entry install wrote", Flags: scheduleFlags("remove"), Action: scheduleRemove},
			{Name: "status", Usage: "show what is scheduled, the next run and the last result", Flags: scheduleFlags("status"), Action: scheduleStatus},
		},
	}
}

// scheduleFlags are the flags of the schedule command ("") and of its
// subcommands. The common ones are on both, so that "acmectl -n schedule
// install" (certbot's flag order, moved by normalizeArgs) works too; read
// them with givenString/givenBool.
func scheduleFlags(sub string) []cli.Flag {
	pass := "passed on to renew when given"
	fs := []cli.Flag{
		&cli.StringFlag{Name: flgSchedRoot, Usage: "work in this staging root instead of / (packaging, tests); never runs systemctl"},
		&cli.BoolFlag{Name: flgNonInteractive, Aliases: []string{"n"}, Usage: "never ask"},
		&cli.BoolFlag{Name: flgQuiet, Aliases: []string{"q"}, Usage: "print nothing but errors"},
		&cli.StringFlag{Name: flgConfigDir, Usage: pass},
		&cli.StringFlag{Name: flgWorkDir, Usage: pass + "; status reads " + schedule.LastRunFile + " there", DefaultText: defaultWorkDir},
		&cli.StringFlag{Name: flgLogsDir, Usage: pass + "; status reads letsencrypt.log there", DefaultText: defaultLogsDir},
		&cli.StringFlag{Name: flgCABundle, Usage: pass},
	}
	switch sub {
	case "install":
		fs = append(fs,
			&cli.StringFlag{Name: flgSchedBinary, Usage: "acmectl binary the timer runs (default: this executable)"},
			&cli.BoolFlag{Name: flgSchedReplace, Usage: "disable certbot's own timer or cron entry (needed with -n)"},
		)
	case "remove":
		fs = append(fs, &cli.BoolFlag{Name: flgSchedRestore, Usage: "re-enable certbot's timer or cron entry that install --replace-certbot disabled"})
	}
	return fs
}

// givenIn returns the innermost context where flag name (or an alias) was
// given; nil when none.
func givenIn(c *cli.Context, names ...string) *cli.Context {
	for _, p := range c.Lineage() {
		for _, n := range p.LocalFlagNames() {
			for _, want := range names {
				if n == want {
					return p
				}
			}
		}
	}
	return nil
}

func givenString(c *cli.Context, name string) string {
	if p := givenIn(c, name); p != nil {
		return p.String(name)
	}
	return ""
}

func givenBool(c *cli.Context, name string, aliases ...string) bool {
	if p := givenIn(c, append([]string{name}, aliases...)...); p != nil {
		return p.Bool(name)
	}
	return false
}

// scheduleHost is the host of --root: a staged one, or the real system.
func scheduleHost(c *cli.Context) (*schedule.Host, error) {
	root := givenString(c, flgSchedRoot)
	if root == "" {
		return &schedule.Host{Root: "/"}, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, usageErrorf("schedule: --root %q: %v", root, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, usageErrorf("schedule: --root %s is not a directory", root)
	}
	return &schedule.Host{Root: abs, Staged: true}, nil
}

// schedulePermHint adds what to do to a permission error.
func schedulePermHint(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (run as root, or stage into a directory with --root DIR)", err)
	}
	return err
}

func appStdout(c *cli.Context) io.Writer {
	if c.App.Writer != nil {
		return c.App.Writer
	}
	return os.Stdout
}

func appStderr(c *cli.Context) io.Writer {
	if c.App.ErrWriter != nil {
		return c.App.ErrWriter
	}
	return os.Stderr
}

// reportActions prints what was done, one line each, unless -q.
func reportActions(c *cli.Context, did []schedule.Action) {
	if givenBool(c, flgQuiet, "q") {
		return
	}
	for _, d := range did {
		fmt.Fprintln(appStdout(c), d)
	}
}

// installOptions reads install's flags; the binary defaults to this executable.
func installOptions(c *cli.Context) (schedule.InstallOptions, error) {
	o := schedule.InstallOptions{Binary: givenString(c, flgSchedBinary), ReplaceCertbot: givenBool(c, flgSchedReplace)}
	if o.Binary == "" {
		bin, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("schedule install: find this executable: %w (pass --binary)", err)
		}
		if strings.HasPrefix(bin, filepath.Clean(os.TempDir())+string(filepath.Separator)) {
			fmt.Fprintf(appStderr(c), "Warning: the timer will run %s, which looks temporary (go run?); pass --binary /usr/local/bin/acmectl\n", bin)
		}
		o.Binary = bin
	}
	for _, f := range []struct {
		dst  *string
		name string
	}{{&o.ConfigDir, flgConfigDir}, {&o.WorkDir, flgWorkDir}, {&o.LogsDir, flgLogsDir}, {&o.CABundle, flgCABundle}} {
		v := givenString(c, f.name)
		if a, err := filepath.Abs(v); err == nil && v != "" {
			v = a
		}
		*f.dst = v
	}
	if err := o.Validate(); err != nil { // a *schedule.ValueError
		return o, usageErrorf("schedule install: %w", err)
	}
	return o, nil
}

// askReplaceCertbot asks, on a terminal and without -n/-q, whether to
// disable certbot's active scheduling.
func askReplaceCertbot(c *cli.Context, found []schedule.CertbotEntry) bool {
	in, _ := c.App.Reader.(*os.File) // urfave sets os.Stdin by default
	if in == nil || givenBool(c, flgNonInteractive, "n", "noninteractive") || givenBool(c, flgQuiet, "q") || !isTerminal(in) {
		return false
	}
	errw := appStderr(c)
	fmt.Fprintln(errw, "certbot renews these certificates itself:")
	for _, f := range found {
		if f.Active {
			fmt.Fprintln(errw, "  "+f.String())
		}
	}
	fmt.Fprint(errw, "Disable it so that only acmectl renews? (y/N): ")
	ans, _ := bufio.NewReader(in).ReadString('\n')
	ans = strings.ToLower(strings.TrimSpace(ans))
	return ans == "y" || ans == "yes"
}

func scheduleInstall(c *cli.Context) error {
	h, err := scheduleHost(c)
	if err != nil {
		return err
	}
	o, err := installOptions(c)
	if err != nil {
		return err
	}
	if found := h.Certbot(); schedule.CertbotActive(found) && !o.ReplaceCertbot {
		o.ReplaceCertbot = askReplaceCertbot(c, found)
	}
	did, err := h.Install(c.Context, o)
	reportActions(c, did)
	if err != nil {
		return schedulePermHint(err)
	}
	if schedule.CertbotActive(h.Certbot()) {
		fmt.Fprintln(appStderr(c), "Warning: certbot's own renewal is still scheduled; both will renew. "+
			"Run 'acmectl schedule install --replace-certbot' to disable certbot's.")
	}
	return nil
}

func scheduleRemove(c *cli.Context) error {
	h, err := scheduleHost(c)
	if err != nil {
		return err
	}
	did, err := h.Remove(c.Context, schedule.RemoveOptions{RestoreCertbot: givenBool(c, flgSchedRestore)})
	reportActions(c, did)
	if err != nil {
		return schedulePermHint(err)
	}
	if len(did) == 0 && !givenBool(c, flgQuiet, "q") {
		fmt.Fprintln(appStdout(c), "nothing to remove")
	}
	return nil
}

func scheduleStatus(c *cli.Context) error {
	h, err := scheduleHost(c)
	if err != nil {
		return err
	}
	o := schedule.StatusOptions{WorkDir: givenString(c, flgWorkDir), LogsDir: givenString(c, flgLogsDir)}
	if o.WorkDir == "" {
		o.WorkDir = defaultWorkDir
	}
	if o.LogsDir == "" {
		o.LogsDir = defaultLogsDir
	}
	writeScheduleStatus(appStdout(c), h.Status(c.Context, o))
	return nil
}

// writeScheduleStatus prints schedule status's report.
func writeScheduleStatus(w io.Writer, st *schedule.Status) {
	if t := st.Timer; t != nil {
		enabled := "not enabled (run: systemctl enable --now " + schedule.TimerName + ")"
		if t.Enabled {
			enabled = "enabled"
		}
		fmt.Fprintf(w, "Scheduler: systemd timer %s, %s\n", t.Path, enabled)
		if t.ServiceMissing {
			fmt.Fprintf(w, "  FAIL: %s is missing; run acmectl schedule install again\n", t.ServicePath)
		} else {
			fmt.Fprintf(w, "  runs: %s\n", t.ExecStart)
		}
		switch {
		case t.Next.IsZero():
			fmt.Fprintf(w, "  next run: unknown\n")
		case t.NextFromSystemd:
			fmt.Fprintf(w, "  next run: %s (from systemctl)\n", t.Next.Format(statusTimeLayout))
		default:
			fmt.Fprintf(w, "  next run: %s (plus a random delay of up to %s)\n", t.Next.Format(statusTimeLayout), t.RandomizedDelay)
		}
	}
	if cr := st.Cron; cr != nil {
		fmt.Fprintf(w, "Scheduler: cron %s\n", cr.Path)
		for _, j := range cr.Jobs {
			if j.Err != nil {
				fmt.Fprintf(w, "  FAIL: %v\n", j.Err)
				continue
			}
			fmt.Fprintf(w, "  runs: %s (as %s)\n", j.Entry.Command, j.Entry.User)
			if !j.Next.IsZero() {
				fmt.Fprintf(w, "  next run: %s\n", j.Next.Format(statusTimeLayout))
			}
		}
	}
	if !st.Installed() {
		fmt.Fprintf(w, "Scheduler: none installed (run: acmectl schedule install)\n")
	}
	writeLastRunLine(w, st.LastRun)
	if len(st.Certbot) == 0 {
		fmt.Fprintf(w, "certbot: no timer or cron entry of its own\n")
	}
	for _, f := range st.Certbot {
		fmt.Fprintf(w, "certbot: %s\n", f)
	}
	if schedule.CertbotActive(st.Certbot) && st.Installed() {
		fmt.Fprintf(w, "  WARN: certbot's renewal is still scheduled next to acmectl's; run: acmectl schedule install --replace-certbot\n")
	}
}

// writeLastRunLine prints the "Last run:" line of schedule status.
func writeLastRunLine(w io.Writer, lr schedule.LastRunStatus) {
	switch r := lr.Run; {
	case lr.ReadErr != nil:
		fmt.Fprintf(w, "Last run: %v\n", lr.ReadErr)
	case r != nil:
		res := "OK"
		if !r.OK {
			res = "FAILED"
		}
		if r.DryRun {
			res += " (dry run)"
		}
		fmt.Fprintf(w, "Last run: %s %s", r.Time.Local().Format(statusTimeLayout), res)
		if len(r.Renewed) > 0 {
			fmt.Fprintf(w, ", renewed %s", strings.Join(r.Renewed, ", "))
		}
		if len(r.Failed) > 0 {
			fmt.Fprintf(w, ", failed %s", strings.Join(r.Failed, ", "))
		}
		if r.Error != "" {
			fmt.Fprintf(w, ": %s", r.Error)
		}
		fmt.Fprintf(w, " (%s)\n", lr.File)
	case lr.LogErr != nil:
		fmt.Fprintf(w, "Last run: unknown (%v)\n", lr.LogErr)
	case lr.Log.File == "":
		fmt.Fprintf(w, "Last run: none recorded in %s\n", lr.LogsDir)
	case lr.Log.LastError != "":
		fmt.Fprintf(w, "Last run: %s FAILED: %s (%s)\n", lr.Log.Modified.Local().Format(statusTimeLayout), lr.Log.LastError, lr.Log.File)
	default:
		fmt.Fprintf(w, "Last run: %s, no errors logged (%s)\n", lr.Log.Modified.Local().Format(statusTimeLayout), lr.Log.File)
	}
}
