package schedule

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ActionKind is what Install or Remove did to one file or unit.
type ActionKind string

// The actions; Action.String renders each as one line.
const (
	ActionWrote          ActionKind = "wrote"
	ActionRemoved        ActionKind = "removed"
	ActionEnabled        ActionKind = "enabled"
	ActionEnabledStarted ActionKind = "enabled and started"
	ActionMasked         ActionKind = "masked"
	ActionUnmasked       ActionKind = "unmasked"
	ActionMovedAside     ActionKind = "moved"
	ActionCommentedOut   ActionKind = "commented out"
	ActionRestored       ActionKind = "restored"
	ActionSnapDisabled   ActionKind = "snap disabled"
)

// Action is one change Install or Remove made, in the order made.
type Action struct {
	Kind   ActionKind
	Unit   string // the systemd unit, for unit actions
	Path   string // the file, inside the root
	Backup string // where the original was kept (ActionMovedAside, ActionCommentedOut)
}

func (a Action) String() string {
	switch a.Kind {
	case ActionEnabledStarted, ActionUnmasked:
		return string(a.Kind) + " " + a.Unit
	case ActionEnabled:
		if a.Path != "" {
			return "enabled " + a.Unit + " (" + a.Path + ")"
		}
		return "enabled " + a.Unit
	case ActionMasked:
		return "masked " + a.Unit + " (" + a.Path + " -> /dev/null)"
	case ActionMovedAside:
		return "moved " + a.Path + " to " + a.Backup
	case ActionCommentedOut:
		return "commented out " + a.Path + " (original kept as " + a.Backup + ")"
	case ActionSnapDisabled:
		return "snap's " + a.Unit + " disabled; 'snap remove certbot' removes it for good"
	}
	return string(a.Kind) + " " + a.Path
}

// Install writes acmectl's timer and service (systemd running) or cron
// entry (otherwise), enables the timer, and with ReplaceCertbot disables
// certbot's own scheduling. It validates o first (a *ValueError, nothing
// written). On an error it returns what it did until then.
func (h *Host) Install(ctx context.Context, o InstallOptions) ([]Action, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var did []Action
	var err error
	if h.Systemd() {
		did, err = h.installTimer(ctx, o.RenewCommand())
	} else {
		did, err = h.installCron(o.RenewCommand())
	}
	if err != nil || !o.ReplaceCertbot {
		return did, err
	}
	d, err := h.disableCertbot(ctx, h.Certbot())
	return append(did, d...), err
}

func (h *Host) installTimer(ctx context.Context, cmdline []string) ([]Action, error) {
	svc, tmr := UnitDir+"/"+ServiceName, UnitDir+"/"+TimerName
	if err := writeFile(h.path(svc), []byte(serviceUnit(cmdline)), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", ServiceName, err)
	}
	if err := writeFile(h.path(tmr), []byte(timerUnit()), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", TimerName, err)
	}
	did := []Action{{Kind: ActionWrote, Path: svc}, {Kind: ActionWrote, Path: tmr}}
	if h.live() {
		if _, err := h.systemctl(ctx, "daemon-reload"); err != nil {
			return did, err
		}
		if _, err := h.systemctl(ctx, "enable", "--now", TimerName); err != nil {
			return did, err
		}
		return append(did, Action{Kind: ActionEnabledStarted, Unit: TimerName}), nil
	}
	// What systemctl enable does, for a staged root.
	wp := WantsDir + "/" + TimerName
	_ = os.Remove(h.path(wp))
	if err := h.link(tmr, wp); err != nil {
		return did, fmt.Errorf("enable %s: %w", TimerName, err)
	}
	return append(did, Action{Kind: ActionEnabled, Unit: TimerName, Path: wp}), nil
}

func (h *Host) installCron(cmdline []string) ([]Action, error) {
	r := h.rand()
	minute, hour := r.IntN(60), r.IntN(12)
	if err := writeFile(h.path(CronPath), []byte(cronContent(cmdline, minute, hour)), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", CronPath, err)
	}
	return []Action{{Kind: ActionWrote, Path: CronPath}}, nil
}

// RemoveOptions are Remove's choices.
type RemoveOptions struct {
	// RestoreCertbot re-enables certbot's timer and cron entry that Install
	// with ReplaceCertbot disabled.
	RestoreCertbot bool
}

// Remove deletes what Install wrote (timer, service and cron entry,
// whichever exist; none is not an error) and disables the timer first.
func (h *Host) Remove(ctx context.Context, o RemoveOptions) ([]Action, error) {
	var did []Action
	if h.live() && h.regularFile(UnitDir+"/"+TimerName) {
		if _, err := h.systemctl(ctx, "disable", "--now", TimerName); err != nil {
			return did, err
		}
	}
	hadUnits := false
	for _, p := range []string{WantsDir + "/" + TimerName, UnitDir + "/" + TimerName, UnitDir + "/" + ServiceName, CronPath} {
		err := os.Remove(h.path(p))
		switch {
		case err == nil:
			did = append(did, Action{Kind: ActionRemoved, Path: p})
			hadUnits = hadUnits || strings.HasPrefix(p, UnitDir)
		case !errors.Is(err, fs.ErrNotExist):
			return did, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	if hadUnits && h.live() {
		if _, err := h.systemctl(ctx, "daemon-reload"); err != nil {
			return did, err
		}
	}
	if !o.RestoreCertbot {
		return did, nil
	}
	d, err := h.restoreCertbot(ctx)
	return append(did, d...), err
}
