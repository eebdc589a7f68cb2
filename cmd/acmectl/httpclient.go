package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func defaultUserAgent() string { return "acmectl/" + version }

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

// newHTTPClient builds the client every CA request goes through: timeouts,
// proxies from the environment, and the system roots plus the PEM roots in
// caBundle (from --ca-bundle or $REQUESTS_CA_BUNDLE) when set.
func newHTTPClient(caBundle string) (*http.Client, error) {
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
