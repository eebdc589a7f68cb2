// Package schedule owns the scheduled renewal of a host: acmectl's systemd
// timer (acmectl-renew.service and acmectl-renew.timer, twice a day) when
// systemd runs, else /etc/cron.d/acmectl; certbot's own timer or cron entry,
// found (Host.Certbot), disabled so the two never race and restored
// (Install with ReplaceCertbot, Remove with RestoreCertbot); the status file
// renew writes after each run (WriteLastRun, ReadLastRun); and what a host
// runs now (Host.Renewal, Host.Status).
//
// A Host is seen through a root directory: "/" for the real system, or a
// staging directory (packaging, tests) where systemctl never runs. Every
// value written into a unit or a cron line is checked first (control
// characters are refused), so nothing is written for bad input.
//
// It is not a front-end: it never prints, prompts, parses flags or exits, and
// it returns typed results (Action, Status, Renewal) that the CLI, the engine
// and doctor render as they need. It must never import
// github.com/urfave/cli or anything under cmd/.
package schedule
