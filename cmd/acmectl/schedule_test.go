package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/acmectl/acmectl/schedule"
	"github.com/acmectl/acmectl/schedule/scheduletest"
)

// runSchedule runs "acmectl schedule ARGS" through a minimal app holding
// only the schedule command (the CLI glue is what is tested).
func runSchedule(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli.App{Name: "acmectl", Writer: &out, ErrWriter: &errb, Commands: []*cli.Command{scheduleCommand()},
		ExitErrHandler: func(*cli.Context, error) {}}
	err := app.RunContext(t.Context(), append([]string{"acmectl", "schedule"}, args...))
	return out.String(), errb.String(), err
}

// certbotScheduled reports whether certbot's own timer or cron entry would
// run in the staged root.
func certbotScheduled(root string) bool {
	return (&schedule.Host{Root: root, Staged: true}).Renewal().CertbotActive()
}

// hostSummary is doctor's line on who renews in the staged root.
func hostSummary(root string) string {
	return (&schedule.Host{Root: root, Staged: true}).Renewal().Summary()
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	scheduletest.WriteFile(t, path, data, mode)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScheduleInstallSystemdUnitsVerify(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A binary path with a space and a % must survive quoting.
	odd := filepath.Join(t.TempDir(), "my bin%1", "acmectl")
	writeFile(t, odd, "#!/bin/sh\nexit 0\n", 0o755)

	for _, tc := range []struct {
		name, binary string
		extra        []string
		execSuffix   string
	}{
		{"plain", self, nil, " renew -q"},
		{"quoted path", odd, nil, " renew -q"},
		{"dirs", self, []string{"--config-dir", "/srv/le config"}, ` renew -q --config-dir "/srv/le config"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := scheduletest.Root(t, true)
			args := append([]string{"install", "--root", root, "-n", "--binary", tc.binary}, tc.extra...)
			out, _, err := runSchedule(t, args...)
			if err != nil {
				t.Fatalf("schedule install: %v", err)
			}
			svc := filepath.Join(root, "etc/systemd/system/acmectl-renew.service")
			tmr := filepath.Join(root, "etc/systemd/system/acmectl-renew.timer")
			if msg := scheduletest.SystemdVerify(t, svc, tmr); msg != "" {
				t.Fatalf("systemd-analyze verify:\n%s\nservice:\n%s", msg, readFile(t, svc))
			}
			timer := readFile(t, tmr)
			for _, want := range []string{"OnCalendar=*-*-* 00,12:00:00", "RandomizedDelaySec=1h", "Persistent=true", "WantedBy=timers.target"} {
				if !strings.Contains(timer, want) {
					t.Errorf("timer lacks %q:\n%s", want, timer)
				}
			}
			service := readFile(t, svc)
			exec := schedule.UnitValue(service, "ExecStart")
			if !strings.HasSuffix(exec, tc.execSuffix) {
				t.Errorf("ExecStart = %q, want <binary>%s", exec, tc.execSuffix)
			}
			link, err := os.Readlink(filepath.Join(root, "etc/systemd/system/timers.target.wants/acmectl-renew.timer"))
			if err != nil || link != "/etc/systemd/system/acmectl-renew.timer" {
				t.Errorf("timers.target.wants link = %q, %v", link, err)
			}
			if _, err := os.Stat(filepath.Join(root, "etc/cron.d/acmectl")); err == nil {
				t.Errorf("cron file written although systemd runs")
			}
			if !strings.Contains(out, "wrote /etc/systemd/system/acmectl-renew.timer") {
				t.Errorf("output does not say what was written:\n%s", out)
			}
		})
	}
}

func TestScheduleInstallCron(t *testing.T) {
	root := scheduletest.Root(t, false)
	bin := "/usr/local/bin/acmectl"
	if _, _, err := runSchedule(t, "install", "--root", root, "-n", "--binary", bin); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/acmectl-renew.timer")); err == nil {
		t.Errorf("timer written although systemd does not run")
	}
	data := readFile(t, filepath.Join(root, "etc/cron.d/acmectl"))
	lines := schedule.ActiveCronLines(data)
	if len(lines) != 1 {
		t.Fatalf("cron file has %d job lines, want 1:\n%s", len(lines), data)
	}
	e, err := schedule.ParseCronLine(lines[0], true)
	if err != nil {
		t.Fatalf("cron line does not parse: %v", err)
	}
	if e.User != "root" {
		t.Errorf("user = %q, want root", e.User)
	}
	if want := "test -x " + bin + " && " + bin + " renew -q"; e.Command != want {
		t.Errorf("command = %q, want %q", e.Command, want)
	}
	var mins, hours []int
	for i, ok := range e.Minute {
		if ok {
			mins = append(mins, i)
		}
	}
	for i, ok := range e.Hour {
		if ok {
			hours = append(hours, i)
		}
	}
	if len(mins) != 1 || len(hours) != 2 || hours[1]-hours[0] != 12 {
		t.Errorf("cron schedule minutes %v hours %v, want one minute, two hours 12 h apart", mins, hours)
	}
	// Next run: within 12 h, at that minute.
	now := time.Date(2026, 11, 28, 13, 20, 0, 0, time.UTC)
	next, ok := e.Next(now)
	if !ok || !next.After(now) || next.Sub(now) > 12*time.Hour || next.Minute() != mins[0] {
		t.Errorf("Next(%v) = %v, %v", now, next, ok)
	}
	// A file name with a dot is ignored by cron: the install must not use one.
	if strings.Contains(filepath.Base(schedule.CronPath), ".") {
		t.Errorf("cron.d file name %q has a dot", schedule.CronPath)
	}
	// Every SHELL/PATH line is NAME=value.
	for _, l := range strings.Split(data, "\n") {
		if strings.HasPrefix(l, "SHELL=") && l != "SHELL=/bin/sh" {
			t.Errorf("SHELL line %q", l)
		}
	}
}

func TestScheduleReplaceCertbotOnlyWhenAsked(t *testing.T) {
	for _, systemd := range []bool{true, false} {
		name := map[bool]string{true: "systemd", false: "cron"}[systemd]
		t.Run(name, func(t *testing.T) {
			root := scheduletest.CertbotRoot(t, systemd)
			before := scheduletest.Snapshot(t, root)

			// -n without --replace-certbot: certbot's scheduling is left alone, with a warning.
			_, stderr, err := runSchedule(t, "install", "--root", root, "-n", "--binary", "/usr/bin/acmectl")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr, "--replace-certbot") {
				t.Errorf("no warning about certbot's timer; stderr:\n%s", stderr)
			}
			after := scheduletest.Snapshot(t, root)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("install without --replace-certbot changed %s", k)
				}
			}
			st, _, err := runSchedule(t, "status", "--root", root)
			if err != nil || !strings.Contains(st, "WARN: certbot's renewal is still scheduled") {
				t.Errorf("status does not warn about two schedulers (%v):\n%s", err, st)
			}

			// --replace-certbot disables it.
			out, _, err := runSchedule(t, "install", "--root", root, "-n", "--binary", "/usr/bin/acmectl", "--replace-certbot")
			if err != nil {
				t.Fatal(err)
			}
			if f := (&schedule.Host{Root: root, Staged: true}).Certbot(); schedule.CertbotActive(f) {
				t.Errorf("certbot still active after --replace-certbot: %v\n%s", f, out)
			}
			if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/timers.target.wants/certbot.timer")); err == nil {
				t.Errorf("certbot.timer still enabled")
			}
			if l, err := os.Readlink(filepath.Join(root, "etc/systemd/system/certbot.timer")); err != nil || l != "/dev/null" {
				t.Errorf("certbot.timer not masked: %q, %v", l, err)
			}
			cron := readFile(t, filepath.Join(root, "etc/cron.d/certbot"))
			if len(schedule.ActiveCronLines(cron)) != 0 {
				t.Errorf("certbot cron still has active lines:\n%s", cron)
			}
			if got := readFile(t, filepath.Join(root, "etc/cron.d/certbot.acmectl-disabled")); got != before["etc/cron.d/certbot"] {
				t.Errorf("backup of certbot's cron file differs:\n%s", got)
			}
			if systemd {
				svc := filepath.Join(root, "etc/systemd/system/acmectl-renew.service")
				if _, err := os.Stat(svc); err != nil {
					t.Errorf("acmectl units not installed: %v", err)
				}
			}
			st, _, _ = runSchedule(t, "status", "--root", root)
			if strings.Contains(st, "WARN") || !strings.Contains(st, "masked") {
				t.Errorf("status after --replace-certbot:\n%s", st)
			}

			// remove --restore-certbot puts everything back as it was.
			if _, _, err := runSchedule(t, "remove", "--root", root, "--restore-certbot"); err != nil {
				t.Fatal(err)
			}
			restored := scheduletest.Snapshot(t, root)
			for k, v := range before {
				if restored[k] != v {
					t.Errorf("after remove --restore-certbot %s = %q, want %q", k, restored[k], v)
				}
			}
			for k := range restored {
				if _, ok := before[k]; !ok {
					t.Errorf("after remove --restore-certbot %s is left over", k)
				}
			}
		})
	}
}

// An admin's own certbot.timer in /etc is moved aside, not overwritten.
func TestScheduleReplaceCertbotEtcUnit(t *testing.T) {
	root := scheduletest.Root(t, true)
	unit := filepath.Join(root, "etc/systemd/system/certbot.timer")
	writeFile(t, unit, "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n", 0o644)
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system/timers.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/systemd/system/certbot.timer", filepath.Join(root, "etc/systemd/system/timers.target.wants/certbot.timer")); err != nil {
		t.Fatal(err)
	}
	before := scheduletest.Snapshot(t, root)
	if _, _, err := runSchedule(t, "install", "--root", root, "-n", "--binary", "/usr/bin/acmectl", "--replace-certbot"); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(unit); l != "/dev/null" {
		t.Errorf("certbot.timer not masked")
	}
	if got := readFile(t, unit+".acmectl-disabled"); got != before["etc/systemd/system/certbot.timer"] {
		t.Errorf("admin's unit not kept")
	}
	if _, _, err := runSchedule(t, "remove", "--root", root, "--restore-certbot"); err != nil {
		t.Fatal(err)
	}
	after := scheduletest.Snapshot(t, root)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("after restore %s = %q, want %q", k, after[k], v)
		}
	}
}

func TestScheduleStatus(t *testing.T) {
	root := scheduletest.Root(t, true)
	if _, _, err := runSchedule(t, "install", "--root", root, "-n", "--binary", "/usr/bin/acmectl"); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(root, "var/log/letsencrypt")
	work := filepath.Join(root, "var/lib/letsencrypt")

	out, _, err := runSchedule(t, "status", "--root", root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"systemd timer /etc/systemd/system/acmectl-renew.timer, enabled", "runs: /usr/bin/acmectl renew -q",
		"next run: ", "random delay of up to 1h", "Last run: none recorded", "certbot: no timer"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	// The newest letsencrypt.log: an error in it is the last result.
	writeFile(t, filepath.Join(logs, "letsencrypt.log.1"), "time=x level=INFO msg=ok\n", 0o600)
	writeFile(t, filepath.Join(logs, "letsencrypt.log"), "time=x level=INFO msg=start\ntime=x level=DEBUG msg=\"command failed\" error=\"renew: 1 of 2 failed\"\n", 0o600)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(logs, "letsencrypt.log.1"), old, old); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runSchedule(t, "status", "--root", root)
	if !strings.Contains(out, "FAILED: renew: 1 of 2 failed") {
		t.Errorf("status does not show the logged failure:\n%s", out)
	}

	// The status file wins over the log.
	if err := schedule.WriteLastRun(work, schedule.LastRun{Time: time.Now(), Command: "renew", OK: true, Renewed: []string{"a.example"}, Version: version}); err != nil {
		t.Fatal(err)
	}
	var lr schedule.LastRun
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(work, schedule.LastRunFile))), &lr); err != nil || lr.Version != version {
		t.Errorf("status file: %+v, %v", lr, err)
	}
	out, _, _ = runSchedule(t, "status", "--root", root)
	if !strings.Contains(out, "OK, renewed a.example") {
		t.Errorf("status does not show the status file:\n%s", out)
	}

	// Cron: the next run comes from the line.
	croot := scheduletest.Root(t, false)
	if _, _, err := runSchedule(t, "install", "--root", croot, "-n", "--binary", "/usr/bin/acmectl"); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runSchedule(t, "status", "--root", croot)
	if !strings.Contains(out, "Scheduler: cron /etc/cron.d/acmectl") || !strings.Contains(out, "next run: ") || !strings.Contains(out, "(as root)") {
		t.Errorf("cron status:\n%s", out)
	}

	// remove undoes install.
	if _, _, err := runSchedule(t, "remove", "--root", root); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc/systemd/system/acmectl-renew.timer", "etc/systemd/system/acmectl-renew.service", "etc/systemd/system/timers.target.wants/acmectl-renew.timer"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s left after remove", p)
		}
	}
	out, _, _ = runSchedule(t, "status", "--root", root)
	if !strings.Contains(out, "none installed") {
		t.Errorf("status after remove:\n%s", out)
	}
}

func TestScheduleBadInput(t *testing.T) {
	root := scheduletest.Root(t, true)
	for _, args := range [][]string{
		{"install", "--root", root, "--binary", "relative/acmectl"},
		{"install", "--root", filepath.Join(root, "missing"), "--binary", "/usr/bin/acmectl"},
	} {
		if _, _, err := runSchedule(t, args...); err == nil || exitCode(err) != exitUsage {
			t.Errorf("schedule %v = %v, want a usage error", args, err)
		}
	}
}

// Flags may come before the subcommand (and, through normalizeArgs, before
// "schedule" itself, as certbot's parser allows).
func TestScheduleFlagPositions(t *testing.T) {
	for _, args := range [][]string{
		{"acmectl", "schedule", "install", "--root", "ROOT", "-n", "--binary", "/usr/bin/acmectl", "--replace-certbot"},
		{"acmectl", "schedule", "--root", "ROOT", "-n", "install", "--binary", "/usr/bin/acmectl", "--replace-certbot"},
		{"acmectl", "-n", "schedule", "--root", "ROOT", "install", "--replace-certbot", "--binary", "/usr/bin/acmectl"},
	} {
		root := scheduletest.CertbotRoot(t, true)
		for i, a := range args {
			if a == "ROOT" {
				args[i] = root
			}
		}
		var out bytes.Buffer
		app := appWithOps()
		app.Writer, app.ErrWriter = &out, &out
		if err := runApp(app, args); err != nil {
			t.Errorf("%v: %v\n%s", args, err, out.String())
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/acmectl-renew.timer")); err != nil {
			t.Errorf("%v: timer not written into the root: %v", args, err)
		}
		if certbotScheduled(root) {
			t.Errorf("%v: --replace-certbot not applied", args)
		}
	}
}

func TestScheduleSummaryAndPermHint(t *testing.T) {
	empty := scheduletest.Root(t, true)
	if got := hostSummary(empty); !strings.Contains(got, "none, so nothing renews") {
		t.Errorf("summary of an empty root = %q", got)
	}
	cb := scheduletest.CertbotRoot(t, true)
	if got := hostSummary(cb); !strings.Contains(got, "certbot's own timer or cron entry only") {
		t.Errorf("summary with certbot's timer = %q", got)
	}
	if _, _, err := runSchedule(t, "install", "--root", cb, "-n", "--binary", "/usr/bin/acmectl"); err != nil {
		t.Fatal(err)
	}
	if got := hostSummary(cb); !strings.Contains(got, "and certbot's own as well") {
		t.Errorf("summary with both = %q", got)
	}
	if _, _, err := runSchedule(t, "install", "--root", cb, "-n", "--binary", "/usr/bin/acmectl", "--replace-certbot"); err != nil {
		t.Fatal(err)
	}
	if got := hostSummary(cb); got != "Scheduled renewal: acmectl-renew.timer" {
		t.Errorf("summary after --replace-certbot = %q", got)
	}
	err := schedulePermHint(&os.PathError{Op: "open", Path: "/etc/cron.d/acmectl", Err: os.ErrPermission})
	if err == nil || !strings.Contains(err.Error(), "run as root, or stage into a directory with --root DIR") {
		t.Errorf("schedulePermHint = %v", err)
	}
	if schedulePermHint(nil) != nil {
		t.Errorf("schedulePermHint(nil) != nil")
	}
}

// openPTY returns a pseudo-terminal pair (master, slave).
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	sl, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	t.Cleanup(func() { sl.Close() })
	return m, sl
}

// Without -n, on a terminal, install asks before disabling certbot's timer.
func TestScheduleInstallAsksOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		disable bool
	}{{"y\n", true}, {"n\n", false}, {"\n", false}} {
		root := scheduletest.CertbotRoot(t, true)
		m, sl := openPTY(t)
		if _, err := m.WriteString(tc.answer); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		app := &cli.App{Name: "acmectl", Reader: sl, Writer: &out, ErrWriter: &errb, Commands: []*cli.Command{scheduleCommand()},
			ExitErrHandler: func(*cli.Context, error) {}}
		if err := app.RunContext(t.Context(), []string{"acmectl", "schedule", "install", "--root", root, "--binary", "/usr/bin/acmectl"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errb.String(), "Disable it so that only acmectl renews? (y/N)") {
			t.Errorf("answer %q: no question asked:\n%s", tc.answer, errb.String())
		}
		if active := certbotScheduled(root); active == tc.disable {
			t.Errorf("answer %q: certbot active = %v", tc.answer, active)
		}
	}
	// Not a terminal (and no -n): nothing is asked, nothing disabled.
	root := scheduletest.CertbotRoot(t, true)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errb bytes.Buffer
	app := &cli.App{Name: "acmectl", Reader: f, Writer: io.Discard, ErrWriter: &errb, Commands: []*cli.Command{scheduleCommand()},
		ExitErrHandler: func(*cli.Context, error) {}}
	if err := app.RunContext(t.Context(), []string{"acmectl", "schedule", "install", "--root", root, "--binary", "/usr/bin/acmectl"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "(y/N)") || !certbotScheduled(root) {
		t.Errorf("asked or disabled without a terminal:\n%s", errb.String())
	}
}

// Issue 16 item 8: a control character in anything that goes into the unit
// or the cron line (a newline in --config-dir would add a cron entry of its
// own) is refused with a one-line usage error naming the flag, before
// anything is written.
func TestScheduleInstallRefusesControlCharacters(t *testing.T) {
	for _, systemd := range []bool{true, false} {
		for _, flag := range []string{"binary", "config-dir", "work-dir", "logs-dir", "ca-bundle"} {
			for _, bad := range []string{"\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\u0085"} {
				name := fmt.Sprintf("systemd=%v/--%s/%q", systemd, flag, bad)
				t.Run(name, func(t *testing.T) {
					root := scheduletest.Root(t, systemd)
					before := scheduletest.Snapshot(t, root)
					value := "/tmp/x" + bad + "* * * * * root touch /tmp/pwn #"
					args := []string{"install", "--root", root, "-n"}
					if flag != "binary" {
						args = append(args, "--binary", "/usr/bin/acmectl")
					}
					args = append(args, "--"+flag, value)
					_, _, err := runSchedule(t, args...)
					if err == nil || exitCode(err) != exitUsage {
						t.Fatalf("schedule %q = %v, want a usage error", args, err)
					}
					msg := err.Error()
					if !strings.Contains(msg, "--"+flag+" ") || !strings.Contains(msg, "control character") || strings.ContainsAny(msg, "\n\r") {
						t.Errorf("error %q: want one line naming --%s and the control character", msg, flag)
					}
					after := scheduletest.Snapshot(t, root)
					if len(after) != len(before) {
						t.Errorf("files written although the input was refused: %v", after)
					}
				})
			}
		}
	}
}
