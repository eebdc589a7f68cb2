package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/internal/secretfile"
)

// Environment variables read by Config.LoadEnv. The password can come from the
// environment or a file, never from the URL (which ends up on command lines and
// in cli.ini).
const (
	EnvUser         = "ACMECTL_ETCD_USER"
	EnvPassword     = "ACMECTL_ETCD_PASSWORD"
	EnvPasswordFile = "ACMECTL_ETCD_PASSWORD_FILE"
	EnvKeyFile      = "ACMECTL_CLUSTER_KEY_FILE"
)

// DefaultPrefix is the key prefix when the store URL has no path.
const DefaultPrefix = "/acmectl"

// Defaults of Config's durations.
const (
	DefaultSessionTTL     = 30 * time.Second
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// Secret holds a credential. Every way of printing it (String, GoString,
// LogValue, %v, %s, %q, %x, %d, JSON) shows "[redacted]"; Reveal returns it.
// The zero value is empty.
type Secret struct{ p *string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{&s} }

// Reveal returns the secret itself; call it only where the credential is used.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

const redacted = "[redacted]"

func (s Secret) String() string                      { return redacted }
func (s Secret) GoString() string                    { return "cluster.Secret(" + redacted + ")" }
func (s Secret) LogValue() slog.Value                { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error)        { return []byte(redacted), nil }
func (s Secret) Format(f fmt.State, verb rune)       { _, _ = f.Write([]byte(redacted)) }
func (s Secret) MarshalJSON() ([]byte, error)        { return []byte(`"` + redacted + `"`), nil }
func (s Secret) AppendText(b []byte) ([]byte, error) { return append(b, redacted...), nil }

// Config says how to reach the cluster's etcd and how to read its shared data.
// ParseURL fills the connection part from a store URL; LoadEnv adds the
// credentials from the environment and files.
type Config struct {
	// Endpoints are host:port of the etcd members.
	Endpoints []string
	// Prefix is the key prefix every key of this cluster lives under
	// ("/acmectl" by default), without a trailing slash.
	Prefix string
	// TLS connects with TLS (etcds://). CAFile verifies the server (system
	// roots when empty); CertFile and KeyFile are the client certificate.
	TLS                       bool
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd (its user/role auth).
	Username string
	Password Secret
	// ClusterKeyFile is the cluster key: the AES-256 key every node holds,
	// which encrypts private keys in etcd (see LoadKey).
	ClusterKeyFile string
	// Node names this machine in the shared records (who renewed, who holds
	// a lineage); os.Hostname when empty.
	Node string
	// SessionTTL is the lease of one run's session (30 s): a node cut off for
	// longer loses its locks.
	SessionTTL time.Duration
	// DialTimeout bounds connecting, RequestTimeout each request.
	DialTimeout, RequestTimeout time.Duration
	// Logger receives Debug/Info records; nil discards.
	Logger *slog.Logger
}

// ParseURL reads a store URL:
//
//	etcd://host:2379[,host:2379…][/prefix][?options]
//	etcds://…   the same over TLS
//
// Options (URL query): ca=FILE (CA bundle for the server's certificate),
// cert=FILE and key=FILE (client certificate), user=NAME (also as userinfo:
// etcd://name@host…), password-file=FILE, cluster-key=FILE (the cluster key),
// node=NAME, lease=DURATION (the session's lease, 30s by default: how long
// a node that vanished keeps its lineages locked; 3s to 10m). A password in
// the URL is refused: it would show on command lines and in cli.ini; give it
// in a file or the environment (LoadEnv).
func ParseURL(raw string) (*Config, error) {
	c, err := parseStoreURL(raw)
	if err != nil {
		// The cause is kept as text (%s), as ParseURL's errors always were.
		return nil, fmt.Errorf("store URL %s: %s", redactURL(raw), err)
	}
	return c, nil
}

// passwordRefused explains why a password in the store URL is an error.
const passwordRefused = "a password in the URL is refused: put it in a file (password-file=FILE or " + EnvPasswordFile + ") or in " + EnvPassword

// parseStoreURL does ParseURL's work, in the order its checks are made;
// ParseURL names the URL in the error.
func parseStoreURL(raw string) (*Config, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("want etcd://host:2379[,host…]/prefix or etcds://…")
	}
	c := &Config{}
	switch strings.ToLower(scheme) {
	case "etcd":
	case "etcds":
		c.TLS = true
	default:
		return nil, fmt.Errorf("scheme %q: want etcd or etcds", scheme)
	}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	auth, path, _ := strings.Cut(rest, "/")
	hosts, user, err := splitUserinfo(auth)
	if err != nil {
		return nil, err
	}
	c.Username = user
	if c.Endpoints, err = parseEndpoints(hosts); err != nil {
		return nil, err
	}
	if c.Prefix, err = parsePrefix(path); err != nil {
		return nil, err
	}
	if err := c.setOptions(query); err != nil {
		return nil, err
	}
	if err := c.checkTLSFiles(); err != nil {
		return nil, err
	}
	return c, nil
}

// splitUserinfo splits the authority of a store URL into its host list and
// the user name before an @ ("" when none). A password there is refused.
func splitUserinfo(auth string) (hosts, user string, err error) {
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return auth, "", nil
	}
	ui := auth[:at]
	if strings.Contains(ui, ":") {
		return "", "", errors.New(passwordRefused)
	}
	u, err := url.PathUnescape(ui)
	if err != nil {
		return "", "", fmt.Errorf("user name: %w", err)
	}
	return auth[at+1:], u, nil
}

// parseEndpoints reads the comma-separated host[:port] list of a store URL
// into host:port endpoints.
func parseEndpoints(hosts string) ([]string, error) {
	if hosts == "" {
		return nil, errors.New("no host")
	}
	var endpoints []string
	for _, h := range strings.Split(hosts, ",") {
		ep, err := parseEndpoint(strings.TrimSpace(h))
		if err != nil {
			return nil, err
		}
		endpoints = append(endpoints, ep)
	}
	return endpoints, nil
}

// parseEndpoint reads one host[:port] (port 2379 when missing) into
// host:port.
func parseEndpoint(h string) (string, error) {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		if !strings.Contains(err.Error(), "missing port") {
			return "", fmt.Errorf("host %q: %w", h, err)
		}
		host, port = strings.Trim(h, "[]"), "2379"
	}
	if host == "" {
		return "", fmt.Errorf("host %q: empty host name", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("host %q: port %q is not 1-65535", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

// parsePrefix reads the path of a store URL into a key prefix: "/a/b", or
// DefaultPrefix when the path is empty.
func parsePrefix(path string) (string, error) {
	p, err := url.PathUnescape(path)
	if err != nil {
		return "", fmt.Errorf("prefix: %w", err)
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return DefaultPrefix, nil
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("prefix %q: empty, . or .. component", p)
		}
	}
	return "/" + p, nil
}

// setOptions applies the query of a store URL; each option may appear once.
func (c *Config) setOptions(query string) error {
	q, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return fmt.Errorf("option %s given %d times", k, len(vs))
		}
		if err := c.setOption(k, vs[0]); err != nil {
			return err
		}
	}
	return nil
}

// setOption applies one option of a store URL (see ParseURL).
func (c *Config) setOption(k, v string) error {
	switch k {
	case "ca":
		c.CAFile = v
	case "cert":
		c.CertFile = v
	case "key":
		c.KeyFile = v
	case "user":
		if c.Username != "" && c.Username != v {
			return fmt.Errorf("user given twice (%q and %q)", c.Username, v)
		}
		c.Username = v
	case "password":
		return errors.New(passwordRefused)
	case "password-file":
		pw, err := readSecretFile(v, "etcd password file")
		if err != nil {
			return err
		}
		c.Password = pw
	case "cluster-key":
		c.ClusterKeyFile = v
	case "node":
		c.Node = v
	case "lease":
		d, err := parseLease(v)
		if err != nil {
			return fmt.Errorf("lease=%s: %w", v, err)
		}
		c.SessionTTL = d
	default:
		return fmt.Errorf("unknown option %q (known: ca, cert, key, user, password-file, cluster-key, node, lease)", k)
	}
	return nil
}

// checkTLSFiles refuses ca=, cert= and key= without TLS, and a client
// certificate without its key or the other way round.
func (c *Config) checkTLSFiles() error {
	if !c.TLS && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != "") {
		return errors.New("ca=, cert= and key= need TLS: use etcds://")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("cert= and key= go together")
	}
	return nil
}

// parseLease reads lease=: a Go duration ("10s") or whole seconds.
func parseLease(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, errors.New("want a duration such as 10s")
		}
		d = time.Duration(n) * time.Second
	}
	if d < 3*time.Second || d > 10*time.Minute {
		return 0, errors.New("want 3s to 10m")
	}
	return d.Round(time.Second), nil
}

// LoadEnv completes the credentials from the environment (getenv, usually
// os.Getenv): ACMECTL_ETCD_USER when the URL named no user,
// ACMECTL_ETCD_PASSWORD or ACMECTL_ETCD_PASSWORD_FILE when no password-file
// was given, ACMECTL_CLUSTER_KEY_FILE when no cluster-key was given. A
// password without a user is an error.
func (c *Config) LoadEnv(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	if c.Username == "" {
		c.Username = getenv(EnvUser)
	}
	if c.Password.IsZero() {
		pw, file := getenv(EnvPassword), getenv(EnvPasswordFile)
		switch {
		case pw != "" && file != "":
			return fmt.Errorf("both %s and %s are set: keep one", EnvPassword, EnvPasswordFile)
		case pw != "":
			c.Password = NewSecret(pw)
		case file != "":
			s, err := readSecretFile(file, EnvPasswordFile)
			if err != nil {
				return err
			}
			c.Password = s
		}
	}
	if c.ClusterKeyFile == "" {
		c.ClusterKeyFile = getenv(EnvKeyFile)
	}
	if !c.Password.IsZero() && c.Username == "" {
		return fmt.Errorf("an etcd password without a user name: set user= in the store URL or %s", EnvUser)
	}
	return nil
}

// String is the store URL without credentials (for messages and the marker
// in local renewal confs).
func (c *Config) String() string {
	scheme := "etcd"
	if c.TLS {
		scheme = "etcds"
	}
	return scheme + "://" + strings.Join(c.Endpoints, ",") + c.Prefix
}

// readSecretFile reads a credential file: its first line, trailing spaces and
// newline removed. A file others can read is refused.
func readSecretFile(path, what string) (Secret, error) {
	b, err := readPrivateFile(path, what, 64<<10, false)
	if err != nil {
		return Secret{}, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimRight(string(line), " \t\r")
	if s == "" {
		return Secret{}, fmt.Errorf("%s %s is empty", what, path)
	}
	return NewSecret(s), nil
}

// readPrivateFile reads a small file holding a secret through the one
// reader of such files (internal/secretfile: regular file, no access for
// others, bounded). strict also refuses group access: the cluster key
// decrypts every node's keys, so it is the owner's alone (0600 or 0400).
func readPrivateFile(path, what string, limit int64, strict bool) ([]byte, error) {
	b, err := secretfile.Read(path, what, limit)
	if err != nil {
		return nil, err
	}
	if strict {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("%s: %s has mode %04o, group or others may read it; run: chmod 600 %s", what, path, perm, path)
		}
	}
	return b, nil
}

// redactURL drops userinfo and the query from a URL for messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if len(raw) > 40 {
			return raw[:40] + "…"
		}
		return raw
	}
	rest, _, _ = strings.Cut(rest, "?")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if slash := strings.IndexByte(rest, '/'); slash < 0 || at < slash {
			rest = rest[at+1:]
		}
	}
	return scheme + "://" + rest
}
