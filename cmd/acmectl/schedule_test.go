package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// schedRoot makes a staging root; with systemd it has /run/systemd/system.
func schedRoot(t *testing.T, systemd bool) string {
	t.Helper()
	root := t.TempDir()
	if systemd {
		if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

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

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// systemdVerify runs systemd-analyze verify on unit files and returns its
// complaints: any output at all, or a non-zero exit, is an error (verify
// exits 0 on "Unknown key ... ignoring").
func systemdVerify(t *testing.T, units ...string) string {
	t.Helper()
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed (Debian package systemd): %v", err)
	}
	args := append([]string{"verify", "--man=no"}, units...)
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err != nil && msg == "" {
		msg = err.Error()
	}
	if err != nil && !strings.Contains(msg, err.Error()) {
		msg += " (" + err.Error() + ")"
	}
	return msg
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
	}{
		{"plain", self, nil},
		{"quoted path", odd, nil},
		{"dirs", self, []string{"--config-dir", "/srv/le config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := schedRoot(t, true)
			args := append([]string{"install", "--root", root, "-n", "--binary", tc.binary}, tc.extra...)
			out, _, err := runSchedule(t, args...)
			if err != nil {
				t.Fatalf("schedule install: %v", err)
			}
			svc := filepath.Join(root, "etc/systemd/system/acmectl-renew.service")
			tmr := filepath.Join(root, "etc/systemd/system/acmectl-renew.timer")
			if msg := systemdVerify(t, svc, tmr); msg != "" {
				t.Fatalf("systemd-analyze verify:\n%s\nservice:\n%s", msg, readFile(t, svc))
			}
			timer := readFile(t, tmr)
			for _, want := range []string{"OnCalendar=*-*-* 00,12:00:00", "RandomizedDelaySec=1h", "Persistent=true", "WantedBy=timers.target"} {
				if !strings.Contains(timer, want) {
					t.Errorf("timer lacks %q:\n%s", want, timer)
				}
			}
			service := readFile(t, svc)
			exec := schedUnitValue(service, "ExecStart")
			if !strings.HasSuffix(exec, " renew -q"+strings.Join(append([]string{""}, quoteAll(tc.extra)...), " ")) {
				t.Errorf("ExecStart = %q, want <binary> renew -q %v", exec, tc.extra)
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

func quoteAll(ws []string) []string {
	var out []string
	for _, w := range ws {
		out = append(out, schedSystemdQuote(w))
	}
	return out
}

// The verify check itself must be able to fail.
func TestSystemdVerifyCatchesBrokenUnits(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "acmectl-renew.service")
	tmr := filepath.Join(dir, "acmectl-renew.timer")
	writeFile(t, svc, schedServiceUnit([]string{"/nonexistent/acmectl", "renew", "-q"}), 0o644)
	writeFile(t, tmr, schedTimerUnit(), 0o644)
	if msg := systemdVerify(t, svc, tmr); !strings.Contains(msg, "/nonexistent/acmectl") {
		t.Errorf("verify of a missing ExecStart binary = %q, want a complaint", msg)
	}
	writeFile(t, svc, schedServiceUnit([]string{"/bin/true", "renew", "-q"}), 0o644)
	writeFile(t, tmr, strings.Replace(schedTimerUnit(), "Persistent=true", "Persistent=maybe\nBogus=1", 1), 0o644)
	if msg := systemdVerify(t, svc, tmr); !strings.Contains(msg, "Bogus") {
		t.Errorf("verify of a bad timer = %q, want a complaint", msg)
	}
}

func TestScheduleInstallCron(t *testing.T) {
	root := schedRoot(t, false)
	bin := "/usr/local/bin/acmectl"
	if _, _, err := runSchedule(t, "install", "--root", root, "-n", "--binary", bin); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/acmectl-renew.timer")); err == nil {
		t.Errorf("timer written although systemd does not run")
	}
	data := readFile(t, filepath.Join(root, "etc/cron.d/acmectl"))
	lines := schedActiveCronLines(data)
	if len(lines) != 1 {
		t.Fatalf("cron file has %d job lines, want 1:\n%s", len(lines), data)
	}
	e, err := schedParseCronLine(lines[0], true)
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
	if strings.Contains(filepath.Base(schedCronPath), ".") {
		t.Errorf("cron.d file name %q has a dot", schedCronPath)
	}
	// Every SHELL/PATH line is NAME=value.
	for _, l := range strings.Split(data, "\n") {
		if strings.HasPrefix(l, "SHELL=") && l != "SHELL=/bin/sh" {
			t.Errorf("SHELL line %q", l)
		}
	}
}

func TestCronRandomSpread(t *testing.T) {
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		seen[schedCronContent([]string{"/bin/acmectl", "renew", "-q"}, r.IntN(60), r.IntN(12))] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 installs gave only %d distinct schedules", len(seen))
	}
}

func TestCronParseAndNext(t *testing.T) {
	now := time.Date(2026, 11, 28, 13, 20, 30, 0, time.UTC) // a Saturday
	for _, tc := range []struct {
		line    string
		user    bool
		want    string // RFC 3339 of the next run; "" = parse error
		wantCmd string
	}{
		{"7 1,13 * * * root test -x /bin/a && /bin/a renew -q", true, "2026-11-29T01:07:00Z", "test -x /bin/a && /bin/a renew -q"},
		{"30 13 * * * root x", true, "2026-11-28T13:30:00Z", "x"},   // later this hour
		{"21 13 * * * root x", true, "2026-11-28T13:21:00Z", "x"},   // the next minute
		{"20 13 * * * root x", true, "2026-11-29T13:20:00Z", "x"},   // now's minute has begun
		{"*/15 * * * * root x", true, "2026-11-28T13:30:00Z", "x"},  // steps
		{"0 0 1 * * root x", true, "2026-12-01T00:00:00Z", "x"},     // day of month
		{"0 0 * * mon root x", true, "2026-11-30T00:00:00Z", "x"},   // day-of-week name
		{"0 0 * * 7 root x", true, "2026-11-29T00:00:00Z", "x"},     // 7 is Sunday
		{"0 0 13 * 1 root x", true, "2026-11-30T00:00:00Z", "x"},    // dom OR dow when both restricted
		{"0 12 29 feb * root x", true, "2028-02-29T12:00:00Z", "x"}, // leap day
		{"0 0,12 * * * x --flag", false, "2026-11-29T00:00:00Z", "x --flag"},
		{"0 0 * * * root", true, "", ""},          // no command
		{"61 0 * * * root x", true, "", ""},       // minute out of range
		{"0 0 * * * PATH=/x x", true, "", ""},     // user field is an assignment
		{"0 0 5-1 * * root x", true, "", ""},      // backwards range
		{"0 0 * * * ", false, "", ""},             // too few fields
		{"*/0 0 * * * root x", true, "", ""},      // zero step
		{"0 0 31 2 * root x", true, "never", "x"}, // never fires
	} {
		e, err := schedParseCronLine(tc.line, tc.user)
		if tc.want == "" {
			if err == nil {
				t.Errorf("schedParseCronLine(%q) = nil error, want one", tc.line)
			}
			continue
		}
		if err != nil {
			t.Errorf("schedParseCronLine(%q): %v", tc.line, err)
			continue
		}
		if e.Command != tc.wantCmd {
			t.Errorf("schedParseCronLine(%q).Command = %q, want %q", tc.line, e.Command, tc.wantCmd)
		}
		next, ok := e.Next(now)
		if tc.want == "never" {
			if ok {
				t.Errorf("Next(%q) = %v, want none", tc.line, next)
			}
			continue
		}
		if got := next.Format(time.RFC3339); !ok || got != tc.want {
			t.Errorf("Next(%q) = %s, %v, want %s", tc.line, got, ok, tc.want)
		}
	}
}

func TestNextCalendar(t *testing.T) {
	loc := time.UTC
	for _, tc := range []struct {
		expr string
		now  time.Time
		want time.Time
	}{
		{schedOnCalendar, time.Date(2026, 11, 28, 13, 0, 0, 0, loc), time.Date(2026, 11, 29, 0, 0, 0, 0, loc)},
		{schedOnCalendar, time.Date(2026, 11, 28, 11, 59, 59, 0, loc), time.Date(2026, 11, 28, 12, 0, 0, 0, loc)},
		{schedOnCalendar, time.Date(2026, 12, 31, 12, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{"*-*-* 06:30", time.Date(2026, 11, 28, 7, 0, 0, 0, loc), time.Date(2026, 11, 29, 6, 30, 0, 0, loc)},
	} {
		got, err := schedNextCalendar(tc.expr, tc.now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("schedNextCalendar(%q, %v) = %v, %v, want %v", tc.expr, tc.now, got, err, tc.want)
		}
	}
	for _, bad := range []string{"daily", "*-*-* 25:00", "Mon *-*-* 00:00:00", "*-*-* 00:61"} {
		if _, err := schedNextCalendar(bad, time.Now()); err == nil {
			t.Errorf("schedNextCalendar(%q) = nil error", bad)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"Sat 2026-11-28 12:19:40 UTC", time.Date(2026, 11, 28, 12, 19, 40, 0, time.UTC), true},
		{"1795860000000000", time.UnixMicro(1795860000000000), true},
		{"n/a", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, ok := schedParseSystemdTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("schedParseSystemdTime(%q) = %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// certbotRoot stages certbot's own scheduling as Debian's package and the
// snap install it.
func certbotRoot(t *testing.T, systemd bool) string {
	t.Helper()
	root := schedRoot(t, systemd)
	writeFile(t, filepath.Join(root, "lib/systemd/system/certbot.timer"), "[Unit]\nDescription=Run certbot twice daily\n\n[Timer]\nOnCalendar=*-*-* 00,12:00:00\nRandomizedDelaySec=43200\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n", 0o644)
	writeFile(t, filepath.Join(root, "lib/systemd/system/certbot.service"), "[Service]\nType=oneshot\nExecStart=/usr/bin/certbot -q renew\n", 0o644)
	wants := filepath.Join(root, "etc/systemd/system/timers.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/certbot.timer", filepath.Join(wants, "certbot.timer")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "etc/cron.d/certbot"), "# /etc/cron.d/certbot: crontab entries for the certbot package\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew\n", 0o644)
	return root
}

// snapshot records every file and link under root.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[rel] = "-> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			m[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScheduleCertbotDetection(t *testing.T) {
	root := certbotRoot(t, true)
	s := &scheduler{root: root, staged: true, now: time.Now}
	found := s.findCertbot()
	kinds := map[string]bool{}
	for _, f := range found {
		kinds[f.Kind+" "+f.Path] = f.Active
	}
	for k, active := range map[string]bool{
		"timer-unit /lib/systemd/system/certbot.timer":                        false,
		"timer-enabled /etc/systemd/system/timers.target.wants/certbot.timer": true,
		"cron /etc/cron.d/certbot":                                            false, // Debian's line skips itself under systemd
	} {
		got, ok := kinds[k]
		if !ok || got != active {
			t.Errorf("findCertbot: %s found=%v active=%v, want found, active=%v (all: %v)", k, ok, got, active, found)
		}
	}
	// Without systemd running, the cron entry is what runs certbot.
	croot := certbotRoot(t, false)
	for _, f := range (&scheduler{root: croot, staged: true}).findCertbot() {
		if want := f.Kind == "cron"; f.Active != want {
			t.Errorf("no systemd: %s active = %v, want %v", f, f.Active, want)
		}
	}
	// A cron line without the systemd guard runs under systemd too.
	writeFile(t, filepath.Join(root, "etc/cron.d/certbot"), "0 3 * * * root certbot -q renew\n", 0o644)
	if f := (&scheduler{root: root, staged: true}).findCertbot(); !certbotActive(f[len(f)-1:]) {
		t.Errorf("unguarded certbot cron line not active: %v", f)
	}

	// Snap's timer is found as well.
	snap := schedRoot(t, true)
	writeFile(t, filepath.Join(snap, "etc/systemd/system/snap.certbot.renew.timer"), "[Timer]\nOnCalendar=*-*-* 00,12:00\n", 0o644)
	if err := os.MkdirAll(filepath.Join(snap, "etc/systemd/system/timers.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/systemd/system/snap.certbot.renew.timer", filepath.Join(snap, "etc/systemd/system/timers.target.wants/snap.certbot.renew.timer")); err != nil {
		t.Fatal(err)
	}
	if !certbotActive((&scheduler{root: snap, staged: true}).findCertbot()) {
		t.Errorf("snap.certbot.renew.timer not detected as active")
	}
	// A clean root has nothing.
	if f := (&scheduler{root: schedRoot(t, true), staged: true}).findCertbot(); len(f) != 0 {
		t.Errorf("findCertbot on an empty root = %v", f)
	}
}

func TestScheduleReplaceCertbotOnlyWhenAsked(t *testing.T) {
	for _, systemd := range []bool{true, false} {
		name := map[bool]string{true: "systemd", false: "cron"}[systemd]
		t.Run(name, func(t *testing.T) {
			root := certbotRoot(t, systemd)
			before := snapshot(t, root)

			// -n without --replace-certbot: certbot's scheduling is left alone, with a warning.
			_, stderr, err := runSchedule(t, "install", "--root", root, "-n", "--binary", "/usr/bin/acmectl")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr, "--replace-certbot") {
				t.Errorf("no warning about certbot's timer; stderr:\n%s", stderr)
			}
			after := snapshot(t, root)
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
			s := &scheduler{root: root, staged: true}
			if f := s.findCertbot(); certbotActive(f) {
				t.Errorf("certbot still active after --replace-certbot: %v\n%s", f, out)
			}
			if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/timers.target.wants/certbot.timer")); err == nil {
				t.Errorf("certbot.timer still enabled")
			}
			if l, err := os.Readlink(filepath.Join(root, "etc/systemd/system/certbot.timer")); err != nil || l != "/dev/null" {
				t.Errorf("certbot.timer not masked: %q, %v", l, err)
			}
			cron := readFile(t, filepath.Join(root, "etc/cron.d/certbot"))
			if len(schedActiveCronLines(cron)) != 0 {
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
			restored := snapshot(t, root)
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
	root := schedRoot(t, true)
	unit := filepath.Join(root, "etc/systemd/system/certbot.timer")
	writeFile(t, unit, "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n", 0o644)
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system/timers.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/systemd/system/certbot.timer", filepath.Join(root, "etc/systemd/system/timers.target.wants/certbot.timer")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
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
	after := snapshot(t, root)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("after restore %s = %q, want %q", k, after[k], v)
		}
	}
}

func TestScheduleStatus(t *testing.T) {
	root := schedRoot(t, true)
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
	if err := schedWriteLastRun(work, schedLastRun{Time: time.Now(), Command: "renew", OK: true, Renewed: []string{"a.example"}}); err != nil {
		t.Fatal(err)
	}
	var lr schedLastRun
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(work, schedLastRunFile))), &lr); err != nil || lr.Version == "" {
		t.Errorf("status file: %+v, %v", lr, err)
	}
	out, _, _ = runSchedule(t, "status", "--root", root)
	if !strings.Contains(out, "OK, renewed a.example") {
		t.Errorf("status does not show the status file:\n%s", out)
	}

	// Cron: the next run comes from the line.
	croot := schedRoot(t, false)
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

func TestScheduleNeverRunsSystemctlInRoot(t *testing.T) {
	root := certbotRoot(t, true)
	calls := 0
	s := &scheduler{root: root, staged: true, now: time.Now, rnd: rand.New(rand.NewPCG(1, 1)),
		run: func(context.Context, string, ...string) (string, error) { calls++; return "", nil }}
	if _, err := s.install(t.Context(), schedInstallOpts{binary: "/usr/bin/acmectl", replace: true}); err != nil {
		t.Fatal(err)
	}
	_ = s.status(t.Context(), schedStatusOpts{logsDir: root, workDir: root})
	if _, err := s.remove(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("systemctl ran %d times with --root", calls)
	}
	// On the real system with systemd running it would run.
	live := &scheduler{root: root, staged: false, now: time.Now, rnd: rand.New(rand.NewPCG(1, 1)),
		run: func(context.Context, string, ...string) (string, error) { calls++; return "", nil }}
	if _, err := live.install(t.Context(), schedInstallOpts{binary: "/usr/bin/acmectl"}); err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Errorf("systemctl ran %d times on a live systemd, want daemon-reload and enable --now", calls)
	}
}

func TestScheduleBadInput(t *testing.T) {
	root := schedRoot(t, true)
	for _, args := range [][]string{
		{"install", "--root", root, "--binary", "relative/acmectl"},
		{"install", "--root", filepath.Join(root, "missing"), "--binary", "/usr/bin/acmectl"},
	} {
		if _, _, err := runSchedule(t, args...); err == nil || exitCode(err) != exitUsage {
			t.Errorf("schedule %v = %v, want a usage error", args, err)
		}
	}
}

func TestShellAndSystemdQuote(t *testing.T) {
	for _, tc := range []struct{ in, sh, sd string }{
		{"/usr/bin/acmectl", "/usr/bin/acmectl", "/usr/bin/acmectl"},
		{"/opt/my dir/acmectl", "'/opt/my dir/acmectl'", `"/opt/my dir/acmectl"`},
		{"50%", `'50'\%''`, "50%%"},
		{"it's", `'it'\''s'`, `"it's"`},
	} {
		if got := schedShellQuote(tc.in); got != tc.sh {
			t.Errorf("schedShellQuote(%q) = %s, want %s", tc.in, got, tc.sh)
		}
		if got := schedSystemdQuote(tc.in); got != tc.sd {
			t.Errorf("schedSystemdQuote(%q) = %s, want %s", tc.in, got, tc.sd)
		}
	}
	// The quoted cron command runs the right argv under sh.
	q := schedShellQuote("a b%c'd")
	out, err := exec.Command("sh", "-c", "printf %s "+strings.ReplaceAll(q, `\%`, "%")).Output()
	if err != nil || string(out) != "a b%c'd" {
		t.Errorf("sh sees %q, %v", out, err)
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
		root := certbotRoot(t, true)
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
		if certbotActive((&scheduler{root: root, staged: true}).findCertbot()) {
			t.Errorf("%v: --replace-certbot not applied", args)
		}
	}
}

func TestScheduleSummaryAndPermHint(t *testing.T) {
	empty := schedRoot(t, true)
	if got := (&scheduler{root: empty, staged: true}).summary(); !strings.Contains(got, "none, so nothing renews") {
		t.Errorf("summary of an empty root = %q", got)
	}
	cb := certbotRoot(t, true)
	if got := (&scheduler{root: cb, staged: true}).summary(); !strings.Contains(got, "certbot's own timer or cron entry only") {
		t.Errorf("summary with certbot's timer = %q", got)
	}
	if _, _, err := runSchedule(t, "install", "--root", cb, "-n", "--binary", "/usr/bin/acmectl"); err != nil {
		t.Fatal(err)
	}
	if got := (&scheduler{root: cb, staged: true}).summary(); !strings.Contains(got, "and certbot's own as well") {
		t.Errorf("summary with both = %q", got)
	}
	if _, _, err := runSchedule(t, "install", "--root", cb, "-n", "--binary", "/usr/bin/acmectl", "--replace-certbot"); err != nil {
		t.Fatal(err)
	}
	if got := (&scheduler{root: cb, staged: true}).summary(); got != "Scheduled renewal: acmectl-renew.timer" {
		t.Errorf("summary after --replace-certbot = %q", got)
	}
	err := schedPermHint(&os.PathError{Op: "open", Path: "/etc/cron.d/acmectl", Err: os.ErrPermission})
	if err == nil || !strings.Contains(err.Error(), "run as root, or stage into a directory with --root DIR") {
		t.Errorf("schedPermHint = %v", err)
	}
	if schedPermHint(nil) != nil {
		t.Errorf("schedPermHint(nil) != nil")
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
		root := certbotRoot(t, true)
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
		if active := certbotActive((&scheduler{root: root, staged: true}).findCertbot()); active == tc.disable {
			t.Errorf("answer %q: certbot active = %v", tc.answer, active)
		}
	}
	// Not a terminal (and no -n): nothing is asked, nothing disabled.
	root := certbotRoot(t, true)
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
	if strings.Contains(errb.String(), "(y/N)") || !certbotActive((&scheduler{root: root, staged: true}).findCertbot()) {
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
					root := schedRoot(t, systemd)
					before := snapshot(t, root)
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
					after := snapshot(t, root)
					if len(after) != len(before) {
						t.Errorf("files written although the input was refused: %v", after)
					}
				})
			}
		}
	}
}
