package manager

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/acme"
)

// Config is every parameter of a run after cli.ini merging, validated —
// certbot's NamespaceConfig. LoadConfig builds it from the parameter table
// (params.go); a library user may also fill it by hand (DefaultConfig, then
// set fields). Set names the parameters the user gave (by canonical flag
// name): a renewal lets those override what a lineage saved.
type Config struct {
	Set map[string]bool

	ConfigDir, WorkDir, LogsDir string
	MaxLogBackups               int
	Verbose                     int
	Quiet, NonInteractive       bool
	ForceInteractive            bool
	Debug                       bool
	// PreconfiguredRenewal: a distribution's cli.ini says its timer renews.
	PreconfiguredRenewal bool

	Server    string // resolved directory URL
	Staging   bool
	CABundle  string
	UserAgent string
	// UserAgentComment goes in parentheses after the default User-Agent.
	UserAgentComment string
	// NoVerifySSL skips verifying the ACME server's TLS certificate.
	NoVerifySSL bool
	EAB         *acme.ExternalAccountBinding
	Emails      []string
	NoEmail     bool
	AgreeTOS    bool
	Account     string

	Domains, IPs    []string
	CertName        string
	DryRun          bool
	CSR             string
	CertPath        string
	KeyPath         string
	FullchainPath   string
	ChainPath       string
	Expand, Subset  bool
	Force, Keep     bool
	Duplicate       bool
	RenewNewDomains bool
	PreferredChain  string
	PrefProfile     string
	ReqProfile      string
	IssuanceTimeout time.Duration
	// RetryAfterMax caps one wait between two polls (--retry-after-max).
	RetryAfterMax time.Duration
	// ChainDropIssuer drops that CA's certificates from the saved chain.
	ChainDropIssuer string

	KeyType    string // "ecdsa" or "rsa"
	RSAKeySize int
	Curve      string // secp256r1, secp384r1, secp521r1
	ReuseKey   bool
	NoReuseKey bool
	NewKey     bool
	MustStaple bool

	Authenticator  string            // standalone, webroot, manual, tls-alpn, dns-<provider>, nginx, apache
	WebrootMap     map[string]string // name → webroot
	WebrootPaths   []string
	ManualAuth     string
	ManualCleanup  string
	DNSPropagation int
	DNSCredentials string
	DNSProject     string // dns-google's project
	TLSALPNPort    int
	TLSALPNAddr    string
	PrefChalls     []string // challenge types, most preferred first
	// DNSResolvers are where dns-persist-01 records are read (empty: the
	// names' authoritative servers).
	DNSResolvers []string
	// PersistIssuer, PersistUntil and PersistWildcard shape the records
	// of the dns-persist verb.
	PersistIssuer   string
	PersistUntil    time.Time
	PersistWildcard bool
	HTTP01Port      int
	HTTP01Addr      string

	// Installer is the web server certificates go into: "nginx", "apache",
	// "null" (-i null) or "" (none); selectPlugins settles it with the
	// authenticator (--nginx and --apache set both).
	Installer   string
	HTTPSPort   int
	Nginx       NginxOptions
	Apache      ApacheOptions
	Enhance     EnhanceOptions
	Checkpoints int

	PreHook, PostHook, DeployHook string
	NoDirHooks, RunDeployHooks    bool

	NoRandomSleep     bool
	Parallel          int
	NoAutorenew       bool
	Autorenew         bool
	RenewBeforeExpiry string
	// ScheduleRoot is the root whose renewal schedule certonly reports
	// ("" is the real system).
	ScheduleRoot  string
	JSON          bool
	Reason        int
	DeleteAfter   bool
	NoDeleteAfter bool
	RolloverKey   bool

	// The plugins verb: --init, --prepare, --authenticators/--installers.
	PluginsInit, PluginsPrepare bool
	PluginsIfaces               []string

	// Store is the cluster's store URL (--store, cli.ini "store"): renew and
	// certonly then work on the cluster's lineages; ClusterKeyFile is the
	// cluster key (--cluster-key-file).
	Store          string
	ClusterKeyFile string
	// GenerateKey, Adopt and Watch are cluster join's and cluster sync's
	// options.
	GenerateKey, Adopt, Watch bool

	// ArchiveVersions is how many versions a save leaves in archive/ (the
	// new one included); 0 keeps every version (storage.Version.KeepVersions).
	ArchiveVersions int
	// RenewDeadline bounds a whole renew run (0: none); lineages not
	// finished by then fail and are retried by the next run.
	RenewDeadline time.Duration

	// Raw inputs that other fields are derived from.
	raw struct {
		eabKid, eabKey, eabKeyFile, eabAlg string
		email, prefChalls, webrootMap      string
		persistUntil                       string
		issuanceTimeout, retryAfterMax     int
		reason                             string
		args                               []string
		// selectors are the plugins the selector flags chose, in table order;
		// configurator and dnsProvider are --configurator and --dns.
		selectors                 []string
		configurator, dnsProvider string
		// parsedMap is the webroot map the command-line parser built (parsed:
		// there was one).
		parsedMap     map[string]string
		parsed        bool
		renewDeadline string
	}
}

// Flags is what LoadConfig reads parameters from: the front-end's parsed
// command line (urfave/cli's *cli.Context has these methods) or a FlagMap.
// Names are canonical flag names (Param.Name).
type Flags interface {
	IsSet(name string) bool
	String(name string) string
	StringSlice(name string) []string
	Bool(name string) bool
	Count(name string) int
}

// LoadConfig reads every parameter of the table from f and validates it.
// args is the raw command line, for certbot's -w/-d pairing (nil: none).
// Errors are *UsageError naming the flag.
func LoadConfig(f Flags, args []string) (*Config, error) {
	c := &Config{Set: map[string]bool{}}
	c.raw.args = args
	if wm, ok := f.(interface{ WebrootMap() map[string]string }); ok {
		c.raw.parsedMap, c.raw.parsed = wm.WebrootMap(), true
	}
	for _, p := range Params {
		if f.IsSet(p.Name) {
			c.Set[p.Name] = true
		}
		if err := p.read(c, f); err != nil {
			return nil, err
		}
	}
	if err := selectPlugins(c); err != nil {
		return nil, err
	}
	for i := range Params {
		if err := Params[i].readPlugin(c, f); err != nil {
			return nil, err
		}
	}
	for i := range Params {
		if p := Params[i]; p.Check != nil {
			if err := p.Check(c); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// DefaultConfig is the configuration with no flag given: certbot's defaults.
func DefaultConfig() *Config {
	c, err := LoadConfig(FlagMap{}, nil)
	if err != nil {
		panic("manager: the defaults do not validate: " + err.Error())
	}
	return c
}

// Interactive reports whether prompts are allowed, given whether stdin is a
// terminal.
func (c *Config) Interactive(stdinTTY bool) bool { return !c.NonInteractive && stdinTTY }

// EABAlgorithm is --eab-hmac-alg as given (for an EAB set after loading).
func (c *Config) EABAlgorithm() string { return c.raw.eabAlg }

// setByUser reports whether any of the named parameters was given.
func (c *Config) setByUser(names ...string) bool {
	for _, n := range names {
		if c.Set[n] {
			return true
		}
	}
	return false
}

// clone copies c deeply enough that a lineage's merge does not change it.
func (c *Config) clone() *Config {
	o := *c
	o.WebrootMap = nil
	if c.WebrootMap != nil {
		o.WebrootMap = make(map[string]string, len(c.WebrootMap))
		for k, v := range c.WebrootMap {
			o.WebrootMap[k] = v
		}
	}
	return &o
}

// FlagMap is a Flags of plain values, for library users and tests: a bool
// is "true", a list is comma-separated, a count is a number.
type FlagMap map[string]string

func (m FlagMap) IsSet(name string) bool    { _, ok := m[name]; return ok }
func (m FlagMap) String(name string) string { return m[name] }
func (m FlagMap) Bool(name string) bool {
	b, _ := strconv.ParseBool(m[name])
	return b
}
func (m FlagMap) Count(name string) int {
	if n, err := strconv.Atoi(m[name]); err == nil {
		return n
	}
	if m.Bool(name) {
		return 1
	}
	return 0
}
func (m FlagMap) StringSlice(name string) []string {
	if v, ok := m[name]; ok && v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// errNum is the error of an integer flag that is not one.
func errNum(name, v string) error {
	return Usagef("--%s takes a whole number, not %q", name, v)
}

// atoiFlag reads an integer parameter's text.
func atoiFlag(name, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errNum(name, v)
	}
	return n, nil
}

var _ = fmt.Sprintf
