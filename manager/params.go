package manager

import (
	"path/filepath"
	"strings"
	"time"
)

// Kind is a parameter's value type on the command line.
type Kind byte

const (
	KindBool   Kind = 'b'
	KindString Kind = 's'
	KindList   Kind = 'l' // repeatable, comma lists allowed (argparse append)
	KindInt    Kind = 'i'
	KindCount  Kind = 'c' // -v, -vv (argparse count)
)

// Param is one parameter: its certbot flag names, where its value goes, how
// it is validated, and how a lineage's renewal conf keeps it. Flags, cli.ini,
// conf reading and writing, reconfigure and doctor are generated from Params,
// so a new parameter is one entry.
type Param struct {
	// Name is the canonical long flag name (certbot's), the key in
	// Config.Set and in cli.ini; Aliases are the other long names and the
	// one-letter short forms.
	Name    string
	Aliases []string
	Kind    Kind
	// Default is used when the flag is absent (strings, ints) and shown in help.
	Default  string
	Usage    string
	Category string
	Hidden   bool
	// Cmds lists the help topics (verbs) that show an option certbot does
	// not have; empty: the topic of its Category. Every command accepts
	// every flag, as certbot does; certbot's options keep certbot's topics.
	Cmds []string

	// Selects names the plugin a selector flag chooses (--standalone,
	// --dns-cloudflare, --nginx): certbot's cli_plugin_requests decides
	// between -a, -i, --configurator and the selectors (selectPlugins).
	Selects string
	// Plugin scopes a plugin's own option (--dns-cloudflare-credentials):
	// it is read only when Plugin is the chosen authenticator, into the
	// field of the parameter named Of, which it then counts as set.
	Plugin, Of string
	// ArgDest is the argparse dest of an option certbot does not have when
	// it shares one of certbot's (--autorenew and --no-autorenew); empty:
	// the name with "_" for "-".
	ArgDest string
	// Complete says what the value of an option certbot does not have
	// completes to (argparse.CompleteFile, ...).
	Complete string

	// Field points at the Config field (*string, *bool, *int, *[]string,
	// as Kind reads it: TestParamFieldTypes). A function literal that
	// captures nothing, so that the table is static data, not closures built
	// at every start.
	Field func(*Config) any
	// Saved points at the field the conf holds when it is not Field (a list
	// parsed from a string flag); nil means Field.
	Saved func(*Config) any
	// Check validates and normalizes after every flag was read, in table
	// order; it returns a *UsageError naming the flag.
	Check func(*Config) error

	// Conf is the [renewalparams] key (certbot's name); "{plugin}" stands for
	// the DNS plugin of the authenticator (dns_{plugin}_credentials).
	Conf string
	// Keep: a renewal uses the saved value unless one of the flags in
	// Overrides (default: Name) was given.
	Keep      bool
	Overrides []string
	// When says whether the conf holds the key for this configuration (nil:
	// always); when false the key is removed if Clear, else left as it was.
	When  func(*Config) bool
	Clear bool
	// SaveIfSet: written only when the user gave the flag (else left as it was).
	SaveIfSet bool
}

// Params is the table, in the order the command line is validated. Every
// option of certbot 5.x belongs to an entry (TestTableCoversCertbot); the
// web-server plugins' options and the DNS plugins' are appended below.
// Pointers into the literal tables rather than one copy of them: the table
// is put together at every start, and copying its 54 KB was a third of the
// engine's initialisation.
var Params = func() []*Param {
	dns := dnsPluginParams()
	out := make([]*Param, 0, len(baseParams)+len(installerParams)+len(apacheParams)+len(dns))
	for _, t := range [][]Param{baseParams, installerParams, apacheParams, dns} {
		for i := range t {
			out = append(out, &t[i])
		}
	}
	return out
}()

var baseParams = []Param{
	{Name: "config", Aliases: []string{"c"}, Kind: KindString, Category: CatPaths, Usage: "read options from this cli.ini (after /etc/letsencrypt/cli.ini and $XDG_CONFIG_HOME/letsencrypt/cli.ini)"},
	{Name: "config-dir", Kind: KindString, Category: CatPaths, Default: DefaultConfigDir, Usage: "configuration directory (certbot's tree)",
		Field: func(c *Config) any { return &c.ConfigDir }, Check: absPath(func(c *Config) *string { return &c.ConfigDir }),
		Conf: "config_dir"},
	{Name: "work-dir", Kind: KindString, Category: CatPaths, Default: DefaultWorkDir, Usage: "working directory",
		Field: func(c *Config) any { return &c.WorkDir }, Check: absPath(func(c *Config) *string { return &c.WorkDir }),
		Conf: "work_dir"},
	{Name: "logs-dir", Kind: KindString, Category: CatPaths, Default: DefaultLogsDir, Usage: "log directory (letsencrypt.log)",
		Field: func(c *Config) any { return &c.LogsDir }, Check: absPath(func(c *Config) *string { return &c.LogsDir }),
		Conf: "logs_dir"},
	{Name: "max-log-backups", Kind: KindInt, Category: CatPaths, Default: "1000", Usage: "rotated log files to keep; 0 appends to one file",
		Field: func(c *Config) any { return &c.MaxLogBackups }, Check: checkMaxLogBackups},

	{Name: "verbose", Aliases: []string{"v"}, Kind: KindCount, Category: CatOutput, Usage: "more output on stderr; repeat (-vv, -vvv) for more",
		Field: func(c *Config) any { return &c.Verbose }},
	{Name: "quiet", Aliases: []string{"q"}, Kind: KindBool, Category: CatOutput, Usage: "print nothing but errors (implies --non-interactive)",
		Field: func(c *Config) any { return &c.Quiet }},
	{Name: "non-interactive", Aliases: []string{"n", "noninteractive"}, Kind: KindBool, Category: CatOutput, Usage: "never ask; fail naming the flag to pass instead",
		Field: func(c *Config) any { return &c.NonInteractive }, Check: func(c *Config) error { c.NonInteractive = c.NonInteractive || c.Quiet; return nil }},
	{Name: "force-interactive", Kind: KindBool, Category: CatOutput, Usage: "ask questions even when stdin is not a terminal (not with renew or -n)",
		Field: func(c *Config) any { return &c.ForceInteractive }, Check: checkForceInteractive},
	{Name: "verbose-level", Kind: KindString, Category: CatOutput, Hidden: true, Usage: "accepted and ignored (a certbot developer option); -v sets the verbosity"},
	{Name: "text", Aliases: []string{"t"}, Kind: KindBool, Category: CatOutput, Hidden: true, Usage: "accepted and ignored: text is acmectl's only output mode"},
	{Name: "preconfigured-renewal", Kind: KindBool, Category: CatOutput, Hidden: true, Usage: "set by distribution packages (Debian's cli.ini): a timer of the package renews",
		Field: func(c *Config) any { return &c.PreconfiguredRenewal }},
	{Name: "debug", Kind: KindBool, Category: CatOutput, Usage: "show debug output on stderr (certbot: tracebacks on errors); implies -vv",
		Field: func(c *Config) any { return &c.Debug }, Check: func(c *Config) error {
			if c.Debug {
				c.Verbose = max(c.Verbose, 2)
			}
			return nil
		}},
	{Name: "debug-challenges", Kind: KindBool, Category: CatOutput, Usage: "accepted; acmectl does not pause before validation (-v shows each challenge)"},
	{Name: "json", Kind: KindBool, Category: CatListing, Usage: "print the listing as JSON (ours)", Cmds: []string{"certificates", "show_account", "dns-persist"},
		Field: func(c *Config) any { return &c.JSON }},

	{Name: "staging", Aliases: []string{"test-cert"}, Kind: KindBool, Category: CatServer, Usage: "use Let's Encrypt staging",
		Field: func(c *Config) any { return &c.Staging }},
	{Name: "server", Kind: KindString, Category: CatServer, Usage: "ACME directory URL or alias (letsencrypt, sectigo-ov, ...; see docs/cli.md); used as given",
		Field: func(c *Config) any { return &c.Server }, Check: checkServer,
		Conf: "server", Keep: true, Overrides: []string{"server", "staging"}},
	{Name: "ca-bundle", Kind: KindString, Category: CatServer, Usage: "PEM file of extra roots to trust for the CA's HTTPS (also $REQUESTS_CA_BUNDLE)",
		Field: func(c *Config) any { return &c.CABundle }, Check: checkCABundle, Complete: "file"},
	{Name: "no-verify-ssl", Kind: KindBool, Category: CatServer, Usage: "do not verify the ACME server's TLS certificate (testing only; --ca-bundle trusts a private CA safely)",
		Field: func(c *Config) any { return &c.NoVerifySSL }},
	{Name: "user-agent-comment", Kind: KindString, Category: CatServer, Usage: "comment added to the default User-Agent, in parentheses",
		Field: func(c *Config) any { return &c.UserAgentComment }},
	{Name: "user-agent", Kind: KindString, Category: CatServer, Usage: "HTTP User-Agent (default acmectl/<version>)", Hidden: true,
		Field: func(c *Config) any { return &c.UserAgent }, Conf: "user_agent", SaveIfSet: true},
	{Name: "eab-kid", Kind: KindString, Category: CatServer, Usage: "external account binding key ID",
		Field: func(c *Config) any { return &c.raw.eabKid }},
	{Name: "eab-hmac-key", Kind: KindString, Category: CatServer, Usage: "external account binding HMAC key (base64url); prefer --eab-hmac-key-file or $" + EnvEABHMACKey,
		Field: func(c *Config) any { return &c.raw.eabKey }},
	{Name: "eab-hmac-key-file", Kind: KindString, Category: CatServer, Usage: "file holding the EAB HMAC key (ours)", Complete: "file",
		Field: func(c *Config) any { return &c.raw.eabKeyFile }},
	{Name: "eab-hmac-alg", Kind: KindString, Category: CatServer, Default: "HS256", Usage: "EAB MAC algorithm: HS256, HS384 or HS512",
		Field: func(c *Config) any { return &c.raw.eabAlg }, Check: checkEAB},
	{Name: "email", Aliases: []string{"m"}, Kind: KindString, Category: CatServer, Usage: "account e-mail (comma list allowed)",
		Field: func(c *Config) any { return &c.raw.email }, Check: checkEmail},
	{Name: "register-unsafely-without-email", Kind: KindBool, Category: CatServer, Usage: "register without an e-mail address (an --email given too is used, as certbot does)",
		Field: func(c *Config) any { return &c.NoEmail }},
	{Name: "agree-tos", Kind: KindBool, Category: CatServer, Usage: "agree to the CA's terms of service",
		Field: func(c *Config) any { return &c.AgreeTOS }},
	{Name: "eff-email", Kind: KindBool, Category: CatServer, Hidden: true, Usage: "accepted for compatibility; acmectl shares no e-mail with anyone"},
	{Name: "no-eff-email", Kind: KindBool, Category: CatServer, Hidden: true, Usage: "accepted for compatibility"},
	{Name: "account", Kind: KindString, Category: CatServer, Usage: "account ID to use (when several are registered at the server)",
		Field: func(c *Config) any { return &c.Account }, Conf: "account", Keep: true},

	{Name: "domains", Aliases: []string{"d", "domain"}, Kind: KindList, Category: CatCert, Usage: "domain name; repeat or comma-separate; the first names the lineage",
		Field: func(c *Config) any { return &c.Domains }, Check: checkDomains},
	{Name: "ip-address", Kind: KindList, Category: CatCert, Usage: "IP address identifier; repeat or comma-separate",
		Field: func(c *Config) any { return &c.IPs }, Check: checkIPs},
	{Name: "cert-name", Kind: KindString, Category: CatCert, Usage: "lineage name (selects a lineage in renew, delete, revoke, certificates)",
		Field: func(c *Config) any { return &c.CertName }, Check: checkCertName},
	{Name: "dry-run", Kind: KindBool, Category: CatCert, Usage: "obtain from the CA (the lineage's own for renew) but save nothing",
		Field: func(c *Config) any { return &c.DryRun }},
	{Name: "csr", Kind: KindString, Category: CatCert, Usage: "certonly from this CSR (DER or PEM); writes --cert-path/--chain-path/--fullchain-path", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.CSR }},
	{Name: "cert-path", Kind: KindString, Category: CatCert, Usage: "certificate path (--csr output; revoke input)", Cmds: []string{"certonly", "revoke"},
		Field: func(c *Config) any { return &c.CertPath }},
	{Name: "key-path", Kind: KindString, Category: CatCert, Usage: "private key of the certificate to revoke", Cmds: []string{"revoke"},
		Field: func(c *Config) any { return &c.KeyPath }},
	{Name: "fullchain-path", Kind: KindString, Category: CatCert, Usage: "full chain path (--csr output)", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.FullchainPath }},
	{Name: "chain-path", Kind: KindString, Category: CatCert, Usage: "chain path (--csr output)", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.ChainPath }},
	{Name: "expand", Kind: KindBool, Category: CatCert, Usage: "replace a lineage whose names are a subset of the requested ones", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.Expand }},
	{Name: "allow-subset-of-names", Kind: KindBool, Category: CatCert, Usage: "issue for the names that validated when others fail",
		Field: func(c *Config) any { return &c.Subset }, Conf: "allow_subset_of_names", Keep: true},
	{Name: "force-renewal", Aliases: []string{"renew-by-default"}, Kind: KindBool, Category: CatRenew, Usage: "renew now, due or not",
		Field: func(c *Config) any { return &c.Force }},
	{Name: "keep-until-expiring", Aliases: []string{"keep", "reinstall"}, Kind: KindBool, Category: CatRenew, Usage: "keep an existing certificate until it is due", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.Keep }, Check: checkForceKeep},
	{Name: "renew-with-new-domains", Kind: KindBool, Category: CatCert, Hidden: true, Usage: "renew when the requested names differ",
		Field: func(c *Config) any { return &c.RenewNewDomains }},
	{Name: "duplicate", Kind: KindBool, Category: CatCert, Usage: "create a new lineage even if one has these names", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.Duplicate }},
	{Name: "preferred-chain", Kind: KindString, Category: CatCert, Usage: "pick the alternate chain whose top issuer has this CN",
		Field: func(c *Config) any { return &c.PreferredChain }, Conf: "preferred_chain", Keep: true},
	{Name: "preferred-profile", Kind: KindString, Category: CatCert, Usage: "ACME profile to ask for when the CA offers it",
		Field: func(c *Config) any { return &c.PrefProfile }, Conf: "preferred_profile", Keep: true, Overrides: profileFlags},
	{Name: "required-profile", Kind: KindString, Category: CatCert, Usage: "ACME profile that must be used",
		Field: func(c *Config) any { return &c.ReqProfile }, Conf: "required_profile", Keep: true, Overrides: profileFlags,
		Check: conflict("preferred-profile", "required-profile", func(c *Config) bool { return c.PrefProfile != "" && c.ReqProfile != "" })},
	{Name: "issuance-timeout", Kind: KindInt, Category: CatCert, Default: "90", Usage: "seconds to wait for the CA to issue after finalize (the finalize request itself may be held open that long; Sectigo can take minutes); saved for renewals when not 90",
		Field: func(c *Config) any { return &c.raw.issuanceTimeout }, Check: checkIssuanceTimeout,
		Conf: "issuance_timeout", Keep: true, When: func(c *Config) bool { return c.raw.issuanceTimeout != defaultIssuanceTimeout }, Clear: true},
	{Name: "retry-after-max", Kind: KindInt, Category: CatCert, Default: "60", Usage: "longest wait in seconds between two checks of a pending authorization or order, also when the CA's Retry-After asks for more (Sectigo sends 300); saved for renewals when not 60 (ours)",
		Field: func(c *Config) any { return &c.raw.retryAfterMax }, Check: checkRetryAfterMax,
		Conf: "retry_after_max", Keep: true, When: func(c *Config) bool { return c.raw.retryAfterMax != defaultRetryAfterMax }, Clear: true},
	{Name: "chain-drop-issuer", Kind: KindString, Category: CatCert, Usage: `drop the certificates issued by (or being) this CA from chain.pem and fullchain.pem, e.g. "AAA Certificate Services" (Sectigo's legacy cross-sign); saved for renewals (ours)`,
		Field: func(c *Config) any { return &c.ChainDropIssuer }, Check: checkChainDropIssuer,
		Conf: "chain_drop_issuer", Keep: true},

	{Name: "key-type", Kind: KindString, Category: CatKey, Default: "ecdsa", Usage: "certificate key type: ecdsa or rsa",
		Field: func(c *Config) any { return &c.KeyType }, Check: checkKeyType,
		Conf: "key_type", Keep: true},
	{Name: "rsa-key-size", Kind: KindInt, Category: CatKey, Default: "2048", Usage: "RSA key size: 2048 to 8192, a multiple of 8",
		Field: func(c *Config) any { return &c.RSAKeySize }, Check: checkRSAKeySize,
		Conf: "rsa_key_size", Keep: true, When: isRSA, Clear: true},
	{Name: "elliptic-curve", Kind: KindString, Category: CatKey, Default: "secp256r1", Usage: "ECDSA curve: secp256r1, secp384r1, secp521r1",
		Field: func(c *Config) any { return &c.Curve }, Check: checkCurve,
		Conf: "elliptic_curve", Keep: true, When: func(c *Config) bool { return !isRSA(c) }, Clear: true},
	{Name: "reuse-key", Kind: KindBool, Category: CatKey, Usage: "keep the same key across renewals",
		Field: func(c *Config) any { return &c.ReuseKey }, Conf: "reuse_key", Keep: true, Overrides: reuseFlags},
	{Name: "no-reuse-key", Kind: KindBool, Category: CatKey, Usage: "stop reusing the key",
		Field: func(c *Config) any { return &c.NoReuseKey }},
	{Name: "new-key", Kind: KindBool, Category: CatKey, Usage: "make a new key this time (also with --reuse-key saved)",
		Field: func(c *Config) any { return &c.NewKey }},
	{Name: "must-staple", Kind: KindBool, Category: CatKey, Usage: "add the OCSP must-staple extension",
		Field: func(c *Config) any { return &c.MustStaple }, Conf: "must_staple", Keep: true},

	{Name: "authenticator", Aliases: []string{"a"}, Kind: KindString, Category: CatChall, Usage: "standalone, webroot, manual, tls-alpn, dns-<provider>, nginx or apache",
		Field: func(c *Config) any { return &c.Authenticator }, Check: checkWebroot,
		Conf: "authenticator", Keep: true, Overrides: authenticatorFlags},
	{Name: "configurator", Kind: KindString, Category: CatChall, Usage: "the plugin for both roles (nginx, apache)",
		Field: func(c *Config) any { return &c.raw.configurator }},
	{Name: "installer", Aliases: []string{"i"}, Kind: KindString, Category: CatChall, Usage: "installer plugin: nginx, apache, or null for none (null: run is certonly)",
		Field: func(c *Config) any { return &c.Installer },
		Conf:  "installer", Keep: true, Overrides: installerFlags, When: func(c *Config) bool { return c.Installer != "" }, Clear: true},
	{Name: "nginx", Kind: KindBool, Category: CatChall, Usage: "obtain and install with nginx (the nginx plugin)", Selects: "nginx"},
	{Name: "apache", Kind: KindBool, Category: CatChall, Usage: "obtain and install with Apache (the apache plugin)", Selects: "apache"},
	{Name: "standalone", Kind: KindBool, Category: CatChall, Usage: "answer http-01 from a built-in HTTP server", Selects: "standalone"},
	{Name: "webroot", Kind: KindBool, Category: CatChall, Usage: "answer http-01 by writing into a web server's root", Selects: "webroot"},
	{Name: "manual", Kind: KindBool, Category: CatChall, Usage: "answer challenges with --manual-auth-hook scripts", Selects: "manual"},
	{Name: "tls-alpn", Kind: KindBool, Category: CatChall, Usage: "answer tls-alpn-01 from a built-in TLS server (ours)", Selects: "tls-alpn"},
	{Name: "dns", Kind: KindString, Category: CatChall, Usage: "answer dns-01 through this DNS provider (lego's names: cloudflare, route53, rfc2136, exec, ...)",
		Field: func(c *Config) any { return &c.raw.dnsProvider }, Complete: "dnsprovider"},
	{Name: "webroot-path", Aliases: []string{"w"}, Kind: KindList, Category: CatChall, Usage: "webroot for the -d flags that follow it",
		Field: func(c *Config) any { return &c.WebrootPaths }},
	{Name: "webroot-map", Kind: KindString, Category: CatChall, Usage: `JSON map {"a.com,www.a.com": "/var/www/a"}`,
		Field: func(c *Config) any { return &c.raw.webrootMap }},
	{Name: "manual-auth-hook", Kind: KindString, Category: CatChall, Usage: "command that publishes a challenge (certbot's CERTBOT_* environment)",
		Field: func(c *Config) any { return &c.ManualAuth }, Check: checkHook("manual-auth-hook", func(c *Config) string { return c.ManualAuth }),
		Conf: "manual_auth_hook", Keep: true, When: isManual, Clear: true},
	{Name: "manual-cleanup-hook", Kind: KindString, Category: CatChall, Usage: "command that removes it",
		Field: func(c *Config) any { return &c.ManualCleanup }, Check: checkHook("manual-cleanup-hook", func(c *Config) string { return c.ManualCleanup }),
		Conf: "manual_cleanup_hook", Keep: true, When: isManual, Clear: true},
	{Name: "dns-credentials", Kind: KindString, Category: CatChall, Usage: "credentials file for the DNS provider (certbot's dns_<plugin>_credentials format; not world-readable)",
		Field: func(c *Config) any { return &c.DNSCredentials }, Check: absPath(func(c *Config) *string { return &c.DNSCredentials }),
		Conf: "dns_{plugin}_credentials", Keep: true, When: func(c *Config) bool { return isDNS(c) && c.DNSCredentials != "" }},
	{Name: "dns-propagation-seconds", Kind: KindInt, Category: CatChall, Usage: "seconds to wait for DNS propagation (0: check instead)",
		Field: func(c *Config) any { return &c.DNSPropagation },
		Conf:  "dns_{plugin}_propagation_seconds", Keep: true, When: func(c *Config) bool { return isDNS(c) && c.DNSPropagation > 0 }},
	{Name: "tls-alpn-01-port", Kind: KindInt, Category: CatChall, Default: "443", Usage: "tls-alpn-01 listener port",
		Field: func(c *Config) any { return &c.TLSALPNPort }, Check: checkPort("tls-alpn-01-port", func(c *Config) int { return c.TLSALPNPort }),
		Conf: "tls_alpn_01_port", Keep: true, When: isTLSALPN, Clear: true},
	{Name: "tls-alpn-01-address", Kind: KindString, Category: CatChall, Usage: "tls-alpn-01 listener address",
		Field: func(c *Config) any { return &c.TLSALPNAddr },
		Conf:  "tls_alpn_01_address", Keep: true, When: func(c *Config) bool { return isTLSALPN(c) && c.TLSALPNAddr != "" }, Clear: true},
	{Name: "preferred-challenges", Kind: KindString, Category: CatChall, Usage: "challenge types in order of preference: http, dns, tls-alpn, dns-persist-01 (alone: no authenticator, the standing record proves the names)",
		Field: func(c *Config) any { return &c.raw.prefChalls }, Check: checkPrefChalls,
		Saved: func(c *Config) any { return &c.PrefChalls },
		Conf:  "pref_challs", Keep: true},
	{Name: "dns-resolver", Kind: KindList, Category: CatChall, Usage: "read dns-persist-01 records from this resolver (host[:port]) instead of the names' authoritative servers; comma-separate for more (ours)", Cmds: []string{"certonly", "renew", "dns-persist"},
		Field: func(c *Config) any { return &c.DNSResolvers }, Check: checkDNSResolvers,
		Conf: "dns_resolver", Keep: true, When: func(c *Config) bool { return PersistPreferred(c) && len(c.DNSResolvers) > 0 }, Clear: true},
	{Name: "persist-issuer", Kind: KindString, Category: CatChall, Usage: "dns-persist-01: the CA's issuer domain name to name in the records (default: the first the CA announces)", Cmds: []string{"dns-persist"},
		Field: func(c *Config) any { return &c.PersistIssuer }},
	{Name: "persist-until", Kind: KindString, Category: CatChall, Usage: "dns-persist-01: the records stop being valid then (2027-06-30, RFC 3339, or Unix seconds)", Cmds: []string{"dns-persist"},
		Field: func(c *Config) any { return &c.raw.persistUntil }, Check: checkPersistUntil},
	{Name: "persist-wildcard", Kind: KindBool, Category: CatChall, Usage: "dns-persist-01: add policy=wildcard (also implied by a *. name): the record then proves *.name too", Cmds: []string{"dns-persist"},
		Field: func(c *Config) any { return &c.PersistWildcard }},
	{Name: "http-01-port", Kind: KindInt, Category: CatChall, Default: "80", Usage: "port the standalone server listens on (nginx, apache: the port the challenge is served on)",
		Field: func(c *Config) any { return &c.HTTP01Port }, Check: checkPort("http-01-port", func(c *Config) int { return c.HTTP01Port }),
		Conf: "http01_port", Keep: true, When: func(c *Config) bool { return (isStandalone(c) || isWeb(c.Authenticator)) && c.HTTP01Port != 80 }, Clear: true},
	{Name: "http-01-address", Kind: KindString, Category: CatChall, Usage: "address the standalone server listens on (empty: all)",
		Field: func(c *Config) any { return &c.HTTP01Addr },
		Conf:  "http01_address", Keep: true, When: isStandalone, Clear: true},

	{Name: "pre-hook", Kind: KindString, Category: CatHooks, Usage: "shell command run once before the first certificate is obtained",
		Field: func(c *Config) any { return &c.PreHook }, Check: checkHook("pre-hook", func(c *Config) string { return c.PreHook }),
		Conf: "pre_hook", Keep: true},
	{Name: "post-hook", Kind: KindString, Category: CatHooks, Usage: "shell command run once at the end (RENEWED_DOMAINS, FAILED_DOMAINS)",
		Field: func(c *Config) any { return &c.PostHook }, Check: checkHook("post-hook", func(c *Config) string { return c.PostHook }),
		Conf: "post_hook", Keep: true},
	{Name: "deploy-hook", Aliases: []string{"renew-hook"}, Kind: KindString, Category: CatHooks, Usage: "shell command run per certificate obtained (RENEWED_LINEAGE, RENEWED_DOMAINS)",
		Field: func(c *Config) any { return &c.DeployHook }, Check: checkHook("deploy-hook", func(c *Config) string { return c.DeployHook }),
		Conf: "renew_hook", Keep: true},
	{Name: "no-directory-hooks", Kind: KindBool, Category: CatHooks, Usage: "do not run <config-dir>/renewal-hooks/{pre,deploy,post}",
		Field: func(c *Config) any { return &c.NoDirHooks }},
	{Name: "disable-hook-validation", Kind: KindBool, Category: CatHooks, Hidden: true, Usage: "accepted for compatibility"},
	{Name: "run-deploy-hooks", Kind: KindBool, Category: CatHooks, Usage: "run deploy hooks also on --dry-run and reconfigure",
		Field: func(c *Config) any { return &c.RunDeployHooks }},

	{Name: "no-random-sleep-on-renew", Kind: KindBool, Category: CatRenew, Usage: "do not sleep 1-480 s before renewing when not on a terminal", Cmds: []string{"renew"},
		Field: func(c *Config) any { return &c.NoRandomSleep }},
	{Name: "parallel", Kind: KindInt, Category: CatRenew, Default: "1", Usage: "lineages renewed at once per CA (ours)", Cmds: []string{"renew"},
		Field: func(c *Config) any { return &c.Parallel }, Check: checkParallel},
	{Name: "renew-deadline", Kind: KindString, Category: CatRenew, Default: "4h", // DefaultRenewDeadline (TestRenewDeadlineFlag)
		Usage: "end renew after this long (seconds, or 90m, 4h); lineages not done by then fail and the next run renews them; 0: no deadline (ours)",
		Cmds:  []string{"renew"}, Field: func(c *Config) any { return &c.raw.renewDeadline }, Check: checkRenewDeadline},
	{Name: "no-autorenew", Kind: KindBool, Category: CatRenew, Usage: "do not renew this lineage in renew", Cmds: []string{"certonly", "reconfigure"},
		Field: func(c *Config) any { return &c.NoAutorenew }},
	{Name: "autorenew", Kind: KindBool, Category: CatRenew, Hidden: true, Usage: "renew this lineage in renew (default; ours, undoes --no-autorenew)", ArgDest: "autorenew",
		Field: func(c *Config) any { return &c.Autorenew }},
	{Name: "disable-renew-updates", Kind: KindBool, Category: CatRenew, Usage: "accepted and ignored: renew updates no installer configuration"},
	{Name: "schedule-root", Kind: KindString, Category: CatRenew, Hidden: true, Usage: "root whose scheduled renewal certonly reports (staging, tests; ours)", Cmds: []string{"certonly"},
		Field: func(c *Config) any { return &c.ScheduleRoot }, Check: absPath(func(c *Config) *string { return &c.ScheduleRoot })},
	{Name: "archive-versions", Kind: KindInt, Category: CatRenew, Default: "0",
		Usage: "versions archive/NAME keeps, the current one included (saved in the lineage's conf; 0 keeps every version, as certbot 2.1; certbot 2.3+ keeps 6) (ours)",
		Cmds:  []string{"certonly", "renew", "reconfigure"},
		Field: func(c *Config) any { return &c.ArchiveVersions }, Check: checkArchiveVersions,
		Conf: "archive_versions", Keep: true, When: func(c *Config) bool { return c.ArchiveVersions > 0 }, Clear: true},
	{Name: "renew-before-expiry", Kind: KindString, Category: CatRenew, Usage: `save renew_before_expiry ("30 days") in the lineage's conf (ours)`, Cmds: []string{"certonly", "reconfigure"},
		Field: func(c *Config) any { return &c.RenewBeforeExpiry }, Check: checkRenewBeforeExpiry},

	{Name: "reason", Kind: KindString, Category: CatRevoke, Default: "unspecified", Usage: "unspecified, keycompromise, affiliationchanged, superseded, cessationofoperation", Cmds: []string{"revoke"},
		Field: func(c *Config) any { return &c.raw.reason }, Check: checkReason},
	{Name: "delete-after-revoke", Kind: KindBool, Category: CatRevoke, Usage: "delete the lineage after revoking it", Cmds: []string{"revoke"},
		Field: func(c *Config) any { return &c.DeleteAfter }},
	{Name: "no-delete-after-revoke", Kind: KindBool, Category: CatRevoke, Usage: "keep the lineage after revoking it", Cmds: []string{"revoke"},
		Field: func(c *Config) any { return &c.NoDeleteAfter }},
	{Name: "init", Kind: KindBool, Usage: "plugins: initialize the plugins", Field: func(c *Config) any { return &c.PluginsInit }},
	{Name: "prepare", Kind: KindBool, Usage: "plugins: initialize and prepare the plugins", Field: func(c *Config) any { return &c.PluginsPrepare }},
	{Name: "authenticators", Kind: KindList, Usage: "plugins: list only authenticators", Field: func(c *Config) any { return &c.PluginsIfaces }},
	{Name: "installers", Kind: KindList, Usage: "plugins: list only installers"},
	{Name: "rollover-key", Kind: KindBool, Category: CatServer, Usage: "replace the account key (ours)", Cmds: []string{"update_account"},
		Field: func(c *Config) any { return &c.RolloverKey }},

	{Name: "store", Kind: KindString, Category: CatCluster, Usage: "share certificates with a cluster through etcd: etcd[s]://host:2379[,host...]/prefix (ours; password from $" + EnvEtcdPasswordFile + " or $" + EnvEtcdPassword + ", never the URL)",
		Cmds:  []string{"certonly", "renew", "register", "cluster"},
		Field: func(c *Config) any { return &c.Store }, Check: checkStore},
	{Name: "cluster-key-file", Kind: KindString, Category: CatCluster, Default: DefaultClusterKeyFile, Usage: "the cluster key every node of the cluster holds (mode 0600; ours; also $" + EnvClusterKeyFile + ")",
		Cmds:  []string{"certonly", "renew", "register", "cluster"},
		Field: func(c *Config) any { return &c.ClusterKeyFile }, Check: absPath(func(c *Config) *string { return &c.ClusterKeyFile })},
	{Name: "generate-key", Kind: KindBool, Category: CatCluster, Usage: "cluster join: create the cluster key file first (the first node of a new cluster; ours)", Cmds: []string{"cluster"},
		Field: func(c *Config) any { return &c.GenerateKey }},
	{Name: "adopt", Kind: KindBool, Category: CatCluster, Usage: "cluster join: take the cluster's certificate and key for a lineage this node renewed on its own (ours)", Cmds: []string{"cluster"},
		Field: func(c *Config) any { return &c.Adopt }},
	{Name: "watch", Kind: KindBool, Category: CatCluster, Usage: "cluster sync: keep syncing as the cluster changes until stopped; with --standalone also answer http-01 for every node (ours)", Cmds: []string{"cluster"},
		Field: func(c *Config) any { return &c.Watch }},

	{Name: "break-my-certs", Kind: KindBool, Hidden: true, Usage: "accepted for compatibility"},
	{Name: "strict-permissions", Kind: KindBool, Hidden: true, Usage: "accepted for compatibility"},
	{Name: "os-packages-only", Kind: KindBool, Hidden: true, Usage: "accepted and ignored (deprecated in certbot)"},
	{Name: "no-self-upgrade", Kind: KindBool, Hidden: true, Usage: "accepted and ignored (deprecated in certbot)"},
	{Name: "no-bootstrap", Kind: KindBool, Hidden: true, Usage: "accepted and ignored (deprecated in certbot)"},
	{Name: "no-permissions-check", Kind: KindBool, Hidden: true, Usage: "accepted and ignored (deprecated in certbot)"},
	{Name: "manual-public-ip-logging-ok", Kind: KindBool, Hidden: true, Usage: "accepted and ignored (removed from certbot)"},
}

// CertbotDNSPlugins are certbot's DNS plugins (certbot-dns-*): --dns-<p>
// selects one, --dns-<p>-credentials and --dns-<p>-propagation-seconds are
// its --dns-credentials and --dns-propagation-seconds.
var CertbotDNSPlugins = []string{"cloudflare", "digitalocean", "dnsimple", "dnsmadeeasy", "gehirn", "google",
	"linode", "luadns", "nsone", "ovh", "rfc2136", "route53", "sakuracloud"}

func dnsPluginParams() []Param {
	out := make([]Param, 0, 3*len(CertbotDNSPlugins)+1)
	for _, n := range CertbotDNSPlugins {
		plugin := "dns-" + n
		out = append(out,
			Param{Name: plugin, Kind: KindBool, Category: CatChall, Selects: plugin, Usage: "answer dns-01 with the " + plugin + " plugin's credentials (lego's provider)"},
			Param{Name: plugin + "-propagation-seconds", Kind: KindInt, Category: CatChall, Plugin: plugin, Of: "dns-propagation-seconds",
				Usage: "seconds to wait for DNS propagation (default: check the authoritative servers instead)"})
		if n == "route53" {
			continue // AWS credentials come from the environment or ~/.aws
		}
		out = append(out, Param{Name: plugin + "-credentials", Kind: KindString, Category: CatChall, Plugin: plugin, Of: "dns-credentials",
			Usage: "the " + plugin + " plugin's credentials file (certbot's dns_" + strings.ReplaceAll(n, "-", "_") + "_* keys; not world-readable)"})
	}
	return append(out, Param{Name: "dns-google-project", Kind: KindString, Category: CatChall, Usage: "dns-google: the Google Cloud project (default: the credentials')",
		Field: func(c *Config) any { return &c.DNSProject }, Conf: "dns_google_project", Keep: true,
		When: func(c *Config) bool { return c.Authenticator == "dns-google" && c.DNSProject != "" }, Clear: true})
}

// Flag categories shown in --help.
const (
	CatPaths   = "Paths"
	CatOutput  = "Output"
	CatServer  = "Server and account"
	CatCert    = "Certificate"
	CatKey     = "Key"
	CatChall   = "Challenges"
	CatHooks   = "Hooks"
	CatRenew   = "Renewal"
	CatRevoke  = "Revocation"
	CatListing = "Listing"
	CatCluster = "Cluster"
)

// certbot's defaults, and the environment variables acmectl reads.
const (
	DefaultConfigDir = "/etc/letsencrypt"
	DefaultWorkDir   = "/var/lib/letsencrypt"
	DefaultLogsDir   = "/var/log/letsencrypt"

	// DefaultRenewDeadline bounds a renew run: the timer runs twice a day
	// (00:00 and 12:00 plus up to 1 h, so the next run can start 11 h later);
	// a run that has not finished in 4 h — a dead or crawling CA, thousands
	// of slow issuances — stops well before it and leaves the rest to it.
	DefaultRenewDeadline = 4 * time.Hour

	EnvEABHMACKey = "ACMECTL_EAB_HMAC_KEY"
	EnvCABundle   = "REQUESTS_CA_BUNDLE"
	EnvSCMPassord = "SCM_PASSWORD"

	// The cluster's etcd credentials and key (package cluster reads them).
	EnvEtcdUser         = "ACMECTL_ETCD_USER"
	EnvEtcdPassword     = "ACMECTL_ETCD_PASSWORD"
	EnvEtcdPasswordFile = "ACMECTL_ETCD_PASSWORD_FILE"
	EnvClusterKeyFile   = "ACMECTL_CLUSTER_KEY_FILE"
	// DefaultClusterKeyFile is where every node keeps the cluster key.
	DefaultClusterKeyFile = "/etc/acmectl/cluster.key"
)

// SecretEnv names the environment variables acmectl reads secrets from. They
// are removed from every hook's environment, and their values are redacted
// from hook output. A new secret variable is one more entry here.
var SecretEnv = []string{EnvEABHMACKey, EnvSCMPassord, EnvEtcdPassword}

var (
	authenticatorFlags = []string{"authenticator", "standalone", "webroot", "manual", "dns", "tls-alpn", "nginx", "apache", "configurator"}
	installerFlags     = []string{"installer", "nginx", "apache", "configurator"}
	profileFlags       = []string{"preferred-profile", "required-profile"}
	reuseFlags         = []string{"reuse-key", "no-reuse-key"}
)

// ParamByName maps every flag name and alias to its parameter.
var ParamByName = func() map[string]*Param {
	m := map[string]*Param{}
	for _, p := range Params {
		m[p.Name] = p
		for _, a := range p.Aliases {
			m[a] = p
		}
	}
	return m
}()

// read stores the parameter's value from f into c; a selector flag is
// recorded for selectPlugins, a plugin's option is left for readPlugin.
func (p *Param) read(c *Config, f Flags) error {
	switch {
	case p.Plugin != "":
		return nil
	case p.Selects != "":
		if f.Bool(p.Name) {
			c.raw.selectors = append(c.raw.selectors, p.Selects)
		}
		return nil
	}
	if p.Field == nil {
		return nil
	}
	switch p.Kind {
	case KindBool:
		*p.Field(c).(*bool) = f.Bool(p.Name)
	case KindCount:
		*p.Field(c).(*int) = f.Count(p.Name)
	case KindList:
		*p.Field(c).(*[]string) = f.StringSlice(p.Name)
	default:
		return p.readScalar(c, strings.TrimSpace(f.String(p.Name)))
	}
	return nil
}

// readPlugin reads a plugin's own option of the chosen authenticator into
// the field of the parameter it stands for (--dns-cloudflare-credentials
// is --dns-credentials for dns-cloudflare).
func (p *Param) readPlugin(c *Config, f Flags) error {
	if p.Plugin == "" || p.Plugin != c.Authenticator || !f.IsSet(p.Name) {
		return nil
	}
	of := *ParamByName[p.Of]
	of.Name, of.Default = p.Name, ""
	c.Set[p.Of] = true
	return of.read(c, f)
}

func (p *Param) readScalar(c *Config, v string) error {
	if v == "" {
		v = p.Default
	}
	if p.Field == nil {
		return nil
	}
	if p.Kind == KindInt {
		n, err := atoiFlag(p.Name, v)
		if err != nil {
			return err
		}
		*p.Field(c).(*int) = n
		return nil
	}
	*p.Field(c).(*string) = v
	return nil
}

// overridden reports whether the user gave this parameter (or one of its
// Overrides) so that a lineage's saved value does not apply.
func (p *Param) overridden(c *Config) bool {
	if len(p.Overrides) > 0 {
		return c.setByUser(p.Overrides...)
	}
	return c.Set[p.Name]
}

// saved is the field the conf holds.
func (p *Param) saved(c *Config) any {
	if p.Saved != nil {
		return p.Saved(c)
	}
	return p.Field(c)
}

// confKey is the parameter's conf key for c's authenticator.
func (p *Param) confKey(c *Config) string {
	if !strings.Contains(p.Conf, "{plugin}") {
		return p.Conf
	}
	return strings.ReplaceAll(p.Conf, "{plugin}", strings.ReplaceAll(strings.TrimPrefix(c.Authenticator, "dns-"), "-", "_"))
}

func fstr(f func(*Config) *string) func(*Config) any { return func(c *Config) any { return f(c) } }
func isRSA(c *Config) bool                           { return c.KeyType == "rsa" }
func isManual(c *Config) bool                        { return c.Authenticator == "manual" }
func isStandalone(c *Config) bool                    { return c.Authenticator == "standalone" }
func isTLSALPN(c *Config) bool                       { return c.Authenticator == "tls-alpn" }
func isDNS(c *Config) bool                           { return strings.HasPrefix(c.Authenticator, "dns-") }
func absPath(f func(*Config) *string) func(*Config) error {
	return func(c *Config) error {
		if p := f(c); *p != "" {
			if a, err := filepath.Abs(*p); err == nil {
				*p = a
			}
		}
		return nil
	}
}
