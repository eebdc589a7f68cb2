package schedule

// Summary is one line on who renews on the host, with what to run when it
// is not acmectl alone (doctor's last line).
func (r Renewal) Summary() string {
	var ours string
	switch {
	case r.Timer && r.TimerEnabled:
		ours = TimerName
	case r.Timer:
		ours = TimerName + " (installed but not enabled: systemctl enable --now " + TimerName + ")"
	case r.Cron:
		ours = CronPath
	}
	theirs := r.CertbotActive()
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
