package manager

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/revocation"
	"github.com/acmectl/acmectl/storage"
)

// Store is where the engine keeps accounts and lineages: certbot's tree
// (storage.Tree, OpenTree) or any other implementation of the interface —
// a shared store for a cluster sits behind the same engine.
type Store = storage.Storage

// Prompter asks the operator. The engine asks only through it, and only
// when Interactive is true; otherwise it fails naming the flag to pass
// (NeedFlag). A nil Prompter is never interactive.
type Prompter interface {
	Interactive() bool
	// Ask shows question and returns the answer, trimmed.
	Ask(question string) (string, error)
	// Confirm asks a yes/no question; def is the answer to an empty line.
	Confirm(question string, def bool) (bool, error)
}

// YesNo is a yes/no question as certbot asks it: each answer has a label
// ("Update certificate" / "Cancel") whose first letter answers it.
type YesNo struct {
	Question string
	Yes, No  string
	// Default is the answer when the engine may not ask (-n, no terminal).
	Default bool
}

// YesNoPrompter is a Prompter that shows certbot's answer labels. The engine
// asks a Prompter without it through Confirm.
type YesNoPrompter interface {
	YesNo(q YesNo) (bool, error)
}

// Manager is the engine: it decides, issues, renews, revokes and deletes
// certificates in a Store, runs hooks, and reports through Observer. It never
// prints and never exits. Set the fields, then call its methods; a Manager
// serves one command run (it caches account clients and directory fetches for
// the run) and is safe for concurrent use.
type Manager struct {
	Config *Config
	Store  Store
	// Log receives the engine's structured log; nil discards.
	Log *slog.Logger
	// Observer receives events; nil drops them.
	Observer Observer
	// Prompter asks questions; nil means non-interactive.
	Prompter Prompter
	// HTTPClient carries every CA request; nil builds one from
	// Config.CABundle (NewHTTPClient).
	HTTPClient *http.Client
	// Installer deploys saved certificates and reloads the server once per
	// run; nil installs nothing. Authenticators adds authenticators by name
	// (an installer's "nginx").
	Installer      Installer
	Authenticators map[string]Authenticator
	// Terminal says an operator runs this at a terminal (certbot:
	// stdin is a TTY): renew then skips its random delay.
	Terminal bool
	// Revocation checks certificates for revocation (listing, renew); nil
	// builds one caching its answers in the work directory.
	Revocation *revocation.Checker
	// Now and Sleep are the clock (tests replace them).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Cluster is the cluster store renew, certonly and register work on
	// (with Store the node's tree, its replica); nil opens the one
	// Config.Store names, if any (cluster.go).
	Cluster *ClusterStore

	// shared is set on the manager that works over a cluster's Storage.
	shared *clusterStorage
	// The http-01 listeners of a cluster run (sharedStandalone).
	respMu     sync.Mutex
	responders map[string]*http01.Standalone

	revOnce sync.Once
	hcOnce  sync.Once
	hcErr   error
	// httpFrom is the manager whose CA client this one uses (a cluster
	// run's manager over the cluster's Storage uses the run's).
	httpFrom *Manager

	ports portLocks
	// web are the run's nginx/Apache installers (webserver.go); installing:
	// Run installs after the issuance itself (no installer step inside it).
	web        webServers
	installing bool

	// One account client per CA and account for the whole run, so a renew
	// run fetches the directory once and keeps the nonces it is given.
	acctMu      sync.Mutex
	acctClients map[string]acctClient
	// One unauthenticated client per CA for ARI, and what paces its requests.
	ariMu      sync.Mutex
	ariClients map[string]*acme.Client
	ariGates   map[string]*caGate
	// The CAs (directory URLs) found unreachable in this run, with the
	// failure (reach.go).
	caMu   sync.Mutex
	caDown map[string]error
}

type acctClient struct {
	cl *acme.Client
	a  *storage.Account
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// interactive reports whether the engine may ask.
func (m *Manager) interactive() bool { return m.Prompter != nil && m.Prompter.Interactive() }

func (m *Manager) ask(q string) (string, error) {
	if !m.interactive() {
		return "", errors.New("cannot ask: not interactive")
	}
	return m.Prompter.Ask(q)
}

func (m *Manager) confirm(q string, def bool) (bool, error) {
	if !m.interactive() {
		return def, nil
	}
	return m.Prompter.Confirm(q, def)
}

// yesNo asks q when the engine may ask, else takes its default.
func (m *Manager) yesNo(q YesNo) (bool, error) {
	if !m.interactive() {
		return q.Default, nil
	}
	if p, ok := m.Prompter.(YesNoPrompter); ok {
		return p.YesNo(q)
	}
	return m.Prompter.Confirm(q.Question, q.Default)
}

// httpClient returns the run's HTTP client.
func (m *Manager) httpClient() (*http.Client, error) {
	m.hcOnce.Do(func() {
		if m.HTTPClient == nil && m.httpFrom != nil {
			m.HTTPClient, m.hcErr = m.httpFrom.httpClient()
			return
		}
		if m.HTTPClient == nil {
			m.HTTPClient, m.hcErr = NewHTTPClient(m.Config.CABundle)
			if m.hcErr == nil && m.Config.NoVerifySSL {
				// certbot's --no-verify-ssl (requests' verify=False): the ACME
				// server's certificate is not checked. This client carries
				// only the CA's requests.
				m.HTTPClient.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
			}
		}
	})
	return m.HTTPClient, m.hcErr
}

// newClient builds an acme.Client for server with the account key (nil for
// directory-only use).
func (m *Manager) newClient(server string, key crypto.Signer, accountURL string) (*acme.Client, error) {
	hc, err := m.httpClient()
	if err != nil {
		return nil, err
	}
	c := m.Config
	return &acme.Client{
		DirectoryURL: server,
		HTTPClient:   hc,
		UserAgent:    c.UserAgent,
		Logger:       m.log(),
		Key:          key,
		AccountURL:   accountURL,
		OrderTimeout: 10*time.Minute + c.IssuanceTimeout,
		// Finalize and the polls after it are bounded by the issuance
		// deadline, not by a per-request timeout: Sectigo can hold finalize
		// open for minutes (esnet/acme-proxy#22).
		IssuanceTimeout: c.IssuanceTimeout,
		MaxPollWait:     c.RetryAfterMax,
		OnWait:          m.onWait,
	}, nil
}

// OpenTree opens the certbot tree at c.ConfigDir, refusing one that exists
// but cannot be read (a clear error instead of a half-done command), and
// creates c.WorkDir.
func OpenTree(c *Config, log *slog.Logger) (*storage.Tree, error) {
	dir := c.ConfigDir
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("config directory %s is not a directory; pass --config-dir", dir)
		}
		if _, err := os.ReadDir(dir); err != nil {
			return nil, fmt.Errorf("config directory %s is not readable (%w); run as root or pass --config-dir", dir, errors.Unwrap(err))
		}
	} else if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("config directory %s is not accessible: permission denied; run as root or pass --config-dir", dir)
	}
	// A version an order in flight needs is never pruned (inflight.go).
	var t *storage.Tree
	keep := func(lineage string, v int) bool { return keepInFlightVersion(t, lineage, v) }
	t, err := storage.Open(dir, &storage.Options{Logger: log, KeepVersion: keep})
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w; run as root or pass --config-dir", err)
		}
		return nil, err
	}
	if err := os.MkdirAll(c.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("create work directory: %w; run as root or pass --work-dir", err)
	}
	makeHookDirs(t.Dir, log)
	return t, nil
}

// makeHookDirs creates renewal-hooks/{pre,deploy,post} (mode 0755) as certbot
// does on every run (main.make_or_verify_needed_dirs, 2.1 and 5.x), so an
// operator finds where directory hooks go. It is best-effort: a user who may
// read the tree but not write it (certificates as non-root) is not stopped.
func makeHookDirs(configDir string, log *slog.Logger) {
	for _, kind := range []string{HookPre, HookDeploy, HookPost} {
		p := filepath.Join(configDir, "renewal-hooks", kind)
		if err := os.MkdirAll(p, 0o755); err != nil && log != nil {
			log.LogAttrs(context.Background(), slog.LevelDebug, "could not create the hook directory", slog.String("path", p), slog.String("error", err.Error()))
		}
	}
}

// HTTP timeouts of the connection. There is no whole-request or
// response-header timeout here: package acme bounds each request with its
// context (45 s, certbot's socket timeout, for ordinary requests) and a
// finalize by the issuance deadline, because Sectigo can hold a finalize open
// for minutes (esnet/acme-proxy#22); a fixed header timeout ended it at 45 s
// while the CA went on to mint a certificate nobody collected.
const (
	dialTimeout         = 30 * time.Second
	tlsHandshakeTimeout = 30 * time.Second
)

// NewHTTPClient builds the client every CA request goes through: timeouts,
// proxies from the environment, and the system roots plus the PEM roots in
// caBundle (--ca-bundle or $REQUESTS_CA_BUNDLE) when set.
func NewHTTPClient(caBundle string) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caBundle)
		}
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: tlsHandshakeTimeout,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 8,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
