package manager

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/acmectl/acmectl/storage"
)

// lineageConfig merges a lineage's saved renewal parameters (every Keep
// parameter of the table) under the ones given on the command line or in
// cli.ini, which win. A saved value acmectl cannot honour is an error naming
// the conf file, never a silent fallback.
func lineageConfig(base *Config, l *storage.Lineage) (*Config, error) {
	c := base.clone()
	c.Domains, c.IPs = SplitNames(CertNames(l.Cert))
	conf := l.Conf
	if conf == nil {
		conf = &storage.RenewalConf{}
	}
	if !c.setByUser(authenticatorFlags...) {
		if err := savedAuthenticator(c, conf, l); err != nil {
			return nil, err
		}
	}
	for _, p := range Params {
		if !p.Keep || p.Field == nil || p.Name == "authenticator" || p.overridden(c) {
			continue
		}
		if err := applySaved(c, p, conf, l.ConfPath); err != nil {
			return nil, err
		}
	}
	keepKeyParams(c, conf, l)
	if base.NoReuseKey {
		c.ReuseKey = false
	}
	if PersistOnly(c) && conf.Params.Authenticator == "" && !c.setByUser(authenticatorFlags...) {
		// dns-persist-01 alone needs no authenticator: none is assumed (certbot's
		// default, standalone, would be written into the conf).
		c.Authenticator = ""
	}
	if err := checkSavedKey(c, l); err != nil {
		return nil, err
	}
	completeWebrootMap(c)
	return c, nil
}

// keepKeyParams fills what the conf does not say about the key from the
// lineage's current key: an older conf has no key_type, and certbot omits
// rsa_key_size and elliptic_curve when they were its defaults, so a 4096-bit
// key renewed from such a conf stays 4096 bits (and a P-384 key P-384).
func keepKeyParams(c *Config, conf *storage.RenewalConf, l *storage.Lineage) {
	typ, bits, curve := keyParams(l.Key)
	if typ == "" {
		return
	}
	if !c.setByUser("key-type") && conf.Params.KeyType == "" {
		c.KeyType = typ
	}
	if c.KeyType != typ {
		return
	}
	if typ == "rsa" && !c.setByUser("rsa-key-size") && conf.Params.RSAKeySize == 0 {
		c.RSAKeySize = bits
	}
	if typ == "ecdsa" && !c.setByUser("elliptic-curve") && conf.Params.EllipticCurve == "" && curve != "" {
		c.Curve = curve
	}
}

// savedAuthenticator applies the conf's authenticator and, for webroot, its
// webroot_map and webroot_path.
func savedAuthenticator(c *Config, conf *storage.RenewalConf, l *storage.Lineage) error {
	p := conf.Params
	switch a := p.Authenticator; {
	case a == "":
		c.Authenticator = "standalone"
	case validAuthenticator(a):
		c.Authenticator = a
	default:
		return fmt.Errorf("%s: authenticator %q is a certbot plugin acmectl does not have; run 'acmectl reconfigure --cert-name %s --webroot -w PATH' (or --standalone)", l.ConfPath, a, l.Name)
	}
	if c.Authenticator != "webroot" || c.setByUser("webroot-path", "webroot-map") {
		return nil
	}
	c.WebrootMap = map[string]string{}
	for _, kv := range p.WebrootMap {
		c.WebrootMap[kv.Key] = kv.Value
	}
	if len(p.WebrootPath) > 0 {
		last := p.WebrootPath[len(p.WebrootPath)-1]
		for _, d := range c.Domains {
			if _, ok := c.WebrootMap[d]; !ok {
				c.WebrootMap[d] = last
			}
		}
	}
	return nil
}

// applySaved sets p's field from the conf: strings as saved (an absent key
// is empty, except for server and elliptic_curve, which keep the run's);
// ints and lists only when saved; bools always.
func applySaved(c *Config, p *Param, conf *storage.RenewalConf, confPath string) error {
	key := p.confKey(c)
	v, ok := conf.ParamValue(key)
	switch f := p.saved(c).(type) {
	case *string:
		if ok || (key != "server" && key != "elliptic_curve" && key != "key_type") {
			*f = strings.Join(v.Items, ",")
		}
	case *bool:
		*f = ok && v.String() == "True"
	case *int:
		if ok && v.String() != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v.String()))
			if err != nil {
				return fmt.Errorf("%s: %s = %q: want a whole number", confPath, key, v.String())
			}
			*f = n
		}
	case *[]string:
		if ok && len(v.Items) > 0 {
			*f = v.Items
		}
	}
	return checkSaved(c, p, key, confPath)
}

// checkSaved validates a value read from a conf, naming the file.
func checkSaved(c *Config, p *Param, key, confPath string) error {
	switch p.Name {
	case "server":
		u, err := ResolveServer(c.Server)
		if err != nil {
			return fmt.Errorf("%s: server: %w", confPath, err)
		}
		c.Server = u
	case "preferred-challenges":
		pc, err := parsePrefChalls(strings.Join(c.PrefChalls, ","))
		if err != nil {
			return fmt.Errorf("%s: pref_challs: %w", confPath, err)
		}
		c.PrefChalls = pc
	case "elliptic-curve":
		c.Curve = strings.ToLower(c.Curve)
	case "key-type":
		c.KeyType = strings.ToLower(c.KeyType)
	case "issuance-timeout", "retry-after-max", "chain-drop-issuer":
		if err := p.Check(c); err != nil {
			return fmt.Errorf("%s: %s: %w", confPath, key, err)
		}
	default:
		if p.Check != nil && strings.HasSuffix(p.Name, "-hook") {
			if err := p.Check(c); err != nil {
				return fmt.Errorf("%s: %s: %w", confPath, key, err)
			}
		}
	}
	return nil
}

// checkSavedKey applies the key rules to the merged configuration.
func checkSavedKey(c *Config, l *storage.Lineage) error {
	if c.KeyType != "ecdsa" && c.KeyType != "rsa" {
		return fmt.Errorf("%s: key_type = %q: want ecdsa or rsa (fix it with 'acmectl reconfigure --cert-name %s --key-type ecdsa')", l.ConfPath, c.KeyType, l.Name)
	}
	if c.KeyType == "rsa" && !validRSAKeySize(c.RSAKeySize) {
		return fmt.Errorf("%s: rsa_key_size = %d: want 2048 to 8192", l.ConfPath, c.RSAKeySize)
	}
	if n, ok := normalizeCurve(c.Curve); ok {
		c.Curve = n
	} else if c.Curve != "" && c.KeyType == "ecdsa" {
		return fmt.Errorf("%s: elliptic_curve = %q: want secp256r1, secp384r1 or secp521r1", l.ConfPath, c.Curve)
	}
	return nil
}

// renewalConf builds the lineage's renewal conf from c, every Conf parameter
// of the table, keeping what prev had that c does not decide (unknown keys,
// renew_before_expiry, ARI state, flags the user did not give).
func renewalConf(c *Config, prev *storage.RenewalConf, accountID string) *storage.RenewalConf {
	var rc storage.RenewalConf
	if prev != nil {
		rc = *prev
	}
	dropOldPluginKeys(&rc, c)
	for _, p := range Params {
		if p.Conf == "" || p.Field == nil {
			continue
		}
		if p.SaveIfSet && !c.Set[p.Name] {
			continue
		}
		key := p.confKey(c)
		if p.When != nil && !p.When(c) {
			if p.Clear {
				rc.SetParamValue(key, storage.Value{})
			}
			continue
		}
		rc.SetParamValue(key, fieldValue(p.saved(c)))
	}
	rc.Params.Account = accountID
	if c.Set["no-autorenew"] || c.Set["autorenew"] {
		rc.Params.NoAutoRenew = c.NoAutorenew
	}
	if c.RenewBeforeExpiry != "" {
		rc.RenewBeforeExpiry = c.RenewBeforeExpiry
	}
	rc.Params.WebrootPath, rc.Params.WebrootMap = nil, nil
	if c.Authenticator == "webroot" {
		rc.Params.WebrootPath, rc.Params.WebrootMap = savedWebroots(c.WebrootMap)
	}
	return &rc
}

// dropOldPluginKeys removes the keys of the DNS plugin a lineage used before
// its authenticator changed (dns_<plugin>_credentials, ..._propagation_seconds):
// certbot rewrites [renewalparams] from the run's options, so an old plugin's
// keys do not survive a switch there either.
func dropOldPluginKeys(rc *storage.RenewalConf, c *Config) {
	old := rc.Params.Authenticator
	if old == c.Authenticator || !strings.HasPrefix(old, "dns-") {
		return
	}
	plugin := strings.ReplaceAll(strings.TrimPrefix(old, "dns-"), "-", "_")
	for _, k := range []string{"credentials", "propagation_seconds"} {
		rc.SetParamValue("dns_"+plugin+"_"+k, storage.Value{})
	}
}

// fieldValue renders a Config field as a conf value.
func fieldValue(f any) storage.Value {
	switch f := f.(type) {
	case *string:
		if *f == "" {
			return storage.Value{}
		}
		return storage.Scalar(*f)
	case *int:
		if *f == 0 {
			return storage.Value{}
		}
		return storage.Scalar(strconv.Itoa(*f))
	case *bool:
		if *f {
			return storage.Scalar("True")
		}
		return storage.Scalar("False")
	case *[]string:
		if *f == nil {
			return storage.Value{}
		}
		return storage.List(*f...)
	}
	return storage.Value{}
}

// savedWebroots is the webroot map as certbot saves it: domain keys in
// their ASCII (punycode) form, one per domain, and webroot_path the roots in
// first-use order, so certbot renews with the same map.
func savedWebroots(wm map[string]string) (paths []string, m []storage.KV) {
	norm := map[string]string{}
	for d, r := range wm {
		if n, err := NormalizeDomain(d); err == nil {
			d = n
		}
		norm[d] = r
	}
	keys := make([]string, 0, len(norm))
	for k := range norm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, d := range keys {
		r := norm[d]
		m = append(m, storage.KV{Key: d, Value: r})
		if !seen[r] {
			seen[r] = true
			paths = append(paths, r)
		}
	}
	return paths, m
}

// LineageConfig is the configuration a renewal of l would run with: base
// (the command line's) with the lineage's saved parameters merged under it.
// An error names the conf and the value the engine refuses.
func LineageConfig(base *Config, l *storage.Lineage) (*Config, error) { return lineageConfig(base, l) }
