package main

import (
	"github.com/urfave/cli/v2"
)

// Flag names (certbot's long names) and environment variables, in one place.
const (
	flgConfig         = "config"
	flgConfigDir      = "config-dir"
	flgWorkDir        = "work-dir"
	flgLogsDir        = "logs-dir"
	flgMaxLogBackups  = "max-log-backups"
	flgVerbose        = "verbose"
	flgQuiet          = "quiet"
	flgNonInteractive = "non-interactive"

	flgServer     = "server"
	flgStaging    = "staging"
	flgCABundle   = "ca-bundle"
	flgUserAgent  = "user-agent"
	flgEABKid     = "eab-kid"
	flgEABHMACKey = "eab-hmac-key"
	flgEABKeyFile = "eab-hmac-key-file"
	flgEABAlg     = "eab-hmac-alg"
	flgEmail      = "email"
	flgNoEmail    = "register-unsafely-without-email"
	flgAgreeTOS   = "agree-tos"
	flgEFFEmail   = "eff-email"
	flgNoEFFEmail = "no-eff-email"
	flgAccount    = "account"

	flgDomains     = "domains"
	flgIPAddress   = "ip-address"
	flgCertName    = "cert-name"
	flgDryRun      = "dry-run"
	flgCSR         = "csr"
	flgCertPath    = "cert-path"
	flgKeyPath     = "key-path"
	flgFullchain   = "fullchain-path"
	flgChainPath   = "chain-path"
	flgExpand      = "expand"
	flgSubset      = "allow-subset-of-names"
	flgForce       = "force-renewal"
	flgKeep        = "keep-until-expiring"
	flgNewDomains  = "renew-with-new-domains"
	flgDuplicate   = "duplicate"
	flgPrefChain   = "preferred-chain"
	flgPrefProfile = "preferred-profile"
	flgReqProfile  = "required-profile"
	flgIssTimeout  = "issuance-timeout"

	flgKeyType    = "key-type"
	flgRSAKeySize = "rsa-key-size"
	flgCurve      = "elliptic-curve"
	flgReuseKey   = "reuse-key"
	flgNoReuseKey = "no-reuse-key"
	flgNewKey     = "new-key"
	flgMustStaple = "must-staple"

	flgAuthenticator  = "authenticator"
	flgStandalone     = "standalone"
	flgWebroot        = "webroot"
	flgWebrootPath    = "webroot-path"
	flgWebrootMap     = "webroot-map"
	flgManual         = "manual"
	flgManualAuth     = "manual-auth-hook"
	flgManualCleanup  = "manual-cleanup-hook"
	flgDNS            = "dns"
	flgDNSPropagation = "dns-propagation-seconds"
	flgDNSCredentials = "dns-credentials"
	flgTLSALPN        = "tls-alpn"
	flgTLSALPNPort    = "tls-alpn-01-port"
	flgTLSALPNAddr    = "tls-alpn-01-address"
	flgPrefChalls     = "preferred-challenges"
	flgHTTP01Port     = "http-01-port"
	flgHTTP01Addr     = "http-01-address"

	flgPreHook         = "pre-hook"
	flgPostHook        = "post-hook"
	flgDeployHook      = "deploy-hook"
	flgNoDirHooks      = "no-directory-hooks"
	flgNoHookCheck     = "disable-hook-validation"
	flgRunDeployHooks  = "run-deploy-hooks"
	flgNoRandomSleep   = "no-random-sleep-on-renew"
	flgParallel        = "parallel"
	flgNoAutorenew     = "no-autorenew"
	flgAutorenew       = "autorenew"
	flgJSON            = "json"
	flgReason          = "reason"
	flgDeleteAfter     = "delete-after-revoke"
	flgNoDeleteAfter   = "no-delete-after-revoke"
	flgRolloverKey     = "rollover-key"
	flgBreakMyCerts    = "break-my-certs"
	flgStrictPerms     = "strict-permissions"
	flgRenewBeforeExp  = "renew-before-expiry"
	flgNoVerifySSLDeny = "no-verify-ssl"
)

// Environment variables read by acmectl.
const (
	envEABHMACKey   = "ACMECTL_EAB_HMAC_KEY"
	envCABundle     = "REQUESTS_CA_BUNDLE"
	envXDGConfig    = "XDG_CONFIG_HOME"
	envSystemConfig = "ACMECTL_SYSTEM_CLI_INI" // overrides /etc/letsencrypt/cli.ini (tests, packagers)
)

// certbot's defaults.
const (
	defaultConfigDir   = "/etc/letsencrypt"
	defaultWorkDir     = "/var/lib/letsencrypt"
	defaultLogsDir     = "/var/log/letsencrypt"
	defaultServerAlias = "letsencrypt"
	defaultSystemINI   = "/etc/letsencrypt/cli.ini"
)

// Flag categories shown in --help.
const (
	catPaths   = "Paths"
	catOutput  = "Output"
	catServer  = "Server and account"
	catCert    = "Certificate"
	catKey     = "Key"
	catChall   = "Challenges"
	catHooks   = "Hooks"
	catRenew   = "Renewal"
	catRevoke  = "Revocation"
	catListing = "Listing"
)

// flagSpec describes one flag; appFlags turns the table into fresh cli.Flag
// values for each command (urfave/cli keeps parse state in the flag values, so
// every command and every newApp gets its own).
type flagSpec struct {
	name    string
	aliases []string
	kind    byte // 'b' bool, 's' string, 'l' string list, 'i' int
	usage   string
	cat     string
	value   string // default shown in help (strings, ints)
	hidden  bool
	// cmds lists the commands that show the flag in --help; empty = all.
	// Every command accepts every flag, as certbot does.
	cmds []string
}

var flagTable = []flagSpec{
	{name: flgConfig, aliases: []string{"c"}, kind: 's', cat: catPaths, usage: "read options from this cli.ini (after /etc/letsencrypt/cli.ini and $XDG_CONFIG_HOME/letsencrypt/cli.ini)"},
	{name: flgConfigDir, kind: 's', cat: catPaths, value: defaultConfigDir, usage: "configuration directory (certbot's tree)"},
	{name: flgWorkDir, kind: 's', cat: catPaths, value: defaultWorkDir, usage: "working directory"},
	{name: flgLogsDir, kind: 's', cat: catPaths, value: defaultLogsDir, usage: "log directory (letsencrypt.log)"},
	{name: flgMaxLogBackups, kind: 'i', cat: catPaths, value: "1000", usage: "rotated log files to keep; 0 appends to one file"},

	{name: flgVerbose, aliases: []string{"v"}, kind: 'b', cat: catOutput, usage: "more output on stderr; repeat (-vv, -vvv) for more"},
	{name: flgQuiet, aliases: []string{"q"}, kind: 'b', cat: catOutput, usage: "print nothing but errors (implies --non-interactive)"},
	{name: flgNonInteractive, aliases: []string{"n", "noninteractive"}, kind: 'b', cat: catOutput, usage: "never ask; fail naming the flag to pass instead"},
	{name: flgJSON, kind: 'b', cat: catListing, usage: "print the listing as JSON (ours)", cmds: []string{"certificates", "show_account"}},

	{name: flgServer, kind: 's', cat: catServer, usage: "ACME directory URL or alias (letsencrypt, sectigo-ov, ...; see docs/cli.md); used as given"},
	{name: flgStaging, aliases: []string{"test-cert"}, kind: 'b', cat: catServer, usage: "use Let's Encrypt staging"},
	{name: flgCABundle, kind: 's', cat: catServer, usage: "PEM file of extra roots to trust for the CA's HTTPS (also $REQUESTS_CA_BUNDLE)"},
	{name: flgUserAgent, kind: 's', cat: catServer, usage: "HTTP User-Agent (default acmectl/<version>)", hidden: true},
	{name: flgEABKid, kind: 's', cat: catServer, usage: "external account binding key ID"},
	{name: flgEABHMACKey, kind: 's', cat: catServer, usage: "external account binding HMAC key (base64url); prefer --eab-hmac-key-file or $ACMECTL_EAB_HMAC_KEY"},
	{name: flgEABKeyFile, kind: 's', cat: catServer, usage: "file holding the EAB HMAC key (ours)"},
	{name: flgEABAlg, kind: 's', cat: catServer, value: "HS256", usage: "EAB MAC algorithm: HS256, HS384 or HS512"},
	{name: flgEmail, aliases: []string{"m"}, kind: 's', cat: catServer, usage: "account e-mail (comma list allowed)"},
	{name: flgNoEmail, kind: 'b', cat: catServer, usage: "register without an e-mail address"},
	{name: flgAgreeTOS, kind: 'b', cat: catServer, usage: "agree to the CA's terms of service"},
	{name: flgEFFEmail, kind: 'b', cat: catServer, hidden: true, usage: "accepted for compatibility; acmectl shares no e-mail with anyone"},
	{name: flgNoEFFEmail, kind: 'b', cat: catServer, hidden: true, usage: "accepted for compatibility"},
	{name: flgAccount, kind: 's', cat: catServer, usage: "account ID to use (when several are registered at the server)"},

	{name: flgDomains, aliases: []string{"d", "domain"}, kind: 'l', cat: catCert, usage: "domain name; repeat or comma-separate; the first names the lineage"},
	{name: flgIPAddress, kind: 'l', cat: catCert, usage: "IP address identifier; repeat or comma-separate"},
	{name: flgCertName, kind: 's', cat: catCert, usage: "lineage name (selects a lineage in renew, delete, revoke, certificates)"},
	{name: flgDryRun, kind: 'b', cat: catCert, usage: "obtain from the CA (the lineage's own for renew) but save nothing"},
	{name: flgCSR, kind: 's', cat: catCert, usage: "certonly from this CSR (DER or PEM); writes --cert-path/--chain-path/--fullchain-path", cmds: []string{"certonly"}},
	{name: flgCertPath, kind: 's', cat: catCert, usage: "certificate path (--csr output; revoke input)", cmds: []string{"certonly", "revoke"}},
	{name: flgKeyPath, kind: 's', cat: catCert, usage: "private key of the certificate to revoke", cmds: []string{"revoke"}},
	{name: flgFullchain, kind: 's', cat: catCert, usage: "full chain path (--csr output)", cmds: []string{"certonly"}},
	{name: flgChainPath, kind: 's', cat: catCert, usage: "chain path (--csr output)", cmds: []string{"certonly"}},
	{name: flgExpand, kind: 'b', cat: catCert, usage: "replace a lineage whose names are a subset of the requested ones", cmds: []string{"certonly"}},
	{name: flgSubset, kind: 'b', cat: catCert, usage: "issue for the names that validated when others fail"},
	{name: flgForce, aliases: []string{"renew-by-default"}, kind: 'b', cat: catRenew, usage: "renew now, due or not"},
	{name: flgKeep, aliases: []string{"keep", "reinstall"}, kind: 'b', cat: catRenew, usage: "keep an existing certificate until it is due", cmds: []string{"certonly"}},
	{name: flgNewDomains, kind: 'b', cat: catCert, hidden: true, usage: "renew when the requested names differ"},
	{name: flgDuplicate, kind: 'b', cat: catCert, usage: "create a new lineage even if one has these names", cmds: []string{"certonly"}},
	{name: flgPrefChain, kind: 's', cat: catCert, usage: "pick the alternate chain whose top issuer has this CN"},
	{name: flgPrefProfile, kind: 's', cat: catCert, usage: "ACME profile to ask for when the CA offers it"},
	{name: flgReqProfile, kind: 's', cat: catCert, usage: "ACME profile that must be used"},
	{name: flgIssTimeout, kind: 'i', cat: catCert, value: "90", usage: "seconds to wait for the CA to issue"},

	{name: flgKeyType, kind: 's', cat: catKey, value: "ecdsa", usage: "certificate key type: ecdsa or rsa"},
	{name: flgRSAKeySize, kind: 'i', cat: catKey, value: "2048", usage: "RSA key size"},
	{name: flgCurve, kind: 's', cat: catKey, value: "secp256r1", usage: "ECDSA curve: secp256r1, secp384r1, secp521r1"},
	{name: flgReuseKey, kind: 'b', cat: catKey, usage: "keep the same key across renewals"},
	{name: flgNoReuseKey, kind: 'b', cat: catKey, usage: "stop reusing the key"},
	{name: flgNewKey, kind: 'b', cat: catKey, usage: "make a new key this time (also with --reuse-key saved)"},
	{name: flgMustStaple, kind: 'b', cat: catKey, usage: "add the OCSP must-staple extension"},

	{name: flgAuthenticator, aliases: []string{"a"}, kind: 's', cat: catChall, usage: "standalone, webroot, manual, tls-alpn or dns-<provider>"},
	{name: flgStandalone, kind: 'b', cat: catChall, usage: "answer http-01 from a built-in HTTP server"},
	{name: flgWebroot, kind: 'b', cat: catChall, usage: "answer http-01 by writing into a web server's root"},
	{name: flgWebrootPath, aliases: []string{"w"}, kind: 'l', cat: catChall, usage: "webroot for the -d flags that follow it"},
	{name: flgWebrootMap, kind: 's', cat: catChall, usage: `JSON map {"a.com,www.a.com": "/var/www/a"}`},
	{name: flgManual, kind: 'b', cat: catChall, usage: "answer challenges with --manual-auth-hook scripts"},
	{name: flgManualAuth, kind: 's', cat: catChall, usage: "command that publishes a challenge (certbot's CERTBOT_* environment)"},
	{name: flgManualCleanup, kind: 's', cat: catChall, usage: "command that removes it"},
	{name: flgDNS, kind: 's', cat: catChall, usage: "answer dns-01 through this DNS provider (lego's names: cloudflare, route53, rfc2136, exec, ...)"},
	{name: flgDNSCredentials, kind: 's', cat: catChall, usage: "credentials file for the DNS provider (certbot's dns_<plugin>_credentials format; not world-readable)"},
	{name: flgDNSPropagation, kind: 'i', cat: catChall, usage: "seconds to wait for DNS propagation (0: check instead)"},
	{name: flgTLSALPN, kind: 'b', cat: catChall, usage: "answer tls-alpn-01 from a built-in TLS server (ours)"},
	{name: flgTLSALPNPort, kind: 'i', cat: catChall, value: "443", usage: "tls-alpn-01 listener port"},
	{name: flgTLSALPNAddr, kind: 's', cat: catChall, usage: "tls-alpn-01 listener address"},
	{name: flgPrefChalls, kind: 's', cat: catChall, usage: "challenge types in order of preference: http, dns, tls-alpn"},
	{name: flgHTTP01Port, kind: 'i', cat: catChall, value: "80", usage: "port the standalone server listens on"},
	{name: flgHTTP01Addr, kind: 's', cat: catChall, usage: "address the standalone server listens on (empty: all)"},

	{name: flgPreHook, kind: 's', cat: catHooks, usage: "shell command run once before the first certificate is obtained"},
	{name: flgPostHook, kind: 's', cat: catHooks, usage: "shell command run once at the end (RENEWED_DOMAINS, FAILED_DOMAINS)"},
	{name: flgDeployHook, aliases: []string{"renew-hook"}, kind: 's', cat: catHooks, usage: "shell command run per certificate obtained (RENEWED_LINEAGE, RENEWED_DOMAINS)"},
	{name: flgNoDirHooks, kind: 'b', cat: catHooks, usage: "do not run <config-dir>/renewal-hooks/{pre,deploy,post}"},
	{name: flgNoHookCheck, kind: 'b', cat: catHooks, hidden: true, usage: "accepted for compatibility"},
	{name: flgRunDeployHooks, kind: 'b', cat: catHooks, usage: "run deploy hooks also on --dry-run and reconfigure"},

	{name: flgNoRandomSleep, kind: 'b', cat: catRenew, usage: "do not sleep 1-480 s before renewing when not on a terminal", cmds: []string{"renew"}},
	{name: flgParallel, kind: 'i', cat: catRenew, value: "1", usage: "lineages renewed at once per CA (ours)", cmds: []string{"renew"}},
	{name: flgNoAutorenew, kind: 'b', cat: catRenew, usage: "do not renew this lineage in renew", cmds: []string{"certonly", "reconfigure"}},
	{name: flgAutorenew, kind: 'b', cat: catRenew, hidden: true, usage: "renew this lineage in renew (default)"},
	{name: flgRenewBeforeExp, kind: 's', cat: catRenew, usage: `save renew_before_expiry ("30 days") in the lineage's conf (ours)`, cmds: []string{"certonly", "reconfigure"}},

	{name: flgReason, kind: 's', cat: catRevoke, value: "unspecified", usage: "unspecified, keycompromise, affiliationchanged, superseded, cessationofoperation", cmds: []string{"revoke"}},
	{name: flgDeleteAfter, kind: 'b', cat: catRevoke, usage: "delete the lineage after revoking it", cmds: []string{"revoke"}},
	{name: flgNoDeleteAfter, kind: 'b', cat: catRevoke, usage: "keep the lineage after revoking it", cmds: []string{"revoke"}},
	{name: flgRolloverKey, kind: 'b', cat: catServer, usage: "replace the account key (ours)", cmds: []string{"update_account"}},

	{name: flgBreakMyCerts, kind: 'b', hidden: true, usage: "accepted for compatibility"},
	{name: flgStrictPerms, kind: 'b', hidden: true, usage: "accepted for compatibility"},
}

// specByName maps every flag name and alias to its spec.
var specByName = func() map[string]*flagSpec {
	m := map[string]*flagSpec{}
	for i := range flagTable {
		s := &flagTable[i]
		m[s.name] = s
		for _, a := range s.aliases {
			m[a] = s
		}
	}
	return m
}()

// commandFlags builds fresh flag values for command cmd.
func commandFlags(cmd string) []cli.Flag {
	var out []cli.Flag
	for _, s := range flagTable {
		hidden := s.hidden
		if len(s.cmds) > 0 && !contains(s.cmds, cmd) {
			hidden = true
		}
		switch s.kind {
		case 'b':
			f := &cli.BoolFlag{Name: s.name, Aliases: s.aliases, Usage: s.usage, Category: s.cat, Hidden: hidden}
			if s.name == flgVerbose {
				f.Count = new(int)
			}
			out = append(out, f)
		case 's':
			out = append(out, &cli.StringFlag{Name: s.name, Aliases: s.aliases, Usage: s.usage, Category: s.cat, Hidden: hidden, DefaultText: s.value})
		case 'l':
			out = append(out, &cli.StringSliceFlag{Name: s.name, Aliases: s.aliases, Usage: s.usage, Category: s.cat, Hidden: hidden})
		case 'i':
			out = append(out, &cli.StringFlag{Name: s.name, Aliases: s.aliases, Usage: s.usage, Category: s.cat, Hidden: hidden, DefaultText: s.value})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
