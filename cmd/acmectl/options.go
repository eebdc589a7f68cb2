package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
)

// options is every flag after cli.ini merging, validated. Which flags the
// user gave (command line or cli.ini) is kept in set: renew lets those
// override a lineage's saved parameters.
type options struct {
	cmd string
	set map[string]bool

	configDir, workDir, logsDir string
	maxLogBackups               int
	verbose                     int
	quiet, nonInteractive       bool

	server          string // resolved directory URL
	caBundle        string
	userAgent       string
	eab             *acme.ExternalAccountBinding
	emails          []string
	noEmail         bool
	agreeTOS        bool
	account         string
	domains, ips    []string
	certName        string
	dryRun          bool
	csr             string
	certPath        string
	keyPath         string
	fullchainPath   string
	chainPath       string
	expand, subset  bool
	force, keep     bool
	duplicate       bool
	renewNewDomains bool
	preferredChain  string
	prefProfile     string
	reqProfile      string
	issuanceTimeout time.Duration

	keyType    string // "ecdsa" or "rsa"
	rsaKeySize int
	curve      string
	reuseKey   bool
	noReuseKey bool
	newKey     bool
	mustStaple bool

	authenticator  string // standalone, webroot, manual, tls-alpn, dns-<provider>
	webrootMap     map[string]string
	webrootPaths   []string
	manualAuth     string
	manualCleanup  string
	dnsPropagation int
	dnsCredentials string
	tlsALPNPort    int
	tlsALPNAddr    string
	prefChalls     []string
	http01Port     int
	http01Addr     string

	preHook, postHook, deployHook string
	noDirHooks, runDeployHooks    bool

	noRandomSleep     bool
	parallel          int
	noAutorenew       bool
	renewBeforeExpiry string
	json              bool
	reason            int
	deleteAfter       bool
	noDeleteAfter     bool
	rolloverKey       bool
}

// revocationReasons are certbot's --reason names (RFC 5280 codes).
var revocationReasons = map[string]int{
	"unspecified": 0, "keycompromise": 1, "affiliationchanged": 3, "superseded": 4, "cessationofoperation": 5,
}

// loadOptions reads the flags of c (config already applied) and validates
// them. rawArgs is the command line, for the order of -w and -d.
func loadOptions(c *cli.Context, cmd string, rawArgs []string) (*options, error) {
	o := &options{cmd: cmd, set: map[string]bool{}}
	for _, s := range flagTable {
		if c.IsSet(s.name) {
			o.set[s.name] = true
		}
	}
	str := func(name string) string {
		if v := strings.TrimSpace(c.String(name)); v != "" {
			return v
		}
		return specByName[name].value
	}
	var errs []error
	num := func(name string) int {
		v := str(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, usageErrorf("--%s takes a whole number, not %q", name, v))
		}
		return n
	}
	absPath := func(name string) string {
		p := str(name)
		if p == "" {
			return ""
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}

	o.configDir, o.workDir, o.logsDir = absPath(flgConfigDir), absPath(flgWorkDir), absPath(flgLogsDir)
	o.maxLogBackups = num(flgMaxLogBackups)
	if o.maxLogBackups < 0 {
		errs = append(errs, usageErrorf("--max-log-backups must be 0 or more"))
	}
	o.verbose = c.Count(flgVerbose)
	o.quiet = c.Bool(flgQuiet)
	o.nonInteractive = c.Bool(flgNonInteractive) || o.quiet

	if c.Bool(flgStaging) {
		if o.set[flgServer] {
			if u, _ := resolveServer(str(flgServer)); u != stagingServerURL && u != defaultServerURL {
				return nil, usageErrorf("--staging conflicts with --server %s; pass one of them", str(flgServer))
			}
		}
		o.server = stagingServerURL
	} else {
		u, err := resolveServer(str(flgServer))
		if err != nil {
			return nil, err
		}
		o.server = u
	}
	o.caBundle = str(flgCABundle)
	if o.caBundle == "" {
		o.caBundle = os.Getenv(envCABundle)
	}
	o.userAgent = str(flgUserAgent)
	if o.userAgent == "" {
		o.userAgent = defaultUserAgent()
	}

	eab, err := loadEAB(str(flgEABKid), c.String(flgEABHMACKey), str(flgEABKeyFile), str(flgEABAlg))
	if err != nil {
		return nil, err
	}
	o.eab = eab

	for _, e := range strings.Split(str(flgEmail), ",") {
		if e = strings.TrimSpace(e); e != "" {
			if !strings.Contains(e, "@") || strings.ContainsAny(e, " \t<>") {
				return nil, usageErrorf("--email %q is not an e-mail address", e)
			}
			o.emails = append(o.emails, e)
		}
	}
	o.noEmail = c.Bool(flgNoEmail)
	if o.noEmail && len(o.emails) > 0 {
		return nil, usageErrorf("--register-unsafely-without-email conflicts with --email; pass one of them")
	}
	o.agreeTOS = c.Bool(flgAgreeTOS)
	o.account = str(flgAccount)

	doms := c.StringSlice(flgDomains)
	if o.domains, err = normalizeDomains(doms); err != nil {
		return nil, err
	}
	if o.ips, err = normalizeIPs(c.StringSlice(flgIPAddress)); err != nil {
		return nil, err
	}
	o.certName = str(flgCertName)
	if o.certName != "" && (strings.ContainsAny(o.certName, "/\\\x00") || strings.HasPrefix(o.certName, ".")) {
		return nil, usageErrorf("--cert-name %q: a name may not contain '/', NUL or start with '.'", o.certName)
	}
	o.dryRun = c.Bool(flgDryRun)
	o.csr = str(flgCSR)
	o.certPath, o.keyPath, o.fullchainPath, o.chainPath = str(flgCertPath), str(flgKeyPath), str(flgFullchain), str(flgChainPath)
	o.expand, o.subset = c.Bool(flgExpand), c.Bool(flgSubset)
	o.force, o.keep = c.Bool(flgForce), c.Bool(flgKeep)
	if o.force && o.keep {
		return nil, usageErrorf("--force-renewal conflicts with --keep-until-expiring; pass one of them")
	}
	if o.force {
		o.expand = true
	}
	o.duplicate, o.renewNewDomains = c.Bool(flgDuplicate), c.Bool(flgNewDomains)
	o.preferredChain, o.prefProfile, o.reqProfile = str(flgPrefChain), str(flgPrefProfile), str(flgReqProfile)
	if o.prefProfile != "" && o.reqProfile != "" {
		return nil, usageErrorf("--preferred-profile conflicts with --required-profile; pass one of them")
	}
	if t := num(flgIssTimeout); t > 0 {
		o.issuanceTimeout = time.Duration(t) * time.Second
	} else {
		errs = append(errs, usageErrorf("--issuance-timeout must be positive"))
	}

	o.keyType = strings.ToLower(str(flgKeyType))
	if o.keyType != "ecdsa" && o.keyType != "rsa" {
		return nil, usageErrorf("--key-type %q: want ecdsa or rsa", o.keyType)
	}
	o.rsaKeySize = num(flgRSAKeySize)
	if o.rsaKeySize < 2048 || o.rsaKeySize > 8192 || o.rsaKeySize%8 != 0 {
		errs = append(errs, usageErrorf("--rsa-key-size %d: want 2048, 3072 or 4096", o.rsaKeySize))
	}
	o.curve = strings.ToLower(str(flgCurve))
	switch o.curve {
	case "secp256r1", "secp384r1", "secp521r1":
	case "p-256", "prime256v1":
		o.curve = "secp256r1"
	case "p-384":
		o.curve = "secp384r1"
	case "p-521":
		o.curve = "secp521r1"
	default:
		return nil, usageErrorf("--elliptic-curve %q: want secp256r1, secp384r1 or secp521r1", o.curve)
	}
	if o.keyType == "rsa" && o.set[flgCurve] {
		return nil, usageErrorf("--elliptic-curve conflicts with --key-type rsa")
	}
	o.reuseKey, o.noReuseKey, o.newKey = c.Bool(flgReuseKey), c.Bool(flgNoReuseKey), c.Bool(flgNewKey)
	if o.reuseKey && o.noReuseKey {
		return nil, usageErrorf("--reuse-key conflicts with --no-reuse-key; pass one of them")
	}
	o.mustStaple = c.Bool(flgMustStaple)

	if err := o.loadAuthenticator(c, str, rawArgs); err != nil {
		return nil, err
	}
	o.manualAuth, o.manualCleanup = str(flgManualAuth), str(flgManualCleanup)
	o.dnsPropagation = num(flgDNSPropagation)
	o.dnsCredentials = str(flgDNSCredentials)
	o.tlsALPNPort, o.tlsALPNAddr = num(flgTLSALPNPort), str(flgTLSALPNAddr)
	if o.prefChalls, err = parsePrefChalls(str(flgPrefChalls)); err != nil {
		return nil, err
	}
	o.http01Port, o.http01Addr = num(flgHTTP01Port), str(flgHTTP01Addr)
	if o.http01Port <= 0 || o.http01Port > 65535 {
		errs = append(errs, usageErrorf("--http-01-port %d is not a port", o.http01Port))
	}

	o.preHook, o.postHook, o.deployHook = str(flgPreHook), str(flgPostHook), str(flgDeployHook)
	o.noDirHooks, o.runDeployHooks = c.Bool(flgNoDirHooks), c.Bool(flgRunDeployHooks)
	o.noRandomSleep = c.Bool(flgNoRandomSleep)
	o.parallel = num(flgParallel)
	if o.parallel < 1 || o.parallel > 64 {
		errs = append(errs, usageErrorf("--parallel %d: want 1 to 64", o.parallel))
	}
	o.noAutorenew = c.Bool(flgNoAutorenew)
	if o.noAutorenew && c.Bool(flgAutorenew) {
		return nil, usageErrorf("--autorenew conflicts with --no-autorenew")
	}
	o.renewBeforeExpiry = str(flgRenewBeforeExp)
	if o.renewBeforeExpiry != "" {
		if _, err := parseInterval(o.renewBeforeExpiry); err != nil {
			return nil, usageErrorf("--renew-before-expiry: %w", err)
		}
	}
	o.json = c.Bool(flgJSON)
	reason, ok := revocationReasons[strings.ToLower(str(flgReason))]
	if !ok {
		return nil, usageErrorf("--reason %q: want one of unspecified, keycompromise, affiliationchanged, superseded, cessationofoperation", str(flgReason))
	}
	o.reason = reason
	o.deleteAfter, o.noDeleteAfter = c.Bool(flgDeleteAfter), c.Bool(flgNoDeleteAfter)
	if o.deleteAfter && o.noDeleteAfter {
		return nil, usageErrorf("--delete-after-revoke conflicts with --no-delete-after-revoke")
	}
	o.rolloverKey = c.Bool(flgRolloverKey)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return o, nil
}

// loadAuthenticator picks the one authenticator and, for webroot, builds the
// name → root map from -w/-d in command-line order and --webroot-map.
func (o *options) loadAuthenticator(c *cli.Context, str func(string) string, rawArgs []string) error {
	var picked []string
	add := func(flag, name string) {
		picked = append(picked, flag)
		o.authenticator = name
	}
	if a := str(flgAuthenticator); a != "" {
		switch a = strings.ToLower(a); {
		case a == "standalone", a == "webroot", a == "manual", a == "tls-alpn":
			add("--authenticator "+a, a)
		case strings.HasPrefix(a, "dns-") && len(a) > 4:
			add("--authenticator "+a, a)
		default:
			return usageErrorf("--authenticator %q: acmectl has standalone, webroot, manual, tls-alpn and dns-<provider>", a)
		}
	}
	if c.Bool(flgStandalone) {
		add("--standalone", "standalone")
	}
	if c.Bool(flgWebroot) {
		add("--webroot", "webroot")
	}
	if c.Bool(flgManual) {
		add("--manual", "manual")
	}
	if c.Bool(flgTLSALPN) {
		add("--tls-alpn", "tls-alpn")
	}
	if p := str(flgDNS); p != "" {
		add("--dns "+p, "dns-"+strings.ToLower(p))
	}
	uniq := map[string]bool{}
	for _, p := range picked {
		uniq[p] = true
	}
	if len(picked) > 1 {
		// "-a webroot --webroot" names one authenticator twice; fine.
		first := o.authenticator
		names := map[string]bool{}
		for _, p := range picked {
			n := strings.TrimPrefix(strings.TrimPrefix(p, "--authenticator "), "--")
			if strings.HasPrefix(n, "dns ") {
				n = "dns-" + strings.TrimPrefix(n, "dns ")
			}
			names[n] = true
		}
		if len(names) > 1 {
			return usageErrorf("too many authenticators (%s); pass only one", strings.Join(picked, ", "))
		}
		o.authenticator = first
	}
	o.webrootPaths = c.StringSlice(flgWebrootPath)
	if o.authenticator == "" && (len(o.webrootPaths) > 0 || str(flgWebrootMap) != "") {
		o.authenticator = "webroot"
	}
	if o.authenticator == "webroot" {
		m, err := webrootMapFromArgs(rawArgs, str(flgWebrootMap), c.StringSlice(flgWebrootPath), c.StringSlice(flgDomains))
		if err != nil {
			return &usageError{err}
		}
		o.webrootMap = m
		// --webroot-map implies -d for its names.
		for d := range m {
			n, err := normalizeDomain(d)
			if err != nil {
				return usageErrorf("--webroot-map: %w", err)
			}
			if !contains(o.domains, n) {
				o.domains = append(o.domains, n)
			}
		}
	}
	return nil
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
		default:
			return nil, usageErrorf("--preferred-challenges: unknown challenge %q (want http, dns or tls-alpn)", p)
		}
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// loadEAB builds the external account binding from --eab-kid and the HMAC
// key from --eab-hmac-key, --eab-hmac-key-file or $ACMECTL_EAB_HMAC_KEY (in
// that order; two sources at once is an error).
func loadEAB(kid, key, keyFile, alg string) (*acme.ExternalAccountBinding, error) {
	key = strings.TrimSpace(key)
	if key != "" && keyFile != "" {
		return nil, usageErrorf("--eab-hmac-key conflicts with --eab-hmac-key-file; pass one of them")
	}
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, usageErrorf("--eab-hmac-key-file: %w", err)
		}
		key = strings.TrimSpace(string(b))
		if key == "" {
			return nil, usageErrorf("--eab-hmac-key-file %s is empty", keyFile)
		}
	}
	if key == "" && kid != "" {
		key = strings.TrimSpace(os.Getenv(envEABHMACKey))
	}
	switch {
	case kid == "" && key == "":
		return nil, nil
	case kid == "":
		return nil, usageErrorf("an EAB HMAC key was given without --eab-kid; pass --eab-kid")
	case key == "":
		return nil, usageErrorf("--eab-kid was given without an HMAC key; pass --eab-hmac-key, --eab-hmac-key-file or set %s", envEABHMACKey)
	}
	b, err := acme.DecodeHMACKey(key)
	if err != nil {
		return nil, usageErrorf("--eab-hmac-key: %w", err)
	}
	alg = strings.ToUpper(strings.TrimSpace(alg))
	switch alg {
	case "", "HS256", "HS384", "HS512":
	default:
		return nil, usageErrorf("--eab-hmac-alg %q: want HS256, HS384 or HS512", alg)
	}
	if alg == "" {
		alg = "HS256"
	}
	return &acme.ExternalAccountBinding{KeyID: kid, HMACKey: b, Algorithm: alg}, nil
}

func (o *options) interactive(stdinTTY bool) bool { return !o.nonInteractive && stdinTTY }

// errNeedFlag is the -n failure: name the flag to pass.
func errNeedFlag(what, flag string) error {
	return usageErrorf("%s; in non-interactive mode pass %s", what, flag)
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
