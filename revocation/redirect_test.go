package revocation

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRevocationRedirectNeverLeavesTheHost (issue 16, must-show 3: a
// redirect test for every HTTP client): through the production client
// (NewHTTPClient's redirect policy), neither the OCSP POST nor the CRL GET
// follows a redirect to another host or scheme — http to another port,
// https to http — and the other host receives nothing; a redirect on the
// same host is followed. What reaches the responder is the OCSP request or
// a bodiless GET with no header beyond User-Agent, Content-Type and the
// transport's own: no Authorization, no Cookie, nothing of the ACME client.
func TestRevocationRedirectNeverLeavesTheHost(t *testing.T) {
	ca := newTestCA(t)
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Write(ca.crl(ca.key))
	}))
	defer other.Close()

	var mu sync.Mutex
	var headers []string
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		for k := range r.Header {
			if !slices.Contains(headers, k) {
				headers = append(headers, k)
			}
		}
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/ocsp-away", "/crl-away":
			http.Redirect(w, r, other.URL+"/"+strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "-away"), http.StatusTemporaryRedirect)
		case "/ocsp-here":
			http.Redirect(w, r, "/ocsp", http.StatusTemporaryRedirect)
		case "/crl-here":
			http.Redirect(w, r, "/crl", http.StatusFound)
		default:
			ca.serve(w, r)
		}
	}
	plain := httptest.NewServer(http.HandlerFunc(handler))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(handler))
	defer secure.Close()

	client := func() *http.Client {
		hc := NewHTTPClient(10 * time.Second)
		roots := x509.NewCertPool()
		roots.AddCert(secure.Certificate())
		hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		return hc
	}
	leafAt := func(url string, ocspURL bool) *x509.Certificate {
		c := ca.leaf(ocspURL)
		if ocspURL {
			c.OCSPServer = []string{url}
		} else {
			c.CRLDistributionPoints = []string{url}
		}
		return c
	}
	for _, tc := range []struct {
		name, url string
		ocsp      bool
		want      Status
	}{
		{"OCSP POST to another port", plain.URL + "/ocsp-away", true, Unknown},
		{"OCSP POST https to http", secure.URL + "/ocsp-away", true, Unknown},
		{"CRL GET to another port", plain.URL + "/crl-away", false, Unknown},
		{"CRL GET https to http", secure.URL + "/crl-away", false, Unknown},
		{"OCSP POST on the same host", secure.URL + "/ocsp-here", true, Good},
		{"CRL GET on the same host", plain.URL + "/crl-here", false, Good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := (&Checker{HTTPClient: client()}).Check(t.Context(), leafAt(tc.url, tc.ocsp), ca.cert)
			if r.Status != tc.want {
				t.Errorf("status %v (%v), want %v", r.Status, r.Err, tc.want)
			}
			if tc.want == Unknown && (!errors.Is(r.Err, ErrRedirect) || !strings.Contains(r.Err.Error(), other.URL)) {
				t.Errorf("error %v, want ErrRedirect naming %s", r.Err, other.URL)
			}
		})
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host got %d request(s), want none", n)
	}
	if n, m := ca.ocspN.Load(), ca.crlN.Load(); n != 1 || m != 1 {
		t.Errorf("the responder answered %d OCSP and %d CRL requests, want 1 and 1 (the same-host cases)", n, m)
	}
	sort.Strings(headers)
	allowed := []string{"Accept-Encoding", "Content-Length", "Content-Type", "Referer", "User-Agent"}
	for _, h := range headers {
		if !slices.Contains(allowed, h) {
			t.Errorf("a revocation request carried the header %s; want only %v", h, allowed)
		}
	}
}
