package dns01

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
)

// maxCredentialsSize bounds a credentials file.
const maxCredentialsSize = 1 << 20

// envName is compiled on first use (not at every start of the binary).
var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`) })

// envPrefix is the environment namespace of a lego provider when it is not the
// upper-cased provider name.
var envPrefix = map[string]string{
	"route53":      "AWS_",
	"digitalocean": "DO_",
	"gcloud":       "GCE_",
	"azuredns":     "AZURE_",
}

// certbotPlugin maps certbot DNS plugin names, as used in dns_<plugin>_* keys, to
// lego provider names where they differ.
var certbotPlugin = map[string]string{
	"google":  "gcloud",
	"gandi":   "gandiv5",
	"azure":   "azuredns",
	"route53": "route53",
}

// certbotKeys maps the keys of certbot plugins' credentials files (without the
// dns_<plugin>_ prefix) to lego environment variables, where the generic rule
// (<PREFIX><KEY upper-cased>) gets them wrong.
var certbotKeys = map[string]map[string]string{
	"cloudflare":   {"api_token": "CLOUDFLARE_DNS_API_TOKEN"},
	"digitalocean": {"token": "DO_AUTH_TOKEN"},
	"gcloud":       {"credentials": "GCE_SERVICE_ACCOUNT_FILE", "project": "GCE_PROJECT"},
	"linode":       {"key": "LINODE_TOKEN"},
	"gandiv5":      {"token": "GANDIV5_PERSONAL_ACCESS_TOKEN", "api_key": "GANDIV5_API_KEY"},
	"godaddy":      {"key": "GODADDY_API_KEY", "secret": "GODADDY_API_SECRET"},
	"namecheap":    {"username": "NAMECHEAP_API_USER"},
	"porkbun":      {"key": "PORKBUN_API_KEY", "secret": "PORKBUN_SECRET_API_KEY"},
	"azuredns": {
		"sp_client_id": "AZURE_CLIENT_ID", "sp_client_secret": "AZURE_CLIENT_SECRET",
		"tenant_id": "AZURE_TENANT_ID", "subscription_id": "AZURE_SUBSCRIPTION_ID",
	},
	"rfc2136": {
		"server": "RFC2136_NAMESERVER", "name": "RFC2136_TSIG_KEY",
		"secret": "RFC2136_TSIG_SECRET", "algorithm": "RFC2136_TSIG_ALGORITHM",
		"port": "", // folded into RFC2136_NAMESERVER
	},
}

// LoadCredentials reads a credentials file for provider (certbot's
// dns_<plugin>_credentials idea) and returns the environment variables it sets.
// Each non-empty line that does not start with '#' or ';' is `KEY=value` or
// `key = value`; values may be quoted with ' or ".
//
//   - An upper-case KEY is an environment variable name and is used as is
//     (CLOUDFLARE_DNS_API_TOKEN=...).
//   - A lower-case key may carry certbot's dns_<plugin>_ prefix, which is
//     dropped; known certbot keys map to lego's names (dns_cloudflare_api_token →
//     CLOUDFLARE_DNS_API_TOKEN, dns_rfc2136_server + dns_rfc2136_port →
//     RFC2136_NAMESERVER, ...); any other key becomes <PREFIX><KEY> with the
//     provider's namespace (ovh: endpoint → OVH_ENDPOINT).
//
// The file must not be accessible by others: a file whose mode grants any
// permission to "other" is refused with the chmod to run.
func LoadCredentials(path, provider string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dns-01 credentials: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dns-01 credentials: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("dns-01 credentials: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return nil, fmt.Errorf("dns-01 credentials: %s is accessible by others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	if fi.Size() > maxCredentialsSize {
		return nil, fmt.Errorf("dns-01 credentials: %s is larger than %d bytes", path, maxCredentialsSize)
	}
	provider = strings.ToLower(provider)
	prefix := envPrefix[provider]
	if prefix == "" {
		prefix = strings.ToUpper(strings.ReplaceAll(provider, "-", "_")) + "_"
	}
	out := map[string]string{}
	var port string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxCredentialsSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("dns-01 credentials: %s line %d: want KEY=value or key = value", path, n)
		}
		k, v = strings.TrimSpace(k), unquote(strings.TrimSpace(v))
		if k == "" {
			return nil, fmt.Errorf("dns-01 credentials: %s line %d: empty key", path, n)
		}
		if envName().MatchString(k) {
			out[k] = v
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(k, "-", "_"))
		if rest, ok := strings.CutPrefix(key, "dns_"); ok {
			plugin, sub, found := strings.Cut(rest, "_")
			if mapped := certbotPlugin[plugin]; mapped != "" {
				plugin = mapped
			}
			if !found || plugin != provider {
				return nil, fmt.Errorf("dns-01 credentials: %s line %d: key %s is not for provider %s", path, n, k, provider)
			}
			key = sub
		}
		if provider == "rfc2136" && key == "port" {
			port = v
			continue
		}
		if provider == "rfc2136" && key == "algorithm" {
			v = strings.ToLower(v)
		}
		name := certbotKeys[provider][key]
		if name == "" {
			name = strings.ToUpper(key)
			if !strings.HasPrefix(name, prefix) {
				name = prefix + name
			}
		}
		if !envName().MatchString(name) {
			return nil, fmt.Errorf("dns-01 credentials: %s line %d: %s does not make an environment variable name", path, n, k)
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dns-01 credentials: read %s: %w", path, err)
	}
	if port != "" {
		host := out["RFC2136_NAMESERVER"]
		if host == "" {
			return nil, fmt.Errorf("dns-01 credentials: %s gives a port but no server", path)
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			out["RFC2136_NAMESERVER"] = net.JoinHostPort(strings.Trim(host, "[]"), port)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dns-01 credentials: %s sets nothing", path)
	}
	return out, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
