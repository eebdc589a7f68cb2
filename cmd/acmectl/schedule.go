package main

// acmectl schedule install|remove|status: scheduled renewal through a systemd
// timer (when systemd runs) or /etc/cron.d/acmectl, and taking over from (or
// handing back to) certbot's own timer or cron entry so the two never race.
//
// Everything below works on a root directory ("/" on the real system,
// --root for packaging and tests). Outside --root, systemctl is run only when
// systemd is running; with --root it never is.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"
)

// Paths relative to the root.
const (
	schedSystemdRunDir = "/run/systemd/system"
	schedUnitDir       = "/etc/systemd/system"
	schedWantsDir      = "/etc/systemd/system/timers.target.wants"
	schedServiceName   = "acmectl-renew.service"
	schedTimerName     = "acmectl-renew.timer"
	schedCronPath      = "/etc/cron.d/acmectl"
	schedCertbotCron   = "/etc/cron.d/certbot"
	schedDisabledExt   = ".acmectl-disabled"
	schedOnCalendar    = "*-*-* 00,12:00:00"
	// schedLastRunFile is written by renew into --work-dir (see
	// schedWriteLastRun) and read by schedule status.
	schedLastRunFile = "acmectl-last-run.json"
)

// Flag names of the schedule command (the global ones come from flags.go).
const (
	flgSchedRoot    = "root"
	flgSchedBinary  = "binary"
	flgSchedReplace = "replace-certbot"
	flgSchedRestore = "restore-certbot"
)

// schedCertbotUnitDirs are where a packaged certbot.timer lives.
var schedCertbotUnitDirs = []string{"/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"}

// schedCertbotTimers are certbot's timers: the distribution package's and the snap's.
var schedCertbotTimers = []string{"certbot.timer", "snap.certbot.renew.timer"}

// scheduler is the state of one schedule run.
type scheduler struct {
	root   string // "/" for the real system
	staged bool   // --root given: never run systemctl
	out    io.Writer
	errw   io.Writer
	// run runs a command on the real system (systemctl); nil = exec.
	run func(ctx context.Context, name string, args ...string) (string, error)
	now func() time.Time
	rnd *rand.Rand
}

func (s *scheduler) path(p string) string { return filepath.Join(s.root, filepath.FromSlash(p)) }

// systemd reports whether systemd is the running init in the root
// (sd_booted's test: /run/systemd/system is a directory).
func (s *scheduler) systemd() bool {
	fi, err := os.Stat(s.path(schedSystemdRunDir))
	return err == nil && fi.IsDir()
}

// liveSystemd: systemctl may be run (real system, systemd running).
func (s *scheduler) liveSystemd() bool { return !s.staged && s.systemd() }

func (s *scheduler) systemctl(ctx context.Context, args ...string) (string, error) {
	if !s.liveSystemd() {
		return "", nil
	}
	if s.run != nil {
		return s.run(ctx, "systemctl", args...)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// schedCommandLine is the renew command the timer or cron runs.
func schedCommandLine(binary string, extra []string) []string {
	return append([]string{binary, "renew", "-q"}, extra...)
}

// schedSystemdQuote quotes one ExecStart word (systemd.service "Command
// lines"): double quotes when needed, % doubled (specifier escape).
func schedSystemdQuote(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;$") {
		return w
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$")
	return `"` + r.Replace(w) + `"`
}

// schedShellQuote quotes one word for the cron command (sh), escaping % which
// cron turns into a newline.
func schedShellQuote(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\n\"'\\;$&|<>()*?[]#~`!{}%") {
		return w
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(w, "'", `'\''`), "%", `'\%'`) + "'"
}

// schedCheckWord refuses a value with a control character (C0, DEL, C1):
// in a cron line a newline starts another entry, and systemd splits
// ExecStart= at a newline too.
func schedCheckWord(flag, v string) error {
	for _, r := range v {
		if unicode.IsControl(r) {
			return usageErrorf("schedule install: %s %q contains a control character (%U); the path must be one line of printable characters", flag, v, r)
		}
	}
	return nil
}

// schedServiceUnit is acmectl-renew.service.
func schedServiceUnit(cmdline []string) string {
	q := make([]string, len(cmdline))
	for i, w := range cmdline {
		q[i] = schedSystemdQuote(w)
	}
	return `# Written by "acmectl schedule install"; "acmectl schedule remove" deletes it.
[Unit]
Description=Renew certificates with acmectl
Documentation=man:acmectl(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=` + strings.Join(q, " ") + `
PrivateTmp=true
`
}

// schedTimerUnit is acmectl-renew.timer: twice a day, spread over an hour,
// catching up after downtime.
func schedTimerUnit() string {
	return `# Written by "acmectl schedule install"; "acmectl schedule remove" deletes it.
[Unit]
Description=Run acmectl renew twice a day

[Timer]
OnCalendar=` + schedOnCalendar + `
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`
}

// schedCronContent is /etc/cron.d/acmectl: twice a day at a random minute
// (and a random pair of hours 12 h apart), as root.
func schedCronContent(cmdline []string, minute, hour int) string {
	q := make([]string, len(cmdline))
	for i, w := range cmdline {
		q[i] = schedShellQuote(w)
	}
	return fmt.Sprintf(`# Written by "acmectl schedule install"; "acmectl schedule remove" deletes it.
# Renews certificates twice a day; acmectl renew -q waits a random 1-480 s itself.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

%d %d,%d * * * root test -x %s && %s
`, minute, hour, hour+12, q[0], strings.Join(q, " "))
}

// certbotSched is one piece of certbot's own scheduling found in the root.
type certbotSched struct {
	Kind   string // "timer-unit", "timer-enabled", "timer-masked", "cron", "crontab"
	Unit   string // certbot.timer or snap.certbot.renew.timer (systemd kinds)
	Path   string // absolute path inside the root, without the root prefix
	Active bool   // would run certbot
	Lines  int    // cron: active (uncommented) job lines
	Note   string
}

// findCertbot lists certbot's timers and cron entries in the root.
func (s *scheduler) findCertbot() []certbotSched {
	var out []certbotSched
	for _, unit := range schedCertbotTimers {
		masked := false
		mp := schedUnitDir + "/" + unit
		if t, err := os.Readlink(s.path(mp)); err == nil && t == "/dev/null" {
			masked = true
			out = append(out, certbotSched{Kind: "timer-masked", Unit: unit, Path: mp, Note: "masked"})
		}
		var unitFile string
		for _, d := range schedCertbotUnitDirs {
			p := d + "/" + unit
			fi, err := os.Stat(s.path(p))
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if unitFile == "" {
				unitFile = p
			}
			out = append(out, certbotSched{Kind: "timer-unit", Unit: unit, Path: p})
		}
		wp := schedWantsDir + "/" + unit
		if _, err := os.Lstat(s.path(wp)); err == nil {
			c := certbotSched{Kind: "timer-enabled", Unit: unit, Path: wp, Active: !masked && unitFile != "" && s.systemd()}
			if !s.systemd() {
				c.Note = "systemd is not running"
			}
			out = append(out, c)
		}
	}
	if data, err := os.ReadFile(s.path(schedCertbotCron)); err == nil {
		lines := schedActiveCronLines(string(data))
		c := certbotSched{Kind: "cron", Path: schedCertbotCron, Lines: len(lines), Active: len(lines) > 0}
		switch {
		case len(lines) == 0:
			c.Note = "every line commented out"
		case s.systemd() && strings.Contains(strings.Join(lines, "\n"), "-d /run/systemd/system"):
			// Debian's entry: "test ... -a \! -d /run/systemd/system && ..."
			c.Active, c.Note = false, "it skips itself while systemd runs"
		}
		out = append(out, c)
	}
	for _, p := range []string{"/etc/crontab", "/var/spool/cron/crontabs/root"} {
		data, err := os.ReadFile(s.path(p))
		if err != nil {
			continue
		}
		for _, l := range schedActiveCronLines(string(data)) {
			if strings.Contains(l, "certbot") {
				out = append(out, certbotSched{Kind: "crontab", Path: p, Active: true,
					Note: "remove the certbot line by hand (crontab -e / " + p + ")"})
				break
			}
		}
	}
	return out
}

// schedActiveCronLines returns the non-comment, non-variable lines.
func schedActiveCronLines(data string) []string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if i := strings.IndexAny(t, "= \t"); i > 0 && t[i] == '=' {
			continue // NAME=value
		}
		out = append(out, l)
	}
	return out
}

func certbotActive(found []certbotSched) bool {
	for _, f := range found {
		if f.Active {
			return true
		}
	}
	return false
}

func (c certbotSched) String() string {
	state := "inactive"
	if c.Active {
		state = "active"
	}
	switch c.Kind {
	case "timer-unit":
		return fmt.Sprintf("%s unit file %s", c.Unit, c.Path)
	case "timer-enabled":
		if c.Note != "" {
			state += ", " + c.Note
		}
		return fmt.Sprintf("%s enabled (%s) — %s", c.Unit, c.Path, state)
	case "timer-masked":
		return fmt.Sprintf("%s masked (%s -> /dev/null)", c.Unit, c.Path)
	}
	s := fmt.Sprintf("cron entry %s — %s", c.Path, state)
	if c.Note != "" {
		s += " (" + c.Note + ")"
	}
	return s
}

// disableCertbot stops certbot's own scheduling: timers lose their
// timers.target.wants link and are masked (a /dev/null link in
// /etc/systemd/system; a real unit file there is first moved aside to
// <unit>.acmectl-disabled); /etc/cron.d/certbot is kept as
// certbot.acmectl-disabled (cron ignores names with a dot) and its lines are
// commented out.
func (s *scheduler) disableCertbot(ctx context.Context, found []certbotSched) ([]string, error) {
	var did []string
	units := map[string]bool{}
	for _, f := range found {
		switch f.Kind {
		case "timer-enabled":
			if err := os.Remove(s.path(f.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return did, fmt.Errorf("disable %s: %w", f.Unit, err)
			}
			units[f.Unit] = true
			did = append(did, "removed "+f.Path)
		case "timer-unit":
			units[f.Unit] = true
		case "cron":
			if f.Lines == 0 {
				continue
			}
			p := s.path(f.Path)
			data, err := os.ReadFile(p)
			if err != nil {
				return did, fmt.Errorf("disable certbot cron: %w", err)
			}
			if err := schedWriteFile(p+schedDisabledExt, data, 0o644); err != nil {
				return did, fmt.Errorf("back up %s: %w", f.Path, err)
			}
			if err := schedWriteFile(p, []byte(schedCommentOut(string(data))), 0o644); err != nil {
				return did, fmt.Errorf("disable certbot cron: %w", err)
			}
			did = append(did, "commented out "+f.Path+" (original kept as "+f.Path+schedDisabledExt+")")
		}
	}
	for _, unit := range schedSorted(units) {
		mp := schedUnitDir + "/" + unit
		p := s.path(mp)
		if t, err := os.Readlink(p); err == nil && t == "/dev/null" {
			continue
		}
		if unit == "snap.certbot.renew.timer" {
			// snapd owns /etc/systemd/system/snap.*: disabling is all we do.
			did = append(did, "snap's "+unit+" disabled; 'snap remove certbot' removes it for good")
			continue
		}
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			if err := os.Rename(p, p+schedDisabledExt); err != nil {
				return did, fmt.Errorf("move %s aside: %w", mp, err)
			}
			did = append(did, "moved "+mp+" to "+mp+schedDisabledExt)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return did, fmt.Errorf("mask %s: %w", unit, err)
		}
		if err := os.Symlink("/dev/null", p); err != nil && !errors.Is(err, fs.ErrExist) {
			return did, fmt.Errorf("mask %s: %w", unit, err)
		}
		did = append(did, "masked "+unit+" ("+mp+" -> /dev/null)")
	}
	if len(units) > 0 && s.liveSystemd() {
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return did, err
		}
		for _, u := range schedSorted(units) {
			_, _ = s.systemctl(ctx, "stop", u) // not running is fine
		}
	}
	return did, nil
}

// restoreCertbot undoes disableCertbot.
func (s *scheduler) restoreCertbot(ctx context.Context) ([]string, error) {
	var did []string
	bak := s.path(schedCertbotCron + schedDisabledExt)
	if data, err := os.ReadFile(bak); err == nil {
		if err := schedWriteFile(s.path(schedCertbotCron), data, 0o644); err != nil {
			return did, fmt.Errorf("restore %s: %w", schedCertbotCron, err)
		}
		if err := os.Remove(bak); err != nil {
			return did, fmt.Errorf("restore %s: %w", schedCertbotCron, err)
		}
		did = append(did, "restored "+schedCertbotCron)
	}
	var enabled []string
	for _, unit := range schedCertbotTimers {
		mp := schedUnitDir + "/" + unit
		p := s.path(mp)
		if t, err := os.Readlink(p); err == nil && t == "/dev/null" {
			if err := os.Remove(p); err != nil {
				return did, fmt.Errorf("unmask %s: %w", unit, err)
			}
			did = append(did, "unmasked "+unit)
		}
		if _, err := os.Lstat(p + schedDisabledExt); err == nil {
			if err := os.Rename(p+schedDisabledExt, p); err != nil {
				return did, fmt.Errorf("restore %s: %w", mp, err)
			}
			did = append(did, "restored "+mp)
		}
		unitFile := ""
		for _, d := range []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
			if fi, err := os.Stat(s.path(d + "/" + unit)); err == nil && fi.Mode().IsRegular() {
				unitFile = d + "/" + unit
				break
			}
		}
		if unitFile == "" {
			continue
		}
		wp := s.path(schedWantsDir + "/" + unit)
		if _, err := os.Lstat(wp); err != nil {
			if err := os.MkdirAll(filepath.Dir(wp), 0o755); err != nil {
				return did, fmt.Errorf("enable %s: %w", unit, err)
			}
			if err := os.Symlink(unitFile, wp); err != nil {
				return did, fmt.Errorf("enable %s: %w", unit, err)
			}
			did = append(did, "enabled "+unit)
		}
		enabled = append(enabled, unit)
	}
	if len(enabled) > 0 && s.liveSystemd() {
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return did, err
		}
		for _, u := range enabled {
			if _, err := s.systemctl(ctx, "start", u); err != nil {
				return did, err
			}
		}
	}
	return did, nil
}

// schedCommentOut comments out every active line of a cron file.
func schedCommentOut(data string) string {
	lines := strings.Split(data, "\n")
	active := map[string]bool{}
	for _, l := range schedActiveCronLines(data) {
		active[l] = true
	}
	for i, l := range lines {
		if active[l] {
			lines[i] = "#acmectl-disabled# " + l
		}
	}
	return strings.Join(lines, "\n")
}

// schedInstallOpts are schedule install's inputs.
type schedInstallOpts struct {
	binary  string
	extra   []string // --config-dir etc. passed on to renew
	replace bool     // disable certbot's scheduling
}

// install writes the units or the cron file and returns what it did.
func (s *scheduler) install(ctx context.Context, o schedInstallOpts) ([]string, error) {
	if !filepath.IsAbs(o.binary) {
		return nil, usageErrorf("schedule install: --binary must be an absolute path, not %q", o.binary)
	}
	if err := schedCheckWord("--binary", o.binary); err != nil {
		return nil, err
	}
	for i := 1; i < len(o.extra); i += 2 {
		if err := schedCheckWord(o.extra[i-1], o.extra[i]); err != nil {
			return nil, err
		}
	}
	var did []string
	cmdline := schedCommandLine(o.binary, o.extra)
	if s.systemd() {
		svc := s.path(schedUnitDir + "/" + schedServiceName)
		tmr := s.path(schedUnitDir + "/" + schedTimerName)
		if err := schedWriteFile(svc, []byte(schedServiceUnit(cmdline)), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", schedServiceName, err)
		}
		if err := schedWriteFile(tmr, []byte(schedTimerUnit()), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", schedTimerName, err)
		}
		did = append(did, "wrote "+schedUnitDir+"/"+schedServiceName, "wrote "+schedUnitDir+"/"+schedTimerName)
		if s.liveSystemd() {
			if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
				return did, err
			}
			if _, err := s.systemctl(ctx, "enable", "--now", schedTimerName); err != nil {
				return did, err
			}
			did = append(did, "enabled and started "+schedTimerName)
		} else {
			// What systemctl enable does, for a staged root.
			wp := s.path(schedWantsDir + "/" + schedTimerName)
			if err := os.MkdirAll(filepath.Dir(wp), 0o755); err != nil {
				return did, fmt.Errorf("enable %s: %w", schedTimerName, err)
			}
			_ = os.Remove(wp)
			if err := os.Symlink(schedUnitDir+"/"+schedTimerName, wp); err != nil {
				return did, fmt.Errorf("enable %s: %w", schedTimerName, err)
			}
			did = append(did, "enabled "+schedTimerName+" ("+schedWantsDir+"/"+schedTimerName+")")
		}
	} else {
		minute, hour := s.rnd.IntN(60), s.rnd.IntN(12)
		if err := schedWriteFile(s.path(schedCronPath), []byte(schedCronContent(cmdline, minute, hour)), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", schedCronPath, err)
		}
		did = append(did, "wrote "+schedCronPath)
	}
	if o.replace {
		d, err := s.disableCertbot(ctx, s.findCertbot())
		did = append(did, d...)
		if err != nil {
			return did, err
		}
	}
	return did, nil
}

// remove deletes what install wrote (both kinds, whichever exist).
func (s *scheduler) remove(ctx context.Context, restore bool) ([]string, error) {
	var did []string
	hadUnits := false
	if s.liveSystemd() {
		if _, err := os.Stat(s.path(schedUnitDir + "/" + schedTimerName)); err == nil {
			if _, err := s.systemctl(ctx, "disable", "--now", schedTimerName); err != nil {
				return did, err
			}
		}
	}
	for _, p := range []string{schedWantsDir + "/" + schedTimerName, schedUnitDir + "/" + schedTimerName,
		schedUnitDir + "/" + schedServiceName, schedCronPath} {
		err := os.Remove(s.path(p))
		switch {
		case err == nil:
			did = append(did, "removed "+p)
			if strings.HasPrefix(p, schedUnitDir) {
				hadUnits = true
			}
		case !errors.Is(err, fs.ErrNotExist):
			return did, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	if hadUnits && s.liveSystemd() {
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return did, err
		}
	}
	if restore {
		d, err := s.restoreCertbot(ctx)
		did = append(did, d...)
		if err != nil {
			return did, err
		}
	}
	return did, nil
}

// schedLastRun is <work-dir>/acmectl-last-run.json, written by renew at the
// end of every run that is not --dry-run (also with -q, and when it fails)
// and shown by schedule status.
type schedLastRun struct {
	Time     time.Time `json:"time"`
	Command  string    `json:"command"` // "renew"
	DryRun   bool      `json:"dry_run,omitempty"`
	OK       bool      `json:"ok"`
	Renewed  []string  `json:"renewed,omitempty"` // lineage names
	Failed   []string  `json:"failed,omitempty"`
	NotDue   []string  `json:"not_due,omitempty"`
	Error    string    `json:"error,omitempty"` // one line; no secrets
	Version  string    `json:"version,omitempty"`
	Duration string    `json:"duration,omitempty"`
}

// schedWriteLastRun writes r atomically into workDir (for renew to call).
func schedWriteLastRun(workDir string, r schedLastRun) error {
	if r.Version == "" {
		r.Version = version
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode last-run status: %w", err)
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fmt.Errorf("write last-run status: %w", err)
	}
	return schedWriteFile(filepath.Join(workDir, schedLastRunFile), append(b, '\n'), 0o644)
}

// schedReadLastRun reads the status file; (nil, nil) when there is none.
func schedReadLastRun(workDir string) (*schedLastRun, error) {
	b, err := os.ReadFile(filepath.Join(workDir, schedLastRunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last-run status: %w", err)
	}
	var r schedLastRun
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(workDir, schedLastRunFile), err)
	}
	return &r, nil
}

// schedLogResult summarizes the newest letsencrypt.log* in logsDir: when it
// was written and the last error in it ("" when none).
func schedLogResult(logsDir string) (file string, mod time.Time, lastErr string, err error) {
	entries, err := os.ReadDir(logsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", time.Time{}, "", nil
	}
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("read logs dir: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "letsencrypt.log") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if fi.ModTime().After(mod) {
			mod, file = fi.ModTime(), filepath.Join(logsDir, e.Name())
		}
	}
	if file == "" {
		return "", time.Time{}, "", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return file, mod, "", fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.Contains(l, "level=ERROR"), strings.Contains(l, ":ERROR:"):
			lastErr = l
		case strings.Contains(l, `msg="command failed"`):
			lastErr = l
			if i := strings.Index(l, "error="); i >= 0 {
				lastErr = strings.Trim(l[i+len("error="):], `"`)
			}
		}
	}
	return file, mod, lastErr, nil
}

// schedStatusOpts are schedule status's inputs.
type schedStatusOpts struct {
	logsDir, workDir string
}

// status describes what is installed, when it runs next, the last result
// and certbot's own scheduling.
func (s *scheduler) status(ctx context.Context, o schedStatusOpts) string {
	var b strings.Builder
	now := s.now()
	svc := s.path(schedUnitDir + "/" + schedServiceName)
	tmr := s.path(schedUnitDir + "/" + schedTimerName)
	installed := false
	if data, err := os.ReadFile(tmr); err == nil {
		installed = true
		enabled := "not enabled (run: systemctl enable --now " + schedTimerName + ")"
		if _, err := os.Lstat(s.path(schedWantsDir + "/" + schedTimerName)); err == nil {
			enabled = "enabled"
		}
		fmt.Fprintf(&b, "Scheduler: systemd timer %s, %s\n", schedUnitDir+"/"+schedTimerName, enabled)
		if sd, err := os.ReadFile(svc); err == nil {
			fmt.Fprintf(&b, "  runs: %s\n", schedUnitValue(string(sd), "ExecStart"))
		} else {
			fmt.Fprintf(&b, "  FAIL: %s is missing; run acmectl schedule install again\n", schedUnitDir+"/"+schedServiceName)
		}
		next, how := time.Time{}, ""
		if s.liveSystemd() {
			if out, err := s.systemctl(ctx, "show", schedTimerName, "--property=NextElapseUSecRealtime", "--value"); err == nil {
				if t, ok := schedParseSystemdTime(strings.TrimSpace(out)); ok {
					next, how = t, "from systemctl"
				}
			}
		}
		if next.IsZero() {
			if t, err := schedNextCalendar(schedUnitValue(string(data), "OnCalendar"), now); err == nil {
				next, how = t, "plus a random delay of up to "+schedOr(schedUnitValue(string(data), "RandomizedDelaySec"), "0")
			}
		}
		if !next.IsZero() {
			fmt.Fprintf(&b, "  next run: %s (%s)\n", next.Format("2006-01-02 15:04:05 MST"), how)
		} else {
			fmt.Fprintf(&b, "  next run: unknown\n")
		}
	}
	if data, err := os.ReadFile(s.path(schedCronPath)); err == nil {
		installed = true
		fmt.Fprintf(&b, "Scheduler: cron %s\n", schedCronPath)
		for _, l := range schedActiveCronLines(string(data)) {
			e, err := schedParseCronLine(l, true)
			if err != nil {
				fmt.Fprintf(&b, "  FAIL: %v\n", err)
				continue
			}
			fmt.Fprintf(&b, "  runs: %s (as %s)\n", e.Command, e.User)
			if t, ok := e.Next(now); ok {
				fmt.Fprintf(&b, "  next run: %s\n", t.Format("2006-01-02 15:04:05 MST"))
			}
		}
	}
	if !installed {
		fmt.Fprintf(&b, "Scheduler: none installed (run: acmectl schedule install)\n")
	}

	lr, err := schedReadLastRun(o.workDir)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "Last run: %v\n", err)
	case lr != nil:
		res := "OK"
		if !lr.OK {
			res = "FAILED"
		}
		if lr.DryRun {
			res += " (dry run)"
		}
		fmt.Fprintf(&b, "Last run: %s %s", lr.Time.Local().Format("2006-01-02 15:04:05 MST"), res)
		if len(lr.Renewed) > 0 {
			fmt.Fprintf(&b, ", renewed %s", strings.Join(lr.Renewed, ", "))
		}
		if len(lr.Failed) > 0 {
			fmt.Fprintf(&b, ", failed %s", strings.Join(lr.Failed, ", "))
		}
		if lr.Error != "" {
			fmt.Fprintf(&b, ": %s", lr.Error)
		}
		fmt.Fprintf(&b, " (%s)\n", filepath.Join(o.workDir, schedLastRunFile))
	default:
		file, mod, lastErr, err := schedLogResult(o.logsDir)
		switch {
		case err != nil:
			fmt.Fprintf(&b, "Last run: unknown (%v)\n", err)
		case file == "":
			fmt.Fprintf(&b, "Last run: none recorded in %s\n", o.logsDir)
		case lastErr != "":
			fmt.Fprintf(&b, "Last run: %s FAILED: %s (%s)\n", mod.Local().Format("2006-01-02 15:04:05 MST"), lastErr, file)
		default:
			fmt.Fprintf(&b, "Last run: %s, no errors logged (%s)\n", mod.Local().Format("2006-01-02 15:04:05 MST"), file)
		}
	}

	found := s.findCertbot()
	if len(found) == 0 {
		fmt.Fprintf(&b, "certbot: no timer or cron entry of its own\n")
	}
	for _, f := range found {
		fmt.Fprintf(&b, "certbot: %s\n", f)
	}
	if certbotActive(found) && installed {
		fmt.Fprintf(&b, "  WARN: certbot's renewal is still scheduled next to acmectl's; run: acmectl schedule install --replace-certbot\n")
	}
	return b.String()
}

// summary is one line on who renews in the root (for doctor).
func (s *scheduler) summary() string {
	var ours string
	if _, err := os.Stat(s.path(schedUnitDir + "/" + schedTimerName)); err == nil {
		ours = schedTimerName
		if _, err := os.Lstat(s.path(schedWantsDir + "/" + schedTimerName)); err != nil {
			ours += " (installed but not enabled: systemctl enable --now " + schedTimerName + ")"
		}
	} else if _, err := os.Stat(s.path(schedCronPath)); err == nil {
		ours = schedCronPath
	}
	theirs := certbotActive(s.findCertbot())
	switch {
	case ours != "" && theirs:
		return "Scheduled renewal: " + ours + ", and certbot's own as well; run: acmectl schedule install --replace-certbot"
	case ours != "":
		return "Scheduled renewal: " + ours
	case theirs:
		return "Scheduled renewal: certbot's own timer or cron entry only; to hand it to acmectl: acmectl schedule install --replace-certbot"
	}
	return "Scheduled renewal: none, so nothing renews these certificates; run: acmectl schedule install"
}

func schedOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// schedUnitValue returns the last value of key in a unit file.
func schedUnitValue(unit, key string) string {
	v := ""
	for _, l := range strings.Split(unit, "\n") {
		l = strings.TrimSpace(l)
		if k, val, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			v = strings.TrimSpace(val)
		}
	}
	return v
}

// schedParseSystemdTime parses systemctl show's NextElapseUSecRealtime: a
// timestamp ("Sat 2026-11-28 12:19:40 UTC") or microseconds since the epoch.
func schedParseSystemdTime(v string) (time.Time, bool) {
	if v == "" || v == "0" || v == "n/a" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMicro(n), true
	}
	for _, layout := range []string{"Mon 2006-01-02 15:04:05 MST", "Mon 2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// schedNextCalendar computes the next elapse of a simple OnCalendar
// expression of the form "*-*-* H[,H...]:MM[:SS]" (what install writes),
// in local time.
func schedNextCalendar(expr string, now time.Time) (time.Time, error) {
	f := strings.Fields(expr)
	if len(f) != 2 || f[0] != "*-*-*" {
		return time.Time{}, fmt.Errorf("OnCalendar %q: only *-*-* H,H:MM:SS is understood", expr)
	}
	parts := strings.Split(f[1], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return time.Time{}, fmt.Errorf("OnCalendar %q: bad time", expr)
	}
	min, err1 := strconv.Atoi(parts[1])
	sec := 0
	var err2 error
	if len(parts) == 3 {
		sec, err2 = strconv.Atoi(parts[2])
	}
	if err1 != nil || err2 != nil || min < 0 || min > 59 || sec < 0 || sec > 59 {
		return time.Time{}, fmt.Errorf("OnCalendar %q: bad minute or second", expr)
	}
	var hours []int
	for _, h := range strings.Split(parts[0], ",") {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > 23 {
			return time.Time{}, fmt.Errorf("OnCalendar %q: bad hour %q", expr, h)
		}
		hours = append(hours, n)
	}
	sort.Ints(hours)
	for d := 0; d < 2; d++ {
		day := now.AddDate(0, 0, d)
		for _, h := range hours {
			t := time.Date(day.Year(), day.Month(), day.Day(), h, min, sec, 0, now.Location())
			if t.After(now) {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("OnCalendar %q: no next time", expr)
}

// cronEntry is one parsed cron line.
type cronEntry struct {
	Minute, Hour, Dom, Month, Dow []bool // allowed values (index = value)
	domStar, dowStar              bool
	User, Command                 string
}

var cronNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

// schedParseCronLine parses a crontab line: five time fields, a user field
// when withUser (/etc/cron.d, /etc/crontab), and the command.
func schedParseCronLine(line string, withUser bool) (*cronEntry, error) {
	f := strings.Fields(line)
	want := 6
	if withUser {
		want = 7
	}
	if len(f) < want {
		what := "5 time fields and a command"
		if withUser {
			what = "5 time fields, a user and a command"
		}
		return nil, fmt.Errorf("cron line %q: want %s", line, what)
	}
	e := &cronEntry{}
	var err error
	fields := []struct {
		dst      *[]bool
		lo, hi   int
		star     *bool
		name     string
		allowSun bool
	}{
		{&e.Minute, 0, 59, nil, "minute", false},
		{&e.Hour, 0, 23, nil, "hour", false},
		{&e.Dom, 1, 31, &e.domStar, "day of month", false},
		{&e.Month, 1, 12, nil, "month", false},
		{&e.Dow, 0, 7, &e.dowStar, "day of week", true},
	}
	for i, fd := range fields {
		*fd.dst, err = cronField(f[i], fd.lo, fd.hi)
		if err != nil {
			return nil, fmt.Errorf("cron line %q: %s field: %w", line, fd.name, err)
		}
		if fd.star != nil {
			*fd.star = strings.HasPrefix(f[i], "*")
		}
	}
	if e.Dow[7] {
		e.Dow[0] = true
	}
	rest := f[5:]
	if withUser {
		e.User = f[5]
		rest = f[6:]
		if strings.ContainsAny(e.User, "=/") {
			return nil, fmt.Errorf("cron line %q: user field %q is not a user name", line, e.User)
		}
	}
	// Keep the command as written (after the fields).
	idx := 0
	for _, w := range f[:len(f)-len(rest)] {
		idx = strings.Index(line[idx:], w) + idx + len(w)
	}
	e.Command = strings.TrimSpace(line[idx:])
	return e, nil
}

func cronField(s string, lo, hi int) ([]bool, error) {
	out := make([]bool, hi+1)
	num := func(v string) (int, error) {
		if n, ok := cronNames[strings.ToLower(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a number from %d to %d", v, lo, hi)
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad step %q", stepS)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err error
			if a, err = num(x); err != nil {
				return nil, err
			}
			if b, err = num(y); err != nil {
				return nil, err
			}
			if a > b {
				return nil, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			n, err := num(rng)
			if err != nil {
				return nil, err
			}
			a = n
			if hasStep {
				b = hi
			} else {
				b = n
			}
		}
		for v := a; v <= b; v += step {
			out[v] = true
		}
	}
	return out, nil
}

// Next returns the first minute after now the entry fires (cron's rule:
// when both day fields are restricted, either may match). It looks at most
// a little over four years ahead.
func (e *cronEntry) Next(now time.Time) (time.Time, bool) {
	t := now.Truncate(time.Minute).Add(time.Minute)
	end := now.AddDate(4, 1, 0)
	for t.Before(end) {
		if !e.Month[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
			continue
		}
		dom, dow := e.Dom[t.Day()], e.Dow[int(t.Weekday())]
		dayOK := dom && dow
		if !e.domStar && !e.dowStar {
			dayOK = dom || dow
		}
		if !dayOK {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !e.Hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
			continue
		}
		if e.Minute[t.Minute()] {
			return t, true
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}, false
}

// schedWriteFile writes data atomically with mode.
func schedWriteFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".acmectl-tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func schedSorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- cli glue ----

// schedFlags are the flags of the schedule command ("") and of its
// subcommands. The common ones are on both, so that "acmectl -n schedule
// install" (certbot's flag order, moved by normalizeArgs) works too; read
// them with schedString/schedBool.
func schedFlags(sub string) []cli.Flag {
	pass := "passed on to renew when given"
	fs := []cli.Flag{
		&cli.StringFlag{Name: flgSchedRoot, Usage: "work in this staging root instead of / (packaging, tests); never runs systemctl"},
		&cli.BoolFlag{Name: flgNonInteractive, Aliases: []string{"n"}, Usage: "never ask"},
		&cli.BoolFlag{Name: flgQuiet, Aliases: []string{"q"}, Usage: "print nothing but errors"},
		&cli.StringFlag{Name: flgConfigDir, Usage: pass},
		&cli.StringFlag{Name: flgWorkDir, Usage: pass + "; status reads " + schedLastRunFile + " there", DefaultText: defaultWorkDir},
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

// schedSetIn returns the innermost context where flag name (or an alias)
// was given; nil when none.
func schedSetIn(c *cli.Context, names ...string) *cli.Context {
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

func schedString(c *cli.Context, name string) string {
	if p := schedSetIn(c, name); p != nil {
		return p.String(name)
	}
	return ""
}

func schedBool(c *cli.Context, name string, aliases ...string) bool {
	if p := schedSetIn(c, append([]string{name}, aliases...)...); p != nil {
		return p.Bool(name)
	}
	return false
}

func newScheduler(c *cli.Context) (*scheduler, error) {
	root := schedString(c, flgSchedRoot)
	s := &scheduler{root: "/", out: c.App.Writer, errw: c.App.ErrWriter, now: time.Now,
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))}
	if s.out == nil {
		s.out = os.Stdout
	}
	if s.errw == nil {
		s.errw = os.Stderr
	}
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, usageErrorf("schedule: --root %q: %v", root, err)
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.IsDir() {
			return nil, usageErrorf("schedule: --root %s is not a directory", root)
		}
		s.root, s.staged = abs, true
	}
	return s, nil
}

// schedPermHint adds what to do to a permission error.
func schedPermHint(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (run as root, or stage into a directory with --root DIR)", err)
	}
	return err
}

func (s *scheduler) report(c *cli.Context, did []string) {
	if schedBool(c, flgQuiet, "q") {
		return
	}
	for _, d := range did {
		fmt.Fprintln(s.out, d)
	}
}

// scheduleCommand is "acmectl schedule install|remove|status".
func scheduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "install, remove or show scheduled renewal (systemd timer or cron)",
		Description: "install writes " + schedUnitDir + "/" + schedServiceName + " and " + schedTimerName +
			" (twice a day, RandomizedDelaySec=1h, Persistent=true) when systemd runs, else " + schedCronPath +
			"; both run '<acmectl> renew -q'. --replace-certbot disables certbot's own timer or cron entry so the" +
			" two never race; remove --restore-certbot hands renewal back to certbot.",
		Flags: schedFlags(""),
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "schedule 'acmectl renew -q' twice a day",
				Flags: schedFlags("install"),
				Action: func(c *cli.Context) error {
					s, err := newScheduler(c)
					if err != nil {
						return err
					}
					bin := schedString(c, flgSchedBinary)
					if bin == "" {
						if bin, err = os.Executable(); err != nil {
							return fmt.Errorf("schedule install: find this executable: %w (pass --binary)", err)
						}
						if strings.HasPrefix(bin, filepath.Clean(os.TempDir())+string(filepath.Separator)) {
							fmt.Fprintf(s.errw, "Warning: the timer will run %s, which looks temporary (go run?); pass --binary /usr/local/bin/acmectl\n", bin)
						}
					}
					var extra []string
					for _, f := range []string{flgConfigDir, flgWorkDir, flgLogsDir, flgCABundle} {
						if v := schedString(c, f); v != "" {
							if a, err := filepath.Abs(v); err == nil {
								v = a
							}
							extra = append(extra, "--"+f, v)
						}
					}
					o := schedInstallOpts{binary: bin, extra: extra, replace: schedBool(c, flgSchedReplace)}
					found := s.findCertbot()
					if certbotActive(found) && !o.replace {
						in, _ := c.App.Reader.(*os.File) // urfave sets os.Stdin by default
						interactive := in != nil && !schedBool(c, flgNonInteractive, "n", "noninteractive") && !schedBool(c, flgQuiet, "q") && isTerminal(in)
						if interactive {
							fmt.Fprintln(s.errw, "certbot renews these certificates itself:")
							for _, f := range found {
								if f.Active {
									fmt.Fprintln(s.errw, "  "+f.String())
								}
							}
							fmt.Fprint(s.errw, "Disable it so that only acmectl renews? (y/N): ")
							ans, _ := bufio.NewReader(in).ReadString('\n')
							ans = strings.ToLower(strings.TrimSpace(ans))
							o.replace = ans == "y" || ans == "yes"
						}
					}
					did, err := s.install(c.Context, o)
					s.report(c, did)
					if err != nil {
						return schedPermHint(err)
					}
					if certbotActive(s.findCertbot()) {
						fmt.Fprintln(s.errw, "Warning: certbot's own renewal is still scheduled; both will renew. "+
							"Run 'acmectl schedule install --replace-certbot' to disable certbot's.")
					}
					return nil
				},
			},
			{
				Name:  "remove",
				Usage: "remove the timer or cron entry install wrote",
				Flags: schedFlags("remove"),
				Action: func(c *cli.Context) error {
					s, err := newScheduler(c)
					if err != nil {
						return err
					}
					did, err := s.remove(c.Context, schedBool(c, flgSchedRestore))
					s.report(c, did)
					if err != nil {
						return schedPermHint(err)
					}
					if len(did) == 0 && !schedBool(c, flgQuiet, "q") {
						fmt.Fprintln(s.out, "nothing to remove")
					}
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "show what is scheduled, the next run and the last result",
				Flags: schedFlags("status"),
				Action: func(c *cli.Context) error {
					s, err := newScheduler(c)
					if err != nil {
						return err
					}
					work, logs := schedString(c, flgWorkDir), schedString(c, flgLogsDir)
					if work == "" {
						work = defaultWorkDir
					}
					if logs == "" {
						logs = defaultLogsDir
					}
					fmt.Fprint(s.out, s.status(c.Context, schedStatusOpts{logsDir: s.path(logs), workDir: s.path(work)}))
					return nil
				},
			},
		},
	}
}
