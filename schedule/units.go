package schedule

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
)

// InstallOptions are what Install writes.
type InstallOptions struct {
	// Binary is the absolute path of the acmectl the timer or cron entry runs.
	Binary string
	// ConfigDir, WorkDir, LogsDir and CABundle are passed on to renew as
	// --config-dir, --work-dir, --logs-dir and --ca-bundle when not empty.
	ConfigDir, WorkDir, LogsDir, CABundle string
	// ReplaceCertbot disables certbot's own timer and cron entry.
	ReplaceCertbot bool
}

// ValueError is a value that cannot go into a unit or a cron line. Flag is
// acmectl's flag for it (--binary, or the renew flag it is passed on as).
type ValueError struct {
	Flag, Value string
	Reason      string // what is wrong, quoting Value where it helps
}

func (e *ValueError) Error() string { return e.Flag + " " + e.Reason }

// renewFlags pairs each passed-on value with its renew flag, in the order
// they are written.
func (o InstallOptions) renewFlags() [][2]string {
	return [][2]string{{"--config-dir", o.ConfigDir}, {"--work-dir", o.WorkDir}, {"--logs-dir", o.LogsDir}, {"--ca-bundle", o.CABundle}}
}

// Validate returns a *ValueError for the first value that cannot be written:
// a Binary that is not absolute, or a control character (C0, DEL, C1) in
// any value. In a cron line a newline starts an entry of its own (issue 16);
// systemd splits ExecStart= there too.
func (o InstallOptions) Validate() error {
	if !filepath.IsAbs(o.Binary) {
		return &ValueError{Flag: "--binary", Value: o.Binary, Reason: fmt.Sprintf("must be an absolute path, not %q", o.Binary)}
	}
	if err := checkWord("--binary", o.Binary); err != nil {
		return err
	}
	for _, f := range o.renewFlags() {
		if err := checkWord(f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}

func checkWord(flag, v string) error {
	for _, r := range v {
		if unicode.IsControl(r) {
			return &ValueError{Flag: flag, Value: v,
				Reason: fmt.Sprintf("%q contains a control character (%U); it must be one line of printable characters", v, r)}
		}
	}
	return nil
}

// RenewCommand is the command line the timer or cron entry runs.
func (o InstallOptions) RenewCommand() []string {
	cmd := []string{o.Binary, "renew", "-q"}
	for _, f := range o.renewFlags() {
		if f[1] != "" {
			cmd = append(cmd, f[0], f[1])
		}
	}
	return cmd
}

// systemdQuote quotes one ExecStart word (systemd.service "Command lines"):
// double quotes when needed, % doubled (specifier escape).
func systemdQuote(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;$") {
		return w
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$")
	return `"` + r.Replace(w) + `"`
}

// shellQuote quotes one word for the cron command (sh), escaping % which
// cron turns into a newline.
func shellQuote(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\n\"'\\;$&|<>()*?[]#~`!{}%") {
		return w
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(w, "'", `'\''`), "%", `'\%'`) + "'"
}

func quoteAll(words []string, quote func(string) string) []string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = quote(w)
	}
	return q
}

const writtenBy = `# Written by "acmectl schedule install"; "acmectl schedule remove" deletes it.
`

// serviceUnit is acmectl-renew.service.
func serviceUnit(cmdline []string) string {
	return writtenBy + `[Unit]
Description=Renew certificates with acmectl
Documentation=man:acmectl(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=` + strings.Join(quoteAll(cmdline, systemdQuote), " ") + `
PrivateTmp=true
`
}

// timerUnit is acmectl-renew.timer: twice a day, spread over an hour,
// catching up after downtime.
func timerUnit() string {
	return writtenBy + `[Unit]
Description=Run acmectl renew twice a day

[Timer]
OnCalendar=` + onCalendar + `
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`
}

// cronContent is /etc/cron.d/acmectl: twice a day at a random minute (and a
// random pair of hours 12 h apart), as root.
func cronContent(cmdline []string, minute, hour int) string {
	q := quoteAll(cmdline, shellQuote)
	return writtenBy + fmt.Sprintf(`# Renews certificates twice a day; acmectl renew -q waits a random 1-480 s itself.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

%d %d,%d * * * root test -x %s && %s
`, minute, hour, hour+12, q[0], strings.Join(q, " "))
}
