package argparse

// Certbot's command line as of certbot 5.6: the verbs, help topics and every
// option of certbot and of the plugins an operator may name (nginx, apache,
// webroot, manual, standalone, null and the 13 dns-* plugins of certbot's
// repository), hidden and deprecated ones included.
//
// The options were dumped from Debian's certbot 2.1 with its plugins
// (testdata/certbot_oracle.py dump; TestCertbotSpecMatches21 keeps them in
// step) in certbot's registration order, which argparse shows in its
// "ambiguous option" message, and then brought to 5.x from its source:
//   - added: --ip-address (5.3.0), --eab-hmac-alg (4.2.0), --run-deploy-hooks,
//     --required-profile and --preferred-profile (4.0.0, registered before
//     --preferred-chain), --dns-google-project, and the dns-dnsmadeeasy,
//     dns-luadns and dns-nsone plugin options Debian does not package;
//   - removed: --certbot-route53:auth-propagation-seconds (the legacy
//     route53 plugin alias);
//   - verbs: reconfigure (2.3.0); update_symlinks left certbot's VERBS after
//     2.x but stays here so that old scripts keep working (it repairs the
//     live/ links, which acmectl keeps right anyway).

// CertbotVersion is the certbot release whose command line Certbot follows.
const CertbotVersion = "5.6.0"

// certbotVerbs is HelpfulArgumentParser.VERBS (certbot 5.x, plus update_symlinks).
var certbotVerbs = []string{
	"auth", "certonly", "run", "install", "plugins", "register", "update_account",
	"show_account", "unregister", "renew", "revoke", "rollback", "everything",
	"update_symlinks", "certificates", "delete", "enhance", "reconfigure",
}

// CertbotPlugins are the plugin names certbot 5.x knows (help topics,
// -a/-i values).
var CertbotPlugins = []string{
	"apache", "dns-cloudflare", "dns-digitalocean", "dns-dnsimple", "dns-dnsmadeeasy",
	"dns-gehirn", "dns-google", "dns-linode", "dns-luadns", "dns-nsone", "dns-ovh",
	"dns-rfc2136", "dns-route53", "dns-sakuracloud", "manual", "nginx", "null",
	"standalone", "webroot",
}

// Certbot returns certbot 5.x's command line. Each call returns a fresh
// copy that the caller may change (for example to add acmectl's own options).
func Certbot() Spec {
	verbs := map[string]string{}
	for _, v := range certbotVerbs {
		verbs[v] = v
	}
	verbs["auth"] = "certonly"
	verbs["everything"] = "run"
	opts := certbotOptions()
	return Spec{
		Prog:          "certbot",
		Verbs:         verbs,
		VerbOrder:     append([]string(nil), certbotVerbs...),
		DefaultVerb:   "run",
		Topics:        []string{"all", "security", "paths", "automation", "testing", "manage"},
		CommandTopics: []string{"command", "commands", "subcommand", "subcommands", "verbs"},
		Plugins:       append([]string(nil), CertbotPlugins...),
		Options:       opts,
	}
}

func certbotOptions() []Option {
	return []Option{
		{Flags: []string{"-h", "--help"}, Dest: "help", Action: Help},
		{Flags: []string{"-c", "--config"}, Dest: "config_file", Action: Store, Complete: CompleteFile},
		{Flags: []string{"-v", "--verbose"}, Dest: "verbose_count", Action: Count, Default: 0, Topics: []string{""}},
		{Flags: []string{"--verbose-level"}, Dest: "verbose_level", Action: Store, Hidden: true, Topics: []string{""}},
		{Flags: []string{"-t", "--text"}, Dest: "text_mode", Action: StoreTrue, Default: false, Hidden: true, Topics: []string{""}},
		{Flags: []string{"--max-log-backups"}, Dest: "max_log_backups", Action: Store, Type: NonNegativeInt, Default: 1000, Topics: []string{""}},
		{Flags: []string{"--preconfigured-renewal"}, Dest: "preconfigured_renewal", Action: StoreTrue, Default: false, Hidden: true, Topics: []string{""}},
		{Flags: []string{"-n", "--non-interactive", "--noninteractive"}, Dest: "noninteractive_mode", Action: StoreTrue, Default: false, Topics: []string{"", "automation", "run", "certonly", "enhance"}},
		{Flags: []string{"--force-interactive"}, Dest: "force_interactive", Action: StoreTrue, Default: false, Topics: []string{"", "register", "run", "certonly", "enhance"}},
		{Flags: []string{"-d", "--domains", "--domain"}, Dest: "domains", Action: Domains, Default: []string{}, Topics: []string{"", "run", "certonly", "certificates", "enhance"}},
		{Flags: []string{"--ip-address"}, Dest: "ip_addresses", Action: IPAddresses, Default: []string{}, Topics: []string{"", "run", "certonly"}, Note: "certbot 5.3.0 (PR #10495)"},
		{Flags: []string{"--eab-kid"}, Dest: "eab_kid", Action: Store, Topics: []string{"", "run", "certonly", "register"}},
		{Flags: []string{"--eab-hmac-key"}, Dest: "eab_hmac_key", Action: Store, Topics: []string{"", "run", "certonly", "register"}},
		{Flags: []string{"--eab-hmac-alg"}, Dest: "eab_hmac_alg", Action: Store, Default: "HS256", Topics: []string{"", "run", "certonly", "register"}, Note: "certbot 4.2.0"},
		{Flags: []string{"--cert-name"}, Dest: "certname", Action: Store, Topics: []string{"", "run", "certonly", "manage", "delete", "certificates", "renew", "enhance"}, Complete: CompleteCertName},
		{Flags: []string{"--dry-run"}, Dest: "dry_run", Action: StoreTrue, Default: false, Topics: []string{"", "testing", "renew", "certonly"}},
		{Flags: []string{"--run-deploy-hooks"}, Dest: "run_deploy_hooks", Action: StoreTrue, Default: false, Topics: []string{"testing", "renew", "certonly", "reconfigure"}, Note: "not in certbot 2.1"},
		{Flags: []string{"--register-unsafely-without-email"}, Dest: "register_unsafely_without_email", Action: StoreTrue, Default: false, Topics: []string{"register", "automation"}},
		{Flags: []string{"-m", "--email"}, Dest: "email", Action: Store, Topics: []string{"register", "update_account", "unregister", "automation"}},
		{Flags: []string{"--eff-email"}, Dest: "eff_email", Action: StoreTrue, Topics: []string{"register", "update_account", "automation"}},
		{Flags: []string{"--no-eff-email"}, Dest: "eff_email", Action: StoreFalse, Topics: []string{"register", "update_account", "automation"}},
		{Flags: []string{"--keep-until-expiring", "--keep", "--reinstall"}, Dest: "reinstall", Action: StoreTrue, Default: false, Topics: []string{"automation", "certonly", "run"}},
		{Flags: []string{"--expand"}, Dest: "expand", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--version"}, Dest: "version", Action: Version, Topics: []string{"automation"}},
		{Flags: []string{"--force-renewal", "--renew-by-default"}, Dest: "renew_by_default", Action: StoreTrue, Default: false, Topics: []string{"automation", "renew"}},
		{Flags: []string{"--renew-with-new-domains"}, Dest: "renew_with_new_domains", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--reuse-key"}, Dest: "reuse_key", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--no-reuse-key"}, Dest: "reuse_key", Action: StoreFalse, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--new-key"}, Dest: "new_key", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--allow-subset-of-names"}, Dest: "allow_subset_of_names", Action: StoreTrue, Default: false, Topics: []string{"automation", "renew", "certonly"}},
		{Flags: []string{"--agree-tos"}, Dest: "tos", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"--account"}, Dest: "account", Action: Store, Topics: []string{"unregister", "automation"}},
		{Flags: []string{"--duplicate"}, Dest: "duplicate", Action: StoreTrue, Default: false, Topics: []string{"automation"}},
		{Flags: []string{"-q", "--quiet"}, Dest: "quiet", Action: StoreTrue, Default: false, Topics: []string{"automation", "renew", "certonly", "run"}},
		{Flags: []string{"--test-cert", "--staging"}, Dest: "staging", Action: StoreTrue, Default: false, Topics: []string{"testing", "revoke", "run"}},
		{Flags: []string{"--debug"}, Dest: "debug", Action: StoreTrue, Default: false, Topics: []string{"testing"}},
		{Flags: []string{"--debug-challenges"}, Dest: "debug_challenges", Action: StoreTrue, Default: false, Topics: []string{"", "certonly", "run"}},
		{Flags: []string{"--no-verify-ssl"}, Dest: "no_verify_ssl", Action: StoreTrue, Default: false, Topics: []string{"testing"}},
		{Flags: []string{"--http-01-port"}, Dest: "http01_port", Action: Store, Type: Int, Default: 80, Topics: []string{"testing", "standalone", "manual"}},
		{Flags: []string{"--http-01-address"}, Dest: "http01_address", Action: Store, Default: "", Topics: []string{"testing", "standalone"}},
		{Flags: []string{"--https-port"}, Dest: "https_port", Action: Store, Type: Int, Default: 443, Topics: []string{"testing", "nginx"}},
		{Flags: []string{"--break-my-certs"}, Dest: "break_my_certs", Action: StoreTrue, Default: false, Topics: []string{"testing"}},
		{Flags: []string{"--rsa-key-size"}, Dest: "rsa_key_size", Action: Store, Type: Int, Default: 2048, Topics: []string{"security"}},
		{Flags: []string{"--key-type"}, Dest: "key_type", Action: Store, Choices: []string{"rsa", "ecdsa"}, Default: "ecdsa", Topics: []string{"security"}},
		{Flags: []string{"--elliptic-curve"}, Dest: "elliptic_curve", Action: Store, Choices: []string{"secp256r1", "secp384r1", "secp521r1"}, Default: "secp256r1", Topics: []string{"security"}},
		{Flags: []string{"--must-staple"}, Dest: "must_staple", Action: StoreTrue, Default: false, Topics: []string{"security"}},
		{Flags: []string{"--redirect"}, Dest: "redirect", Action: StoreTrue, Topics: []string{"security", "enhance"}},
		{Flags: []string{"--no-redirect"}, Dest: "redirect", Action: StoreFalse, Topics: []string{"security"}},
		{Flags: []string{"--hsts"}, Dest: "hsts", Action: StoreTrue, Topics: []string{"security", "enhance"}},
		{Flags: []string{"--no-hsts"}, Dest: "hsts", Action: StoreFalse, Hidden: true, Topics: []string{"security"}},
		{Flags: []string{"--uir"}, Dest: "uir", Action: StoreTrue, Topics: []string{"security", "enhance"}},
		{Flags: []string{"--no-uir"}, Dest: "uir", Action: StoreFalse, Hidden: true, Topics: []string{"security"}},
		{Flags: []string{"--staple-ocsp"}, Dest: "staple", Action: StoreTrue, Topics: []string{"security"}},
		{Flags: []string{"--no-staple-ocsp"}, Dest: "staple", Action: StoreFalse, Hidden: true, Topics: []string{"security"}},
		{Flags: []string{"--strict-permissions"}, Dest: "strict_permissions", Action: StoreTrue, Default: false, Topics: []string{"security"}},
		{Flags: []string{"--required-profile"}, Dest: "required_profile", Action: Store, Topics: []string{"", "certonly", "renew", "run"}, Note: "certbot 4.0.0"},
		{Flags: []string{"--preferred-profile"}, Dest: "preferred_profile", Action: Store, Topics: []string{"", "certonly", "renew", "run"}, Note: "certbot 4.0.0"},
		{Flags: []string{"--preferred-chain"}, Dest: "preferred_chain", Action: Store, Topics: []string{"", "certonly", "renew", "run"}},
		{Flags: []string{"--preferred-challenges"}, Dest: "pref_challs", Action: PrefChallenges, Default: []string{}, Topics: []string{"manual", "standalone", "certonly", "renew"}},
		{Flags: []string{"--issuance-timeout"}, Dest: "issuance_timeout", Action: Store, Type: NonNegativeInt, Default: 90, Topics: []string{"", "certonly", "run"}},
		{Flags: []string{"--pre-hook"}, Dest: "pre_hook", Action: Store, Topics: []string{"renew"}, Complete: CompleteCommand},
		{Flags: []string{"--post-hook"}, Dest: "post_hook", Action: Store, Topics: []string{"renew"}, Complete: CompleteCommand},
		{Flags: []string{"--renew-hook"}, Dest: "renew_hook", Action: RenewHook, Hidden: true, Topics: []string{"renew"}, Complete: CompleteCommand},
		{Flags: []string{"--no-random-sleep-on-renew"}, Dest: "random_sleep_on_renew", Action: StoreFalse, Default: true, Hidden: true, Topics: []string{"renew"}},
		{Flags: []string{"--deploy-hook"}, Dest: "deploy_hook", Action: DeployHook, Topics: []string{"renew"}, Complete: CompleteCommand},
		{Flags: []string{"--disable-hook-validation"}, Dest: "validate_hooks", Action: StoreFalse, Default: true, Topics: []string{"renew"}},
		{Flags: []string{"--no-directory-hooks"}, Dest: "directory_hooks", Action: StoreFalse, Default: true, Topics: []string{"renew"}},
		{Flags: []string{"--disable-renew-updates"}, Dest: "disable_renew_updates", Action: StoreTrue, Default: false, Topics: []string{"renew"}},
		{Flags: []string{"--no-autorenew"}, Dest: "autorenew", Action: StoreFalse, Default: true, Topics: []string{"renew"}},
		{Flags: []string{"--os-packages-only"}, Dest: "os_packages_only", Action: Deprecated, Hidden: true, Topics: []string{""}},
		{Flags: []string{"--no-self-upgrade"}, Dest: "no_self_upgrade", Action: Deprecated, Hidden: true, Topics: []string{""}},
		{Flags: []string{"--no-bootstrap"}, Dest: "no_bootstrap", Action: Deprecated, Hidden: true, Topics: []string{""}},
		{Flags: []string{"--no-permissions-check"}, Dest: "no_permissions_check", Action: Deprecated, Hidden: true, Topics: []string{""}},
		{Flags: []string{"--auto-hsts"}, Dest: "auto_hsts", Action: StoreTrue, Default: false, Topics: []string{"security", "enhance"}},
		{Flags: []string{"--user-agent"}, Dest: "user_agent", Action: Store, Topics: []string{""}},
		{Flags: []string{"--user-agent-comment"}, Dest: "user_agent_comment", Action: Store, Type: UserAgentComment, Topics: []string{""}},
		{Flags: []string{"--csr"}, Dest: "csr", Action: Store, Type: ReadFile, Topics: []string{"certonly"}, Complete: CompleteFile},
		{Flags: []string{"--reason"}, Dest: "reason", Action: Reason, Choices: []string{"unspecified", "keycompromise", "affiliationchanged", "superseded", "cessationofoperation"}, Default: 0, Topics: []string{"revoke"}},
		{Flags: []string{"--delete-after-revoke"}, Dest: "delete_after_revoke", Action: StoreTrue, Topics: []string{"revoke"}},
		{Flags: []string{"--no-delete-after-revoke"}, Dest: "delete_after_revoke", Action: StoreFalse, Topics: []string{"revoke"}},
		{Flags: []string{"--checkpoints"}, Dest: "checkpoints", Action: Store, Type: Int, Default: 1, Topics: []string{"rollback"}},
		{Flags: []string{"--init"}, Dest: "init", Action: StoreTrue, Default: false, Topics: []string{"plugins"}},
		{Flags: []string{"--prepare"}, Dest: "prepare", Action: StoreTrue, Default: false, Topics: []string{"plugins"}},
		{Flags: []string{"--authenticators"}, Dest: "ifaces", Action: AppendConst, Const: "Authenticator", Topics: []string{"plugins"}},
		{Flags: []string{"--installers"}, Dest: "ifaces", Action: AppendConst, Const: "Installer", Topics: []string{"plugins"}},
		{Flags: []string{"--cert-path"}, Dest: "cert_path", Action: Store, Type: AbsPath, VerbDefault: map[string]any{"certonly": "./cert.pem"}, Topics: []string{"paths", "install", "revoke", "certonly", "manage"}, Complete: CompleteFile},
		{Flags: []string{"--key-path"}, Dest: "key_path", Action: Store, Type: AbsPath, Topics: []string{"paths"}, Complete: CompleteFile},
		{Flags: []string{"--fullchain-path"}, Dest: "fullchain_path", Action: Store, Type: AbsPath, VerbDefault: map[string]any{"certonly": "./chain.pem"}, Note: "certbot's paths_parser gives --fullchain-path the chain default ./chain.pem for certonly", Topics: []string{"paths", "install"}, Complete: CompleteFile},
		{Flags: []string{"--chain-path"}, Dest: "chain_path", Action: Store, Type: AbsPath, VerbDefault: map[string]any{"certonly": "./chain.pem"}, Topics: []string{"paths", "install"}, Complete: CompleteFile},
		{Flags: []string{"--config-dir"}, Dest: "config_dir", Action: Store, Default: "/etc/letsencrypt", Topics: []string{"paths"}, Complete: CompleteDir},
		{Flags: []string{"--work-dir"}, Dest: "work_dir", Action: Store, Default: "/var/lib/letsencrypt", Topics: []string{"paths"}, Complete: CompleteDir},
		{Flags: []string{"--logs-dir"}, Dest: "logs_dir", Action: Store, Default: "/var/log/letsencrypt", Topics: []string{"paths"}, Complete: CompleteDir},
		{Flags: []string{"--server"}, Dest: "server", Action: Store, Default: "https://acme-v02.api.letsencrypt.org/directory", Topics: []string{"paths", "show_account"}},
		{Flags: []string{"--configurator"}, Dest: "configurator", Action: Store, Topics: []string{"plugins"}, Complete: CompleteInstaller},
		{Flags: []string{"-a", "--authenticator"}, Dest: "authenticator", Action: Store, Topics: []string{"plugins"}, Complete: CompleteAuth},
		{Flags: []string{"-i", "--installer"}, Dest: "installer", Action: Store, Topics: []string{"plugins"}, Complete: CompleteInstaller},
		{Flags: []string{"--apache"}, Dest: "apache", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly", "run", "install"}},
		{Flags: []string{"--nginx"}, Dest: "nginx", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly", "run", "install"}},
		{Flags: []string{"--standalone"}, Dest: "standalone", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--manual"}, Dest: "manual", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--webroot"}, Dest: "webroot", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-cloudflare"}, Dest: "dns_cloudflare", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-digitalocean"}, Dest: "dns_digitalocean", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-dnsimple"}, Dest: "dns_dnsimple", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-dnsmadeeasy"}, Dest: "dns_dnsmadeeasy", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-gehirn"}, Dest: "dns_gehirn", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-google"}, Dest: "dns_google", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-linode"}, Dest: "dns_linode", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-luadns"}, Dest: "dns_luadns", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-nsone"}, Dest: "dns_nsone", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-ovh"}, Dest: "dns_ovh", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-rfc2136"}, Dest: "dns_rfc2136", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-route53"}, Dest: "dns_route53", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--dns-sakuracloud"}, Dest: "dns_sakuracloud", Action: StoreTrue, Default: false, Topics: []string{"plugins", "certonly"}},
		{Flags: []string{"--apache-enmod"}, Dest: "apache_enmod", Action: Store, Default: "a2enmod", Topics: []string{"apache"}, Complete: CompleteCommand},
		{Flags: []string{"--apache-dismod"}, Dest: "apache_dismod", Action: Store, Default: "a2dismod", Topics: []string{"apache"}, Complete: CompleteCommand},
		{Flags: []string{"--apache-le-vhost-ext"}, Dest: "apache_le_vhost_ext", Action: Store, Default: "-le-ssl.conf", Topics: []string{"apache"}},
		{Flags: []string{"--apache-server-root"}, Dest: "apache_server_root", Action: Store, Default: "/etc/apache2", Topics: []string{"apache"}, Complete: CompleteDir},
		{Flags: []string{"--apache-vhost-root"}, Dest: "apache_vhost_root", Action: Store, Topics: []string{"apache"}, Complete: CompleteDir},
		{Flags: []string{"--apache-logs-root"}, Dest: "apache_logs_root", Action: Store, Default: "/var/log/apache2", Topics: []string{"apache"}, Complete: CompleteDir},
		{Flags: []string{"--apache-challenge-location"}, Dest: "apache_challenge_location", Action: Store, Default: "/etc/apache2", Topics: []string{"apache"}, Complete: CompleteDir},
		{Flags: []string{"--apache-handle-modules"}, Dest: "apache_handle_modules", Action: Store, Default: true, Topics: []string{"apache"}},
		{Flags: []string{"--apache-handle-sites"}, Dest: "apache_handle_sites", Action: Store, Default: true, Topics: []string{"apache"}},
		{Flags: []string{"--apache-ctl"}, Dest: "apache_ctl", Action: Store, Default: "apache2ctl", Topics: []string{"apache"}, Complete: CompleteCommand},
		{Flags: []string{"--apache-bin"}, Dest: "apache_bin", Action: Store, Topics: []string{"apache"}, Complete: CompleteCommand},
		{Flags: []string{"--dns-cloudflare-propagation-seconds"}, Dest: "dns_cloudflare_propagation_seconds", Action: Store, Type: Int, Default: 10, Topics: []string{"dns-cloudflare"}},
		{Flags: []string{"--dns-cloudflare-credentials"}, Dest: "dns_cloudflare_credentials", Action: Store, Topics: []string{"dns-cloudflare"}, Complete: CompleteFile},
		{Flags: []string{"--dns-digitalocean-propagation-seconds"}, Dest: "dns_digitalocean_propagation_seconds", Action: Store, Type: Int, Default: 10, Topics: []string{"dns-digitalocean"}},
		{Flags: []string{"--dns-digitalocean-credentials"}, Dest: "dns_digitalocean_credentials", Action: Store, Topics: []string{"dns-digitalocean"}, Complete: CompleteFile},
		{Flags: []string{"--dns-dnsimple-propagation-seconds"}, Dest: "dns_dnsimple_propagation_seconds", Action: Store, Type: Int, Default: 30, Topics: []string{"dns-dnsimple"}},
		{Flags: []string{"--dns-dnsimple-credentials"}, Dest: "dns_dnsimple_credentials", Action: Store, Topics: []string{"dns-dnsimple"}, Complete: CompleteFile},
		{Flags: []string{"--dns-dnsmadeeasy-propagation-seconds"}, Dest: "dns_dnsmadeeasy_propagation_seconds", Action: Store, Type: Int, Default: 60, Topics: []string{"dns-dnsmadeeasy"}},
		{Flags: []string{"--dns-dnsmadeeasy-credentials"}, Dest: "dns_dnsmadeeasy_credentials", Action: Store, Topics: []string{"dns-dnsmadeeasy"}, Complete: CompleteFile},
		{Flags: []string{"--dns-gehirn-propagation-seconds"}, Dest: "dns_gehirn_propagation_seconds", Action: Store, Type: Int, Default: 30, Topics: []string{"dns-gehirn"}},
		{Flags: []string{"--dns-gehirn-credentials"}, Dest: "dns_gehirn_credentials", Action: Store, Topics: []string{"dns-gehirn"}, Complete: CompleteFile},
		{Flags: []string{"--dns-google-propagation-seconds"}, Dest: "dns_google_propagation_seconds", Action: Store, Type: Int, Default: 60, Topics: []string{"dns-google"}},
		{Flags: []string{"--dns-google-credentials"}, Dest: "dns_google_credentials", Action: Store, Topics: []string{"dns-google"}, Complete: CompleteFile},
		{Flags: []string{"--dns-google-project"}, Dest: "dns_google_project", Action: Store, Topics: []string{"dns-google"}, Note: "certbot-dns-google 2.4"},
		{Flags: []string{"--dns-linode-propagation-seconds"}, Dest: "dns_linode_propagation_seconds", Action: Store, Type: Int, Default: 120, Topics: []string{"dns-linode"}},
		{Flags: []string{"--dns-linode-credentials"}, Dest: "dns_linode_credentials", Action: Store, Topics: []string{"dns-linode"}, Complete: CompleteFile},
		{Flags: []string{"--dns-luadns-propagation-seconds"}, Dest: "dns_luadns_propagation_seconds", Action: Store, Type: Int, Default: 30, Topics: []string{"dns-luadns"}},
		{Flags: []string{"--dns-luadns-credentials"}, Dest: "dns_luadns_credentials", Action: Store, Topics: []string{"dns-luadns"}, Complete: CompleteFile},
		{Flags: []string{"--dns-nsone-propagation-seconds"}, Dest: "dns_nsone_propagation_seconds", Action: Store, Type: Int, Default: 30, Topics: []string{"dns-nsone"}},
		{Flags: []string{"--dns-nsone-credentials"}, Dest: "dns_nsone_credentials", Action: Store, Topics: []string{"dns-nsone"}, Complete: CompleteFile},
		{Flags: []string{"--dns-ovh-propagation-seconds"}, Dest: "dns_ovh_propagation_seconds", Action: Store, Type: Int, Default: 120, Topics: []string{"dns-ovh"}},
		{Flags: []string{"--dns-ovh-credentials"}, Dest: "dns_ovh_credentials", Action: Store, Topics: []string{"dns-ovh"}, Complete: CompleteFile},
		{Flags: []string{"--dns-rfc2136-propagation-seconds"}, Dest: "dns_rfc2136_propagation_seconds", Action: Store, Type: Int, Default: 60, Topics: []string{"dns-rfc2136"}},
		{Flags: []string{"--dns-rfc2136-credentials"}, Dest: "dns_rfc2136_credentials", Action: Store, Topics: []string{"dns-rfc2136"}, Complete: CompleteFile},
		{Flags: []string{"--dns-route53-propagation-seconds"}, Dest: "dns_route53_propagation_seconds", Action: Store, Type: Int, Default: 10, Topics: []string{"dns-route53"}},
		{Flags: []string{"--dns-sakuracloud-propagation-seconds"}, Dest: "dns_sakuracloud_propagation_seconds", Action: Store, Type: Int, Default: 90, Topics: []string{"dns-sakuracloud"}},
		{Flags: []string{"--dns-sakuracloud-credentials"}, Dest: "dns_sakuracloud_credentials", Action: Store, Topics: []string{"dns-sakuracloud"}, Complete: CompleteFile},
		{Flags: []string{"--manual-auth-hook"}, Dest: "manual_auth_hook", Action: Store, Topics: []string{"manual"}, Complete: CompleteCommand},
		{Flags: []string{"--manual-cleanup-hook"}, Dest: "manual_cleanup_hook", Action: Store, Topics: []string{"manual"}, Complete: CompleteCommand},
		{Flags: []string{"--manual-public-ip-logging-ok"}, Dest: "manual_public_ip_logging_ok", Action: Deprecated, Hidden: true, Topics: []string{"manual"}, Note: "removed from certbot 5.x; accepted and ignored so that old scripts keep working"},
		{Flags: []string{"--nginx-server-root"}, Dest: "nginx_server_root", Action: Store, Default: "/etc/nginx", Topics: []string{"nginx"}, Complete: CompleteDir},
		{Flags: []string{"--nginx-ctl"}, Dest: "nginx_ctl", Action: Store, Default: "nginx", Topics: []string{"nginx"}, Complete: CompleteCommand},
		{Flags: []string{"--nginx-sleep-seconds"}, Dest: "nginx_sleep_seconds", Action: Store, Type: Int, Default: 1, Topics: []string{"nginx"}},
		{Flags: []string{"--webroot-path", "-w"}, Dest: "webroot_path", Action: WebrootPath, Default: []string{}, Topics: []string{"webroot"}, Complete: CompleteDir},
		{Flags: []string{"--webroot-map"}, Dest: "webroot_map", Action: WebrootMap, Default: map[string]string{}, Topics: []string{"webroot"}},
	}
}
