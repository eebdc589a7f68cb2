package manager

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/storage"
)

// RevocationReasons are certbot's --reason names (RFC 5280 codes).
var RevocationReasons = map[string]int{
	"unspecified": 0, "keycompromise": 1, "affiliationchanged": 3, "superseded": 4, "cessationofoperation": 5,
}

// conflict refuses two flags given together.
func conflict(a, b string, both func(*Config) bool) func(*Config) error {
	return func(c *Config) error {
		if both(c) {
			return Usagef("--%s conflicts with --%s; pass one of them", a, b)
		}
		return nil
	}
}

func checkMaxLogBackups(c *Config) error {
	if c.MaxLogBackups < 0 {
		return Usagef("--max-log-backups must be 0 or more")
	}
	return nil
}

func checkServer(c *Config) error {
	if c.Staging {
		if c.Set["server"] {
			if u, _ := ResolveServer(c.Server); u != StagingServerURL && u != DefaultServerURL {
				return Usagef("--staging conflicts with --server %s; pass one of them", c.Server)
			}
		}
		c.Server = StagingServerURL
		return nil
	}
	u, err := ResolveServer(c.Server)
	if err != nil {
		return err
	}
	c.Server = u
	return nil
}

func checkCABundle(c *Config) error {
	if c.CABundle == "" {
		c.CABundle = os.Getenv(EnvCABundle)
	}
	return nil
}

func checkEAB(c *Config) error {
	eab, err := loadEAB(c.raw.eabKid, c.raw.eabKey, c.raw.eabKeyFile, c.raw.eabAlg)
	c.raw.eabKey = ""
	if err != nil {
		return err
	}
	c.EAB = eab
	return nil
}

// LoadEAB builds an external account binding as the --eab-* flags do (kid,
// HMAC key as base64url, key file, MAC algorithm); nil when none is given.
// Errors are *UsageError naming the flag.
func LoadEAB(kid, key, keyFile, alg string) (*acme.ExternalAccountBinding, error) {
	return loadEAB(kid, key, keyFile, alg)
}

// loadEAB builds the external account binding from --eab-kid and the HMAC
// key from --eab-hmac-key, --eab-hmac-key-file or $ACMECTL_EAB_HMAC_KEY (in
// that order; two sources at once is an error).
func loadEAB(kid, key, keyFile, alg string) (*acme.ExternalAccountBinding, error) {
	key = strings.TrimSpace(key)
	if key != "" && keyFile != "" {
		return nil, Usagef("--eab-hmac-key conflicts with --eab-hmac-key-file; pass one of them")
	}
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, Usagef("--eab-hmac-key-file: %w", err)
		}
		key = strings.TrimSpace(string(b))
		if key == "" {
			return nil, Usagef("--eab-hmac-key-file %s is empty", keyFile)
		}
	}
	if key == "" && kid != "" {
		key = strings.TrimSpace(os.Getenv(EnvEABHMACKey))
	}
	switch {
	case kid == "" && key == "":
		return nil, nil
	case kid == "":
		return nil, Usagef("an EAB HMAC key was given without --eab-kid; pass --eab-kid")
	case key == "":
		return nil, Usagef("--eab-kid was given without an HMAC key; pass --eab-hmac-key, --eab-hmac-key-file or set %s", EnvEABHMACKey)
	}
	b, err := acme.DecodeHMACKey(key)
	if err != nil {
		return nil, Usagef("--eab-hmac-key: %w", err)
	}
	alg = strings.ToUpper(strings.TrimSpace(alg))
	switch alg {
	case "", "HS256", "HS384", "HS512":
	default:
		return nil, Usagef("--eab-hmac-alg %q: want HS256, HS384 or HS512", alg)
	}
	if alg == "" {
		alg = "HS256"
	}
	return &acme.ExternalAccountBinding{KeyID: kid, HMACKey: b, Algorithm: alg}, nil
}

func checkEmail(c *Config) error {
	c.Emails = nil
	for _, e := range strings.Split(c.raw.email, ",") {
		if e = strings.TrimSpace(e); e != "" {
			if !strings.Contains(e, "@") || strings.ContainsAny(e, " \t<>") {
				return Usagef("--email %q is not an e-mail address", e)
			}
			c.Emails = append(c.Emails, e)
		}
	}
	return nil
}

func checkDomains(c *Config) (err error) {
	c.Domains, err = NormalizeDomains(c.Domains)
	return err
}

func checkIPs(c *Config) (err error) {
	c.IPs, err = NormalizeIPs(c.IPs)
	return err
}

// checkCertName refuses a --cert-name that cannot be a lineage name, with
// storage's reason (one rule for the flag and the tree); every refusal is a
// usage error (exit 2), as argparse's for certbot --cert-name -x.
func checkCertName(c *Config) error {
	if n := c.CertName; n != "" {
		if err := storage.ValidLineageName(n); err != nil {
			return Usagef("--cert-name: %w", err)
		}
	}
	return nil
}

func checkArchiveVersions(c *Config) error {
	if c.ArchiveVersions < 0 {
		return Usagef("--archive-versions must be 0 (keep every version) or more, not %d", c.ArchiveVersions)
	}
	return nil
}

// checkRenewDeadline reads --renew-deadline: whole seconds, or a Go
// duration (90m, 4h, 1h30m); 0 turns the deadline off.
func checkRenewDeadline(c *Config) error {
	v := strings.TrimSpace(c.raw.renewDeadline)
	if v == "" {
		c.RenewDeadline = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return Usagef("--renew-deadline %q: want seconds or a duration such as 90m or 4h (0: no deadline)", v)
	}
	c.RenewDeadline = d
	return nil
}

// checkForceKeep: --force-renewal implies --expand and wins over
// --keep-until-expiring (certbot's _handle_identical_cert_request tests
// renew_by_default first).
func checkForceKeep(c *Config) error {
	if c.Force {
		c.Expand, c.Keep = true, false
	}
	return nil
}

// checkForceInteractive is certbot's post-parse check (cli/helpful.py
// parse_args).
func checkForceInteractive(c *Config) error {
	if c.ForceInteractive && c.NonInteractive {
		//lint:ignore ST1005 certbot's text
		return errors.New("Flag for non-interactive mode and --force-interactive conflict")
	}
	return nil
}

// Defaults of --issuance-timeout (certbot's) and --retry-after-max.
const (
	defaultIssuanceTimeout = 90
	defaultRetryAfterMax   = 60
)

func checkIssuanceTimeout(c *Config) error {
	if c.raw.issuanceTimeout <= 0 {
		return Usagef("--issuance-timeout must be positive")
	}
	c.IssuanceTimeout = time.Duration(c.raw.issuanceTimeout) * time.Second
	return nil
}

func checkRetryAfterMax(c *Config) error {
	if c.raw.retryAfterMax <= 0 || c.raw.retryAfterMax > 3600 {
		return Usagef("--retry-after-max %d: want 1 to 3600 seconds", c.raw.retryAfterMax)
	}
	c.RetryAfterMax = time.Duration(c.raw.retryAfterMax) * time.Second
	return nil
}

// checkChainDropIssuer: a common name, one line the renewal conf can hold.
func checkChainDropIssuer(c *Config) error {
	c.ChainDropIssuer = strings.TrimSpace(c.ChainDropIssuer)
	if strings.ContainsFunc(c.ChainDropIssuer, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Usagef("--chain-drop-issuer %q: a common name may not contain control characters", c.ChainDropIssuer)
	}
	return nil
}

func checkKeyType(c *Config) error {
	c.KeyType = strings.ToLower(c.KeyType)
	if c.KeyType != "ecdsa" && c.KeyType != "rsa" {
		return Usagef("--key-type %q: want ecdsa or rsa", c.KeyType)
	}
	return nil
}

// validRSAKeySize is the one rule for RSA sizes (flags, confs, doctor).
func validRSAKeySize(n int) bool { return n >= 2048 && n <= 8192 && n%8 == 0 }

func checkRSAKeySize(c *Config) error {
	if !validRSAKeySize(c.RSAKeySize) {
		return Usagef("--rsa-key-size %d: want 2048 to 8192, a multiple of 8", c.RSAKeySize)
	}
	return nil
}

// normalizeCurve maps the curve names certbot and OpenSSL use to certbot's.
func normalizeCurve(s string) (string, bool) {
	switch s = strings.ToLower(s); s {
	case "secp256r1", "secp384r1", "secp521r1":
		return s, true
	case "p-256", "prime256v1":
		return "secp256r1", true
	case "p-384":
		return "secp384r1", true
	case "p-521":
		return "secp521r1", true
	}
	return s, false
}

func checkCurve(c *Config) error {
	n, ok := normalizeCurve(c.Curve)
	if !ok {
		return Usagef("--elliptic-curve %q: want secp256r1, secp384r1 or secp521r1", n)
	}
	c.Curve = n
	if c.KeyType == "rsa" && c.Set["elliptic-curve"] {
		return Usagef("--elliptic-curve conflicts with --key-type rsa")
	}
	return nil
}

// validAuthenticator reports whether acmectl has the authenticator a.
func validAuthenticator(a string) bool {
	switch {
	case a == "standalone", a == "webroot", a == "manual", a == "tls-alpn", isWeb(a):
		return true
	case strings.HasPrefix(a, "dns-") && len(a) > 4:
		return true
	}
	return false
}

// checkWebroot infers --webroot from -w/--webroot-map and builds the name →
// root map from -w/-d in command-line order (certbot's pairing).
func checkWebroot(c *Config) error {
	if c.Authenticator == "" && (len(c.WebrootPaths) > 0 || c.raw.webrootMap != "") {
		c.Authenticator = "webroot"
	}
	if c.Authenticator != "webroot" {
		return nil
	}
	m, err := webrootMap(c)
	if err != nil {
		return &UsageError{err}
	}
	c.WebrootMap = map[string]string{}
	// --webroot-map implies -d (or --ip-address, certbot 5.4) for its names.
	for d, root := range m {
		if ip, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil && ip.Zone() == "" {
			n := ip.Unmap().String()
			c.WebrootMap[n] = root
			if !contains(c.IPs, n) {
				c.IPs = append(c.IPs, n)
			}
			continue
		}
		n, err := NormalizeDomain(d)
		if err != nil {
			return Usagef("--webroot-map: %w", err)
		}
		c.WebrootMap[d] = root
		if !contains(c.Domains, n) {
			c.Domains = append(c.Domains, n)
		}
	}
	return nil
}

// webrootMap is the name → webroot map: the command-line parser's (certbot's
// -w/-d pairing and --webroot-map) with the names no -w preceded mapped to
// the last -w, as the webroot plugin's _set_webroots does; without a parse
// (FlagMap), from the raw arguments.
func webrootMap(c *Config) (map[string]string, error) {
	if !c.raw.parsed {
		return webrootMapFromArgs(c.raw.args, c.raw.webrootMap, c.WebrootPaths, c.Domains)
	}
	m := make(map[string]string, len(c.Domains))
	for d, r := range c.raw.parsedMap {
		m[d] = r
	}
	if n := len(c.WebrootPaths); n > 0 {
		for _, d := range append(slices.Clone(c.Domains), c.IPs...) {
			if _, ok := m[d]; !ok {
				m[d] = c.WebrootPaths[n-1]
			}
		}
	}
	return m, nil
}

// completeWebrootMap gives every name of the request that has no webroot
// the last -w given (certbot's webroot plugin, _set_webroots: "Using the
// webroot path ... for all unmatched domains"), so that "--cert-name a.com
// --webroot -w /var/www/a" covers the lineage's names without -d, and the
// renewal conf's [[webroot_map]] lists every name as certbot writes it.
func completeWebrootMap(c *Config) {
	if c.Authenticator != "webroot" || len(c.WebrootPaths) == 0 {
		return
	}
	last := c.WebrootPaths[len(c.WebrootPaths)-1]
	if c.WebrootMap == nil {
		c.WebrootMap = map[string]string{}
	}
	for _, n := range append(append([]string(nil), c.Domains...), c.IPs...) {
		if _, ok := c.WebrootMap[n]; !ok {
			c.WebrootMap[n] = last
		}
	}
}

// webrootMapFromArgs applies certbot's -w/-d pairing. The order comes from
// the command line; values that came only from cli.ini (paths, domains, map)
// are treated as if given before the command line's.
func webrootMapFromArgs(rawArgs []string, mapJSON string, paths, domains []string) (map[string]string, error) {
	var (
		a   *http01.WebrootArgs
		err error
	)
	if hasArg(rawArgs, "-w", "--webroot-path") {
		if a, err = http01.ScanWebrootArgs(rawArgs); err != nil {
			return nil, err
		}
	} else {
		var synth []string
		for _, p := range paths {
			synth = append(synth, "--webroot-path", p)
		}
		if a, err = http01.ScanWebrootArgs(synth); err != nil {
			return nil, err
		}
	}
	for _, d := range domains {
		a.AddDomains(d)
	}
	if mapJSON != "" {
		if err := a.AddMap(mapJSON); err != nil {
			return nil, err
		}
	}
	return a.Map()
}

// hasArg reports whether argv holds one of the flags (as "-w X", "-wX",
// "--flag X" or "--flag=X").
func hasArg(argv []string, flags ...string) bool {
	for _, a := range argv {
		if a == "--" {
			return false
		}
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") || (len(f) == 2 && len(a) > 2 && strings.HasPrefix(a, f) && a[1] != '-') {
				return true
			}
		}
	}
	return false
}

// checkHook refuses a hook command the renewal conf could not hold (a
// carriage return or NUL): it would otherwise run, and the certificate be
// obtained, before saving the conf failed.
func checkHook(flag string, get func(*Config) string) func(*Config) error {
	return func(c *Config) error {
		if v := get(c); strings.ContainsAny(v, "\r\x00") {
			return Usagef("--%s %q: a hook command may not contain a carriage return or NUL (the renewal conf cannot hold it)", flag, v)
		}
		return nil
	}
}

func checkPort(flag string, get func(*Config) int) func(*Config) error {
	return func(c *Config) error {
		if p := get(c); p <= 0 || p > 65535 {
			return Usagef("--%s %d is not a port", flag, p)
		}
		return nil
	}
}

func checkPrefChalls(c *Config) (err error) {
	c.PrefChalls, err = parsePrefChalls(c.raw.prefChalls)
	return err
}

// parsePrefChalls reads --preferred-challenges ("http, dns", "dns-01,http-01").
func parsePrefChalls(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "":
			continue
		case "http", "http-01":
			p = acme.ChallengeHTTP01
		case "dns", "dns-01":
			p = acme.ChallengeDNS01
		case "tls-alpn", "tls-alpn-01":
			p = acme.ChallengeTLSALPN01
		case "dns-persist", "dns-persist-01":
			p = acme.ChallengeDNSPersist01
		default:
			return nil, Usagef("--preferred-challenges: unknown challenge %q (want http, dns, tls-alpn or dns-persist-01)", p)
		}
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// PersistPreferred reports whether dns-persist-01 is among the preferred
// challenges.
func PersistPreferred(c *Config) bool { return contains(c.PrefChalls, acme.ChallengeDNSPersist01) }

// PersistOnly reports whether dns-persist-01 is the only preferred
// challenge: no authenticator is used, the standing records prove the names.
func PersistOnly(c *Config) bool {
	return len(c.PrefChalls) == 1 && c.PrefChalls[0] == acme.ChallengeDNSPersist01
}

// checkDNSResolvers accepts host, host:port, [v6]:port; comma lists.
func checkDNSResolvers(c *Config) error {
	var out []string
	for _, r := range c.DNSResolvers {
		for _, x := range strings.Split(r, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				continue
			}
			host := x
			if h, port, err := net.SplitHostPort(x); err == nil {
				if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
					return Usagef("--dns-resolver %q: bad port", x)
				}
				host = h
			}
			if net.ParseIP(strings.Trim(host, "[]")) == nil {
				if _, err := NormalizeDomain(host); err != nil {
					return Usagef("--dns-resolver %q: want an address or host name, with an optional :port", x)
				}
			}
			out = append(out, x)
		}
	}
	c.DNSResolvers = out
	return nil
}

// checkPersistUntil reads --persist-until: a date (end of that day, UTC),
// an RFC 3339 time, or Unix seconds; it must be in the future.
func checkPersistUntil(c *Config) error {
	v := strings.TrimSpace(c.raw.persistUntil)
	if v == "" {
		return nil
	}
	t, err := parsePersistUntil(v)
	if err != nil {
		return Usagef("--persist-until %q: %w", v, err)
	}
	if !t.After(time.Now()) {
		return Usagef("--persist-until %q is in the past: a record with it would never be accepted", v)
	}
	c.PersistUntil = t
	return nil
}

func parsePersistUntil(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.Add(24*time.Hour - time.Second).UTC(), nil
	}
	return time.Time{}, errors.New("want a date (2027-06-30), an RFC 3339 time (2027-06-30T12:00:00Z) or Unix seconds")
}

func checkParallel(c *Config) error {
	if c.Parallel < 1 || c.Parallel > 64 {
		return Usagef("--parallel %d: want 1 to 64", c.Parallel)
	}
	return nil
}

func checkRenewBeforeExpiry(c *Config) error {
	if c.RenewBeforeExpiry != "" {
		if _, err := parseInterval(c.RenewBeforeExpiry); err != nil {
			return Usagef("--renew-before-expiry: %w", err)
		}
	}
	return nil
}

func checkReason(c *Config) error {
	r, ok := RevocationReasons[strings.ToLower(c.raw.reason)]
	if !ok {
		return Usagef("--reason %q: want one of unspecified, keycompromise, affiliationchanged, superseded, cessationofoperation", c.raw.reason)
	}
	c.Reason = r
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
