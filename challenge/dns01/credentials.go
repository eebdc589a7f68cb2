package dns01

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"

	"github.com/acmectl/acmectl/internal/kv"
	"github.com/acmectl/acmectl/internal/secretfile"
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
	"nsone":   "ns1",
}

// certbotKeys maps the keys of certbot plugins' credentials files (without the
// dns_<plugin>_ prefix) to lego environment variables, where the generic rule
// (<PREFIX><KEY upper-cased>) gets them wrong.
var certbotKeys = map[string]map[string]string{
	"cloudflare":   {"api_token": "CLOUDFLARE_DNS_API_TOKEN"},
	"digitalocean": {"token": "DO_AUTH_TOKEN"},
	"dnsimple":     {"token": "DNSIMPLE_OAUTH_TOKEN"},
	"dnsmadeeasy":  {"secret_key": "DNSMADEEASY_API_SECRET"},
	"gcloud":       {"credentials": "GCE_SERVICE_ACCOUNT_FILE", "project": "GCE_PROJECT"},
	"linode":       {"key": "LINODE_TOKEN"},
	"luadns":       {"email": "LUADNS_API_USERNAME", "token": "LUADNS_API_TOKEN"},
	"sakuracloud":  {"api_token": "SAKURACLOUD_ACCESS_TOKEN", "api_secret": "SAKURACLOUD_ACCESS_TOKEN_SECRET"},
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
	data, err := secretfile.Read(path, "dns-01 credentials", maxCredentialsSize)
	if err != nil {
		return nil, err
	}
	entries, err := kv.Parse(bytes.NewReader(data), kv.Options{Unquote: true, MaxLine: maxCredentialsSize})
	if err != nil {
		return nil, fmt.Errorf("dns-01 credentials: %s %w (want KEY=value or key = value)", path, err)
	}
	provider = strings.ToLower(provider)
	out := map[string]string{}
	var port string
	for _, e := range entries {
		if e.Key == "" {
			return nil, fmt.Errorf("dns-01 credentials: %s line %d: empty key", path, e.Line)
		}
		name, v, err := credentialVar(provider, e.Key, e.Value)
		if err != nil {
			return nil, fmt.Errorf("dns-01 credentials: %s line %d: %w", path, e.Line, err)
		}
		if name == "" {
			port = v
			continue
		}
		out[name] = v
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
	if provider == "rfc2136" && out["RFC2136_TSIG_KEY"] != "" && out["RFC2136_TSIG_ALGORITHM"] == "" && certbotStyle(entries) {
		// certbot's rfc2136 plugin signs with HMAC-MD5 unless told otherwise.
		out["RFC2136_TSIG_ALGORITHM"] = tsigAlgorithm("HMAC-MD5")
	}
	return out, nil
}

// certbotStyle reports whether a credentials file uses certbot's
// dns_<plugin>_<key> names.
func certbotStyle(entries []kv.Entry) bool {
	for _, e := range entries {
		if strings.HasPrefix(strings.ToLower(e.Key), "dns_") {
			return true
		}
	}
	return false
}

// tsigAlgorithm maps certbot's TSIG algorithm names (dnspython's:
// HMAC-SHA512, HMAC-MD5) to the names the DNS library signs with.
func tsigAlgorithm(v string) string {
	v = strings.ToLower(strings.TrimSuffix(v, "."))
	if v == "hmac-md5" || v == "hmac-md5.sig-alg.reg.int" {
		return "hmac-md5.sig-alg.reg.int."
	}
	return v
}

// credentialVar maps one key of provider's credentials file to the
// environment variable lego reads. An empty name with no error is rfc2136's
// port, which the caller folds into the server.
func credentialVar(provider, k, v string) (name, value string, err error) {
	if envName().MatchString(k) {
		return k, v, nil
	}
	key := strings.ToLower(strings.ReplaceAll(k, "-", "_"))
	if rest, ok := strings.CutPrefix(key, "dns_"); ok {
		plugin, sub, found := strings.Cut(rest, "_")
		if mapped := certbotPlugin[plugin]; mapped != "" {
			plugin = mapped
		}
		if !found || plugin != provider {
			return "", "", fmt.Errorf("key %s is not for provider %s", k, provider)
		}
		key = sub
	}
	if provider == "rfc2136" {
		switch key {
		case "port":
			return "", v, nil
		case "algorithm":
			v = tsigAlgorithm(v)
		}
	}
	prefix := envPrefix[provider]
	if prefix == "" {
		prefix = strings.ToUpper(strings.ReplaceAll(provider, "-", "_")) + "_"
	}
	name = certbotKeys[provider][key]
	if name == "" {
		name = strings.ToUpper(key)
		if !strings.HasPrefix(name, prefix) {
			name = prefix + name
		}
	}
	if !envName().MatchString(name) {
		return "", "", fmt.Errorf("%s does not make an environment variable name", k)
	}
	return name, v, nil
}
