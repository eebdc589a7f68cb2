package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/schedule/scheduletest"
)

func staged(root string) *Host { return &Host{Root: root, Staged: true} }

// The verify check of the CLI tests must be able to fail.
func TestSystemdVerifyCatchesBrokenUnits(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "acmectl-renew.service")
	tmr := filepath.Join(dir, "acmectl-renew.timer")
	scheduletest.WriteFile(t, svc, serviceUnit([]string{"/nonexistent/acmectl", "renew", "-q"}), 0o644)
	scheduletest.WriteFile(t, tmr, timerUnit(), 0o644)
	if msg := scheduletest.SystemdVerify(t, svc, tmr); !strings.Contains(msg, "/nonexistent/acmectl") {
		t.Errorf("verify of a missing ExecStart binary = %q, want a complaint", msg)
	}
	scheduletest.WriteFile(t, svc, serviceUnit([]string{"/bin/true", "renew", "-q"}), 0o644)
	scheduletest.WriteFile(t, tmr, strings.Replace(timerUnit(), "Persistent=true", "Persistent=maybe\nBogus=1", 1), 0o644)
	if msg := scheduletest.SystemdVerify(t, svc, tmr); !strings.Contains(msg, "Bogus") {
		t.Errorf("verify of a bad timer = %q, want a complaint", msg)
	}
}

func TestCronRandomSpread(t *testing.T) {
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		seen[cronContent([]string{"/bin/acmectl", "renew", "-q"}, r.IntN(60), r.IntN(12))] = true
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
		{"5-10/5 8 * * * root x", true, "2026-11-29T08:05:00Z", "x"}, // stepped range
		{"50/5 13 * * * root x", true, "2026-11-28T13:50:00Z", "x"},  // N/STEP runs to the end
		{"0 0 * * * root", true, "", ""},                             // no command
		{"61 0 * * * root x", true, "", ""},                          // minute out of range
		{"0 0 * * * PATH=/x x", true, "", ""},                        // user field is an assignment
		{"0 0 5-1 * * root x", true, "", ""},                         // backwards range
		{"0 0 x-3 * * root x", true, "", ""},                         // bad range start
		{"0 0 1-x * * root x", true, "", ""},                         // bad range end
		{"0 0 * * * ", false, "", ""},                                // too few fields
		{"*/0 0 * * * root x", true, "", ""},                         // zero step
		{"0 0 31 2 * root x", true, "never", "x"},                    // never fires
	} {
		e, err := ParseCronLine(tc.line, tc.user)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseCronLine(%q) = nil error, want one", tc.line)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCronLine(%q): %v", tc.line, err)
			continue
		}
		if e.Command != tc.wantCmd {
			t.Errorf("ParseCronLine(%q).Command = %q, want %q", tc.line, e.Command, tc.wantCmd)
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
		{onCalendar, time.Date(2026, 11, 28, 13, 0, 0, 0, loc), time.Date(2026, 11, 29, 0, 0, 0, 0, loc)},
		{onCalendar, time.Date(2026, 11, 28, 11, 59, 59, 0, loc), time.Date(2026, 11, 28, 12, 0, 0, 0, loc)},
		{onCalendar, time.Date(2026, 12, 31, 12, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{"*-*-* 06:30", time.Date(2026, 11, 28, 7, 0, 0, 0, loc), time.Date(2026, 11, 29, 6, 30, 0, 0, loc)},
	} {
		got, err := nextCalendar(tc.expr, tc.now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("nextCalendar(%q, %v) = %v, %v, want %v", tc.expr, tc.now, got, err, tc.want)
		}
	}
	for _, bad := range []string{"daily", "*-*-* 25:00", "Mon *-*-* 00:00:00", "*-*-* 00:61", "*-*-* 00", "*-*-* 00:00:99"} {
		if _, err := nextCalendar(bad, time.Now()); err == nil {
			t.Errorf("nextCalendar(%q) = nil error", bad)
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
		{"tomorrow", time.Time{}, false},
	} {
		got, ok := parseSystemdTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseSystemdTime(%q) = %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCertbotDetection(t *testing.T) {
	root := scheduletest.CertbotRoot(t, true)
	found := staged(root).Certbot()
	kinds := map[string]bool{}
	for _, f := range found {
		kinds[string(f.Kind)+" "+f.Path] = f.Active
	}
	for k, active := range map[string]bool{
		"timer-unit /lib/systemd/system/certbot.timer":                        false,
		"timer-enabled /etc/systemd/system/timers.target.wants/certbot.timer": true,
		"cron /etc/cron.d/certbot":                                            false, // Debian's line skips itself under systemd
	} {
		got, ok := kinds[k]
		if !ok || got != active {
			t.Errorf("Certbot: %s found=%v active=%v, want found, active=%v (all: %v)", k, ok, got, active, found)
		}
	}
	// Without systemd running, the cron entry is what runs certbot.
	for _, f := range staged(scheduletest.CertbotRoot(t, false)).Certbot() {
		if want := f.Kind == CertbotCron; f.Active != want {
			t.Errorf("no systemd: %s active = %v, want %v", f, f.Active, want)
		}
	}
	// A cron line without the systemd guard runs under systemd too.
	scheduletest.WriteFile(t, filepath.Join(root, "etc/cron.d/certbot"), "0 3 * * * root certbot -q renew\n", 0o644)
	if f := staged(root).Certbot(); !CertbotActive(f[len(f)-1:]) {
		t.Errorf("unguarded certbot cron line not active: %v", f)
	}
	// Every line commented out: found, inactive.
	scheduletest.WriteFile(t, filepath.Join(root, "etc/cron.d/certbot"), "# 0 3 * * * root certbot -q renew\n", 0o644)
	if f := staged(root).Certbot(); f[len(f)-1].Active || f[len(f)-1].Note != "every line commented out" {
		t.Errorf("commented-out certbot cron = %v", f[len(f)-1])
	}

	// Snap's timer is found as well.
	snap := scheduletest.Root(t, true)
	scheduletest.WriteFile(t, filepath.Join(snap, "etc/systemd/system/snap.certbot.renew.timer"), "[Timer]\nOnCalendar=*-*-* 00,12:00\n", 0o644)
	scheduletest.Symlink(t, "/etc/systemd/system/snap.certbot.renew.timer", filepath.Join(snap, "etc/systemd/system/timers.target.wants/snap.certbot.renew.timer"))
	if !CertbotActive(staged(snap).Certbot()) {
		t.Errorf("snap.certbot.renew.timer not detected as active")
	}
	// A certbot line in root's crontab: active, with what to do by hand.
	tab := scheduletest.Root(t, false)
	scheduletest.WriteFile(t, filepath.Join(tab, "var/spool/cron/crontabs/root"), "MAILTO=x\n0 4 * * * /usr/bin/certbot renew -q\n", 0o600)
	if f := staged(tab).Certbot(); len(f) != 1 || f[0].Kind != CertbotCrontab || !f[0].Active || !strings.Contains(f[0].String(), "crontab -e") {
		t.Errorf("crontab certbot line = %v", f)
	}
	// A clean root has nothing.
	if f := staged(scheduletest.Root(t, true)).Certbot(); len(f) != 0 {
		t.Errorf("Certbot on an empty root = %v", f)
	}
}

// recorder stands in for systemctl and counts the calls.
type recorder struct{ calls []string }

func (r *recorder) run(_ context.Context, name string, args ...string) (string, error) {
	r.calls = append(r.calls, name+" "+strings.Join(args, " "))
	return "", nil
}

func TestNeverRunsSystemctlInRoot(t *testing.T) {
	root := scheduletest.CertbotRoot(t, true)
	var rec recorder
	h := &Host{Root: root, Staged: true, Rand: rand.New(rand.NewPCG(1, 1)), Run: rec.run}
	if _, err := h.Install(t.Context(), InstallOptions{Binary: "/usr/bin/acmectl", ReplaceCertbot: true}); err != nil {
		t.Fatal(err)
	}
	_ = h.Status(t.Context(), StatusOptions{LogsDir: "/", WorkDir: "/"})
	if _, err := h.Remove(t.Context(), RemoveOptions{RestoreCertbot: true}); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 0 {
		t.Errorf("systemctl ran with a staged root: %q", rec.calls)
	}
	// On the real system with systemd running it runs.
	live := &Host{Root: root, Rand: rand.New(rand.NewPCG(1, 1)), Run: rec.run}
	if _, err := live.Install(t.Context(), InstallOptions{Binary: "/usr/bin/acmectl"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.calls, "|"); got != "systemctl daemon-reload|systemctl enable --now acmectl-renew.timer" {
		t.Errorf("systemctl calls on a live systemd = %q, want daemon-reload and enable --now", got)
	}
	rec.calls = nil
	st := live.Status(t.Context(), StatusOptions{LogsDir: "/", WorkDir: "/"})
	if len(rec.calls) != 1 || !strings.Contains(rec.calls[0], "NextElapseUSecRealtime") || st.Timer == nil || st.Timer.NextFromSystemd {
		t.Errorf("status on a live systemd: calls %q, timer %+v (systemctl said nothing: computed next run)", rec.calls, st.Timer)
	}
	rec.calls = nil
	if _, err := live.Remove(t.Context(), RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.calls, "|"); got != "systemctl disable --now acmectl-renew.timer|systemctl daemon-reload" {
		t.Errorf("systemctl calls of remove = %q", got)
	}
}

// A systemctl that fails: its error comes back, with what was done so far.
func TestSystemctlFailure(t *testing.T) {
	root := scheduletest.Root(t, true)
	boom := errors.New("systemctl: boom")
	h := &Host{Root: root, Run: func(context.Context, string, ...string) (string, error) { return "", boom }}
	did, err := h.Install(t.Context(), InstallOptions{Binary: "/usr/bin/acmectl"})
	if !errors.Is(err, boom) || len(did) != 2 || did[0].Kind != ActionWrote {
		t.Errorf("Install with a failing systemctl = %v, %v", did, err)
	}
}

func TestShellAndSystemdQuote(t *testing.T) {
	for _, tc := range []struct{ in, sh, sd string }{
		{"/usr/bin/acmectl", "/usr/bin/acmectl", "/usr/bin/acmectl"},
		{"/opt/my dir/acmectl", "'/opt/my dir/acmectl'", `"/opt/my dir/acmectl"`},
		{"50%", `'50'\%''`, "50%%"},
		{"it's", `'it'\''s'`, `"it's"`},
	} {
		if got := shellQuote(tc.in); got != tc.sh {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.sh)
		}
		if got := systemdQuote(tc.in); got != tc.sd {
			t.Errorf("systemdQuote(%q) = %s, want %s", tc.in, got, tc.sd)
		}
	}
	// The quoted cron command runs the right argv under sh.
	q := shellQuote("a b%c'd")
	out, err := exec.Command("sh", "-c", "printf %s "+strings.ReplaceAll(q, `\%`, "%")).Output()
	if err != nil || string(out) != "a b%c'd" {
		t.Errorf("sh sees %q, %v", out, err)
	}
}

// Issue 16 item 8 at the package boundary: every value that goes into the
// unit or the cron line is checked before anything is written.
func TestInstallRefusesControlCharacters(t *testing.T) {
	set := map[string]func(*InstallOptions, string){
		"--binary":     func(o *InstallOptions, v string) { o.Binary = v },
		"--config-dir": func(o *InstallOptions, v string) { o.ConfigDir = v },
		"--work-dir":   func(o *InstallOptions, v string) { o.WorkDir = v },
		"--logs-dir":   func(o *InstallOptions, v string) { o.LogsDir = v },
		"--ca-bundle":  func(o *InstallOptions, v string) { o.CABundle = v },
	}
	for _, systemd := range []bool{true, false} {
		for flag, setter := range set {
			for _, bad := range []rune{'\n', '\r', '\t', 0, 0x1b, 0x7f, 0x85, 0x9b} {
				root := scheduletest.Root(t, systemd)
				o := InstallOptions{Binary: "/usr/bin/acmectl"}
				setter(&o, "/srv/a"+string(bad)+"* * * * * root touch /tmp/pwn #")
				did, err := staged(root).Install(t.Context(), o)
				var ve *ValueError
				if !errors.As(err, &ve) || ve.Flag != flag || len(did) != 0 || strings.ContainsAny(err.Error(), "\n\r") {
					t.Errorf("systemd=%v %s with %U: %v, %v; want a one-line *ValueError naming the flag, nothing done", systemd, flag, bad, did, err)
				}
				if snap := scheduletest.Snapshot(t, root); len(snap) != 0 {
					t.Errorf("systemd=%v %s with %U: files written: %v", systemd, flag, bad, snap)
				}
			}
		}
	}
	// Printable values pass, spaces and quotes included; the binary must be absolute.
	ok := InstallOptions{Binary: "/opt/my bin/acmectl", ConfigDir: `/srv/le "config" 50%`, WorkDir: "/var/lib/ünïcode"}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	var ve *ValueError
	if err := (InstallOptions{Binary: "acmectl"}).Validate(); !errors.As(err, &ve) || err.Error() != `--binary must be an absolute path, not "acmectl"` {
		t.Errorf("relative binary: %v", err)
	}
}

func TestRenewCommand(t *testing.T) {
	o := InstallOptions{Binary: "/b", LogsDir: "/l", ConfigDir: "/c"}
	if got := strings.Join(o.RenewCommand(), " "); got != "/b renew -q --config-dir /c --logs-dir /l" {
		t.Errorf("RenewCommand = %q", got)
	}
}

func TestActionString(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Action{Kind: ActionWrote, Path: CronPath}, "wrote /etc/cron.d/acmectl"},
		{Action{Kind: ActionRemoved, Path: "/x"}, "removed /x"},
		{Action{Kind: ActionEnabledStarted, Unit: TimerName}, "enabled and started acmectl-renew.timer"},
		{Action{Kind: ActionEnabled, Unit: TimerName, Path: "/w/t"}, "enabled acmectl-renew.timer (/w/t)"},
		{Action{Kind: ActionEnabled, Unit: "certbot.timer"}, "enabled certbot.timer"},
		{Action{Kind: ActionMasked, Unit: "certbot.timer", Path: "/etc/systemd/system/certbot.timer"}, "masked certbot.timer (/etc/systemd/system/certbot.timer -> /dev/null)"},
		{Action{Kind: ActionUnmasked, Unit: "certbot.timer"}, "unmasked certbot.timer"},
		{Action{Kind: ActionMovedAside, Path: "/a", Backup: "/a.acmectl-disabled"}, "moved /a to /a.acmectl-disabled"},
		{Action{Kind: ActionCommentedOut, Path: "/c", Backup: "/c.b"}, "commented out /c (original kept as /c.b)"},
		{Action{Kind: ActionRestored, Path: "/r"}, "restored /r"},
		{Action{Kind: ActionSnapDisabled, Unit: snapTimer}, "snap's snap.certbot.renew.timer disabled; 'snap remove certbot' removes it for good"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.a, got, tc.want)
		}
	}
}

// Renewal answers "does anything renew on this host?" (issue 14 asks it
// after a first certificate).
func TestRenewal(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name                               string
		certbot, systemd, install, replace bool
		acmectl, certbotActive, scheduled  bool
	}{
		{name: "empty", systemd: true},
		{name: "certbot only", certbot: true, systemd: true, certbotActive: true, scheduled: true},
		{name: "both", certbot: true, systemd: true, install: true, acmectl: true, certbotActive: true, scheduled: true},
		{name: "replaced", certbot: true, systemd: true, install: true, replace: true, acmectl: true, scheduled: true},
		{name: "cron", install: true, acmectl: true, scheduled: true},
		{name: "certbot cron", certbot: true, certbotActive: true, scheduled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := scheduletest.Root(t, tc.systemd)
			if tc.certbot {
				root = scheduletest.CertbotRoot(t, tc.systemd)
			}
			if tc.install {
				if _, err := staged(root).Install(ctx, InstallOptions{Binary: "/usr/bin/acmectl", ReplaceCertbot: tc.replace}); err != nil {
					t.Fatal(err)
				}
			}
			r := staged(root).Renewal()
			if r.Acmectl() != tc.acmectl || r.CertbotActive() != tc.certbotActive || r.Scheduled() != tc.scheduled {
				t.Errorf("Renewal() = %+v: Acmectl %v CertbotActive %v Scheduled %v, want %v %v %v",
					r, r.Acmectl(), r.CertbotActive(), r.Scheduled(), tc.acmectl, tc.certbotActive, tc.scheduled)
			}
			if r.Timer != (tc.install && tc.systemd) || r.Cron != (tc.install && !tc.systemd) {
				t.Errorf("Renewal() = %+v: timer/cron wrong", r)
			}
		})
	}
	// A timer that is installed but not enabled renews nothing.
	root := scheduletest.Root(t, true)
	if _, err := staged(root).Install(ctx, InstallOptions{Binary: "/usr/bin/acmectl"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, WantsDir, TimerName)); err != nil {
		t.Fatal(err)
	}
	if r := staged(root).Renewal(); !r.Timer || r.TimerEnabled || r.Scheduled() {
		t.Errorf("disabled timer: %+v, Scheduled %v", r, r.Scheduled())
	}
}

func TestStatus(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 28, 13, 20, 0, 0, time.UTC)
	root := scheduletest.Root(t, true)
	h := &Host{Root: root, Staged: true, Now: func() time.Time { return now }}
	so := StatusOptions{WorkDir: "/var/lib/letsencrypt", LogsDir: "/var/log/letsencrypt"}
	st := h.Status(ctx, so)
	if st.Installed() || st.LastRun.Run != nil || st.LastRun.Log.File != "" || st.LastRun.LogsDir != filepath.Join(root, so.LogsDir) {
		t.Errorf("empty root: %+v", st)
	}
	if _, err := h.Install(ctx, InstallOptions{Binary: "/usr/bin/acmectl", ConfigDir: "/etc/le"}); err != nil {
		t.Fatal(err)
	}
	st = h.Status(ctx, so)
	tm := st.Timer
	if tm == nil || !tm.Enabled || tm.ExecStart != "/usr/bin/acmectl renew -q --config-dir /etc/le" || tm.RandomizedDelay != "1h" ||
		!tm.Next.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)) || st.Cron != nil {
		t.Errorf("timer status = %+v", tm)
	}
	if err := os.Remove(filepath.Join(root, UnitDir, ServiceName)); err != nil {
		t.Fatal(err)
	}
	if tm := h.Status(ctx, so).Timer; !tm.ServiceMissing || tm.ExecStart != "" {
		t.Errorf("service removed: %+v", tm)
	}
}

// The newest log's last error, then the status file, which wins.
func TestStatusLastRun(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 28, 13, 20, 0, 0, time.UTC)
	root := scheduletest.Root(t, true)
	h := &Host{Root: root, Staged: true, Now: func() time.Time { return now }}
	so := StatusOptions{WorkDir: "/var/lib/letsencrypt", LogsDir: "/var/log/letsencrypt"}
	logs := filepath.Join(root, so.LogsDir)
	scheduletest.WriteFile(t, filepath.Join(logs, "letsencrypt.log"), "a level=ERROR msg=x\nb level=DEBUG msg=\"command failed\" error=\"renew: 1 of 2 failed\"\n", 0o600)
	if lr := h.Status(ctx, so).LastRun; lr.Log.LastError != "renew: 1 of 2 failed" || lr.LogErr != nil {
		t.Errorf("log result = %+v", lr)
	}
	work := filepath.Join(root, so.WorkDir)
	if err := WriteLastRun(work, LastRun{Time: now, Command: "renew", OK: true, Renewed: []string{"a"}, Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if lr := h.Status(ctx, so).LastRun; lr.Run == nil || lr.Run.Version != "v1" || lr.Log.File != "" || lr.File != filepath.Join(work, LastRunFile) {
		t.Errorf("last run = %+v", lr)
	}
	scheduletest.WriteFile(t, filepath.Join(work, LastRunFile), "{", 0o644)
	if lr := h.Status(ctx, so).LastRun; lr.ReadErr == nil || lr.Run != nil {
		t.Errorf("broken status file: %+v", lr)
	}
}

// Cron: each job line parsed, with its next run; a broken one says why.
func TestStatusCron(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 28, 13, 20, 0, 0, time.UTC)
	so := StatusOptions{WorkDir: "/var/lib/letsencrypt", LogsDir: "/var/log/letsencrypt"}
	croot := scheduletest.Root(t, false)
	ch := &Host{Root: croot, Staged: true, Now: func() time.Time { return now }, Rand: rand.New(rand.NewPCG(3, 4))}
	if _, err := ch.Install(ctx, InstallOptions{Binary: "/usr/bin/acmectl"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(croot, CronPath), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "99 * * * * root broken")
	f.Close()
	cr := ch.Status(ctx, so).Cron
	if cr == nil || len(cr.Jobs) != 2 || cr.Jobs[0].Entry.User != "root" || cr.Jobs[0].Next.IsZero() || cr.Jobs[1].Err == nil {
		t.Errorf("cron status = %+v", cr)
	}
}

// TestCoversConfigDir: certbot's timer renews /etc/letsencrypt only;
// acmectl's timer or cron entry renews the tree its --config-dir names (the
// default without one), quoted or not. A certificate in another tree (make
// demo's ./demo/config) is renewed by neither.
func TestCoversConfigDir(t *testing.T) {
	h := staged(scheduletest.CertbotRoot(t, true))
	for dir, want := range map[string]bool{"/etc/letsencrypt": true, "/etc/letsencrypt/": true, "/srv/demo/config": false} {
		if a, c := h.Covers(dir); a || c != want {
			t.Errorf("certbot's timer: Covers(%q) = %v, %v; want false, %v", dir, a, c, want)
		}
	}
	for _, systemd := range []bool{true, false} {
		for _, tree := range []string{"", "/srv/le config", "/srv/le"} {
			var rec recorder
			h := &Host{Root: scheduletest.Root(t, systemd), Staged: true, Rand: rand.New(rand.NewPCG(1, 1)), Run: rec.run}
			if _, err := h.Install(t.Context(), InstallOptions{Binary: "/usr/bin/acmectl", ConfigDir: tree, WorkDir: "/var/lib/x"}); err != nil {
				t.Fatal(err)
			}
			covered := tree
			if covered == "" {
				covered = DefaultConfigDir
			}
			for _, dir := range []string{DefaultConfigDir, "/srv/le config", "/srv/le", "/srv/other"} {
				if a, c := h.Covers(dir); a != (dir == covered) || c {
					t.Errorf("systemd %v, installed for %q: Covers(%q) = %v, %v; want %v, false", systemd, tree, dir, a, c, dir == covered)
				}
			}
		}
	}
}

// TestRenewalNote: the note after a new certificate names what renews this
// tree, or how to schedule it (with --config-dir for a tree other than
// /etc/letsencrypt).
func TestRenewalNote(t *testing.T) {
	h := staged(scheduletest.CertbotRoot(t, true))
	if n := h.RenewalNote(DefaultConfigDir, "2027-03-02"); !strings.Contains(n, "certbot's own scheduled task renews this certificate") {
		t.Errorf("certbot's timer, /etc/letsencrypt: %q", n)
	}
	if n := h.RenewalNote("/srv/demo/config", "2027-03-02"); !strings.Contains(n, "expires on 2027-03-02: run 'acmectl schedule install --config-dir /srv/demo/config'") {
		t.Errorf("certbot's timer, another tree: %q", n)
	}
	var rec recorder
	h = &Host{Root: scheduletest.Root(t, false), Staged: true, Rand: rand.New(rand.NewPCG(1, 1)), Run: rec.run}
	if n := h.RenewalNote(DefaultConfigDir, "2027-03-02"); !strings.Contains(n, "run 'acmectl schedule install' (") {
		t.Errorf("nothing scheduled: %q", n)
	}
	if _, err := h.Install(t.Context(), InstallOptions{Binary: "/usr/bin/acmectl", WorkDir: "/var/lib/x"}); err != nil {
		t.Fatal(err)
	}
	if n := h.RenewalNote(DefaultConfigDir, "2027-03-02"); !strings.Contains(n, "acmectl has a scheduled task ("+CronPath+")") {
		t.Errorf("acmectl's cron entry: %q", n)
	}
}
