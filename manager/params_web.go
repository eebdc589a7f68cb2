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
	// yes and no are --redirect and --no-redirect (the last given wins:
	// they share certbot's dest).
	yes, no bool
}

// installerParams are certbot's options of the installers and of the
// enhancements they apply (the selectors --nginx, --apache, -i and
// --configurator are in baseParams). The --no-* forms share their option's
// dest: the last one given wins.
var installerParams = []Param{
	{Name: "https-port", Kind: KindInt, Category: CatInstall, Default: "443", Usage: "port the installer makes the server listen on for TLS",
		Field: func(c *Config) any { return &c.HTTPSPort }, Check: checkPort("https-port", func(c *Config) int { return c.HTTPSPort }),
		Conf: "https_port", Keep: true, When: func(c *Config) bool { return isWeb(c.Installer) && c.HTTPSPort != 443 }, Clear: true},
	{Name: "redirect", Kind: KindBool, Category: CatInstall, Usage: "redirect HTTP to HTTPS (default: yes for run and install, no for enhance)",
		Field: func(c *Config) any { return &c.Enhance.yes }, Check: checkRedirect},
	{Name: "no-redirect", Kind: KindBool, Category: CatInstall, Usage: "do not redirect HTTP to HTTPS",
		Field: func(c *Config) any { return &c.Enhance.no }},
	{Name: "hsts", Kind: KindBool, Category: CatInstall, Usage: "add the Strict-Transport-Security header to every TLS response",
		Field: func(c *Config) any { return &c.Enhance.HSTS }},
	{Name: "no-hsts", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not add Strict-Transport-Security (default)"},
	{Name: "uir", Kind: KindBool, Category: CatInstall, Usage: `add "Content-Security-Policy: upgrade-insecure-requests"`,
		Field: func(c *Config) any { return &c.Enhance.UIR }},
	{Name: "no-uir", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not add the upgrade-insecure-requests header (default)"},
	{Name: "staple-ocsp", Kind: KindBool, Category: CatInstall, Usage: "turn on OCSP stapling",
		Field: func(c *Config) any { return &c.Enhance.Staple }},
	{Name: "no-staple-ocsp", Kind: KindBool, Category: CatInstall, Hidden: true, Usage: "do not turn on OCSP stapling (default)"},
	{Name: "auto-hsts", Kind: KindBool, Category: CatInstall, Usage: "certbot's growing HSTS max-age: refused by run, install and enhance (use --hsts)",
		Field: func(c *Config) any { return &c.Enhance.Auto }},
	{Name: "checkpoints", Kind: KindInt, Category: CatInstall, Default: "1", Usage: "rollback: how many installer checkpoints to undo",
		Field: func(c *Config) any { return &c.Checkpoints }, Check: func(c *Config) error {
			if c.Checkpoints < 0 {
				return Usagef("--checkpoints must be 0 or more")
			}
			return nil
		}},
	{Name: "nginx-server-root", Kind: KindString, Category: CatInstall, Default: "/etc/nginx", Usage: "nginx server root, holding nginx.conf",
		Field: func(c *Config) any { return &c.Nginx.ServerRoot }, Check: pluginPath("nginx-server-root", "/etc/nginx", func(c *Config) *string { return &c.Nginx.ServerRoot }),
		Conf: "nginx_server_root", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.ServerRoot != "" }), Clear: true},
	{Name: "nginx-ctl", Kind: KindString, Category: CatInstall, Default: "nginx", Usage: "nginx binary, for -t and -s reload",
		Field: func(c *Config) any { return &c.Nginx.Ctl }, Check: pluginString("nginx-ctl", "nginx", func(c *Config) *string { return &c.Nginx.Ctl }),
		Conf: "nginx_ctl", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.Ctl != "" }), Clear: true},
	{Name: "nginx-sleep-seconds", Kind: KindInt, Category: CatInstall, Default: "1", Hidden: true, Usage: "accepted and saved; acmectl waits until nginx's new workers run instead",
		Field: func(c *Config) any { return &c.Nginx.SleepSeconds }, Check: func(c *Config) error {
			if !c.Set["nginx-sleep-seconds"] {
				c.Nginx.SleepSeconds = 0
			}
			return nil
		},
		Conf: "nginx_sleep_seconds", Keep: true, When: whenNginx(func(c *Config) bool { return c.Nginx.SleepSeconds != 0 }), Clear: true},
}

// apacheParams are the --apache-* string options, each saved as apache_<name>.
var apacheParams = func() []Param {
	opts := []struct {
		name, def, usage string
		field            func(*ApacheOptions) *string
	}{
		{"enmod", "a2enmod", "a2enmod", func(o *ApacheOptions) *string { return &o.Enmod }},
		{"dismod", "a2dismod", "a2dismod", func(o *ApacheOptions) *string { return &o.Dismod }},
		{"le-vhost-ext", "-le-ssl.conf", "suffix of the TLS copy of a vhost", func(o *ApacheOptions) *string { return &o.LeVhostExt }},
		{"server-root", "/etc/apache2", "Apache server root", func(o *ApacheOptions) *string { return &o.ServerRoot }},
		{"vhost-root", "", "where new vhost files go (default sites-available)", func(o *ApacheOptions) *string { return &o.VhostRoot }},
		{"logs-root", "/var/log/apache2", "Apache's log directory", func(o *ApacheOptions) *string { return &o.LogsRoot }},
		{"challenge-location", "/etc/apache2", "directory of the challenge configuration (default: the server root)", func(o *ApacheOptions) *string { return &o.ChallengeLocation }},
		{"handle-modules", "True", "let the installer enable modules with a2enmod", func(o *ApacheOptions) *string { return &o.HandleModules }},
		{"handle-sites", "True", "let the installer enable sites in sites-enabled", func(o *ApacheOptions) *string { return &o.HandleSites }},
		{"ctl", "apache2ctl", "apache2ctl", func(o *ApacheOptions) *string { return &o.Ctl }},
		{"bin", "", "apache2 binary (accepted; apache2ctl is used)", func(o *ApacheOptions) *string { return &o.Bin }},
	}
	out := make([]Param, 0, len(opts))
	for _, o := range opts {
		get := func(c *Config) *string { return o.field(&c.Apache) }
		name := "apache-" + o.name
		p := Param{Name: name, Kind: KindString, Category: CatInstall, Default: o.def, Usage: o.usage, Field: fstr(get),
			Check: pluginString(name, o.def, get),
			Conf:  "apache_" + strings.ReplaceAll(o.name, "-", "_"), Keep: true, Clear: true,
			When: func(c *Config) bool { return isApache(c) && *get(c) != "" }}
		if strings.HasSuffix(o.name, "-root") || o.name == "challenge-location" {
			p.Check = pluginPath(name, o.def, get)
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

// checkRedirect settles --redirect and --no-redirect into Enhance.Redirect.
func checkRedirect(c *Config) error {
	switch e := &c.Enhance; {
	case e.no:
		e.Redirect = "no"
	case e.yes:
		e.Redirect = "yes"
	}
	return nil
}

// checkAutoHSTS refuses --auto-hsts, which no acmectl installer applies
// (certbot's nginx plugin does not have it either).
func checkAutoHSTS(c *Config) error {
	if c.Enhance.Auto {
		return Usagef("--auto-hsts (certbot's slowly growing HSTS max-age) is not supported by acmectl's installers; use --hsts")
	}
	return nil
}

// pluginString leaves a plugin option empty unless it was given (or saved
// in a lineage's conf, which is applied later): certbot saves a plugin's
// option only when the user set it, and the installers fill their own
// defaults. def is certbot's default, which the parsed command line holds
// for an option not given.
func pluginString(name, def string, get func(*Config) *string) func(*Config) error {
	return func(c *Config) error {
		if p := get(c); !c.Set[name] && strings.EqualFold(*p, def) {
			*p = ""
		}
		return nil
	}
}

// pluginPath is pluginString for a directory, made absolute.
func pluginPath(name, def string, get func(*Config) *string) func(*Config) error {
	empty := pluginString(name, def, get)
	return func(c *Config) error {
		if err := empty(c); err != nil {
			return err
		}
		return absPath(get)(c)
	}
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
