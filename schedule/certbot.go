package schedule

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// certbotUnitDirs are where a packaged certbot.timer lives.
var certbotUnitDirs = []string{"/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"}

// certbotTimers are certbot's timers: the distribution package's and the snap's.
var certbotTimers = []string{"certbot.timer", "snap.certbot.renew.timer"}

const snapTimer = "snap.certbot.renew.timer"

// CertbotKind is a piece of certbot's own scheduling.
type CertbotKind string

// The pieces Host.Certbot finds.
const (
	CertbotTimerUnit    CertbotKind = "timer-unit"    // a certbot timer's unit file
	CertbotTimerEnabled CertbotKind = "timer-enabled" // its timers.target.wants link
	CertbotTimerMasked  CertbotKind = "timer-masked"  // masked: a /dev/null link in /etc/systemd/system
	CertbotCron         CertbotKind = "cron"          // /etc/cron.d/certbot
	CertbotCrontab      CertbotKind = "crontab"       // a certbot line in /etc/crontab or root's crontab
)

// CertbotEntry is one piece of certbot's own scheduling found in the root.
type CertbotEntry struct {
	Kind   CertbotKind
	Unit   string // certbot.timer or snap.certbot.renew.timer (timer kinds)
	Path   string // absolute path inside the root, without the root prefix
	Active bool   // it would run certbot
	Lines  int    // cron: job lines not commented out
	Note   string // why it is (in)active, or what to do
}

func (c CertbotEntry) String() string {
	state := "inactive"
	if c.Active {
		state = "active"
	}
	switch c.Kind {
	case CertbotTimerUnit:
		return fmt.Sprintf("%s unit file %s", c.Unit, c.Path)
	case CertbotTimerEnabled:
		if c.Note != "" {
			state += ", " + c.Note
		}
		return fmt.Sprintf("%s enabled (%s) — %s", c.Unit, c.Path, state)
	case CertbotTimerMasked:
		return fmt.Sprintf("%s masked (%s -> /dev/null)", c.Unit, c.Path)
	}
	s := fmt.Sprintf("cron entry %s — %s", c.Path, state)
	if c.Note != "" {
		s += " (" + c.Note + ")"
	}
	return s
}

// CertbotActive reports whether any entry would run certbot.
func CertbotActive(found []CertbotEntry) bool {
	return slices.ContainsFunc(found, func(f CertbotEntry) bool { return f.Active })
}

// Certbot lists certbot's timers and cron entries in the root, active or not.
func (h *Host) Certbot() []CertbotEntry {
	var out []CertbotEntry
	for _, unit := range certbotTimers {
		out = append(out, h.certbotTimer(unit)...)
	}
	if c, ok := h.certbotCron(); ok {
		out = append(out, c)
	}
	for _, p := range []string{"/etc/crontab", "/var/spool/cron/crontabs/root"} {
		data, err := os.ReadFile(h.path(p))
		if err != nil {
			continue
		}
		for _, l := range ActiveCronLines(string(data)) {
			if strings.Contains(l, "certbot") {
				out = append(out, CertbotEntry{Kind: CertbotCrontab, Path: p, Active: true,
					Note: "remove the certbot line by hand (crontab -e / " + p + ")"})
				break
			}
		}
	}
	return out
}

// certbotTimer finds one certbot timer: masked, its unit files, enabled.
func (h *Host) certbotTimer(unit string) []CertbotEntry {
	var out []CertbotEntry
	mp := UnitDir + "/" + unit
	masked := h.isDevNull(mp)
	if masked {
		out = append(out, CertbotEntry{Kind: CertbotTimerMasked, Unit: unit, Path: mp, Note: "masked"})
	}
	haveUnit := false
	for _, d := range certbotUnitDirs {
		if p := d + "/" + unit; h.regularFile(p) {
			haveUnit = true
			out = append(out, CertbotEntry{Kind: CertbotTimerUnit, Unit: unit, Path: p})
		}
	}
	if wp := WantsDir + "/" + unit; h.exists(wp) {
		c := CertbotEntry{Kind: CertbotTimerEnabled, Unit: unit, Path: wp, Active: !masked && haveUnit && h.Systemd()}
		if !h.Systemd() {
			c.Note = "systemd is not running"
		}
		out = append(out, c)
	}
	return out
}

// certbotCron reads /etc/cron.d/certbot.
func (h *Host) certbotCron() (CertbotEntry, bool) {
	data, err := os.ReadFile(h.path(certbotCronPath))
	if err != nil {
		return CertbotEntry{}, false
	}
	lines := ActiveCronLines(string(data))
	c := CertbotEntry{Kind: CertbotCron, Path: certbotCronPath, Lines: len(lines), Active: len(lines) > 0}
	switch {
	case len(lines) == 0:
		c.Note = "every line commented out"
	case h.Systemd() && strings.Contains(strings.Join(lines, "\n"), "-d /run/systemd/system"):
		// Debian's entry: "test ... -a \! -d /run/systemd/system && ..."
		c.Active, c.Note = false, "it skips itself while systemd runs"
	}
	return c, true
}

// disableCertbot stops certbot's own scheduling: timers lose their
// timers.target.wants link and are masked (a /dev/null link in
// /etc/systemd/system; a real unit file there is first moved aside to
// <unit>.acmectl-disabled); /etc/cron.d/certbot is kept as
// certbot.acmectl-disabled (cron ignores names with a dot) and its lines are
// commented out.
func (h *Host) disableCertbot(ctx context.Context, found []CertbotEntry) ([]Action, error) {
	var did []Action
	units := map[string]bool{}
	for _, f := range found {
		switch f.Kind {
		case CertbotTimerEnabled:
			if err := os.Remove(h.path(f.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return did, fmt.Errorf("disable %s: %w", f.Unit, err)
			}
			units[f.Unit] = true
			did = append(did, Action{Kind: ActionRemoved, Path: f.Path})
		case CertbotTimerUnit:
			units[f.Unit] = true
		case CertbotCron:
			if f.Lines == 0 {
				continue
			}
			if err := h.commentOutCron(f.Path); err != nil {
				return did, err
			}
			did = append(did, Action{Kind: ActionCommentedOut, Path: f.Path, Backup: f.Path + disabledSuffix})
		}
	}
	names := sortedKeys(units)
	for _, unit := range names {
		d, err := h.maskUnit(unit)
		did = append(did, d...)
		if err != nil {
			return did, err
		}
	}
	return did, h.reloadAnd(ctx, "stop", names, false) // not running is fine
}

// commentOutCron keeps a copy of the cron file p as p.acmectl-disabled and
// comments out its job lines.
func (h *Host) commentOutCron(p string) error {
	fp := h.path(p)
	data, err := os.ReadFile(fp)
	if err != nil {
		return fmt.Errorf("disable certbot cron: %w", err)
	}
	if err := writeFile(fp+disabledSuffix, data, 0o644); err != nil {
		return fmt.Errorf("back up %s: %w", p, err)
	}
	if err := writeFile(fp, []byte(commentOut(string(data))), 0o644); err != nil {
		return fmt.Errorf("disable certbot cron: %w", err)
	}
	return nil
}

// maskUnit masks a certbot timer: a unit file of the admin's own in
// /etc/systemd/system is moved aside first. snapd owns snap's units, so that
// one is only disabled.
func (h *Host) maskUnit(unit string) ([]Action, error) {
	mp := UnitDir + "/" + unit
	p := h.path(mp)
	if h.isDevNull(mp) {
		return nil, nil
	}
	if unit == snapTimer {
		return []Action{{Kind: ActionSnapDisabled, Unit: unit}}, nil
	}
	var did []Action
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
		if err := os.Rename(p, p+disabledSuffix); err != nil {
			return did, fmt.Errorf("move %s aside: %w", mp, err)
		}
		did = append(did, Action{Kind: ActionMovedAside, Path: mp, Backup: mp + disabledSuffix})
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return did, fmt.Errorf("mask %s: %w", unit, err)
	}
	if err := os.Symlink("/dev/null", p); err != nil && !errors.Is(err, fs.ErrExist) {
		return did, fmt.Errorf("mask %s: %w", unit, err)
	}
	return append(did, Action{Kind: ActionMasked, Unit: unit, Path: mp}), nil
}

// restoreCertbot undoes disableCertbot.
func (h *Host) restoreCertbot(ctx context.Context) ([]Action, error) {
	var did []Action
	bak := h.path(certbotCronPath + disabledSuffix)
	if data, err := os.ReadFile(bak); err == nil {
		if err := writeFile(h.path(certbotCronPath), data, 0o644); err != nil {
			return did, fmt.Errorf("restore %s: %w", certbotCronPath, err)
		}
		if err := os.Remove(bak); err != nil {
			return did, fmt.Errorf("restore %s: %w", certbotCronPath, err)
		}
		did = append(did, Action{Kind: ActionRestored, Path: certbotCronPath})
	}
	var enabled []string
	for _, unit := range certbotTimers {
		d, ok, err := h.restoreTimer(unit)
		did = append(did, d...)
		if err != nil {
			return did, err
		}
		if ok {
			enabled = append(enabled, unit)
		}
	}
	return did, h.reloadAnd(ctx, "start", enabled, true)
}

// restoreTimer unmasks a certbot timer, puts a moved-aside unit file back
// and enables it again; ok when it has a unit file and is enabled.
func (h *Host) restoreTimer(unit string) (did []Action, ok bool, err error) {
	mp := UnitDir + "/" + unit
	p := h.path(mp)
	if h.isDevNull(mp) {
		if err := os.Remove(p); err != nil {
			return did, false, fmt.Errorf("unmask %s: %w", unit, err)
		}
		did = append(did, Action{Kind: ActionUnmasked, Unit: unit})
	}
	if h.exists(mp + disabledSuffix) {
		if err := os.Rename(p+disabledSuffix, p); err != nil {
			return did, false, fmt.Errorf("restore %s: %w", mp, err)
		}
		did = append(did, Action{Kind: ActionRestored, Path: mp})
	}
	unitFile := ""
	for _, d := range []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		if h.regularFile(d + "/" + unit) {
			unitFile = d + "/" + unit
			break
		}
	}
	if unitFile == "" {
		return did, false, nil
	}
	if !h.exists(WantsDir + "/" + unit) {
		if err := h.link(unitFile, WantsDir+"/"+unit); err != nil {
			return did, false, fmt.Errorf("enable %s: %w", unit, err)
		}
		did = append(did, Action{Kind: ActionEnabled, Unit: unit})
	}
	return did, true, nil
}

// link makes the link p (inside the root) point at target, as systemctl
// enable does.
func (h *Host) link(target, p string) error {
	lp := h.path(p)
	if err := os.MkdirAll(filepath.Dir(lp), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, lp)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
