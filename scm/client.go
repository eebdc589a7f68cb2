// Package scm is a client for the Sectigo Certificate Manager (SCM) REST API,
// limited to what ACME onboarding needs: ACME accounts (/api/acme/v2/account),
// the domains assigned to them, the ACME clients registered with their EAB
// credentials, and the tenant's ACME servers (/api/acme/v1/server).
//
// It is not an ACME client (see package acme) and it does not cover the rest of
// SCM (SSL/S-MIME enrollment, discovery, reports), the deprecated v1 account
// endpoints, or the OAuth2 "Admin Operations API".
//
// Authentication is by the login/password/customerUri headers, or by a TLS
// client certificate, in which case requests go under the /private prefix and
// no password is sent. The password and every account's macKey are of type
// Secret, which never prints.
package scm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the SCM REST base of the shared cert-manager.com instance.
// Tenants on other instances (https://hard.cert-manager.com/api) set Client.BaseURL.
const DefaultBaseURL = "https://cert-manager.com/api"

// MaxPageSize is the largest page SCM serves (position/size paging).
const MaxPageSize = 200

const (
	defaultTimeout = 60 * time.Second
	maxBodySize    = 8 << 20  // a full 200-item page is far below this
	maxErrorBody   = 64 << 10 // error bodies are small JSON objects
	maxPages       = 10000    // 2,000,000 items: a bound, not an expectation
	maxGETAttempts = 3
)

// Client talks to one SCM tenant. Set the fields before the first call and do
// not change them afterwards; a Client is then safe for concurrent use.
type Client struct {
	// BaseURL is the REST base including /api; empty means DefaultBaseURL.
	BaseURL string
	// Login and CustomerURI identify the admin and the tenant (the part after
	// /customer/ in the portal URL).
	Login       string
	CustomerURI string
	// Password is sent in the password header. Ignored when ClientCert is true.
	Password Secret
	// ClientCert selects client-certificate authentication: every path gets the
	// /private prefix (https://cert-manager.com/private/api/...) and no password
	// header is sent. HTTPClient must then present the certificate
	// (NewHTTPClient with a tls.Config holding it).
	ClientCert bool
	// HTTPClient performs the requests; nil means NewHTTPClient(nil).
	HTTPClient *http.Client
	// Timeout bounds each call (all pages of a listing count as one call);
	// zero means 60 s. The caller's context can only shorten it.
	Timeout time.Duration
	// PageSize is the page size for listings, 1..MaxPageSize; zero means MaxPageSize.
	PageSize int
	// UserAgent is sent when non-empty.
	UserAgent string
	// Logger receives one Debug record per HTTP exchange (method, path, status;
	// never headers or bodies). Nil discards.
	Logger *slog.Logger
	// RetryBackoff returns the wait before retry n (1-based) of a GET that failed
	// with a transport error, 429 or 502/503/504. Nil means 250ms·2^(n-1).
	RetryBackoff func(n int) time.Duration
}

// String describes the client without its password.
func (c *Client) String() string {
	if c == nil {
		return "scm.Client(nil)"
	}
	auth := "password"
	if c.ClientCert {
		auth = "client-certificate"
	}
	return fmt.Sprintf("scm.Client{BaseURL:%q Login:%q CustomerURI:%q Auth:%s}", c.baseURL(), c.Login, c.CustomerURI, auth)
}

// GoString is String, so %#v does not print the password either.
func (c *Client) GoString() string { return c.String() }

// LogValue logs the client without its password.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// NewHTTPClient returns an *http.Client with timeouts on dial, TLS handshake and
// response headers, proxies from the environment, and tlsConfig (nil: system
// roots, no client certificate).
func NewHTTPClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tlsConfig,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		},
	}
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return c.BaseURL
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

var defaultHTTPClient = NewHTTPClient(nil)

// ErrRedirect is wrapped by the error of a request the server redirected to
// another scheme or host: the client does not follow such a redirect, because
// Go's http.Client would carry the login/password headers, the request body
// of a 307/308 and the TLS client certificate to the new host.
var ErrRedirect = errors.New("scm: refusing redirect to another scheme or host")

// guardedClient is the caller's *http.Client (unchanged: a shallow copy) with
// a CheckRedirect that refuses any redirect leaving the scheme and host of the
// first request, then applies the caller's own policy, if any, or Go's
// default limit of 10 redirects.
func (c *Client) guardedClient() *http.Client {
	hc := *c.httpClient()
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host) {
			return fmt.Errorf("%w: %s redirected to %s (credentials are not sent there; if that is the right server, set the SCM URL to it)",
				ErrRedirect, first.Scheme+"://"+first.Host, req.URL.Scheme+"://"+req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &hc
}

// isLoopbackHost reports whether host (no port, no brackets) is "localhost"
// or a loopback IP address (127.0.0.0/8, ::1).
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

func (c *Client) pageSize() int {
	if c.PageSize <= 0 || c.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return c.PageSize
}

func (c *Client) backoff(n int) time.Duration {
	if c.RetryBackoff != nil {
		return c.RetryBackoff(n)
	}
	return 250 * time.Millisecond << (n - 1)
}

// withTimeout applies Client.Timeout to one call.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.Timeout
	if d <= 0 {
		d = defaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// endpoint builds the URL of an API path ("/acme/v2/account") under the base,
// adding the /private prefix for client-certificate authentication.
func (c *Client) endpoint(p string, q url.Values) (string, error) {
	u, err := url.Parse(c.baseURL())
	if err != nil {
		return "", fmt.Errorf("scm: parse base url %q: %w", c.baseURL(), err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("scm: base url %q: want an absolute http(s) url such as %s", c.baseURL(), DefaultBaseURL)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		// The password header (or the account data of a POST) would cross the
		// network in clear text.
		return "", fmt.Errorf("scm: base url %q: plain http is allowed only on loopback (127.0.0.0/8, ::1, localhost); use https", c.baseURL())
	}
	base := strings.TrimSuffix(u.Path, "/")
	if c.ClientCert {
		base = "/private" + base
	}
	u.Path = base + p
	u.RawPath = ""
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

func (c *Client) checkConfig() error {
	if c.Login == "" {
		return errors.New("scm: no login set")
	}
	if c.CustomerURI == "" {
		return errors.New("scm: no customer uri set")
	}
	if !c.ClientCert && c.Password == "" {
		return errors.New("scm: no password set (or use client-certificate authentication)")
	}
	return nil
}

// response is what do returns: the status, headers and (bounded) body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do performs one request. in is JSON-encoded when non-nil. Statuses not in
// okStatus become *Error. GETs are retried on transport errors, 429 and
// 502/503/504; other methods are sent once.
func (c *Client) do(ctx context.Context, method, p string, q url.Values, in any, okStatus ...int) (*response, error) {
	if err := c.checkConfig(); err != nil {
		return nil, err
	}
	u, err := c.endpoint(p, q)
	if err != nil {
		return nil, err
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("scm: encode %s %s request: %w", method, p, err)
		}
	}
	attempts := 1
	if method == http.MethodGet {
		attempts = maxGETAttempts
	}
	for n := 1; ; n++ {
		resp, err := c.once(ctx, method, u, p, body)
		retry := n < attempts && ctx.Err() == nil && (err != nil && retryableError(err) || resp != nil && retryableStatus(resp.status))
		if !retry {
			if err != nil {
				return nil, err
			}
			for _, s := range okStatus {
				if resp.status == s {
					return resp, nil
				}
			}
			return nil, newError(method, p, resp)
		}
		wait := c.backoff(n)
		c.logger().LogAttrs(ctx, slog.LevelWarn, "scm request retry",
			slog.String("method", method), slog.String("path", p), slog.Int("attempt", n), slog.Duration("retry_in", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("scm: %s %s: %w", method, p, ctx.Err())
		case <-t.C:
		}
	}
}

func retryableStatus(s int) bool {
	return s == http.StatusTooManyRequests || s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout
}

// retryableError: transport trouble may pass; an untrusted certificate or an
// oversized body will not.
func retryableError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	return !errors.Is(err, errTooLarge) && !errors.Is(err, ErrRedirect) && !errors.As(err, &cv) && !errors.As(err, &ua) && !errors.As(err, &hn)
}

var errTooLarge = errors.New("response body too large")

func (c *Client) once(ctx context.Context, method, u, p string, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("scm: build %s %s request: %w", method, p, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("login", c.Login)
	req.Header.Set("customerUri", c.CustomerURI)
	if !c.ClientCert {
		req.Header.Set("password", string(c.Password))
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.guardedClient().Do(req)
	if err != nil {
		// *url.Error carries the URL (no credentials: they travel in headers).
		return nil, fmt.Errorf("scm: %s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	limit := int64(maxBodySize)
	if resp.StatusCode >= 400 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	c.logger().LogAttrs(ctx, slog.LevelDebug, "scm request",
		slog.String("method", method), slog.String("path", p), slog.Int("status", resp.StatusCode))
	if err != nil {
		return nil, fmt.Errorf("scm: %s %s: read response: %w", method, p, err)
	}
	if int64(len(data)) > limit {
		if resp.StatusCode >= 400 {
			data = data[:limit]
		} else {
			return nil, fmt.Errorf("scm: %s %s: %w (over %d bytes)", method, p, errTooLarge, limit)
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// getJSON GETs p and decodes the body into out.
func (c *Client) getJSON(ctx context.Context, p string, q url.Values, out any) (*response, error) {
	resp, err := c.do(ctx, http.MethodGet, p, q, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if err := decode(resp.body, out); err != nil {
		return nil, fmt.Errorf("scm: GET %s: decode response: %w", p, err)
	}
	return resp, nil
}

// decode is lenient: unknown fields are ignored, an empty body is no data.
func decode(data []byte, out any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// listAll fetches every page of a listing: position/size (size ≤ MaxPageSize),
// following X-Total-Count when the server sends it, else until a short page.
func listAll[T any](ctx context.Context, c *Client, p string, q url.Values) ([]T, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	size := c.pageSize()
	var all []T
	for page := 0; page < maxPages; page++ {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("position", strconv.Itoa(len(all)))
		qq.Set("size", strconv.Itoa(size))
		var items []T
		resp, err := c.getJSON(ctx, p, qq, &items)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		total, hasTotal := totalCount(resp.header)
		switch {
		case len(items) == 0:
			return all, nil
		case hasTotal && len(all) >= total:
			return all, nil
		case !hasTotal && len(items) < size:
			return all, nil
		}
	}
	return nil, fmt.Errorf("scm: GET %s: more than %d pages", p, maxPages)
}

func totalCount(h http.Header) (int, bool) {
	v := strings.TrimSpace(h.Get("X-Total-Count"))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
