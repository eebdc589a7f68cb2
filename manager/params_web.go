package manager

import (
	"strconv"
	"strings"
)

// Web-server parameters: certbot's --nginx/--apache configurators, -i, the
// nginx and apache plugin options, the enhancements and rollback's
// --checkpoints. They are part of Params (one table); this file only keeps
// them together.

// CatInstall is the help category of the installer parameters.
const CatInstall = "Installers (nginx, Apache)"

// Installer names (the renewal conf's authenticator/installer values).
const (
	WebNginx  = "nginx"
	WebApache = "apache"
)

// NginxOptions are certbot's --nginx-* options (empty: the default).
type NginxOptions struct {
	ServerRoot   string // --nginx-server-root; /etc/nginx
	Ctl          string // --nginx-ctl; nginx
	SleepSeconds int    // --nginx-sleep-seconds: accepted and saved; acmectl waits for the new workers instead
}

// ApacheOptions are certbot's --apache-* options (empty: Debian's default).
type ApacheOptions struct {
	ServerRoot, VhostRoot, Ctl, Enmod, Dismod, LeVhostExt string
	ChallengeLocation, LogsRoot, Bin                      string
	HandleModules, HandleSites                            string // certbot takes any string; "False", "no", "0" turn it off
}

// EnhanceOptions are the enhancements run, install and enhance apply.
type EnhanceOptions struct {
	// Redirect is "" (not given: yes for run and install, no for enhance,
	// as certbot 1.4+), "yes" (--redirect) or "no" (--no-redirect).
	Redirect                string
	HSTS, UIR, Staple, Auto bool
	NoHSTS, NoUIR, NoStaple bool
}

var installerFlags = []string{"installer", "nginx", "apache", "configurator"}

var webParams = []Param{
	{Name: "nginx", Kind: KindBool, Category: CatInstall, Usage: "obtain with and install into nginx (authenticator and installer)", Dest: "authenticator", Const: WebNginx},
	{Name: "apache", Kind: KindBool, Category: CatInstall, Usage: "obtain with and install into Apache (authenticator and installer)", Dest: "authenticator", Const: WebApache},
	{Name: "installer", Aliases: []string{"i"}, Kind: KindString, Category: CatInstall, Usage: "installer: nginx, apache or null (none)",
		Field: fstr(func(c *Config) *string { return &c.Installer }), Check: checkInstaller,
		Conf: "installer", Keep: true, Overrides: installerFlags, When: func(c *Config) bool { return c.Installer != "" }, Clear: true},
	{Name: "configurator", Kind: KindString, Category: CatInstall, Hidden: true, Usage: "authenticator and installer at once (nginx or apache)",
		Field: fstr(func(c *Config) *string { return &c.configurator })},
	{Name: "https-port", Kind: KindInt, Category: CatInstall, Default: "443", Usage: "port the installer makes the server listen on for TLS",
		Field: fint(func(c *Config) *int { return &c.HTTPSPort }), Check: checkPort("https-port", func(c *Config) int { return c.HTTPSPort }),
		Conf: "https_port", Keep: true, When: func(c *Config) bool { return isWeb(c.Installer) && c.HTTPSPort != 443 }, Clear: true},

	{Name: "redirect", Kind: KindBool, Category: CatInstall, Usage: "redirect HTTP to HTTPS (default: yes for run and install, no for enhance)",
		Dest: "redirect", Const: "yes", Field: fstr(func(c *Config) *string { return &c.Enhance.Redirect })},
	{Name: "no-redirect", Kind: KindBool, Category: CatInstall, Usage: "do not redirect HTTP to HTTPS", Dest: "redirect", Const: "no"},
	{Name: "hsts", Kind: KindBool, Category: CatInstall, Usage: "add the Strict-Transport-Security header to every TLS response",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.HSTS })},
	{Name: "no-hsts", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not add Strict-Transport-Security (default)",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.NoHSTS })},
	{Name: "uir", Kind: KindBool, Category: CatInstall, Usage: `add "Content-Security-Policy: upgrade-insecure-requests"`,
		Field: fbool(func(c *Config) *bool { return &c.Enhance.UIR })},
	{Name: "no-uir", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not add the upgrade-insecure-requests header (default)",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.NoUIR })},
	{Name: "staple-ocsp", Kind: KindBool, Category: CatInstall, Usage: "turn on OCSP stapling",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.Staple })},
	{Name: "no-staple-ocsp", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not turn on OCSP stapling (default)",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.NoStaple })},
	{Name: "auto-hsts", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "certbot's growing HSTS max-age: not supported (use --hsts)",
		Field: fbool(func(c *Config) *bool { return &c.Enhance.Auto }), Check: checkEnhance},
	{Name: "checkpoints", Kind: KindInt, Category: CatInstall, Default: "1", Usage: "rollback: how many installer checkpoints to undo", Cmds: []string{"rollback"},
		Field: fint(func(c *Config) *int { return &c.Checkpoints }), Check: func(c *Config) error {
			if c.Checkpoints < 0 {
				return Usagef("--checkpoints must be 0 or more")
			}
			return nil
		}},
	{Name: "disable-renew-updates", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "accepted for compatibility (acmectl's installers have no renewal updaters)"},

	{Name: "nginx-server-root", Kind: KindString, Category: CatInstall, Usage: "nginx server root, holding nginx.conf (default /etc/nginx)",
		Field: fstr(func(c *Config) *string { return &c.Nginx.ServerRoot }), Check: absPath(func(c *Config) *string { return &c.Nginx.ServerRoot }),
		Conf: "nginx_server_root", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.ServerRoot != "" }), Clear: true},
	{Name: "nginx-ctl", Kind: KindString, Category: CatInstall, Usage: "nginx binary, for -t and -s reload (default nginx)",
		Field: fstr(func(c *Config) *string { return &c.Nginx.Ctl }),
		Conf:  "nginx_ctl", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.Ctl != "" }), Clear: true},
	{Name: "nginx-sleep-seconds", Kind: KindInt, Category: CatInstall, Hidden: true, Usage: "accepted and saved; acmectl waits until nginx's new workers run instead",
		Field: fint(func(c *Config) *int { return &c.Nginx.SleepSeconds }),
		Conf:  "nginx_sleep_seconds", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.SleepSeconds != 0 }), Clear: true},
}

// apacheParams are the --apache-* string options, each saved as apache_<name>.
var apacheParams = func() []Param {
	opts := []struct {
		name, usage string
		field       func(*ApacheOptions) *string
	}{
		{"server-root", "Apache server root (default /etc/apache2)", func(o *ApacheOptions) *string { return &o.ServerRoot }},
		{"vhost-root", "where new vhost files go (default sites-available)", func(o *ApacheOptions) *string { return &o.VhostRoot }},
		{"ctl", "apache2ctl (default apache2ctl)", func(o *ApacheOptions) *string { return &o.Ctl }},
		{"enmod", "a2enmod (default a2enmod)", func(o *ApacheOptions) *string { return &o.Enmod }},
		{"dismod", "a2dismod (default a2dismod)", func(o *ApacheOptions) *string { return &o.Dismod }},
		{"le-vhost-ext", "suffix of the TLS copy of a vhost (default -le-ssl.conf)", func(o *ApacheOptions) *string { return &o.LeVhostExt }},
		{"challenge-location", "directory of the challenge configuration (default the server root)", func(o *ApacheOptions) *string { return &o.ChallengeLocation }},
		{"logs-root", "Apache's log directory (default /var/log/apache2)", func(o *ApacheOptions) *string { return &o.LogsRoot }},
		{"handle-modules", "let the installer enable modules with a2enmod (default True)", func(o *ApacheOptions) *string { return &o.HandleModules }},
		{"handle-sites", "let the installer enable sites in sites-enabled (default True)", func(o *ApacheOptions) *string { return &o.HandleSites }},
		{"bin", "apache2 binary (accepted; apache2ctl is used)", func(o *ApacheOptions) *string { return &o.Bin }},
	}
	var out []Param
	for _, o := range opts {
		get := func(c *Config) *string { return o.field(&c.Apache) }
		p := Param{Name: "apache-" + o.name, Kind: KindString, Category: CatInstall, Usage: o.usage, Field: fstr(get),
			Conf: "apache_" + strings.ReplaceAll(o.name, "-", "_"), Keep: true, Clear: true,
			When: func(c *Config) bool { return isApache(c) && *get(c) != "" }}
		if strings.HasSuffix(o.name, "-root") || o.name == "challenge-location" {
			p.Check = absPath(get)
		}
		out = append(out, p)
	}
	return out
}()

func isWeb(name string) bool { return name == WebNginx || name == WebApache }

func isNginx(c *Config) bool  { return c.Authenticator == WebNginx || c.Installer == WebNginx }
func isApache(c *Config) bool { return c.Authenticator == WebApache || c.Installer == WebApache }

func whenNginx(set func(*Config) bool) func(*Config) bool {
	return func(c *Config) bool { return isNginx(c) && set(c) }
}

// checkInstaller applies certbot's plugin selection rules to -i, --nginx,
// --apache and --configurator: --nginx sets both halves; a flag that names
// another plugin for the same half is refused (certbot's "Too many flags
// setting configurators/installers/authenticators").
func checkInstaller(c *Config) error {
	c.Installer = strings.ToLower(c.Installer)
	set := func(v string) error {
		if c.Installer != "" && c.Installer != v {
			return Usagef("too many flags setting configurators/installers/authenticators %q -> %q", c.Installer, v)
		}
		c.Installer = v
		return nil
	}
	if v := strings.ToLower(c.configurator); v != "" {
		if c.Authenticator != "" && c.Authenticator != v {
			return Usagef("too many flags setting configurators/installers/authenticators %q -> %q", c.Authenticator, v)
		}
		c.Authenticator = v
		if err := set(v); err != nil {
			return err
		}
	}
	for _, ws := range []string{WebNginx, WebApache} {
		if c.Set[ws] {
			if err := set(ws); err != nil {
				return err
			}
		}
	}
	switch c.Installer {
	case "", WebNginx, WebApache, "null":
	default:
		return Usagef("--installer %q: acmectl's installers are nginx and apache (null installs nothing)", c.Installer)
	}
	if c.configurator != "" && !isWeb(c.Authenticator) {
		return Usagef("--configurator %q: acmectl's configurators are nginx and apache", c.configurator)
	}
	return nil
}

// checkEnhance settles the --no-* forms and refuses --auto-hsts, which no
// acmectl installer applies.
func checkEnhance(c *Config) error {
	e := &c.Enhance
	e.HSTS = e.HSTS && !e.NoHSTS
	e.UIR = e.UIR && !e.NoUIR
	e.Staple = e.Staple && !e.NoStaple
	if e.Auto {
		return Usagef("--auto-hsts (certbot's slowly growing HSTS max-age) is not supported by acmectl's installers; use --hsts")
	}
	return nil
}

// flagBool reads certbot's string-typed boolean options (--apache-handle-sites
// False): empty is def.
func flagBool(s string, def bool) bool {
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		return !strings.EqualFold(s, "no") && !strings.EqualFold(s, "off")
	}
	return b
}
