package acme

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrNoAccount: the client has no AccountURL; Register or LookupAccount first.
	ErrNoAccount = errors.New("acme: no account URL (register or look the account up first)")
	// ErrEABRequired: the CA's directory says externalAccountRequired and no EAB was given.
	ErrEABRequired = errors.New("acme: the CA requires external account binding (an EAB key ID and HMAC key)")
	// ErrNoARI: the CA's directory has no renewalInfo endpoint.
	ErrNoARI    = errors.New("acme: the CA does not offer renewal information (ARI)")
	errRedirect = errors.New("acme: the CA sent a redirect, which ACME does not use: refused")
	// ErrUnsupportedKey: the account key is not ECDSA P-256/P-384/P-521 or RSA 2048–8192.
	ErrUnsupportedKey = errors.New("acme: unsupported account key")
)

// Client talks to one ACME CA with one account key. It is safe for concurrent
// use once configured; do not copy it. Exported fields are configuration and must
// not change while requests are in flight (AccountURL is set by Register and
// LookupAccount).
type Client struct {
	// DirectoryURL is the directory itself, used as given (Sectigo answers 403 to
	// ".../directory", so nothing is appended).
	DirectoryURL string
	// HTTPClient carries the caller's trust and proxy settings; nil means the
	// system roots. It is never modified. Leave its Timeout and its
	// transport's ResponseHeaderTimeout zero: this package bounds every
	// request itself (RequestTimeout, and the issuance deadline for finalize,
	// which a CA may hold open for minutes: esnet/acme-proxy#22), and a
	// client-wide timeout would end such a finalize early.
	HTTPClient *http.Client
	// UserAgent is sent on every request ("acmectl/<version>").
	UserAgent string
	// Logger receives debug/info/warn records; nil discards them.
	Logger *slog.Logger
	// Key is the account key: *ecdsa.PrivateKey or *rsa.PrivateKey.
	Key crypto.Signer
	// AccountURL is the account's URL (the JWS kid).
	AccountURL string

	// PollInterval is the first wait between polls of a pending authorization or a
	// processing order; it doubles up to MaxPollInterval. A Retry-After from the
	// CA takes precedence. Zero means 50 ms and 5 s.
	PollInterval, MaxPollInterval time.Duration
	// MaxPollWait caps one wait between two polls, also when the CA's
	// Retry-After asks for more (Sectigo sends 300 s on authorizations). Zero
	// means 60 s. No wait runs past the deadline: the last check is made
	// just before it.
	MaxPollWait time.Duration
	// OrderTimeout bounds a whole Obtain when ctx has no earlier deadline. Zero means 15 min.
	OrderTimeout time.Duration
	// IssuanceTimeout bounds finalization — the finalize request, which the
	// CA may hold open, and the polls until the order is valid — when ctx
	// allows longer (certbot's --issuance-timeout). Zero means 90 s,
	// certbot's default.
	IssuanceTimeout time.Duration
	// ReadyGrace is how long after a finalize request whose answer never
	// came (transport error, time-out) an order still "ready" is polled
	// before it is left in flight (*OrderInFlightError) for a later run:
	// the CA may be working on it and show "ready" meanwhile. Zero means
	// 30 s; the issuance deadline bounds it too.
	ReadyGrace time.Duration
	// RequestTimeout bounds one ordinary HTTP exchange (all but finalize).
	// Zero means 45 s, certbot's socket timeout.
	RequestTimeout time.Duration
	// OnWait, if set, is told of every wait between polls and, every
	// ProgressInterval (zero: 10 s), of a finalize request still held open.
	// It is called from several goroutines at once and must not block.
	OnWait           func(WaitProgress)
	ProgressInterval time.Duration
	// MaxRetryAfter: a Retry-After longer than this on a 5xx or 429 is not slept
	// through; the error is returned with the time instead. Zero means 60 s.
	MaxRetryAfter time.Duration
	// Sleep is the clock seam for tests; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	hc     *http.Client
	dir    *Directory
	nonces []string
	dirMu  sync.Mutex // held while the directory is fetched: one fetch for concurrent first callers
	// dirFails counts directory fetches that found the CA unreachable;
	// dirErr is the last one's error (guarded by mu).
	dirFails uint64
	dirErr   error
}

const (
	maxNonces     = 64
	maxJSONBody   = 1 << 20 // directory, orders, authorizations, accounts
	maxCertBody   = 1 << 20 // a PEM chain
	maxChainCerts = 20
	maxNonceTries = 16 // at 50% rejection (Pebble NONCEREJECT=50) one request fails 1 in 65536
	max5xxTries   = 3
)

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// defaultHTTPClient has no whole-request or response-header timeout: requests
// are bounded by their contexts (requestContext).
var defaultHTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSHandshakeTimeout: 30 * time.Second,
		IdleConnTimeout:     90 * time.Second,
	},
}

// httpClient returns a copy of the caller's client (never modified) whose
// redirect policy refuses to follow a CA elsewhere: ACME uses no redirects, and a
// signed request must not be replayed to another host. Its transport refuses
// plain http off loopback and marks transport failures (transport.go).
func (c *Client) httpClient() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hc == nil {
		base := defaultHTTPClient
		if c.HTTPClient != nil {
			base = c.HTTPClient
		}
		cp := *base
		cp.CheckRedirect = refuseRedirect
		cp.Transport = newGuardTransport(base.Transport)
		c.hc = &cp
	}
	return c.hc
}

// refuseRedirect allows only a GET redirected on the same host (a directory URL
// with or without a trailing slash), a few times at most.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if req.Method == http.MethodGet && req.URL.Host == first.URL.Host && req.URL.Scheme == first.URL.Scheme && len(via) < 3 {
		return nil
	}
	return fmt.Errorf("%w: %s %s to %s", errRedirect, first.Method, first.URL, req.URL)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) maxRetryAfter() time.Duration {
	if c.MaxRetryAfter > 0 {
		return c.MaxRetryAfter
	}
	return 60 * time.Second
}

// Directory is the CA's directory object (§7.1.1).
type Directory struct {
	NewNonceURL    string        `json:"newNonce"`
	NewAccountURL  string        `json:"newAccount"`
	NewOrderURL    string        `json:"newOrder"`
	NewAuthzURL    string        `json:"newAuthz,omitempty"`
	RevokeCertURL  string        `json:"revokeCert"`
	KeyChangeURL   string        `json:"keyChange"`
	RenewalInfoURL string        `json:"renewalInfo,omitempty"`
	Meta           DirectoryMeta `json:"meta"`
}

// DirectoryMeta is the directory's meta object.
type DirectoryMeta struct {
	TermsOfService          string            `json:"termsOfService,omitempty"`
	Website                 string            `json:"website,omitempty"`
	CAAIdentities           []string          `json:"caaIdentities,omitempty"`
	ExternalAccountRequired bool              `json:"externalAccountRequired,omitempty"`
	Profiles                map[string]string `json:"profiles,omitempty"`
	// IssuerDomainNames are the issuer domain names a dns-persist-01 record
	// may name (draft-ietf-acme-dns-persist-02 §3.2); CAs following the
	// earlier drafts (and Pebble) do not send it: see PersistIssuerDomainNames.
	IssuerDomainNames []string `json:"issuerDomainNames,omitempty"`
}

// PersistIssuerDomainNames returns the issuer domain names a dns-persist-01
// record can name before any challenge was seen: the directory's
// issuerDomainNames when it has them, else its caaIdentities (Pebble and
// draft -00/-01 fill the challenge's issuer-domain-names from them). Nil
// when the directory has neither.
func (m DirectoryMeta) PersistIssuerDomainNames() []string {
	if len(m.IssuerDomainNames) > 0 {
		return append([]string(nil), m.IssuerDomainNames...)
	}
	return append([]string(nil), m.CAAIdentities...)
}

// Directory fetches the directory once per client and returns the cached copy
// afterwards. Transport errors and 5xx are retried; the result is checked for the
// URLs the protocol needs. Concurrent first callers share one fetch: when it
// finds the CA unreachable (ErrCAUnreachable, not the fetching caller's own
// cancellation), the callers that waited for it get its error at once; a
// later call fetches again.
func (c *Client) Directory(ctx context.Context) (*Directory, error) {
	c.mu.Lock()
	d := c.dir
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	if c.DirectoryURL == "" {
		return nil, errors.New("acme: no directory URL")
	}
	if err := checkDirectoryURL(c.DirectoryURL); err != nil {
		return nil, err
	}
	c.mu.Lock()
	fails := c.dirFails
	c.mu.Unlock()
	c.dirMu.Lock()
	defer c.dirMu.Unlock()
	c.mu.Lock()
	d, dirErr := c.dir, c.dirErr
	shared := c.dirFails != fails
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	if shared {
		// The fetch this caller waited for found the CA unreachable: the
		// same answer, without another call chain to a dead CA.
		return nil, dirErr
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.get(ctx, c.DirectoryURL, maxJSONBody)
		if err != nil {
			err = fmt.Errorf("fetch directory %s: %w", c.DirectoryURL, err)
			if errors.Is(err, ErrCAUnreachable) && ctx.Err() == nil {
				c.mu.Lock()
				c.dirFails++
				c.dirErr = err
				c.mu.Unlock()
			}
			return nil, err
		}
		d = new(Directory)
		err = json.Unmarshal(resp.body, d)
		if err == nil && (d.NewNonceURL == "" || d.NewAccountURL == "" || d.NewOrderURL == "") {
			err = errors.New("newNonce, newAccount or newOrder missing")
		}
		if err == nil {
			break
		}
		if attempt >= max5xxTries {
			return nil, fmt.Errorf("fetch directory %s: not an ACME directory (check the --server URL): %w", c.DirectoryURL, err)
		}
		if err := c.sleep(ctx, time.Duration(attempt)*250*time.Millisecond); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	if c.dir == nil {
		c.dir = d
	}
	d = c.dir
	c.mu.Unlock()
	return d, nil
}

// response is a fully read HTTP response.
type response struct {
	status   int
	header   http.Header
	body     []byte
	location string
}

// get performs an unauthenticated GET (directory, renewalInfo), retrying transport
// errors and 5xx a bounded number of times.
func (c *Client) get(ctx context.Context, url string, limit int64) (*response, error) {
	var lastErr error
	backoff := 250 * time.Millisecond
	for attempt := 1; attempt <= max5xxTries; attempt++ {
		rctx, cancel := c.requestContext(ctx, false)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return nil, err
		}
		resp, err := c.do(req, limit)
		cancel()
		if err == nil && resp.status < 400 {
			return resp, nil
		}
		if err == nil {
			lastErr = c.problemFrom(resp)
			if resp.status < 500 && resp.status != http.StatusTooManyRequests {
				return nil, lastErr
			}
			if wait, ok := c.retryWait(resp, backoff); ok && attempt < max5xxTries {
				if err := c.sleep(ctx, wait); err != nil {
					return nil, errors.Join(lastErr, err)
				}
				backoff *= 2
				continue
			}
			return nil, lastErr
		}
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
		if attempt < max5xxTries {
			if err := c.sleep(ctx, backoff); err != nil {
				return nil, errors.Join(lastErr, err)
			}
			backoff *= 2
		}
	}
	return nil, lastErr
}

// retryWait decides whether a 5xx/429 response may be retried and after how long.
func (c *Client) retryWait(resp *response, backoff time.Duration) (time.Duration, bool) {
	ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now())
	if !ok {
		return backoff, true
	}
	if ra > c.maxRetryAfter() {
		return 0, false
	}
	return ra, true
}

// do sends req and reads the body through limit; bodies over the limit are an error.
func (c *Client) do(req *http.Request, limit int64) (*response, error) {
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	} else {
		req.Header.Set("User-Agent", "acmectl")
	}
	req.Header.Set("Accept-Language", "en")
	start := time.Now()
	resp, err := c.httpClient().Do(req)
	if err != nil {
		c.logger().LogAttrs(req.Context(), slog.LevelDebug, "acme request failed",
			slog.String("method", req.Method), slog.String("url", req.URL.String()), slog.Any("error", err))
		return nil, classifyTransportError(req, err)
	}
	defer resp.Body.Close()
	c.saveNonce(resp.Header.Get("Replay-Nonce"))
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, classifyTransportError(req, fmt.Errorf("read response from %s: %w", req.URL, err))
	}
	c.logger().LogAttrs(req.Context(), slog.LevelDebug, "acme request",
		slog.String("method", req.Method), slog.String("url", req.URL.String()),
		slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("response from %s is larger than %d bytes: refused", req.URL, limit)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body, location: resp.Header.Get("Location")}, nil
}

// problemFrom turns an error response into a *Problem or *RateLimitError.
func (c *Client) problemFrom(resp *response) error {
	body := resp.body
	if len(body) > maxProblemBody {
		body = body[:maxProblemBody]
	}
	p := parseProblem(resp.status, body)
	if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		p.RetryAfter = ra
	}
	if resp.status == http.StatusTooManyRequests || IsProblem(p, ProblemRateLimited) {
		e := &RateLimitError{Problem: p}
		if ra, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
			e.RetryAt = time.Now().Add(ra)
		}
		return e
	}
	return p
}

func (c *Client) saveNonce(n string) {
	if n == "" || len(n) > 256 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nonces) >= maxNonces {
		c.nonces = c.nonces[1:]
	}
	c.nonces = append(c.nonces, n)
}

// nonce returns a pooled nonce, or fetches one with HEAD newNonce when the pool is empty.
func (c *Client) nonce(ctx context.Context) (string, error) {
	c.mu.Lock()
	if n := len(c.nonces); n > 0 {
		v := c.nonces[n-1]
		c.nonces = c.nonces[:n-1]
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	dir, err := c.Directory(ctx)
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := 1; attempt <= max5xxTries; attempt++ {
		rctx, cancel := c.requestContext(ctx, false)
		req, err := http.NewRequestWithContext(rctx, http.MethodHead, dir.NewNonceURL, nil)
		if err != nil {
			cancel()
			return "", err
		}
		if c.UserAgent != "" {
			req.Header.Set("User-Agent", c.UserAgent)
		}
		start := time.Now()
		resp, err := c.httpClient().Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			c.logger().LogAttrs(ctx, slog.LevelDebug, "acme request",
				slog.String("method", req.Method), slog.String("url", req.URL.String()),
				slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
			if n := resp.Header.Get("Replay-Nonce"); n != "" && resp.StatusCode < 400 {
				return n, nil
			}
			lastErr = fmt.Errorf("HEAD %s: HTTP %d without a Replay-Nonce", dir.NewNonceURL, resp.StatusCode)
		} else {
			if ctx.Err() != nil {
				return "", err
			}
			lastErr = err
		}
		if err := c.sleep(ctx, time.Duration(attempt)*250*time.Millisecond); err != nil {
			return "", errors.Join(lastErr, err)
		}
	}
	return "", fmt.Errorf("get nonce: %w", lastErr)
}

// keyAlgorithm returns the JWS algorithm for an account key.
func keyAlgorithm(key crypto.Signer) (string, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
		return "", fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < 2048 || bits > 8192 {
			return "", fmt.Errorf("%w: RSA %d bits (2048–8192 allowed)", ErrUnsupportedKey, bits)
		}
		return "RS256", nil
	case nil:
		return "", fmt.Errorf("%w: no key", ErrUnsupportedKey)
	}
	return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
}

// fetch POST-as-GETs url and decodes the JSON body into v, retrying (bounded) when
// the body does not decode: a fetch changes nothing at the CA, so a truncated or
// garbled answer is worth another try.
func (c *Client) fetch(ctx context.Context, url string, v any) (*response, error) {
	var lastErr error
	for attempt := 1; attempt <= max5xxTries; attempt++ {
		resp, err := c.post(ctx, url, nil, postOpts{})
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(resp.body, v); err == nil {
			return resp, nil
		} else {
			lastErr = fmt.Errorf("decode: %w", err)
		}
		c.logger().LogAttrs(ctx, slog.LevelWarn, "undecodable response, fetching again", attrURL(url), attrAttempt(attempt), attrErr(lastErr))
		if err := c.sleep(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
			return nil, errors.Join(lastErr, err)
		}
	}
	return nil, lastErr
}
