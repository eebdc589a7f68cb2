package acme

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// oneNonce hands go-jose a nonce fetched beforehand with a context (go-jose's
// NonceSource has none).
type oneNonce string

func (n oneNonce) Nonce() (string, error) { return string(n), nil }

// signJWS signs payload for url. With useJWK the public key is embedded (newAccount,
// revoke by certificate key); otherwise kid names the account.
func signJWS(key crypto.Signer, kid, nonce, url string, payload []byte, useJWK bool) ([]byte, error) {
	alg, err := keyAlgorithm(key)
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: key}
	if !useJWK {
		jwk.KeyID = kid
	}
	opts := &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{"url": url},
		EmbedJWK:     useJWK,
	}
	if nonce != "" {
		opts.NonceSource = oneNonce(nonce)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jwk}, opts)
	if err != nil {
		return nil, fmt.Errorf("jws signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("jws sign: %w", err)
	}
	return []byte(obj.FullSerialize()), nil
}

// ExternalAccountBinding carries the EAB credentials (§7.3.4). Its String and
// GoString never show the HMAC key.
type ExternalAccountBinding struct {
	KeyID     string
	HMACKey   []byte
	Algorithm string // HS256 (default), HS384 or HS512
}

func (e *ExternalAccountBinding) String() string {
	if e == nil {
		return "<nil>"
	}
	return fmt.Sprintf("EAB{kid:%s hmac:redacted alg:%s}", e.KeyID, e.alg())
}

// GoString keeps %#v from printing the key.
func (e *ExternalAccountBinding) GoString() string { return e.String() }

func (e *ExternalAccountBinding) alg() string {
	if e.Algorithm == "" {
		return "HS256"
	}
	return strings.ToUpper(e.Algorithm)
}

// DecodeHMACKey decodes an EAB HMAC key given as base64url with or without
// padding, or as standard base64 (CAs and their documentation vary).
func DecodeHMACKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("acme: empty EAB HMAC key")
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("acme: the EAB HMAC key is not valid base64url (or base64)")
}

// eabJWS builds the inner JWS binding the account key to the external account.
func eabJWS(eab *ExternalAccountBinding, accountKey crypto.Signer, url string) (json.RawMessage, error) {
	var alg jose.SignatureAlgorithm
	var minLen int
	switch eab.alg() {
	case "HS256":
		alg, minLen = jose.HS256, 32
	case "HS384":
		alg, minLen = jose.HS384, 48
	case "HS512":
		alg, minLen = jose.HS512, 64
	default:
		return nil, fmt.Errorf("acme: EAB algorithm %q not supported (use HS256, HS384 or HS512)", eab.Algorithm)
	}
	if eab.KeyID == "" || len(eab.HMACKey) == 0 {
		return nil, errors.New("acme: EAB needs both a key ID and an HMAC key")
	}
	if len(eab.HMACKey) < minLen {
		// RFC 7518 §3.2: the key must be at least as long as the hash.
		return nil, fmt.Errorf("acme: the EAB HMAC key is %d bytes; %s needs at least %d (check the key, or use a shorter algorithm)", len(eab.HMACKey), eab.alg(), minLen)
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: accountKey.Public()})
	if err != nil {
		return nil, fmt.Errorf("acme: encode account key: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: eab.HMACKey}, &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{"kid": eab.KeyID, "url": url},
	})
	if err != nil {
		return nil, fmt.Errorf("acme: EAB signer (%s): %w", eab.alg(), err)
	}
	obj, err := signer.Sign(pub)
	if err != nil {
		return nil, fmt.Errorf("acme: EAB sign: %w", err)
	}
	return json.RawMessage(obj.FullSerialize()), nil
}

// postOpts tune one signed POST.
type postOpts struct {
	key      crypto.Signer // signing key; nil = c.Key
	useJWK   bool          // embed the JWK instead of kid
	noReplay bool          // never re-sign after a transport error or 5xx (finalize)
	long     bool          // may be held open: bounded by ctx's deadline, not RequestTimeout (finalize)
	limit    int64         // body limit; 0 = maxJSONBody
	accept   string        // Accept header (certificate download)
}

// post sends a signed POST (payload nil = POST-as-GET, §6.3). badNonce is answered
// by re-signing with the nonce from the error response (§6.5), a bounded number of
// times; 5xx and transport errors by re-signing with a fresh nonce unless noReplay.
func (c *Client) post(ctx context.Context, url string, payload any, o postOpts) (*response, error) {
	key, body, err := c.postInput(url, payload, o)
	if err != nil {
		return nil, err
	}
	limit := o.limit
	if limit == 0 {
		limit = maxJSONBody
	}
	r := &postRetry{c: c, url: url, o: o, backoff: 250 * time.Millisecond}
	for {
		resp, sendErr, err := c.postOnce(ctx, key, url, body, limit, o)
		if err != nil {
			return nil, err
		}
		if sendErr != nil {
			if err := r.afterTransportError(ctx, sendErr); err != nil {
				return nil, err
			}
			continue
		}
		if resp.status < 400 {
			return resp, nil
		}
		if err := r.afterProblem(ctx, resp); err != nil {
			return nil, err
		}
	}
}

// postInput checks the signing key and encodes the payload.
func (c *Client) postInput(url string, payload any, o postOpts) (crypto.Signer, []byte, error) {
	key := o.key
	if key == nil {
		key = c.Key
	}
	if key == nil {
		return nil, nil, fmt.Errorf("%w: no account key", ErrUnsupportedKey)
	}
	if !o.useJWK && c.AccountURL == "" {
		return nil, nil, ErrNoAccount
	}
	body := []byte{}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, nil, fmt.Errorf("encode request to %s: %w", url, err)
		}
		body = b
	}
	return key, body, nil
}

// postOnce signs body with a fresh nonce and sends it once. sendErr is a
// failure of the exchange (the CA may have acted); err one before anything
// was sent.
func (c *Client) postOnce(ctx context.Context, key crypto.Signer, url string, body []byte, limit int64, o postOpts) (resp *response, sendErr, err error) {
	nonce, err := c.nonce(ctx)
	if err != nil {
		return nil, nil, err
	}
	jws, err := signJWS(key, c.AccountURL, nonce, url, body, o.useJWK)
	if err != nil {
		return nil, nil, err
	}
	rctx, cancel := c.requestContext(ctx, o.long)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, strings.NewReader(string(jws)))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/jose+json")
	if o.accept != "" {
		req.Header.Set("Accept", o.accept)
	}
	resp, sendErr = c.do(req, limit)
	return resp, sendErr, nil
}

// postRetry is the retry state of one post: it decides after each failed
// exchange whether to send again (nil) or give up (the error to return).
type postRetry struct {
	c                                   *Client
	url                                 string
	o                                   postOpts
	nonceTries, serverTries, transports int
	backoff                             time.Duration
}

// afterTransportError: a signed POST whose exchange failed is re-sent (with
// a new nonce, after a backoff) only when it may be replayed.
func (r *postRetry) afterTransportError(ctx context.Context, err error) error {
	if ctx.Err() != nil || r.o.noReplay || errors.Is(err, errRedirect) {
		return err
	}
	r.transports++
	if r.transports >= max5xxTries {
		return err
	}
	r.c.logger().LogAttrs(ctx, slog.LevelWarn, "acme request: transport error, re-signing", attrURL(r.url), attrAttempt(r.transports), attrErr(err))
	if err := r.c.sleep(ctx, r.backoff); err != nil {
		return err
	}
	r.backoff *= 2
	return nil
}

// afterProblem handles an error answer: badNonce is re-signed with the
// answer's nonce, a 5xx or a 429 with a short Retry-After waited out and
// re-sent (unless noReplay); anything else is returned.
func (r *postRetry) afterProblem(ctx context.Context, resp *response) error {
	c := r.c
	perr := c.problemFrom(resp)
	switch {
	case IsProblem(perr, ProblemBadNonce):
		r.nonceTries++
		if r.nonceTries >= maxNonceTries {
			return fmt.Errorf("%w (gave up after %d badNonce answers)", perr, r.nonceTries)
		}
		// The error response carried a fresh nonce (saved by do); older pooled
		// nonces are likely stale too, so keep only the newest.
		c.keepNewestNonce()
		c.logger().LogAttrs(ctx, slog.LevelDebug, "acme badNonce, re-signing", attrURL(r.url), attrAttempt(r.nonceTries))
		return nil
	case (resp.status >= 500 || resp.status == http.StatusTooManyRequests && resp.header.Get("Retry-After") != "") && !r.o.noReplay:
		// A short Retry-After is waited out; a long one (or a 429 without
		// one) is returned at once so the caller can say when to retry.
		r.serverTries++
		wait, ok := c.retryWait(resp, r.backoff)
		if !ok || r.serverTries >= max5xxTries {
			return perr
		}
		c.logger().LogAttrs(ctx, slog.LevelWarn, "acme server error, retrying", attrURL(r.url), attrAttempt(r.serverTries), attrRetryIn(wait))
		if err := c.sleep(ctx, wait); err != nil {
			return errors.Join(perr, err)
		}
		r.backoff *= 2
		return nil
	}
	return perr
}

func (c *Client) keepNewestNonce() {
	c.mu.Lock()
	if n := len(c.nonces); n > 1 {
		c.nonces = c.nonces[n-1:]
	}
	c.mu.Unlock()
}
