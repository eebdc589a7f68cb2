package main

// Help texts with examples (acmectl <command> --help).
const (
	helpApp = `acmectl obtains and renews certificates from any ACME CA (Let's Encrypt, Sectigo,
ZeroSSL, Google, a private CA) into certbot's /etc/letsencrypt tree, with certbot's
flags. Link it as certbot and existing cron lines keep working:

   ln -s /usr/local/bin/acmectl /usr/local/bin/certbot

Flags may come before or after the command. Exit codes: 0 success, 1 error, 2 usage error.
Options may also come from /etc/letsencrypt/cli.ini, $XDG_CONFIG_HOME/letsencrypt/cli.ini
and -c FILE ("key = value", keys are long flag names; the command line wins).`

	helpCertonly = `Obtain a certificate and save it under <config-dir>/live/<name>/ without installing it.

Examples:
   acmectl certonly --standalone -d example.com -d www.example.com -m admin@example.com --agree-tos -n
   acmectl certonly --standalone --non-interactive --agree-tos --email admin@example.com \
       --server https://acme.sectigo.com/v2/OV --eab-kid KID --eab-hmac-key KEY \
       --domain example.com --cert-name example
   acmectl certonly --webroot -w /var/www/a -d a.com -w /var/www/b -d b.net
   ACMECTL_EAB_HMAC_KEY=... acmectl certonly --server sectigo-ov --eab-kid KID -d example.com --standalone
   acmectl certonly --csr req.pem --standalone -d example.com`

	helpRenew = `Renew every certificate that is due (or only --cert-name). Each lineage renews with its
own saved options, CA and account. Due: --force-renewal; the CA's ARI window; renew_before_expiry;
or 2/3 of the lifetime (1/2 under 10 days). When stdin is not a terminal a random delay of
1-480 s precedes the first renewal (--no-random-sleep-on-renew disables it).

Examples:
   acmectl renew -q
   acmectl renew --cert-name example.com --force-renewal
   acmectl renew --dry-run            # against each lineage's own CA; saves nothing
   acmectl renew --parallel 4 --deploy-hook 'systemctl reload nginx'`

	helpCertificates = `List certificates in certbot's format, or as JSON.

Examples:
   acmectl certificates
   acmectl certificates --cert-name example.com
   acmectl certificates -d www.example.com --json`

	helpDelete = `Delete a lineage: live/<name>, archive/<name> and renewal/<name>.conf.

Examples:
   acmectl delete --cert-name example.com
   acmectl delete --cert-name example.com -n`

	helpRevoke = `Revoke a certificate at its CA, then optionally delete its lineage.

Examples:
   acmectl revoke --cert-name example.com --reason keycompromise --delete-after-revoke -n
   acmectl revoke --cert-path /etc/letsencrypt/live/example.com/cert.pem --key-path privkey.pem`

	helpRegister = `Create an ACME account at --server.

Examples:
   acmectl register -m admin@example.com --agree-tos -n
   acmectl register --server sectigo-ov --eab-kid KID --eab-hmac-key-file /root/eab.key -m a@b.c --agree-tos`

	helpUpdateAccount = `Change the account's e-mail address, or replace its key (--rollover-key, ours).

Examples:
   acmectl update_account -m new@example.com
   acmectl update_account --rollover-key --server sectigo-ov`

	helpUnregister = `Deactivate the account at the CA (irreversible) and remove it from disk.

Example:
   acmectl unregister -n --server letsencrypt`

	helpShowAccount = `Show the account's URL, ID, thumbprint and contacts.

Example:
   acmectl show_account --server sectigo-ov`

	helpReconfigure = `Change a lineage's renewal options. The new options are tried with a dry-run issuance
against the lineage's CA first; they are saved only if it succeeds.

Examples:
   acmectl reconfigure --cert-name example.com --webroot -w /var/www/html
   acmectl reconfigure --cert-name example.com --deploy-hook 'systemctl reload nginx'`
)

const helpCluster = `Share certificates among the servers behind one name through etcd (--store etcd://HOST:2379/PREFIX
or store = ... in cli.ini; password from $ACMECTL_ETCD_PASSWORD_FILE or $ACMECTL_ETCD_PASSWORD). One node
renews each lineage, every node installs it. Every node holds the cluster key (--cluster-key-file).

   join     import this node's lineages (the first join creates the cluster; --generate-key makes its key)
   leave    hand this node's cluster lineages back to its own renewal (certbot or acmectl renew)
   status   nodes, shared accounts (thumbprint, nginx snippet for http-01), lineages and what is due
   sync     write the cluster's certificates into this node's tree and run deploy hooks; --watch
            keeps doing so, and with --standalone answers http-01 for every node's orders

Examples:
   acmectl cluster join --store etcd://10.0.0.5:2379/web --generate-key
   acmectl cluster status --store etcd://10.0.0.5:2379/web
   acmectl cluster sync --watch --standalone --http-01-port 8080 --deploy-hook 'systemctl reload nginx'`
