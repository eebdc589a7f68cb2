package argparse

import "fmt"

// pluginFlags are the selector dests in the order certbot's
// plugins/selection.py cli_plugin_requests checks them, with the plugin each
// picks and whether it installs too.
var pluginFlags = []struct {
	dest, plugin string
	installs     bool
}{
	{"nginx", "nginx", true},
	{"apache", "apache", true},
	{"standalone", "standalone", false},
	{"webroot", "webroot", false},
	{"manual", "manual", false},
	{"dns_cloudflare", "dns-cloudflare", false},
	{"dns_digitalocean", "dns-digitalocean", false},
	{"dns_dnsimple", "dns-dnsimple", false},
	{"dns_dnsmadeeasy", "dns-dnsmadeeasy", false},
	{"dns_gehirn", "dns-gehirn", false},
	{"dns_google", "dns-google", false},
	{"dns_linode", "dns-linode", false},
	{"dns_luadns", "dns-luadns", false},
	{"dns_nsone", "dns-nsone", false},
	{"dns_ovh", "dns-ovh", false},
	{"dns_rfc2136", "dns-rfc2136", false},
	{"dns_route53", "dns-route53", false},
	{"dns_sakuracloud", "dns-sakuracloud", false},
}

// PluginSelectionError is certbot's errors.PluginSelectionError (exit 1).
type PluginSelectionError struct{ Msg string }

func (e *PluginSelectionError) Error() string { return e.Msg }

// RequestedPlugins is certbot's selection.cli_plugin_requests: the
// authenticator and installer asked for by --configurator, -a, -i and the
// selector flags (--nginx, --webroot, --dns-cloudflare, ...), "" for none.
// Two different requests for one role fail with certbot's text, e.g.
// "Too many flags setting configurators/installers/authenticators
// 'standalone' -> 'webroot'" for -a standalone --webroot; the same option
// twice is not a conflict (the last one won while parsing).
func RequestedPlugins(values map[string]any) (auth, inst string, err error) {
	set := func(prev, now string) (string, error) {
		if now == "" {
			return prev, nil
		}
		if prev != "" && prev != now {
			return "", &PluginSelectionError{fmt.Sprintf(
				"Too many flags setting configurators/installers/authenticators %s -> %s", pyRepr(prev), pyRepr(now))}
		}
		return now, nil
	}
	str := func(k string) string { s, _ := values[k].(string); return s }
	conf := str("configurator")
	if inst, err = set(conf, str("installer")); err != nil {
		return "", "", err
	}
	if auth, err = set(conf, str("authenticator")); err != nil {
		return "", "", err
	}
	for _, f := range pluginFlags {
		if on, _ := values[f.dest].(bool); !on {
			continue
		}
		if f.installs {
			if inst, err = set(inst, f.plugin); err != nil {
				return "", "", err
			}
		}
		if auth, err = set(auth, f.plugin); err != nil {
			return "", "", err
		}
	}
	return auth, inst, nil
}
