package manager

import "github.com/acmectl/acmectl/internal/argparse"

// helpText is the prose of --help (certbot's structure, acmectl's words);
// the options and their texts come from the table.
var helpText = argparse.HelpText{
	Usage: map[string]string{
		"":             "PROG [SUBCOMMAND] [options] [-d DOMAIN] [-d DOMAIN] ...",
		"run":          "PROG [run] [options] [-d DOMAIN] [-d DOMAIN] ...",
		"certonly":     "PROG certonly [options] [-d DOMAIN] [-d DOMAIN] ...",
		"renew":        "PROG renew [--cert-name NAME] [options]",
		"certificates": "PROG certificates [--cert-name NAME] [-d DOMAIN] [--json]",
		"delete":       "PROG delete --cert-name NAME",
		"revoke":       "PROG revoke (--cert-path PATH | --cert-name NAME) [--reason REASON]",
		"reconfigure":  "PROG reconfigure --cert-name NAME [options]",
		"register":     "PROG register -m EMAIL --agree-tos [--eab-kid KID --eab-hmac-key-file FILE]",
		"plugins":      "PROG plugins [--init] [--prepare] [--authenticators] [--installers]",
		"install":      "PROG install --cert-name NAME [--nginx | --apache] [--redirect] [--hsts] [--uir] [--staple-ocsp]",
		"enhance":      "PROG enhance [--cert-name NAME] [--nginx | --apache] [--redirect] [--hsts] [--uir] [--staple-ocsp]",
		"rollback":     "PROG rollback [--nginx | --apache] [--checkpoints N]",
		"dns-persist":  "PROG dns-persist records|check [-d DOMAIN] ... [--cert-name NAME] [--server URL] [--account ID] [--json]",
	},
	Overview: `acmectl obtains and renews certificates from any ACME CA (Let's Encrypt, Sectigo,
ZeroSSL, Google, a private CA) into certbot's /etc/letsencrypt tree, with certbot's
command line: flags may come before or after the subcommand, long flags may be
abbreviated, and /etc/letsencrypt/cli.ini is read. The most common SUBCOMMANDS and
flags are:

obtain, install, and renew certificates:
    (default) run   Obtain & install a certificate in your current webserver
    certonly        Obtain or renew a certificate, but do not install it
    renew           Renew all previously obtained certificates that are near expiry
    enhance         Add security enhancements to your existing configuration
   -d DOMAINS       Comma-separated list of domains to obtain a certificate for

  --apache          Use the Apache plugin for authentication & installation
  --nginx           Use the Nginx plugin for authentication & installation
  --standalone      Answer http-01 from a temporary built-in web server
  --webroot -w DIR  Place files in a server's webroot folder for authentication
  --manual          Obtain certificates with --manual-auth-hook scripts
  --dns-cloudflare  (and the other --dns-<plugin>, or --dns PROVIDER) dns-01

   -n               Run non-interactively
  --test-cert       Obtain a test certificate from a staging server
  --dry-run         Test "renew" or "certonly" without saving any certificates to disk

manage certificates:
    certificates    Display information about certificates you have
    revoke          Revoke a certificate (supply --cert-name or --cert-path)
    delete          Delete a certificate (supply --cert-name)
    reconfigure     Update a certificate's renewal configuration (supply --cert-name)

manage your account:
    register        Create an ACME account
    unregister      Deactivate an ACME account
    update_account  Update an ACME account
    show_account    Display account details
  --agree-tos       Agree to the ACME server's Subscriber Agreement
   -m EMAIL         Email address for important account notifications

acmectl's own commands (PROG COMMAND --help):
    schedule        Install, remove or show scheduled renewal (systemd timer or cron)
    doctor          Check that every certificate's next renewal would work
    dns-persist     Print, create once and check the records of dns-persist-01
    scm             Sectigo Certificate Manager: servers, ACME accounts, onboarding
    completion      Print a bash, zsh or fish completion script
`,
	More: `
More detailed help:

  -h, --help [TOPIC]    print this message, or detailed help on a topic;
                        the available TOPICS are:

   all, automation, commands, paths, security, testing, or any of the
   subcommands or plugins (certonly, renew, install, register, nginx,
   apache, standalone, webroot, etc.)
  -h all                print a detailed help page including all topics
  --version             print the version number
`,
	Topics: map[string]string{
		"automation": "Flags for automating execution & other tweaks",
		"security":   "Security parameters & server settings",
		"testing":    "The following flags are meant for testing and integration purposes only.",
		"paths":      "Flags for changing execution paths & servers",
		"manage":     "Various subcommands and flags are available for managing your certificates: certificates, delete, renew, revoke, reconfigure.",
		"run": "Options for obtaining & installing certificates. run (or no subcommand) obtains with the chosen authenticator, then installs with the chosen installer, as certbot --nginx/--apache: the names' server blocks (nginx) or virtual hosts (Apache, a -le-ssl.conf twin) get a TLS listener on --https-port, the certificate from live/NAME/ and certbot's TLS options file; HTTP redirects to HTTPS unless --no-redirect. Every change is checkpointed and tested (nginx -t, apache2ctl configtest) before the reload; a failure is rolled back. The renewal conf saves the installer, so renew reloads the server. With -i null, run is certonly; another authenticator needs an installer (-i nginx, -i apache).\n\n" +
			"Examples: PROG --nginx -d example.com -d www.example.com -m admin@example.com --agree-tos -n;  PROG run --apache -d example.com --hsts --staple-ocsp;  PROG run -a webroot -w /var/www/html -i nginx -d example.com",
		"certonly":        "Options for modifying how a certificate is obtained. certonly obtains a certificate into <config-dir>/live/<name>/ without installing it anywhere.",
		"renew":           "The 'renew' subcommand renews every certificate that is due (or --cert-name), each with the plugins and options it was obtained with (its renewal/<name>.conf). Flags given here override those options; hooks given here are saved.",
		"certificates":    "List certificates managed by acmectl or certbot",
		"delete":          "Options for deleting a certificate",
		"revoke":          "Options for revocation of certificates",
		"register":        "Options for account registration",
		"update_account":  "Options for account modification (acmectl: --rollover-key replaces the account key)",
		"unregister":      "Options for account deactivation.",
		"install":         "Options for modifying how a certificate is deployed. install puts an existing lineage (--cert-name; certbot's or acmectl's) or --cert-path/--key-path files into nginx or Apache, with --redirect by default. Without -i/--nginx/--apache the lineage's saved installer is used; the lineage's renewal conf then names the installer, so renewals reload the server. Example: PROG install --cert-name example.com --nginx",
		"rollback":        "Options for rolling back server configuration changes. rollback undoes the newest --checkpoints (default 1) installer changes and reloads the server; acmectl and certbot share the checkpoints (<work-dir>/backups), so either undoes the other's changes. Example: PROG rollback --nginx --checkpoints 2",
		"plugins":         "Plugin Selection: -a/--authenticator and -i/--installer choose plugins by name; --standalone, --webroot, --manual, --dns-<plugin>, --nginx and --apache are shortcuts. The plugins subcommand lists them.",
		"update_symlinks": "Recreates certificate and key symlinks in <config-dir>/live, if you changed them by hand or edited a renewal configuration file",
		"enhance":         "Helps to harden the TLS configuration by adding security enhancements to already existing configuration: --redirect, --hsts (Strict-Transport-Security), --uir (upgrade-insecure-requests), --staple-ocsp, on the server blocks of --cert-name's names (or -d). Unlike run, no redirect unless asked. Example: PROG enhance --cert-name example.com --redirect --hsts",
		"show_account":    "Options useful for the \"show_account\" subcommand:",
		"reconfigure":     "Change a certificate's renewal options; they are proven with a test issuance against its CA before they are saved.",
		"standalone":      "Spin up a temporary webserver",
		"webroot":         "Place files in webroot directory",
		"manual":          "Authenticate through manual configuration or custom shell scripts: --manual-auth-hook publishes each challenge (CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN), --manual-cleanup-hook removes it.",
		"nginx":           "Nginx Web Server plugin: --nginx (or -a nginx / -i nginx) answers http-01 from the server block that serves the name on port 80 (a temporary location, or a temporary server block), and installs into the server blocks of the certificate's names. It reads nginx.conf under --nginx-server-root and every include.",
		"apache":          "Apache Web Server plugin: --apache (or -a apache / -i apache) answers http-01 from a temporary configuration included for the run, and installs into an SSL twin of each name's virtual host (<site>-le-ssl.conf), enabling mod_ssl and the site as a2enmod/a2ensite do (Debian's /etc/apache2 layout).",
		"null":            "Null Installer",
		"dns-persist": `dns-persist-01 (draft-ietf-acme-dns-persist) proves a name by ONE standing TXT record at _validation-persist.<name> that names the CA and your ACME account. Publish it once; every issuance and renewal with --preferred-challenges dns-persist-01 (and no authenticator) then validates against it, with no DNS change and no DNS credentials on the server. A wildcard (*.example.com) is proven by the record of example.com with policy=wildcard. ` +
			`"acmectl dns-persist records -d example.com -d '*.example.com'" prints the records to create (zone-file lines; --json); with --dns rfc2136 or --dns exec (and --dns-credentials FILE) it also creates them, once, and saves the credentials nowhere. ` +
			`"acmectl dns-persist check -d ..." reads them back from the names' authoritative servers (or --dns-resolver) and says per name whether the CA would accept them: issuer domain name, account URL, policy=wildcard for wildcards, persistUntil (a warning within 30 days); it changes nothing and exits 1 when the CA would refuse one. ` +
			`The account is the one registered at --server (or --account; with --cert-name and no -d, the lineage's names, server and account); --config-dir, -q, --json and cli.ini (and -c FILE) apply as for certbot's subcommands. ` +
			`Anyone holding that account's key can get certificates for every name whose record names the account: keep the key as you kept the DNS credentials.`,
	},
	Commands: [][2]string{
		{"certificates", "List certificates managed by acmectl or certbot"},
		{"certonly", "Obtain or renew a certificate, but do not install it"},
		{"delete", "Clean up all files related to a certificate"},
		{"enhance", "Add security enhancements to your existing configuration"},
		{"install", "Install an arbitrary certificate in a server"},
		{"plugins", "List plugins that are installed and available on your system"},
		{"reconfigure", "Update renewal configuration for a certificate specified by --cert-name"},
		{"register", "Register for account with an ACME server"},
		{"renew", "Renew all certificates (or one specified with --cert-name)"},
		{"revoke", "Revoke a certificate specified with --cert-path or --cert-name"},
		{"rollback", "Roll back server conf changes made during certificate installation"},
		{"run", "Obtain and install a certificate in your current webserver"},
		{"show_account", "Show account details from an ACME server"},
		{"unregister", "Irrevocably deactivate your account"},
		{"update_account", "Update existing account with an ACME server"},
		{"update_symlinks", "Recreate symlinks in your /etc/letsencrypt/live/ directory"},
	},
}
