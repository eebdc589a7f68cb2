package tlsalpn01

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var _ interface {
	Present(ctx context.Context, domain, token, keyAuth string) error
	CleanUp(ctx context.Context, domain, token, keyAuth string) error
} = (*Standalone)(nil)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// checkCert verifies the RFC 8737 §3 properties of a validation certificate.
func checkCert(t *testing.T, cert *x509.Certificate, identifier, keyAuth string) {
	t.Helper()
	var sans []string
	sans = append(sans, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		sans = append(sans, ip.String())
	}
	if len(sans) != 1 || sans[0] != identifier || len(cert.EmailAddresses)+len(cert.URIs) != 0 {
		t.Errorf("SANs = %v (+%d other), want exactly [%s]", sans, len(cert.EmailAddresses)+len(cert.URIs), identifier)
	}
	var found int
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(OIDACMEIdentifier) {
			continue
		}
		found++
		if !ext.Critical {
			t.Error("acmeIdentifier extension is not critical")
		}
		var got []byte
		rest, err := asn1.Unmarshal(ext.Value, &got)
		if err != nil || len(rest) != 0 {
			t.Fatalf("acmeIdentifier is not a single OCTET STRING: %v (rest %d)", err, len(rest))
		}
		want := sha256.Sum256([]byte(keyAuth))
		if string(got) != string(want[:]) {
			t.Errorf("acmeIdentifier = %x, want %x", got, want)
		}
	}
	if found != 1 {
		t.Errorf("%d acmeIdentifier extensions, want 1", found)
	}
}

func TestChallengeCertificate(t *testing.T) {
	for _, id := range []string{"a.example", "127.0.0.1", "::1", "2001:db8::1"} {
		c, err := ChallengeCertificate(id, "tok.thumb")
		if err != nil {
			t.Fatalf("ChallengeCertificate(%s): %v", id, err)
		}
		checkCert(t, c.Leaf, id, "tok.thumb")
	}
}

func TestReverseName(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1":   "1.0.0.127.in-addr.arpa",
		"192.0.2.10":  "10.2.0.192.in-addr.arpa",
		"::1":         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		"2001:db8::5": "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"a.example":   "",
	}
	for in, want := range tests {
		if got := ReverseName(in); got != want {
			t.Errorf("ReverseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func dial(t *testing.T, port int, sni string, protos []string) (*x509.Certificate, string, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{
		ServerName:         sni,
		NextProtos:         protos,
		InsecureSkipVerify: true, // the validation certificate is self-signed by design (RFC 8737 §3); checkCert verifies it
	})
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	st := c.ConnectionState()
	return st.PeerCertificates[0], st.NegotiatedProtocol, nil
}

func TestStandalone(t *testing.T) {
	port := freePort(t)
	s := NewStandalone("127.0.0.1", port)
	defer s.Close()
	ctx := t.Context()
	for _, id := range []string{"a.example", "b.example", "127.0.0.1"} {
		if err := s.Present(ctx, id, "tok", id+".ka"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		sni, identifier string
	}{
		{"a.example", "a.example"},
		{"B.Example", "b.example"},
		{"1.0.0.127.in-addr.arpa", "127.0.0.1"},
	}
	for _, tc := range tests {
		cert, proto, err := dial(t, port, tc.sni, []string{ACMETLS1Protocol})
		if err != nil {
			t.Fatalf("handshake for %s: %v", tc.sni, err)
		}
		if proto != ACMETLS1Protocol {
			t.Errorf("negotiated %q, want %q", proto, ACMETLS1Protocol)
		}
		checkCert(t, cert, tc.identifier, tc.identifier+".ka")
	}
	// Refusals: unknown name, no ALPN, other ALPN.
	for _, tc := range []struct {
		sni    string
		protos []string
	}{
		{"unknown.example", []string{ACMETLS1Protocol}},
		{"a.example", nil},
		{"a.example", []string{"h2", "http/1.1"}},
	} {
		if _, _, err := dial(t, port, tc.sni, tc.protos); err == nil {
			t.Errorf("handshake sni=%s alpn=%v succeeded, want refusal", tc.sni, tc.protos)
		}
	}
	for _, id := range []string{"a.example", "b.example"} {
		if err := s.CleanUp(ctx, id, "tok", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := dial(t, port, "a.example", []string{ACMETLS1Protocol}); err == nil {
		t.Error("cleaned-up name still answered")
	}
	if s.Addr() == nil {
		t.Fatal("listener closed with one identifier left")
	}
	if err := s.CleanUp(ctx, "127.0.0.1", "tok", ""); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != nil {
		t.Fatal("listener still open after the last CleanUp")
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	l.Close()
}

func TestStandalonePortInUse(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	s := NewStandalone("", port)
	defer s.Close()
	err = s.Start(t.Context())
	var pe *PortInUseError
	if !errors.As(err, &pe) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Start on a taken port = %v, want PortInUseError", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("port %d", port)) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error %q does not name the port and holder", err)
	}
	if err := s.Present(t.Context(), "a.example", "tok", "ka"); !errors.As(err, &pe) {
		t.Errorf("Present on a taken port = %v", err)
	}
	if s.Addr() != nil {
		t.Error("listener open after failure")
	}
}
