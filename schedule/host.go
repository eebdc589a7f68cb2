package schedule

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/acmectl/acmectl/internal/specialfile"
)

// Paths inside the root, and the names of acmectl's units.
const (
	UnitDir     = "/etc/systemd/system"
	WantsDir    = "/etc/systemd/system/timers.target.wants"
	ServiceName = "acmectl-renew.service"
	TimerName   = "acmectl-renew.timer"
	CronPath    = "/etc/cron.d/acmectl"
	// LastRunFile is the status file renew writes into its --work-dir.
	LastRunFile = "acmectl-last-run.json"

	systemdRunDir   = "/run/systemd/system"
	certbotCronPath = "/etc/cron.d/certbot"
	disabledSuffix  = ".acmectl-disabled"
	onCalendar      = "*-*-* 00,12:00:00"
	systemctlLimit  = 2 * time.Minute
)

// Host is the scheduling of one machine, seen through a root directory. The
// zero value is the real system. Set the fields before the first call.
type Host struct {
	// Root is "/" (or "") for the real system, or a staging directory.
	Root string
	// Staged means systemctl never runs (set it for any root but the real
	// one); units are then enabled by writing the link systemctl would.
	Staged bool
	// Run runs a command on the real system (systemctl); nil executes it,
	// bounded to two minutes.
	Run func(ctx context.Context, name string, args ...string) (string, error)
	// Now is the clock of next-run times; nil means time.Now.
	Now func() time.Time
	// Rand picks the cron entry's minute and hours; nil seeds one from the
	// clock and the process id.
	Rand *rand.Rand
}

// path returns p (absolute, inside the root) on the file system.
func (h *Host) path(p string) string { return filepath.Join(h.Root, filepath.FromSlash(p)) }

// Systemd reports whether systemd is the running init in the root
// (sd_booted's test: /run/systemd/system is a directory).
func (h *Host) Systemd() bool {
	fi, err := os.Stat(h.path(systemdRunDir))
	return err == nil && fi.IsDir()
}

// live reports whether systemctl may run: the real system, systemd running.
func (h *Host) live() bool { return !h.Staged && h.Systemd() }

func (h *Host) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Host) rand() *rand.Rand {
	if h.Rand != nil {
		return h.Rand
	}
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
}

// systemctl runs systemctl when the host is live; otherwise it does nothing.
func (h *Host) systemctl(ctx context.Context, args ...string) (string, error) {
	if !h.live() {
		return "", nil
	}
	if h.Run != nil {
		return h.Run(ctx, "systemctl", args...)
	}
	ctx, cancel := context.WithTimeout(ctx, systemctlLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// reloadAnd runs systemctl daemon-reload and then verb on each unit, when
// the host is live and units is not empty. Errors of verb are returned only
// when strict.
func (h *Host) reloadAnd(ctx context.Context, verb string, units []string, strict bool) error {
	if len(units) == 0 || !h.live() {
		return nil
	}
	if _, err := h.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	for _, u := range units {
		if _, err := h.systemctl(ctx, verb, u); err != nil && strict {
			return err
		}
	}
	return nil
}

// writeFile writes data atomically with mode: a temporary file in the same
// directory, synced, renamed over path, then the directory synced.
func writeFile(path string, data []byte, mode os.FileMode) error {
	return writeFileMode(path, data, mode, true)
}

// writeFileMode is writeFile; without durable nothing is fsynced (the file
// is replaced whole or not at all, but a crash may lose the new content).
func writeFileMode(path string, data []byte, mode os.FileMode, durable bool) error {
	if err := specialfile.CheckReplaceable(path); err != nil {
		return err
	}
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
	if err := writeSync(f, data, mode, durable); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func writeSync(f *os.File, data []byte, mode os.FileMode, sync bool) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return f.Sync()
}

// isDevNull reports whether p (inside the root) is a link to /dev/null: a
// masked unit.
func (h *Host) isDevNull(p string) bool {
	t, err := os.Readlink(h.path(p))
	return err == nil && t == "/dev/null"
}

// exists reports whether p (inside the root) exists; links are not followed.
func (h *Host) exists(p string) bool {
	_, err := os.Lstat(h.path(p))
	return err == nil
}

// regularFile reports whether p (inside the root) is a regular file,
// following links.
func (h *Host) regularFile(p string) bool {
	fi, err := os.Stat(h.path(p))
	return err == nil && fi.Mode().IsRegular()
}
