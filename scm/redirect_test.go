package scm_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/scm"
)

// otherHost records every request that reaches it: the host a hostile or
// compromised SCM redirects to.
type otherHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD path password=... body=..."
}

func newOtherHost(t *testing.T, tlsOn bool) *otherHost {
	t.Helper()
	o := &otherHost{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cert := r.TLS != nil && len(r.TLS.PeerCertificates) > 0
		o.mu.Lock()
		o.reqs = append(o.reqs, r.Method+" "+r.URL.Path+" password="+r.Header.Get("password")+" login="+r.Header.Get("login")+" cert="+map[bool]string{true: "yes", false: "no"}[cert]+" body="+string(body))
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[]")
	})
	if tlsOn {
		o.srv = httptest.NewUnstartedServer(h)
		o.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
		o.srv.StartTLS()
	} else {
		o.srv = httptest.NewServer(h)
	}
	t.Cleanup(o.srv.Close)
	return o
}

func (o *otherHost) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.reqs...)
}

// localhostURL names the same listener by another host name (localhost
// instead of 127.0.0.1): another host as far as the client can tell.
func localhostURL(t *testing.T, srvURL string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(srvURL, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if strings.HasPrefix(srvURL, "https://") {
		scheme = "https"
	}
	return scheme + "://localhost:" + port
}

// TestRedirectNeverCarriesCredentials: an SCM (or anything in its place) that
// redirects to another scheme or host never gets the password, the login, the
// request body or the client certificate delivered there. The client refuses
// such a redirect with an error naming where it pointed.
func TestRedirectNeverCarriesCredentials(t *testing.T) {
	tests := []struct {
		name       string
		fromTLS    bool
		toTLS      bool
		toSameHost bool // same listener named by "localhost" instead of 127.0.0.1
		status     int
		clientCert bool
		call       func(c *scm.Client) error
	}{
		{name: "http to another port", status: http.StatusFound},
		{name: "https to http", fromTLS: true, status: http.StatusFound},
		{name: "https to another https host", fromTLS: true, toTLS: true, status: http.StatusMovedPermanently},
		{name: "same port under another host name", toSameHost: true, status: http.StatusFound},
		{name: "POST 307 keeps its body", fromTLS: true, toTLS: true, status: http.StatusTemporaryRedirect,
			call: func(c *scm.Client) error {
				_, err := c.CreateAccount(t.Context(), scm.AccountRequest{Name: "secret-name", ACMEServer: "OV ACME Server", OrganizationID: 1})
				return err
			}},
		{name: "DELETE 308", status: http.StatusPermanentRedirect,
			call: func(c *scm.Client) error { return c.DeleteAccount(t.Context(), 7) }},
		{name: "client certificate", fromTLS: true, toTLS: true, status: http.StatusFound, clientCert: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := newOtherHost(t, tc.toTLS)
			var target string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.Host, "localhost:") { // the "other host" of toSameHost
					w.Header().Set("X-Reached", "other")
					_, _ = io.WriteString(w, "[]")
					return
				}
				http.Redirect(w, r, target+r.URL.RequestURI(), tc.status)
			})
			var from *httptest.Server
			if tc.fromTLS {
				from = httptest.NewUnstartedServer(h)
				from.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
				from.StartTLS()
			} else {
				from = httptest.NewServer(h)
			}
			t.Cleanup(from.Close)
			target = other.srv.URL
			if tc.toSameHost {
				target = localhostURL(t, from.URL)
			}
			var reachedSameHost sync.Map
			hc := from.Client()
			if tc.toTLS || tc.clientCert {
				tlsc := hc.Transport.(*http.Transport).TLSClientConfig.Clone()
				if tc.clientCert {
					tlsc.Certificates = []tls.Certificate{selfSignedClientCert(t)}
				}
				hc = scm.NewHTTPClient(tlsc)
			}
			if tc.toSameHost {
				base := hc.Transport
				hc = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					resp, err := base.RoundTrip(r)
					if err == nil && resp.Header.Get("X-Reached") == "other" {
						reachedSameHost.Store(r.Header.Get("password"), true)
					}
					return resp, err
				})}
			}
			c := &scm.Client{
				BaseURL: from.URL + "/api", Login: "admin-login", Password: "S3CRET-PASSWORD", CustomerURI: "cust",
				ClientCert: tc.clientCert, HTTPClient: hc, Timeout: 10 * time.Second,
				RetryBackoff: func(int) time.Duration { return time.Millisecond },
			}
			call := tc.call
			if call == nil {
				call = func(c *scm.Client) error { _, err := c.ListServers(t.Context(), scm.ServerFilter{}); return err }
			}
			err := call(c)
			for _, r := range other.requests() {
				t.Errorf("the other host received %q", r)
			}
			reachedSameHost.Range(func(k, _ any) bool {
				t.Errorf("the other host name received a request (password %q)", k)
				return true
			})
			if err == nil {
				t.Fatalf("redirect to %s: no error", target)
			}
			if !strings.Contains(err.Error(), "redirect") || !strings.Contains(err.Error(), target) {
				t.Errorf("error %q: want it to name the refused redirect to %s", err, target)
			}
			if strings.Contains(err.Error(), "S3CRET") {
				t.Errorf("error %q shows the password", err)
			}
			if !errors.Is(err, scm.ErrRedirect) {
				t.Errorf("error %q: want errors.Is(err, scm.ErrRedirect)", err)
			}
		})
	}
}

// A redirect within the same scheme and host is followed with the credentials:
// it stays inside the server the operator named.
func TestRedirectSameOriginFollowed(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("password"))
		mu.Unlock()
		if r.URL.Path == "/api/acme/v1/server" {
			http.Redirect(w, r, "/api/v2/acme/v1/server?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, `[{"name":"moved","url":"https://acme.example/dir"}]`)
	}))
	t.Cleanup(hs.Close)
	c := &scm.Client{BaseURL: hs.URL + "/api", Login: "l", Password: "pw", CustomerURI: "c", Timeout: 10 * time.Second}
	ss, err := c.ListServers(t.Context(), scm.ServerFilter{})
	if err != nil || len(ss) != 1 || ss[0].Name != "moved" {
		t.Fatalf("ListServers through a same-origin redirect = %+v, %v", ss, err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"/api/acme/v1/server pw", "/api/v2/acme/v1/server pw"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("requests = %q, want %q", seen, want)
	}
}

// A plain-http SCM base URL is refused before any request unless it is a
// loopback address; the error names the URL.
func TestPlainHTTPBaseURL(t *testing.T) {
	tests := []struct {
		base string
		ok   bool
	}{
		{"http://cert-manager.com/api", false},
		{"http://scm.internal.example:8080/api", false},
		{"HTTP://cert-manager.com/api", false},
		{"http://10.0.0.1/api", false},
		{"http://127.0.0.1.example.com/api", false},
		{"http://localhost.example.com/api", false},
		{"http://[::ffff:10.0.0.1]/api", false},
		{"http://127.0.0.1:8443/api", true},
		{"http://127.1.2.3/api", true},
		{"http://localhost:9/api", true},
		{"http://LOCALHOST/api", true},
		{"http://[::1]:9/api", true},
		{"https://cert-manager.com/api", true},
	}
	for _, tc := range tests {
		t.Run(tc.base, func(t *testing.T) {
			var sent int
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent++
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("[]")), Request: r}, nil
			})}
			c := &scm.Client{BaseURL: tc.base, Login: "l", Password: "pw", CustomerURI: "c", HTTPClient: hc}
			_, err := c.ListServers(t.Context(), scm.ServerFilter{})
			if tc.ok {
				if err != nil || sent != 1 {
					t.Errorf("ListServers(%s) = %v after %d requests; want success", tc.base, err, sent)
				}
				return
			}
			if err == nil || sent != 0 {
				t.Fatalf("ListServers(%s) = %v after %d requests; want a refusal before any request", tc.base, err, sent)
			}
			if !strings.Contains(err.Error(), tc.base) || !strings.Contains(err.Error(), "https") {
				t.Errorf("error %q: want it to name %s and ask for https", err, tc.base)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func selfSignedClientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scm-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
