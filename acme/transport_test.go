package acme

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingRT records the URLs that reach the network layer and answers none
// of them: anything it sees was sent.
type countingRT struct {
	mu   sync.Mutex
	urls []string
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.urls = append(c.urls, r.Method+" "+r.URL.String())
	c.mu.Unlock()
	return nil, errors.New("countingRT: no network in this test")
}

func (c *countingRT) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.urls...)
}

// A plain-http directory URL is refused before any request unless its host
// is a loopback address; the error names the URL.
func TestPlainHTTPDirectoryRefused(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://acme.example/directory", false},
		{"http://acme.example:14000/dir", false},
		{"HTTP://acme.example/dir", false},
		{"http://192.0.2.1/dir", false},
		{"http://127.0.0.1.nip.io/dir", false},
		{"http://localhost.example/dir", false},
		{"http://[::ffff:192.0.2.1]/dir", false},
		{"http://127.0.0.1:14000/dir", true},
		{"http://127.9.9.9/dir", true},
		{"http://localhost:14000/dir", true},
		{"http://[::1]:14000/dir", true},
		{"https://acme.example/dir", true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			rt := &countingRT{}
			c := &Client{DirectoryURL: tc.url, HTTPClient: &http.Client{Transport: rt}, Key: testKey(t), Sleep: func(context.Context, time.Duration) error { return nil }}
			_, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true,
				EAB: &ExternalAccountBinding{KeyID: "kid", HMACKey: []byte("0123456789abcdef0123456789abcdef")}})
			if err == nil {
				t.Fatal("Register: no error")
			}
			if tc.ok {
				if len(rt.sent()) == 0 {
					t.Errorf("Register(%s) sent nothing: %v", tc.url, err)
				}
				return
			}
			if s := rt.sent(); len(s) != 0 {
				t.Errorf("Register(%s) sent %v before refusing", tc.url, s)
			}
			if !errors.Is(err, ErrPlainHTTP) || !strings.Contains(err.Error(), tc.url) {
				t.Errorf("error %q: want ErrPlainHTTP naming %s", err, tc.url)
			}
		})
	}
}

// A directory served on loopback that lists plain-http endpoints elsewhere
// does not get the signed newAccount (with the EAB binding) sent there.
func TestPlainHTTPEndpointRefused(t *testing.T) {
	f := newFakeCA(t)
	f.dirExtra = map[string]any{"newAccount": "http://acme.example/new-acct"}
	var mu sync.Mutex
	var elsewhere []string
	base := f.srv.Client().Transport
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() != "127.0.0.1" {
			mu.Lock()
			elsewhere = append(elsewhere, r.Method+" "+r.URL.String())
			mu.Unlock()
			return nil, errors.New("no network in this test")
		}
		return base.RoundTrip(r)
	})}
	c := &Client{DirectoryURL: f.url("/"), HTTPClient: hc, Key: testKey(t), Sleep: func(context.Context, time.Duration) error { return nil }}
	_, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true,
		EAB: &ExternalAccountBinding{KeyID: "kid", HMACKey: []byte("0123456789abcdef0123456789abcdef")}})
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 0 {
		t.Errorf("sent in clear: %v", elsewhere)
	}
	if !errors.Is(err, ErrPlainHTTP) || !strings.Contains(err.Error(), "http://acme.example/new-acct") {
		t.Errorf("Register = %v, want ErrPlainHTTP naming the newAccount URL", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// deadCA is a listener that misbehaves at the transport level in one way.
func deadCA(t *testing.T, kind string) string {
	t.Helper()
	switch kind {
	case "refused":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/dir"
	case "tls untrusted":
		srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(srv.Close)
		return srv.URL + "/dir"
	case "tls to plain server":
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(srv.Close)
		return "https://" + strings.TrimPrefix(srv.URL, "http://") + "/dir"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				buf := make([]byte, 4096)
				_, _ = conn.Read(buf) // the request
				switch kind {
				case "reset":
					conn.(*net.TCPConn).SetLinger(0)
					return
				case "silent":
				case "drip":
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
					tk := time.NewTicker(50 * time.Millisecond)
					defer tk.Stop()
					for i := 0; i < 2000; i++ {
						select {
						case <-done:
							return
						case <-tk.C:
						}
						if _, err := io.WriteString(conn, " "); err != nil {
							return
						}
					}
					return
				case "truncated":
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"newNonce\":")
					return
				}
				select {
				case <-done:
				case <-time.After(time.Minute):
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/dir"
}

// Every transport-level failure — connection refused, reset, a TLS failure,
// no answer, a body that drips or stops short — is ErrCAUnreachable, so the
// engine can skip the CA's other lineages; a slow body is bounded by the
// request's deadline, not by the header timeout alone. An HTTP error answer
// and a cancellation by the caller are not.
func TestTransportFailureIsCAUnreachable(t *testing.T) {
	tests := []struct {
		kind    string
		timeout time.Duration // per-request bound: the context's deadline
	}{
		{"refused", 0},
		{"reset", 0},
		{"tls untrusted", 0},
		{"tls to plain server", 0},
		{"truncated", 0},
		{"silent", 300 * time.Millisecond},
		{"drip", 400 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			url := deadCA(t, tc.kind)
			tr := &http.Transport{ResponseHeaderTimeout: 5 * time.Second} // the drip answers headers at once
			c := &Client{DirectoryURL: url, HTTPClient: &http.Client{Transport: tr}, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
			ctx := t.Context()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := c.Directory(ctx)
			took := time.Since(start)
			if !errors.Is(err, ErrCAUnreachable) {
				t.Errorf("Directory on a %s CA = %v, want ErrCAUnreachable", tc.kind, err)
			}
			if err != nil && !strings.Contains(err.Error(), strings.TrimSuffix(strings.SplitN(url, "/dir", 2)[0], "/")) {
				t.Errorf("error %q does not name the CA %s", err, url)
			}
			if tc.timeout > 0 && took > tc.timeout+3*time.Second {
				t.Errorf("took %v with a %v deadline", took, tc.timeout)
			}
		})
	}
	// Client.Timeout (what cmd sets) turns the error into a string-only
	// timeout error; it is still classified.
	t.Run("drip under Client.Timeout", func(t *testing.T) {
		url := deadCA(t, "drip")
		c := &Client{DirectoryURL: url, HTTPClient: &http.Client{Timeout: 400 * time.Millisecond}, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
		start := time.Now()
		_, err := c.Directory(t.Context())
		if !errors.Is(err, ErrCAUnreachable) {
			t.Errorf("Directory = %v, want ErrCAUnreachable", err)
		}
		if took := time.Since(start); took > 3*400*time.Millisecond+3*time.Second {
			t.Errorf("3 tries of a 400ms request took %v", took)
		}
	})
}

func TestNotCAUnreachable(t *testing.T) {
	f := newFakeCA(t)
	c, _ := fakeClient(t, f)
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		problem(w, 500, "urn:ietf:params:acme:error:serverInternal", "boom")
	})
	if _, err := c.GetAccount(t.Context()); err == nil || errors.Is(err, ErrCAUnreachable) {
		t.Errorf("GetAccount on a 500 = %v, want a problem that is not ErrCAUnreachable", err)
	}
	// A caller's cancellation is the caller's, not the CA's fault.
	url := deadCA(t, "silent")
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	c2 := &Client{DirectoryURL: url, HTTPClient: &http.Client{}}
	if _, err := c2.Directory(ctx); err == nil || errors.Is(err, ErrCAUnreachable) {
		t.Errorf("Directory cancelled by the caller = %v, want a cancellation that is not ErrCAUnreachable", err)
	}
	// A refused redirect is the client's policy, not the CA being down.
	other := newFakeCA(t)
	f.handle("/acct/1", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, other.url("/acct/1"), http.StatusTemporaryRedirect)
	})
	if _, err := c.GetAccount(t.Context()); err == nil || errors.Is(err, ErrCAUnreachable) {
		t.Errorf("GetAccount redirected = %v, want a refusal that is not ErrCAUnreachable", err)
	}
}

// TestRedirectNeverLeavesTheCA: every request the ACME client makes — the
// directory GET, the nonce HEAD, newAccount with its EAB binding, newOrder,
// finalize with the CSR, POST-as-GET of the certificate, the ARI GET —
// redirected to another host is refused: the other host receives nothing.
func TestRedirectNeverLeavesTheCA(t *testing.T) {
	cert := func(t *testing.T) *x509.Certificate {
		b, _ := pem.Decode(issueLeaf(t, testKey(t).Public(), "a.example"))
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	eab := &ExternalAccountBinding{KeyID: "kid-1", HMACKey: []byte("0123456789abcdef0123456789abcdef")}
	tests := []struct {
		name   string
		path   string
		status int
		call   func(t *testing.T, c *Client) error
	}{
		{"directory GET", "/", http.StatusFound, func(t *testing.T, c *Client) error { _, err := c.Directory(t.Context()); return err }},
		{"nonce HEAD", "/nonce", http.StatusFound, func(t *testing.T, c *Client) error {
			_, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true, EAB: eab})
			return err
		}},
		{"newAccount with EAB", "/new-acct", http.StatusTemporaryRedirect, func(t *testing.T, c *Client) error {
			_, err := c.Register(t.Context(), AccountRequest{TermsOfServiceAgreed: true, EAB: eab})
			return err
		}},
		{"newOrder", "/new-order", http.StatusPermanentRedirect, func(t *testing.T, c *Client) error {
			_, err := c.NewOrder(t.Context(), OrderRequest{Identifiers: DNSIdentifiers("a.example")})
			return err
		}},
		{"finalize", "/fin", http.StatusTemporaryRedirect, func(t *testing.T, c *Client) error {
			csr, _ := csrFor(t, "a.example")
			_, err := c.FinalizeOrder(t.Context(), &Order{URL: c.DirectoryURL + "order/1", Status: StatusReady, FinalizeURL: c.DirectoryURL + "fin"}, csr)
			return err
		}},
		{"certificate POST-as-GET", "/cert", http.StatusPermanentRedirect, func(t *testing.T, c *Client) error {
			_, err := c.FetchCertificate(t.Context(), c.DirectoryURL+"cert")
			return err
		}},
		{"ARI GET", "/ari/", http.StatusFound, func(t *testing.T, c *Client) error {
			_, err := c.RenewalInfo(t.Context(), cert(t))
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := newFakeCA(t)
			f := newFakeCA(t)
			f.dirExtra = map[string]any{"renewalInfo": f.url("/ari/")}
			target := other.srv.URL
			redirect := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", target+r.URL.Path)
				w.WriteHeader(tc.status)
			}
			f.handle(tc.path, func(w http.ResponseWriter, r *http.Request, _ []byte) { redirect(w, r) })
			if tc.path == "/" || tc.path == "/nonce" || tc.path == "/ari/" {
				// unsigned paths are served before the handler map: wrap the server
				inner := f.srv.Config.Handler
				f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.URL.Path, tc.path) && (tc.path != "/" || r.URL.Path == "/") {
						redirect(w, r)
						return
					}
					if tc.path == "/nonce" {
						w = noNonceWriter{w} // so the client must HEAD newNonce
					}
					inner.ServeHTTP(w, r)
				})
			}
			c, _ := fakeClient(t, f)
			if tc.path == "/new-acct" || tc.path == "/nonce" {
				c.AccountURL = ""
			}
			err := tc.call(t, c)
			if n := len(other.requestsSeen()); n != 0 {
				t.Errorf("the other host got %d requests: %v", n, other.requestsSeen())
			}
			if err == nil || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("err = %v, want a refused redirect", err)
			}
		})
	}
}

func (f *fakeCA) requestsSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// noNonceWriter drops Replay-Nonce from a response.
type noNonceWriter struct{ http.ResponseWriter }

func (w noNonceWriter) WriteHeader(code int) {
	w.Header().Del("Replay-Nonce")
	w.ResponseWriter.WriteHeader(code)
}

func (w noNonceWriter) Write(b []byte) (int, error) {
	w.Header().Del("Replay-Nonce")
	return w.ResponseWriter.Write(b)
}

// Callers that wait for one directory fetch of a dead CA share its failure
// instead of paying a call chain each (renew --parallel on one account
// client); a call after it fetches again.
func TestDirectoryFailureShared(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		<-r.Context().Done() // accepts, never answers
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c := &Client{DirectoryURL: "http://" + ln.Addr().String() + "/dir", RequestTimeout: 200 * time.Millisecond,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	const callers = 4
	errs := make(chan error, callers)
	start := time.Now()
	for range callers {
		go func() { _, err := c.Directory(t.Context()); errs <- err }()
	}
	for range callers {
		if err := <-errs; !errors.Is(err, ErrCAUnreachable) {
			t.Errorf("Directory = %v, want ErrCAUnreachable", err)
		}
	}
	took := time.Since(start)
	mu.Lock()
	got := requests
	mu.Unlock()
	if got != max5xxTries {
		t.Errorf("%d concurrent callers sent %d requests, want one call chain (%d)", callers, got, max5xxTries)
	}
	if took > 2*max5xxTries*200*time.Millisecond+2*time.Second {
		t.Errorf("%d concurrent callers took %v, want about one call chain (%v)", callers, took, max5xxTries*200*time.Millisecond)
	}
	// A later call is not answered from the failure: it fetches again.
	if _, err := c.Directory(t.Context()); !errors.Is(err, ErrCAUnreachable) {
		t.Errorf("second Directory = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 2*max5xxTries {
		t.Errorf("a later call sent %d more requests, want %d", requests-max5xxTries, max5xxTries)
	}
}
