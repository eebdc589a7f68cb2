package manager

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// serverAlias is one --server shorthand. The URL is the ACME directory itself:
// acmectl never appends "/directory" (Sectigo answers 403 to that).
type serverAlias struct {
	Name, URL, Note string
	// EAB is true when the CA requires external account binding.
	EAB bool
}

// serverAliases is the documented alias table (docs/cli.md).
var serverAliases = []serverAlias{
	{"letsencrypt", "https://acme-v02.api.letsencrypt.org/directory", "Let's Encrypt (certbot's default)", false},
	{"letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory", "Let's Encrypt staging (--staging)", false},
	{"sectigo-dv", "https://acme.sectigo.com/v2/DV", "Sectigo DV", true},
	{"sectigo-ov", "https://acme.sectigo.com/v2/OV", "Sectigo OV", true},
	{"sectigo-ev", "https://acme.sectigo.com/v2/EV", "Sectigo EV", true},
	{"sectigo-incommon-rsa-ov", "https://acme.sectigo.com/v2/InCommonRSAOV", "InCommon (Sectigo) OV RSA", true},
	{"sectigo-incommon-ecc-ov", "https://acme.sectigo.com/v2/InCommonECCOV", "InCommon (Sectigo) OV ECC", true},
	{"zerossl", "https://acme.zerossl.com/v2/DV90", "ZeroSSL", true},
	{"google", "https://dv.acme-v02.api.pki.goog/directory", "Google Trust Services", true},
	{"google-staging", "https://dv.acme-v02.test-api.pki.goog/directory", "Google Trust Services staging", true},
	{"buypass", "https://api.buypass.com/acme/directory", "Buypass Go SSL", false},
}

// defaultServerAlias is certbot's default CA.
const defaultServerAlias = "letsencrypt"

// DefaultServerURL is certbot's default directory; StagingServerURL is --staging's.
var (
	DefaultServerURL = aliasURL(defaultServerAlias)
	StagingServerURL = aliasURL("letsencrypt-staging")
)

func aliasURL(name string) string {
	for _, a := range serverAliases {
		if a.Name == name {
			return a.URL
		}
	}
	panic("no server alias " + name)
}

// resolveServer turns an alias or a URL into a directory URL. A URL is used as
// given (only surrounding space is trimmed); it must be absolute https (http
// only for loopback test CAs).
func ResolveServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultServerURL, nil
	}
	for _, a := range serverAliases {
		if strings.EqualFold(a.Name, s) {
			return a.URL, nil
		}
	}
	if !strings.Contains(s, "://") {
		return "", Usagef("--server %q is neither a URL nor a known alias (%s)", s, strings.Join(aliasNames(), ", "))
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", Usagef("--server %q is not a valid URL", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return "", Usagef("--server %q: use https (plain http is allowed only for localhost)", s)
		}
	default:
		return "", Usagef("--server %q: scheme must be https", s)
	}
	return s, nil
}

// serverNeedsEAB reports whether url is a known CA that requires EAB (the
// directory's externalAccountRequired is what counts at run time).
func ServerNeedsEAB(u string) bool {
	for _, a := range serverAliases {
		if a.URL == u {
			return a.EAB
		}
	}
	return false
}

func aliasNames() []string {
	var n []string
	for _, a := range serverAliases {
		n = append(n, a.Name)
	}
	sort.Strings(n)
	return n
}

// aliasTableMarkdown renders the alias table for docs/cli.md (kept in sync by a test).
func AliasTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| alias | directory URL | CA | EAB |\n|---|---|---|---|\n")
	for _, a := range serverAliases {
		eab := "no"
		if a.EAB {
			eab = "required"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", a.Name, a.URL, a.Note, eab)
	}
	return b.String()
}

// ServerAliasNames lists the --server aliases, sorted (shell completion).
func ServerAliasNames() []string { return aliasNames() }
