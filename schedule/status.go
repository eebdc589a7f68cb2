package schedule

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LastRun is <work-dir>/acmectl-last-run.json, written by renew at the end
// of every run that is not --dry-run (also with -q, and when it fails) and
// shown by schedule status.
type LastRun struct {
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

// RecordRenew writes the LastRun of a renew run that began at start: the
// lineages renewed and failed, and errLine, the run's error on one line
// ("" when it succeeded).
func RecordRenew(workDir, version string, start time.Time, renewed, failed []string, errLine string) error {
	return WriteLastRun(workDir, LastRun{Time: start, Command: "renew", Version: version, OK: errLine == "",
		Renewed: renewed, Failed: failed, Error: errLine, Duration: time.Since(start).Round(time.Millisecond).String()})
}

// WriteLastRun writes r atomically into workDir (created when missing).
func WriteLastRun(workDir string, r LastRun) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode last-run status: %w", err)
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fmt.Errorf("write last-run status: %w", err)
	}
	// Not fsynced: the status is a report, and two fsyncs on every renew
	// (each cron run of a host that has nothing due) cost more than the
	// rest of such a run (75 ms measured here against a 70 ms run over 2,000
	// lineages). A crash may lose the newest status or, on a file system
	// that does not flush a renamed file's data, leave it empty (ReadLastRun
	// then names the file it cannot parse); never half of one.
	return writeFileMode(filepath.Join(workDir, LastRunFile), append(b, '\n'), 0o644, false)
}

// ReadLastRun reads the status file of workDir; (nil, nil) when there is none.
func ReadLastRun(workDir string) (*LastRun, error) {
	b, err := os.ReadFile(filepath.Join(workDir, LastRunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last-run status: %w", err)
	}
	var r LastRun
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(workDir, LastRunFile), err)
	}
	return &r, nil
}

// LogResult summarizes the newest letsencrypt.log* of a logs directory.
type LogResult struct {
	File      string    // "" when there is none
	Modified  time.Time // when it was last written
	LastError string    // the last error logged in it; "" when none
}

// readLogResult finds the newest letsencrypt.log* in logsDir and the last
// error in it. A missing directory is no log, not an error.
func readLogResult(logsDir string) (LogResult, error) {
	var r LogResult
	entries, err := os.ReadDir(logsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read logs dir: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "letsencrypt.log") || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().After(r.Modified) {
			r.Modified, r.File = fi.ModTime(), filepath.Join(logsDir, e.Name())
		}
	}
	if r.File == "" {
		return LogResult{}, nil
	}
	f, err := os.Open(r.File)
	if err != nil {
		return r, fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	r.LastError = lastLoggedError(f)
	return r, nil
}

// lastLoggedError returns the last ERROR record, or the error of the last
// "command failed" record, of a letsencrypt.log (read up to 64 MiB).
func lastLoggedError(log io.Reader) string {
	last := ""
	sc := bufio.NewScanner(io.LimitReader(log, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.Contains(l, "level=ERROR"), strings.Contains(l, ":ERROR:"):
			last = l
		case strings.Contains(l, `msg="command failed"`):
			last = l
			if i := strings.Index(l, "error="); i >= 0 {
				last = strings.Trim(l[i+len("error="):], `"`)
			}
		}
	}
	return last
}

// StatusOptions say where renew keeps its state, as paths inside the root.
type StatusOptions struct {
	WorkDir string // renew's --work-dir: the status file
	LogsDir string // renew's --logs-dir: letsencrypt.log, when there is no status file
}

// Status is what is scheduled on a host, when it runs next, how the last
// run went, and certbot's own scheduling.
type Status struct {
	Timer   *TimerStatus // nil when acmectl-renew.timer is not installed
	Cron    *CronStatus  // nil when /etc/cron.d/acmectl is not installed
	LastRun LastRunStatus
	Certbot []CertbotEntry
}

// Installed reports whether acmectl's timer or cron entry is installed.
func (s *Status) Installed() bool { return s.Timer != nil || s.Cron != nil }

// TimerStatus is acmectl-renew.timer's state.
type TimerStatus struct {
	Path        string // the timer unit, inside the root
	ServicePath string // the service unit, inside the root
	Enabled     bool   // its timers.target.wants link exists
	// ExecStart is the service's command line; "" when ServiceMissing.
	ExecStart      string
	ServiceMissing bool
	// Next is the next run; zero when unknown. NextFromSystemd: systemctl
	// said so; otherwise it is computed from OnCalendar, and systemd adds a
	// random delay of up to RandomizedDelay.
	Next            time.Time
	NextFromSystemd bool
	RandomizedDelay string
}

// CronStatus is /etc/cron.d/acmectl's state.
type CronStatus struct {
	Path string // inside the root
	Jobs []CronJob
}

// CronJob is one job line of the cron file: parsed, or why not.
type CronJob struct {
	Entry *CronEntry // nil when Err is set
	Err   error
	Next  time.Time // zero when it never fires
}

// LastRunStatus is how the last renew went: from its status file when there
// is one (Run or ReadErr), else from the newest letsencrypt.log (Log or LogErr).
type LastRunStatus struct {
	File    string   // the status file, on the file system
	Run     *LastRun // nil when there is none (or ReadErr)
	ReadErr error    // the status file exists but cannot be read or parsed
	LogsDir string   // on the file system
	Log     LogResult
	LogErr  error
}

// Status reports what is installed, when it runs next, how the last run went
// and certbot's own scheduling. It only reads; systemctl runs (for the
// timer's next elapse) only on a live host.
func (h *Host) Status(ctx context.Context, o StatusOptions) *Status {
	st := &Status{Timer: h.timerStatus(ctx), Cron: h.cronStatus(), Certbot: h.Certbot()}
	lr := &st.LastRun
	work := h.path(o.WorkDir)
	lr.File, lr.LogsDir = filepath.Join(work, LastRunFile), h.path(o.LogsDir)
	lr.Run, lr.ReadErr = ReadLastRun(work)
	if lr.Run == nil && lr.ReadErr == nil {
		lr.Log, lr.LogErr = readLogResult(lr.LogsDir)
	}
	return st
}

func (h *Host) timerStatus(ctx context.Context) *TimerStatus {
	data, err := os.ReadFile(h.path(UnitDir + "/" + TimerName))
	if err != nil {
		return nil
	}
	t := &TimerStatus{Path: UnitDir + "/" + TimerName, ServicePath: UnitDir + "/" + ServiceName, Enabled: h.exists(WantsDir + "/" + TimerName)}
	if sd, err := os.ReadFile(h.path(t.ServicePath)); err == nil {
		t.ExecStart = UnitValue(string(sd), "ExecStart")
	} else {
		t.ServiceMissing = true
	}
	if h.live() {
		out, err := h.systemctl(ctx, "show", TimerName, "--property=NextElapseUSecRealtime", "--value")
		if err == nil {
			t.Next, t.NextFromSystemd = parseSystemdTime(strings.TrimSpace(out))
		}
	}
	if t.Next.IsZero() {
		t.RandomizedDelay = UnitValue(string(data), "RandomizedDelaySec")
		if t.RandomizedDelay == "" {
			t.RandomizedDelay = "0"
		}
		if next, err := nextCalendar(UnitValue(string(data), "OnCalendar"), h.now()); err == nil {
			t.Next = next
		}
	}
	return t
}

func (h *Host) cronStatus() *CronStatus {
	data, err := os.ReadFile(h.path(CronPath))
	if err != nil {
		return nil
	}
	c := &CronStatus{Path: CronPath}
	for _, l := range ActiveCronLines(string(data)) {
		e, err := ParseCronLine(l, true)
		j := CronJob{Entry: e, Err: err}
		if err == nil {
			j.Next, _ = e.Next(h.now())
		}
		c.Jobs = append(c.Jobs, j)
	}
	return c
}

// Renewal is who schedules renewal on a host.
type Renewal struct {
	Timer        bool // acmectl-renew.timer is installed
	TimerEnabled bool // and enabled
	Cron         bool // /etc/cron.d/acmectl is installed
	// Certbot is certbot's own scheduling, active or not.
	Certbot []CertbotEntry
}

// Acmectl reports whether acmectl's own timer (enabled) or cron entry would
// run renew.
func (r Renewal) Acmectl() bool { return (r.Timer && r.TimerEnabled) || r.Cron }

// CertbotActive reports whether certbot's own timer or cron entry would run.
func (r Renewal) CertbotActive() bool { return CertbotActive(r.Certbot) }

// Scheduled reports whether anything renews certificates on the host.
func (r Renewal) Scheduled() bool { return r.Acmectl() || r.CertbotActive() }

// Renewal reports who schedules renewal on the host: acmectl's timer or cron
// entry, certbot's timer or cron entry. It only reads.
func (h *Host) Renewal() Renewal {
	r := Renewal{Certbot: h.Certbot()}
	if fi, err := os.Stat(h.path(UnitDir + "/" + TimerName)); err == nil && !fi.IsDir() {
		r.Timer, r.TimerEnabled = true, h.exists(WantsDir+"/"+TimerName)
	}
	if fi, err := os.Stat(h.path(CronPath)); err == nil && !fi.IsDir() {
		r.Cron = true
	}
	return r
}

// DefaultConfigDir is the tree a renew without --config-dir renews.
const DefaultConfigDir = "/etc/letsencrypt"

// Covers reports whether the scheduled renew runs found on the host would
// renew the tree at configDir: certbot's timer and cron entry renew the
// default tree; acmectl's the tree its --config-dir names (the default
// without one). A certificate in ./demo is renewed by neither.
func (h *Host) Covers(configDir string) (acmectl, certbot bool) {
	r := h.Renewal()
	want := filepath.Clean(configDir)
	certbot = r.CertbotActive() && want == DefaultConfigDir
	if !r.Acmectl() {
		return false, certbot
	}
	files := map[string]func(string) string{CronPath: shellQuote}
	if r.Timer && r.TimerEnabled {
		files[UnitDir+"/"+ServiceName] = systemdQuote
	}
	for p, quote := range files {
		b, err := os.ReadFile(h.path(p))
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, " --config-dir "+quote(want)+" ") || strings.Contains(s, " --config-dir "+quote(want)+"\n") ||
			(want == DefaultConfigDir && !strings.Contains(s, "--config-dir")) {
			acmectl = true
		}
	}
	return acmectl, certbot
}

// RenewalNote says what renews the certificates of the tree at configDir
// (certbot main._report_new_cert / _report_next_steps), from facts rather than
// certbot's preconfigured_renewal hint: acmectl's timer or cron entry for
// this tree, certbot's own for /etc/letsencrypt, or nothing — then how to
// schedule it. expires is the certificate's expiry as it is to be shown.
func (h *Host) RenewalNote(configDir, expires string) string {
	r := h.Renewal()
	acmectl, certbot := h.Covers(configDir)
	const updated = "These files will be updated when the certificate renews.\n"
	switch {
	case acmectl && r.Timer && r.TimerEnabled:
		return updated + "acmectl has a scheduled task (" + TimerName + ") to renew this certificate in the background.\n"
	case acmectl:
		return updated + "acmectl has a scheduled task (" + CronPath + ") to renew this certificate in the background.\n"
	case certbot:
		return updated + "certbot's own scheduled task renews this certificate in the background; to hand it to acmectl: acmectl schedule install --replace-certbot\n"
	case r.Timer && !r.TimerEnabled:
		return "NEXT STEPS:\n- " + TimerName + " is installed but not enabled, so nothing renews this certificate before it expires on " + expires +
			": systemctl enable --now " + TimerName + "\n"
	}
	install := "acmectl schedule install"
	if filepath.Clean(configDir) != DefaultConfigDir {
		// The host's schedule (certbot's, or acmectl's for another tree)
		// renews another tree.
		install += " --config-dir " + configDir
	}
	return "NEXT STEPS:\n- Nothing is scheduled to renew this certificate before it expires on " + expires +
		": run '" + install + "' (a systemd timer, or a cron entry, that runs 'acmectl renew' twice a day).\n"
}
