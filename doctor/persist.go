package doctor

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/challenge/dnspersist"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

// prefChalls reads pref_challs as the engine does ("dns-persist-01",
// "dns, http-01", ...); an unreadable value gives nil (checkParams reports it).
func prefChalls(conf *storage.RenewalConf) []string {
	v, ok := conf.Param("pref_challs")
	if !ok {
		return nil
	}
	var out []string
	for _, item := range v.Items {
		for _, p := range strings.Split(item, ",") {
			switch p = strings.ToLower(strings.TrimSpace(p)); p {
			case "dns-persist", "dns-persist-01":
				out = append(out, "dns-persist-01")
			case "":
			default:
				out = append(out, p)
			}
		}
	}
	return out
}

// checkUnusedAuthenticator: with dns-persist-01 alone, no authenticator
// runs; DNS credentials the conf still names are no longer needed here.
func (d *Doctor) checkUnusedAuthenticator(l *Lineage, conf *storage.RenewalConf) {
	p := conf.Params
	a := p.Authenticator
	if a == "" {
		l.ok("pref_challs = dns-persist-01: no authenticator is needed")
		return
	}
	l.ok("pref_challs = dns-persist-01: authenticator %s is not used", a)
	if prov, ok := strings.CutPrefix(a, "dns-"); ok {
		key := "dns_" + strings.ReplaceAll(prov, "-", "_") + "_credentials"
		if v, ok := conf.Param(key); ok && v.String() != "" {
			l.add(Warn, fmt.Sprintf("%s %s is no longer used for renewal (pref_challs = dns-persist-01)", key, v.String()),
				"remove the credentials file from this server (they are only needed to change DNS); keep it elsewhere for a switch back to dns-01")
		}
	}
}

// checkPersist reads each name's dns-persist-01 record (from the conf's
// dns_resolver, else the names' authoritative servers) and checks it as the
// CA will for the lineage's account: missing, another account, no
// policy=wildcard for a wildcard, persistUntil passed are FAIL; a
// persistUntil within 30 days is a WARN.
func (d *Doctor) checkPersist(ctx context.Context, l *Lineage, conf *storage.RenewalConf, cert *x509.Certificate, acct *storage.Account, ca caInfo) {
	if len(ca.issuers) == 0 {
		if ca.finding.Level == OK {
			l.add(Fail, "pref_challs has dns-persist-01, but the CA's directory names no issuer domain names (caaIdentities): it may not offer dns-persist-01",
				"acmectl reconfigure --cert-name "+l.Name+" --preferred-challenges http (or dns with --dns PROVIDER)")
		}
		return
	}
	r := &dnspersist.Resolver{}
	if v, ok := conf.Param("dns_resolver"); ok && len(v.Items) > 0 {
		r.Servers, r.Direct = v.Items, true
	}
	exp := dnspersist.Expect{IssuerDomainNames: ca.issuers, AccountURL: acct.URL, At: d.Now()}
	domains, _ := manager.SplitNames(manager.CertNames(cert))
	records := "acmectl dns-persist records --cert-name " + l.Name
	for _, v := range dnspersist.CheckNames(ctx, r, domains, exp) {
		switch {
		case !v.OK():
			fix := v.Fix
			if v.Status != dnspersist.StatusLookupFailed {
				fix += " (all records: " + records + ")"
			}
			l.add(Fail, fmt.Sprintf("dns-persist-01 record of %s: %s (%s)", v.Name, v.Reason, v.Status), fix)
		case v.Warning != "":
			l.add(Warn, fmt.Sprintf("dns-persist-01 record of %s: %s", v.Name, v.Warning), v.Fix)
		default:
			l.ok("dns-persist-01 record of %s names account %s and is accepted (read from %s)", v.Name, acct.ID, v.Source)
		}
	}
}
