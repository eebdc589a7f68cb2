package acme

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ErrPlainHTTP: a URL (the directory, or one the CA gave) is plain http on a
// host that is not loopback. ACME requests carry the signed account binding,
// the EAB MAC and CSRs, and responses carry nonces and certificates; none of
// it crosses the network in clear. http://127.0.0.0/8, http://[::1] and
// http://localhost stay allowed for test CAs. Test with errors.Is.
var ErrPlainHTTP = errors.New("acme: plain http is refused except on loopback (127.0.0.0/8, ::1, localhost); use https")

// ErrCAUnreachable: a request failed at the transport level — the connection
// was refused or reset, the TLS handshake failed, the name did not resolve,
// or the CA did not answer (or finish its answer) before the request's
// deadline. A CA in that state is very likely to fail the next request the
// same way, so a caller renewing many lineages can skip the CA's other
// lineages for the rest of a run. HTTP error answers (4xx, 5xx problems), a
// refused redirect and a cancellation by the caller are not ErrCAUnreachable.
// A request cut off by a deadline is, whichever context set it: a caller
// whose own deadline passed (ctx.Err() != nil on its side) should report
// that instead. Test with errors.Is; the error names the request and the cause.
var ErrCAUnreachable = errors.New("acme: the CA is unreachable")

// plainHTTP reports whether u is http:// to a host that is not loopback.
func plainHTTP(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, "http") && !isLoopbackHost(u.Hostname())
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

// checkDirectoryURL refuses a plain-http directory before any request,
// naming the URL as the caller gave it.
func checkDirectoryURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("acme: directory URL %q: %w", raw, err)
	}
	if plainHTTP(u) {
		return fmt.Errorf("directory %s: %w", raw, ErrPlainHTTP)
	}
	return nil
}

// guardTransport wraps the caller's RoundTripper (which stays unmodified): it
// refuses plain-http requests off loopback before they are sent, and marks
// transport failures — also those while the body is read — with
// ErrCAUnreachable.
type guardTransport struct{ base http.RoundTripper }

func newGuardTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return guardTransport{base: base}
}

func (g guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if plainHTTP(req.URL) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ErrPlainHTTP)
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		return nil, unreachable(req.Context(), err)
	}
	resp.Body = &guardBody{ReadCloser: resp.Body, ctx: req.Context()}
	return resp, nil
}

// guardBody marks a failed body read (reset, deadline, truncation) as
// ErrCAUnreachable.
type guardBody struct {
	io.ReadCloser
	ctx context.Context
}

func (b *guardBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = unreachable(b.ctx, err)
	}
	return n, err
}

// unreachable wraps a transport error with ErrCAUnreachable unless the
// caller cancelled ctx (the caller's decision, not the CA's state).
func unreachable(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrCAUnreachable) || errors.Is(ctx.Err(), context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCAUnreachable, err)
}

// classifyTransportError is for errors from http.Client.Do and from reading a
// body. With a Client.Timeout, net/http replaces a timed-out error by a
// string-only timeout error, dropping the chain guardTransport built; such a
// timeout is marked here. Policy refusals (redirects, plain http) and the
// caller's cancellation pass unchanged.
func classifyTransportError(req *http.Request, err error) error {
	if err == nil || errors.Is(err, ErrCAUnreachable) || errors.Is(err, ErrPlainHTTP) || errors.Is(err, errRedirect) ||
		errors.Is(req.Context().Err(), context.Canceled) {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %w", ErrCAUnreachable, err)
	}
	return err
}
