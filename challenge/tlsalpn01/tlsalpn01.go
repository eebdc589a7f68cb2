// Package tlsalpn01 answers ACME tls-alpn-01 challenges (RFC 8737) from its own
// TLS listener: to a ClientHello offering the "acme-tls/1" protocol it presents a
// self-signed certificate for the identifier carrying the critical
// id-pe-acmeIdentifier extension. It answers nothing else (no HTTP, no other
// ALPN protocols), so it cannot share a port with a running web server.
package tlsalpn01

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/challenge/internal/portuse"
)

// ACMETLS1Protocol is the ALPN protocol name of RFC 8737 §6.2.
const ACMETLS1Protocol = "acme-tls/1"

// DefaultPort is the port the CA connects to for tls-alpn-01.
const DefaultPort = 443

// OIDACMEIdentifier is id-pe-acmeIdentifier (RFC 8737 §6.1).
var OIDACMEIdentifier = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}

// PortInUseError is returned when the listener's port is taken; it names the
// holding process when /proc tells. errors.Is(err, syscall.EADDRINUSE) holds.
type PortInUseError = portuse.Error

// ChallengeCertificate returns the self-signed validation certificate of RFC 8737
// §3 for identifier (a DNS name, or an IP address per RFC 8738 §6): its only SAN
// is the identifier and it carries the critical acmeIdentifier extension holding
// SHA-256(keyAuth) as an ASN.1 OCTET STRING. The key is a fresh P-256 key.
func ChallengeCertificate(identifier, keyAuth string) (*tls.Certificate, error) {
	sum := sha256.Sum256([]byte(keyAuth))
	extValue, err := asn1.Marshal(sum[:])
	if err != nil {
		return nil, fmt.Errorf("tls-alpn-01: encode acmeIdentifier: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls-alpn-01: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls-alpn-01: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ACME tls-alpn-01 challenge"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		ExtraExtensions: []pkix.Extension{{
			Id: OIDACMEIdentifier, Critical: true, Value: extValue,
		}},
	}
	if ip, err := netip.ParseAddr(identifier); err == nil {
		tmpl.IPAddresses = []net.IP{ip.AsSlice()}
	} else {
		tmpl.DNSNames = []string{identifier}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tls-alpn-01: create certificate for %s: %w", identifier, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls-alpn-01: parse certificate for %s: %w", identifier, err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: crypto.Signer(key), Leaf: leaf}, nil
}

// ReverseName returns the in-addr.arpa / ip6.arpa name (without the final dot)
// that a CA sends as SNI for an IP identifier (RFC 8738 §6), or "" when ip is not
// an IP address.
func ReverseName(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	var b strings.Builder
	if a.Is4() {
		v := a.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(v[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa")
		return b.String()
	}
	v := a.As16()
	const hexDigits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b.WriteByte(hexDigits[v[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hexDigits[v[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa")
	return b.String()
}

// Standalone is a tls-alpn-01 listener. It opens on Start or on the first Present
// and closes when the last presented identifier is cleaned up, or on Close.
//
// A Standalone is safe for concurrent use. Set the exported fields before the
// first call and do not copy it afterwards.
type Standalone struct {
	// Address is the IP address to listen on; empty means every IPv4 and IPv6 address.
	Address string
	// Port defaults to 443.
	Port int
	// Logger receives one Debug record per handshake. Nil discards.
	Logger *slog.Logger

	mu    sync.Mutex
	certs map[string]*tls.Certificate // SNI name (lower case) → certificate
	ln    net.Listener
	done  chan struct{} // closed when the accept loop and its handshakes are over
}

// NewStandalone returns a Standalone for address ("" = all) and port (0 = 443).
func NewStandalone(address string, port int) *Standalone {
	return &Standalone{Address: address, Port: port}
}

func (s *Standalone) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Start opens the listener now, so that a taken port fails before an order is
// created; a no-op when already open. A taken port returns *PortInUseError.
func (s *Standalone) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked(ctx)
}

func (s *Standalone) startLocked(ctx context.Context) error {
	if s.ln != nil {
		return nil
	}
	ln, err := portuse.Listen(ctx, portuse.HostPort(s.Address, s.Port, DefaultPort))
	if err != nil {
		return fmt.Errorf("tls-alpn-01 standalone: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{ACMETLS1Protocol},
		GetCertificate: s.getCertificate,
	}
	done := make(chan struct{})
	s.ln, s.done = ln, done
	go s.accept(ln, cfg, done)
	s.logger().LogAttrs(ctx, slog.LevelInfo, "tls-alpn-01 standalone listening", slog.String("address", ln.Addr().String()))
	return nil
}

func (s *Standalone) accept(ln net.Listener, cfg *tls.Config, done chan struct{}) {
	var conns sync.WaitGroup
	defer close(done)
	defer conns.Wait() // each handshake has a 10 s deadline
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			tc := tls.Server(c, cfg)
			err := tc.Handshake()
			s.logger().LogAttrs(context.Background(), slog.LevelDebug, "tls-alpn-01 handshake",
				slog.String("remote_addr", c.RemoteAddr().String()),
				slog.String("server_name", tc.ConnectionState().ServerName),
				slog.Any("error", err))
		}()
	}
}

func (s *Standalone) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if !slices.Contains(hello.SupportedProtos, ACMETLS1Protocol) {
		return nil, fmt.Errorf("tls-alpn-01: client did not offer %s", ACMETLS1Protocol)
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.certs[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("tls-alpn-01: no challenge in flight for server name %q", hello.ServerName)
}

// Addr returns the listener's address, or nil when it is closed.
func (s *Standalone) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Present builds the validation certificate for domain (a DNS name or an IP
// address) and serves it to ClientHellos naming domain (for an IP: its reverse
// name, RFC 8738 §6), opening the listener if needed.
func (s *Standalone) Present(ctx context.Context, domain, token, keyAuth string) error {
	cert, err := ChallengeCertificate(domain, keyAuth)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startLocked(ctx); err != nil {
		return err
	}
	if s.certs == nil {
		s.certs = map[string]*tls.Certificate{}
	}
	for _, n := range sniNames(domain) {
		s.certs[n] = cert
	}
	return nil
}

func sniNames(domain string) []string {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if r := ReverseName(d); r != "" {
		return []string{r}
	}
	return []string{d}
}

// CleanUp stops answering for domain and closes the listener when nothing is
// left. Cleaning up an unknown identifier returns nil.
func (s *Standalone) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	s.mu.Lock()
	for _, n := range sniNames(domain) {
		delete(s.certs, n)
	}
	if len(s.certs) > 0 {
		s.mu.Unlock()
		return nil
	}
	ln, done := s.detachLocked()
	s.mu.Unlock()
	s.stop(ln, done)
	return nil
}

// Close stops the listener and forgets every certificate; safe to call more
// than once.
func (s *Standalone) Close() error {
	s.mu.Lock()
	s.certs = nil
	ln, done := s.detachLocked()
	s.mu.Unlock()
	s.stop(ln, done)
	return nil
}

func (s *Standalone) detachLocked() (net.Listener, chan struct{}) {
	ln, done := s.ln, s.done
	s.ln, s.done = nil, nil
	return ln, done
}

func (s *Standalone) stop(ln net.Listener, done chan struct{}) {
	if ln == nil {
		return
	}
	_ = ln.Close()
	<-done
}
