package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/storage"
)

// dnsSolver returns the dns-01 solver for a lego provider name ("cloudflare",
// "route53", "rfc2136", "exec", ...), configured from the provider's own
// environment variables or --dns-credentials (certbot's credentials file).
func dnsSolver(ctx context.Context, e *env, o *options, provider string) (acme.Solver, error) {
	s, err := dns01.New(provider, dns01.Options{
		CredentialsFile: o.dnsCredentials,
		PropagationWait: time.Duration(o.dnsPropagation) * time.Second,
		Logger:          e.log,
	})
	if err != nil {
		return nil, &usageError{err}
	}
	return s, nil
}

// dnsParamKeys are the plugin-namespaced renewal conf keys certbot's DNS
// plugins use: dns_<plugin>_credentials, dns_<plugin>_propagation_seconds.
func dnsParamKeys(authenticator string) (cred, prop string) {
	p := strings.ReplaceAll(strings.TrimPrefix(authenticator, "dns-"), "-", "_")
	return "dns_" + p + "_credentials", "dns_" + p + "_propagation_seconds"
}

// saveDNSParams records the DNS plugin options in the conf.
func saveDNSParams(c *storage.RenewalConf, o *options) {
	if !strings.HasPrefix(o.authenticator, "dns-") {
		return
	}
	cred, prop := dnsParamKeys(o.authenticator)
	if o.dnsCredentials != "" {
		abs, err := filepath.Abs(o.dnsCredentials)
		if err != nil {
			abs = o.dnsCredentials
		}
		c.SetParam(cred, storage.Scalar(abs))
	}
	if o.dnsPropagation > 0 {
		c.SetParam(prop, storage.Scalar(strconv.Itoa(o.dnsPropagation)))
	}
}

// loadDNSParams reads them back for renew (the command line wins).
func loadDNSParams(c *storage.RenewalConf, o *options) {
	if c == nil || !strings.HasPrefix(o.authenticator, "dns-") {
		return
	}
	cred, prop := dnsParamKeys(o.authenticator)
	if !o.set[flgDNSCredentials] {
		if v, ok := c.Param(cred); ok && len(v.Items) > 0 {
			o.dnsCredentials = v.Items[0]
		}
	}
	if !o.set[flgDNSPropagation] {
		if v, ok := c.Param(prop); ok && len(v.Items) > 0 {
			if n, err := strconv.Atoi(v.Items[0]); err == nil {
				o.dnsPropagation = n
			}
		}
	}
}
