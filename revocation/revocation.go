// Package revocation tells whether certificates are revoked, for certbot's
// "INVALID: REVOKED" listing and its rule that renew replaces a revoked
// certificate (storage.should_autorenew). It asks OCSP (RFC 6960) when the
// certificate names a responder, as certbot does, and the CRL of its
// distribution point (RFC 5280) when it names no responder, which certbot
// does not (Let's Encrypt ended OCSP in 2025, so certbot no longer sees its
// revocations).
//
// Every check is bounded: each request has a short timeout, a Checker has
// one network budget for its whole run, a host that failed is not asked
// again in the run, a CRL is fetched at most once per run whatever number of
// certificates it covers, and answers are cached by (issuer key, serial)
// until the response's nextUpdate (a revocation for good), so a listing of
// 10,000 lineages costs no request at all while the answers are fresh.
//
// It is not a validator: it does not build or check chains, and a check
// that cannot be made answers Unknown, which callers treat as "not revoked"
// (certbot: "failures count as not revoked"). It never sends anything but an
// OCSP request or a CRL GET, through its own HTTP client that follows a
// redirect only on the same scheme and host.
package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Status is a certificate's revocation status.
type Status int

const (
	// Unknown: no answer (no responder or CRL, a failed request, the budget
	// spent); treat as not revoked.
	Unknown Status = iota
	// Good: the responder or CRL says the certificate is not revoked.
	Good
	// Revoked: the responder or CRL says it is revoked.
	Revoked
)

func (s Status) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	}
	return "unknown"
}

// Result is one certificate's answer.
type Result struct {
	Status Status
	// Source is "ocsp", "crl", "cache" or "" (nothing was asked).
	Source string
	// Until is how long the answer stays cached.
	Until time.Time
	// Err says why the status is Unknown when a check was attempted.
	Err error
}

// Defaults of a Checker.
const (
	DefaultTimeout    = 5 * time.Second
	DefaultBudget     = 30 * time.Second
	DefaultMaxCRLSize = 32 << 20
	maxOCSPResponse   = 64 << 10
	// unknownRetry is how long a failed check is not repeated (a dead
	// responder must not cost a timeout per lineage on every run).
	unknownRetry = time.Hour
	// noNextUpdate is how long a good answer without nextUpdate is kept.
	noNextUpdate = time.Hour
	// maxGood caps how long a good answer is trusted.
	maxGood = 7 * 24 * time.Hour
)

// Checker checks certificates. Set the fields, then call its methods from
// any number of goroutines; call Save at the end of the run to keep the
// answers. The zero value works: no persistent cache, the default client,
// timeout and budget.
type Checker struct {
	// HTTPClient makes the OCSP and CRL requests; nil builds one with the
	// timeouts below and a redirect policy that stays on the same host.
	// It must not be the ACME client (whose transport carries JWS).
	HTTPClient *http.Client
	// Timeout bounds each request; Budget bounds the time all requests of
	// the Checker may take together (after that, Unknown without asking).
	Timeout, Budget time.Duration
	// MaxCRLSize bounds a CRL download.
	MaxCRLSize int64
	// CachePath is the file answers are kept in between runs ("" keeps them
	// in memory only).
	CachePath string
	// UserAgent is sent with each request.
	UserAgent string
	Log       *slog.Logger
	Now       func() time.Time

	once     sync.Once
	mu       sync.Mutex
	cache    map[string]entry
	dirty    bool
	spent    time.Duration
	requests int
	down     map[string]bool // hosts that failed in this run
	crls     map[string]*crlFetch
	hc       *http.Client
}

// entry is one cached answer.
type entry struct {
	S Status `json:"s"`
	U int64  `json:"u"` // valid until (Unix seconds)
	X int64  `json:"x"` // the certificate's notAfter, to prune
}

// crlFetch is one CRL URL's fetch in this run (at most one per URL).
type crlFetch struct {
	done    chan struct{}
	revoked map[string]bool // serials in lower-case hex
	next    time.Time
	err     error
}

// Key is the cache key of a certificate: its issuer's key identifier and its
// serial number (lower-case hex), which is what a listing knows without
// reading the certificate.
func Key(authorityKeyID []byte, serialHex string) string {
	return hex.EncodeToString(authorityKeyID) + ":" + strings.ToLower(serialHex)
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Checker) init() {
	c.once.Do(func() {
		c.cache = loadCache(c.CachePath, c.now())
		c.down = map[string]bool{}
		c.crls = map[string]*crlFetch{}
		c.hc = c.HTTPClient
		if c.hc == nil {
			c.hc = NewHTTPClient(c.timeout())
		}
	})
}

func (c *Checker) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Checker) budget() time.Duration {
	if c.Budget > 0 {
		return c.Budget
	}
	return DefaultBudget
}

// Requests is the number of network requests made so far.
func (c *Checker) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// Cached returns the cached answer for key when it is still valid; it never
// touches the network or the certificate's files.
func (c *Checker) Cached(key string) (Result, bool) {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || c.now().Unix() >= e.U {
		return Result{}, false
	}
	return Result{Status: e.S, Source: "cache", Until: time.Unix(e.U, 0)}, true
}

// Check answers for cert, issued by issuer: from the cache when fresh, else
// from the OCSP responder it names, else from its CRL. An expired
// certificate is not checked (CAs stop answering for them).
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate) Result {
	c.init()
	key := Key(cert.AuthorityKeyId, cert.SerialNumber.Text(16))
	if r, ok := c.Cached(key); ok {
		return r
	}
	now := c.now()
	if !now.Before(cert.NotAfter) || issuer == nil {
		return Result{}
	}
	var r Result
	switch {
	case len(cert.OCSPServer) > 0:
		r = c.checkOCSP(ctx, cert, issuer, cert.OCSPServer[0])
	case len(cert.CRLDistributionPoints) > 0:
		r = c.checkCRL(ctx, cert, issuer, cert.CRLDistributionPoints)
	default:
		return Result{}
	}
	if r.Err != nil && errors.Is(r.Err, errBudget) {
		return r // not cached: the next run asks
	}
	c.store(key, cert.NotAfter, &r)
	if r.Err != nil {
		c.log().LogAttrs(ctx, slog.LevelInfo, "revocation check failed", slog.String("serial", cert.SerialNumber.Text(16)),
			slog.String("source", r.Source), slog.String("error", r.Err.Error()))
	}
	return r
}

// store caches r until its validity: a revocation until the certificate
// expires, a good answer until nextUpdate (capped), a failure for an hour.
func (c *Checker) store(key string, notAfter time.Time, r *Result) {
	now := c.now()
	switch r.Status {
	case Revoked:
		r.Until = notAfter
	case Good:
		if r.Until.IsZero() {
			r.Until = now.Add(noNextUpdate)
		}
		r.Until = minTime(r.Until, now.Add(maxGood))
	default:
		r.Until = now.Add(unknownRetry)
	}
	r.Until = minTime(r.Until, notAfter)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache[key] = entry{S: r.Status, U: r.Until.Unix(), X: notAfter.Unix()}
	c.dirty = true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

var errBudget = errors.New("revocation: the time budget for checks is spent")

// begin reserves a request to host: it fails when the run's budget is spent
// or the host failed before in this run.
func (c *Checker) begin(host string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spent >= c.budget() {
		return errBudget
	}
	if c.down[host] {
		return fmt.Errorf("revocation: %s did not answer earlier in this run", host)
	}
	c.requests++
	return nil
}

// end accounts a request's time and marks its host down on a transport
// failure.
func (c *Checker) end(host string, took time.Duration, netErr bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spent += took
	if netErr {
		c.down[host] = true
	}
}

// fetch makes one bounded request and returns the body (at most limit bytes).
func (c *Checker) fetch(ctx context.Context, method, rawURL, ctype string, body []byte, limit int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("revocation: %q is not an http(s) URL", rawURL)
	}
	if err := c.begin(u.Host); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.end(u.Host, time.Since(start), true)
		return nil, fmt.Errorf("revocation: %s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	c.end(u.Host, time.Since(start), err != nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("revocation: read %s: %w", rawURL, err)
	case int64(len(b)) > limit:
		return nil, fmt.Errorf("revocation: %s: the answer is larger than %d bytes", rawURL, limit)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("revocation: %s %s: HTTP %d", method, rawURL, resp.StatusCode)
	}
	return b, nil
}

// checkOCSP asks the certificate's responder (POST, as certbot does).
func (c *Checker) checkOCSP(ctx context.Context, cert, issuer *x509.Certificate, responder string) Result {
	r := Result{Source: "ocsp"}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		r.Err = fmt.Errorf("revocation: OCSP request: %w", err)
		return r
	}
	body, err := c.fetch(ctx, http.MethodPost, responder, "application/ocsp-request", req, maxOCSPResponse)
	if err != nil {
		r.Err = err
		return r
	}
	resp, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		r.Err = fmt.Errorf("revocation: OCSP answer from %s: %w", responder, err)
		return r
	}
	now := c.now()
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		r.Err = fmt.Errorf("revocation: OCSP answer from %s is for another certificate", responder)
		return r
	}
	if resp.ThisUpdate.After(now.Add(5*time.Minute)) || (!resp.NextUpdate.IsZero() && resp.NextUpdate.Before(now)) {
		r.Err = fmt.Errorf("revocation: OCSP answer from %s is not current (thisUpdate %s, nextUpdate %s)", responder,
			resp.ThisUpdate.UTC().Format(time.RFC3339), resp.NextUpdate.UTC().Format(time.RFC3339))
		return r
	}
	switch resp.Status {
	case ocsp.Good:
		r.Status, r.Until = Good, resp.NextUpdate
	case ocsp.Revoked:
		r.Status = Revoked
	default:
		r.Err = fmt.Errorf("revocation: %s does not know the certificate", responder)
	}
	return r
}

// checkCRL looks the serial up in the first CRL that can be had (fetched at
// most once per URL per run, verified against the issuer).
func (c *Checker) checkCRL(ctx context.Context, cert, issuer *x509.Certificate, urls []string) Result {
	r := Result{Source: "crl"}
	serial := cert.SerialNumber.Text(16)
	for _, u := range urls {
		f := c.crl(ctx, u, issuer)
		if f.err != nil {
			r.Err = f.err
			continue
		}
		r.Err = nil
		if f.revoked[serial] {
			r.Status = Revoked
		} else {
			r.Status, r.Until = Good, f.next
		}
		return r
	}
	return r
}

// crl fetches and parses the CRL at u once per run; concurrent callers wait
// for the one fetch.
func (c *Checker) crl(ctx context.Context, u string, issuer *x509.Certificate) *crlFetch {
	c.mu.Lock()
	f, ok := c.crls[u]
	if !ok {
		f = &crlFetch{done: make(chan struct{})}
		c.crls[u] = f
	}
	c.mu.Unlock()
	if ok {
		select {
		case <-f.done:
			return f
		case <-ctx.Done():
			return &crlFetch{err: ctx.Err()}
		}
	}
	defer close(f.done)
	limit := c.MaxCRLSize
	if limit <= 0 {
		limit = DefaultMaxCRLSize
	}
	b, err := c.fetch(ctx, http.MethodGet, u, "", nil, limit)
	if err != nil {
		f.err = err
		return f
	}
	f.revoked, f.next, f.err = parseCRL(b, issuer, c.now())
	if f.err != nil {
		f.err = fmt.Errorf("revocation: CRL %s: %w", u, f.err)
	}
	return f
}

// parseCRL checks a CRL (DER or PEM) against its issuer and returns the
// revoked serials and its nextUpdate.
func parseCRL(b []byte, issuer *x509.Certificate, now time.Time) (map[string]bool, time.Time, error) {
	if blk, _ := pem.Decode(b); blk != nil && blk.Type == "X509 CRL" {
		b = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, time.Time{}, fmt.Errorf("not signed by the certificate's issuer: %w", err)
	}
	if !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(now) {
		return nil, time.Time{}, fmt.Errorf("out of date (nextUpdate %s)", crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	revoked := make(map[string]bool, len(crl.RevokedCertificateEntries))
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil {
			revoked[e.SerialNumber.Text(16)] = true
		}
	}
	return revoked, crl.NextUpdate, nil
}

// NewHTTPClient is the client revocation checks use: proxies from the
// environment, short dial and TLS timeouts, no cookies, and redirects
// followed only on the same scheme and host, at most 3: an OCSP request is
// never re-sent to another host, and nothing but it or a CRL GET ever goes
// out (no account key, no JWS, no credential).
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: SameHostRedirect}
}

// ErrRedirect is wrapped by the error of a request redirected to another
// scheme or host.
var ErrRedirect = errors.New("revocation: refusing a redirect to another scheme or host")

// SameHostRedirect is the redirect policy of NewHTTPClient.
func SameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host) {
		return fmt.Errorf("%w: %s to %s", ErrRedirect, first.Scheme+"://"+first.Host, req.URL.Scheme+"://"+req.URL.Host)
	}
	if len(via) >= 3 {
		return errors.New("revocation: stopped after 3 redirects")
	}
	return nil
}
