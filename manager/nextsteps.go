package manager

import (
	"path/filepath"

	"github.com/acmectl/acmectl/schedule"
)

// RenewalNextSteps is what certonly says after a certificate was saved about
// what renews it (certbot main._report_new_cert / _report_next_steps,
// 2.1 and 5.x), decided from facts rather than from certbot's
// preconfigured_renewal hint: acmectl's timer or cron entry, certbot's own
// timer or cron entry, or nothing — then how to schedule it. expires is the
// certificate's expiry date as printed.
func RenewalNextSteps(c *Config, expires string) string {
	if c.CSR != "" {
		// certbot's words (_report_next_steps), acmectl's name.
		return "NEXT STEPS:\n- Certificates created using --csr will not be renewed automatically. You will need to renew the certificate before it expires, by running the same command again.\n"
	}
	if c.NoAutorenew {
		return "This certificate will not be renewed automatically (--no-autorenew); renew it before it expires with 'acmectl renew --cert-name NAME --force-renewal'.\n"
	}
	h := &schedule.Host{Root: "/"}
	if c.ScheduleRoot != "" {
		h = &schedule.Host{Root: c.ScheduleRoot, Staged: true}
	}
	r := h.Renewal()
	// A schedule counts only if it renews this tree: certbot's renews
	// /etc/letsencrypt, acmectl's the --config-dir it was installed with.
	acmectl, certbot := h.Covers(c.ConfigDir)
	const updated = "These files will be updated when the certificate renews.\n"
	switch {
	case acmectl && r.Timer && r.TimerEnabled:
		return updated + "acmectl has a scheduled task (" + schedule.TimerName + ") to renew this certificate in the background.\n"
	case acmectl:
		return updated + "acmectl has a scheduled task (" + schedule.CronPath + ") to renew this certificate in the background.\n"
	case certbot:
		return updated + "certbot's own scheduled task renews this certificate in the background; to hand it to acmectl: acmectl schedule install --replace-certbot\n"
	case r.Timer && !r.TimerEnabled:
		return "NEXT STEPS:\n- " + schedule.TimerName + " is installed but not enabled, so nothing renews this certificate before it expires on " + expires +
			": systemctl enable --now " + schedule.TimerName + "\n"
	}
	install := "acmectl schedule install"
	if filepath.Clean(c.ConfigDir) != schedule.DefaultConfigDir {
		install += " --config-dir " + c.ConfigDir
	}
	return "NEXT STEPS:\n- Nothing is scheduled to renew this certificate before it expires on " + expires +
		": run '" + install + "' (a systemd timer, or a cron entry, that runs 'acmectl renew' twice a day).\n"
}
