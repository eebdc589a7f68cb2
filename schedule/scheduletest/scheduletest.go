// Package scheduletest stages host roots for the tests of package schedule
// and of its callers: an empty root with or without systemd running, one
// holding certbot's own scheduling as Debian's package installs it, and
// systemd-analyze verify of unit files. It is for tests only.
package scheduletest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Root makes an empty staging root; with systemd it has /run/systemd/system.
func Root(t testing.TB, systemd bool) string {
	t.Helper()
	root := t.TempDir()
	if systemd {
		if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// CertbotRoot stages certbot's own scheduling as Debian's package installs
// it: certbot.timer (enabled) and certbot.service in /lib/systemd/system,
// and /etc/cron.d/certbot, whose line skips itself while systemd runs.
func CertbotRoot(t testing.TB, systemd bool) string {
	t.Helper()
	root := Root(t, systemd)
	WriteFile(t, filepath.Join(root, "lib/systemd/system/certbot.timer"), "[Unit]\nDescription=Run certbot twice daily\n\n[Timer]\nOnCalendar=*-*-* 00,12:00:00\nRandomizedDelaySec=43200\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n", 0o644)
	WriteFile(t, filepath.Join(root, "lib/systemd/system/certbot.service"), "[Service]\nType=oneshot\nExecStart=/usr/bin/certbot -q renew\n", 0o644)
	Symlink(t, "/lib/systemd/system/certbot.timer", filepath.Join(root, "etc/systemd/system/timers.target.wants/certbot.timer"))
	WriteFile(t, filepath.Join(root, "etc/cron.d/certbot"), "# /etc/cron.d/certbot: crontab entries for the certbot package\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew\n", 0o644)
	return root
}

// WriteFile writes data to path with mode, creating the directories.
func WriteFile(t testing.TB, path, data string, mode os.FileMode) {
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

// Symlink makes the link path -> target, creating the directories.
func Symlink(t testing.TB, target, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// Snapshot records every file (its content) and link ("-> target") under
// root, by path relative to root.
func Snapshot(t testing.TB, root string) map[string]string {
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

// SystemdVerify runs systemd-analyze verify on unit files and returns its
// complaints: any output at all, or a non-zero exit, is one (verify exits 0
// on "Unknown key ... ignoring"). A missing systemd-analyze fails the test.
func SystemdVerify(t testing.TB, units ...string) string {
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
