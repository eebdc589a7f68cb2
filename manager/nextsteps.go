package manager

import "github.com/acmectl/acmectl/schedule"

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
	return h.RenewalNote(c.ConfigDir, expires)
}
