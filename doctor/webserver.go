package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/acmectl/acmectl/storage"
)

// Note is a finding that is no problem: how acmectl does a thing
// differently from certbot.
const Note = "NOTE"

// checkWebServer checks a lineage that certbot's nginx or apache plugin
// authenticates or installs (role "authenticator" or "installer"): the
// control binary and the server root acmectl would use, the configuration
// test every change starts with, and what acmectl does differently.
func (d *Doctor) checkWebServer(l *Lineage, conf *storage.RenewalConf, role, kind string) {
	reconf := "acmectl reconfigure --cert-name " + l.Name
	ctl, root, test := webServerCommand(conf, kind)
	if role == "authenticator" {
		l.ok("authenticator %s is supported: each challenge is served from the %s answering the name, then removed (as certbot's %s plugin)",
			kind, map[string]string{"nginx": "server block", "apache": "virtual host"}[kind], kind)
	} else {
		l.ok("installer %s is supported: renew reloads %s", kind, kind)
	}
	if _, err := exec.LookPath(ctl); err != nil {
		l.add(Fail, fmt.Sprintf("%s %s: %q is not installed here", role, kind, ctl),
			fmt.Sprintf("install %s, or point at it: %s --%s-ctl PATH", kind, reconf, kind))
		return
	}
	if _, err := os.Stat(root); err != nil {
		l.add(Fail, fmt.Sprintf("%s server root %s: %v", kind, root, err), fmt.Sprintf("%s --%s-server-root DIR", reconf, kind))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, test[0], test[1:]...)
	if kind == "apache" && filepath.Clean(root) != "/etc/apache2" {
		cmd.Env = append(os.Environ(), "APACHE_CONFDIR="+root)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		l.add(Fail, fmt.Sprintf("%s's configuration test fails (%s): %s", kind, strings.Join(test, " "), firstLine(string(out))),
			"fix the configuration: acmectl (like certbot) tests it before every change and reload")
	} else {
		l.ok("%s's configuration test passes (%s)", kind, strings.Join(test, " "))
	}
	if role == "installer" {
		d.installerNotes(l, conf, kind)
	}
}

// installerNotes says what acmectl's renewals do differently for a lineage
// with installer kind.
func (d *Doctor) installerNotes(l *Lineage, conf *storage.RenewalConf, kind string) {
	l.add(Note, fmt.Sprintf("certbot reloads %s after each renewed certificate; acmectl reloads it once per renew run, after all renewals and before the post hooks (a failed reload rolls back what that run changed)", kind), "")
	l.add(Note, "when the server configuration no longer points at live/"+l.Name+"/, acmectl renew installs the certificate into it again (certbot only reloads)", "")
	if v, ok := conf.Param("nginx_sleep_seconds"); ok && kind == "nginx" && v.String() != "" {
		l.add(Note, "nginx_sleep_seconds = "+v.String()+" is not used: acmectl waits until nginx's new workers run instead of sleeping", "")
	}
}

// webServerCommand is the control binary, server root and configuration test
// the lineage's saved options (or certbot's Debian defaults) give.
func webServerCommand(conf *storage.RenewalConf, kind string) (ctl, root string, test []string) {
	param := func(key, def string) string {
		if v, ok := conf.Param(key); ok && v.String() != "" {
			return v.String()
		}
		return def
	}
	if kind == "apache" {
		ctl, root = param("apache_ctl", "apache2ctl"), param("apache_server_root", "/etc/apache2")
		return ctl, root, []string{ctl, "configtest"}
	}
	ctl, root = param("nginx_ctl", "nginx"), param("nginx_server_root", "/etc/nginx")
	return ctl, root, []string{ctl, "-c", filepath.Join(root, "nginx.conf"), "-t"}
}

func firstLine(s string) string {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(l, "emerg") || strings.Contains(l, "rror") {
			return strings.TrimSpace(l)
		}
	}
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
