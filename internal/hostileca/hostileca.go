// Package hostileca is a small fake ACME CA for tests, on loopback only, that
// can misbehave on purpose: challenge tokens that are paths, authorizations
// and orders for names that were not asked for, certificates for other names
// or another key, a 10,000-certificate chain, and redirects to another host.
// It speaks just enough of RFC 8555 for a client to reach the step where the
// misbehaviour happens; it does not verify signatures or validate challenges.
//
// It is not Pebble and not a conformance test: an honest run (Honest) proves
// only that the client gets through it, so a refusal under the other
// behaviours is the client's doing. Test support: nothing but tests imports it.
package hostileca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Behavior is how the CA misbehaves.
type Behavior string

// Behaviours.
const (
	Honest             Behavior = "honest"               // issues what was asked
	TokenSlash         Behavior = "token-slash"          // http-01 token "a/b" (a path)
	TokenParent        Behavior = "token-parent"         // token "../../../escaped" (climbs out of the webroot)
	TokenDotDot        Behavior = "token-dotdot"         // token ".."
	TokenNUL           Behavior = "token-nul"            // token with a NUL byte
	TokenAbsolute      Behavior = "token-absolute"       // token "/tmp/x" style absolute path
	ExtraAuthz         Behavior = "extra-authz"          // the order carries an authorization for a name not asked for
	ExtraOrderName     Behavior = "extra-order-name"     // the order lists an identifier not asked for
	CertOtherNames     Behavior = "cert-other-names"     // the certificate names other names (our key)
	CertExtraName      Behavior = "cert-extra-name"      // the certificate adds a name to ours
	CertOtherKey       Behavior = "cert-other-key"       // the certificate is for a key that is not ours (our names)
	HugeChain          Behavior = "huge-chain"           // leaf + 9,999 more certificates
	GarbageCert        Behavior = "garbage-cert"         // an HTML page where the PEM chain should be
	RedirectDirectory  Behavior = "redirect-directory"   // GET of the directory → 302 to the peer
	RedirectNewOrder   Behavior = "redirect-new-order"   // POST newOrder → 307 to the peer
	RedirectCert       Behavior = "redirect-certificate" // POST-as-GET of the certificate → 308 to the peer
	RedirectNewAccount Behavior = "redirect-new-account" // POST newAccount → 307 to the peer
	EABRequired        Behavior = "eab-required"         // the directory says externalAccountRequired; newAccount without EAB is refused
)

// HugeChainLen is the number of certificates HugeChain serves.
const HugeChainLen = 10000

// Names the CA adds when it misbehaves with names.
const (
	ForeignName = "foreign.hostile.example"
)

// Tokens served by the token behaviours.
var Tokens = map[Behavior]string{
	TokenSlash:    "abc/def",
	TokenParent:   "../../../escaped-by-token",
	TokenDotDot:   "..",
	TokenNUL:      "abc\x00def",
	TokenAbsolute: "/tmp/hostileca-absolute-token",
}

// CA is the key pair that signs both the servers' TLS certificate and the
// certificates they issue. Trust it through Bundle.
type CA struct {
	Cert   *x509.Certificate
	PEM    []byte
	Bundle string // PEM file of the root, for --ca-bundle / REQUESTS_CA_BUNDLE
	key    *ecdsa.PrivateKey
	tls    tls.Certificate
}

// NewCA makes a root and a TLS certificate for 127.0.0.1/localhost and writes
// the root to dir/hostileca.pem.
func NewCA(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostileca root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	tkey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tder, err := ca.sign(tkey.Public(), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if err != nil {
		return nil, err
	}
	ca.tls = tls.Certificate{Certificate: [][]byte{tder}, PrivateKey: tkey}
	ca.Bundle = filepath.Join(dir, "hostileca.pem")
	if err := os.WriteFile(ca.Bundle, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

func (ca *CA) sign(pub crypto.PublicKey, names []string, ips []net.IP) ([]byte, error) {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tpl := &x509.Certificate{
		SerialNumber: serial, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		DNSNames: names, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return x509.CreateCertificate(rand.Reader, tpl, ca.Cert, pub, ca.key)
}

// Server is one running fake CA.
type Server struct {
	URL          string // https://127.0.0.1:PORT
	DirectoryURL string // URL + "/dir"
	CA           *CA

	srv *http.Server

	mu       sync.Mutex
	behavior Behavior
	peer     string // base URL redirects point at
	nonce    int
	orders   []*order
	log      []string
}

type order struct {
	ids       []ident // as served
	asked     []ident
	authzs    []*authz
	status    string
	certPEM   []byte
	finalized int
}

type authz struct {
	id     ident
	token  string
	status string
}

type ident struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Start starts an honest CA signed by ca, listening on 127.0.0.1.
func Start(ca *CA) (*Server, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.tls}})
	if err != nil {
		return nil, fmt.Errorf("hostileca: %w", err)
	}
	s := &Server{CA: ca, behavior: Honest, URL: "https://" + ln.Addr().String()}
	s.DirectoryURL = s.URL + "/dir"
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// SetBehavior changes how the CA behaves from the next request on.
func (s *Server) SetBehavior(b Behavior) {
	s.mu.Lock()
	s.behavior = b
	s.mu.Unlock()
}

// SetPeer sets the base URL the redirect behaviours point at.
func (s *Server) SetPeer(base string) {
	s.mu.Lock()
	s.peer = base
	s.mu.Unlock()
}

// Requests returns "METHOD /path" for every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// Finalizations returns how many finalize requests each order got.
func (s *Server) Finalizations() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, o := range s.orders {
		out = append(out, o.finalized)
	}
	return out
}

var b64 = base64.RawURLEncoding

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r.Method+" "+r.URL.Path)
	s.nonce++
	w.Header().Set("Replay-Nonce", "nonce-"+strconv.Itoa(s.nonce))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Link", fmt.Sprintf("<%s>;rel=\"index\"", s.DirectoryURL))
	path := r.URL.Path
	switch {
	case path == "/dir":
		s.directory(w, r)
		return
	case path == "/nonce":
		w.WriteHeader(http.StatusOK)
		return
	case r.Method != http.MethodPost:
		problem(w, http.StatusMethodNotAllowed, "malformed", "POST only")
		return
	}
	payload, err := jwsPayload(r.Body)
	if err != nil {
		problem(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	switch {
	case path == "/new-account":
		s.newAccount(w, payload)
	case strings.HasPrefix(path, "/acct/"):
		writeJSON(w, http.StatusOK, map[string]any{"status": "valid", "orders": s.URL + "/acct/1/orders"})
	case path == "/new-order":
		s.newOrder(w, payload)
	case strings.HasPrefix(path, "/order/"):
		n, ok := s.orderNum(path, "/order/")
		if !ok {
			problem(w, http.StatusNotFound, "malformed", "no such order")
			return
		}
		writeJSON(w, http.StatusOK, s.orderJSON(n))
	case strings.HasPrefix(path, "/authz/"), strings.HasPrefix(path, "/chall/"):
		s.authzOrChallenge(w, path)
	case strings.HasPrefix(path, "/finalize/"):
		s.finalize(w, path, payload)
	case strings.HasPrefix(path, "/cert/"):
		s.certificate(w, path)
	default:
		problem(w, http.StatusNotFound, "malformed", "unknown resource")
	}
}

// orderNum parses the order number after prefix.
func (s *Server) orderNum(path, prefix string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(path, prefix))
	return n, err == nil && n >= 0 && n < len(s.orders)
}

func (s *Server) directory(w http.ResponseWriter, r *http.Request) {
	b := s.behavior
	if b == RedirectDirectory && s.peer != "" {
		http.Redirect(w, r, s.peer+"/dir", http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"newNonce": s.URL + "/nonce", "newAccount": s.URL + "/new-account", "newOrder": s.URL + "/new-order",
		"revokeCert": s.URL + "/revoke", "keyChange": s.URL + "/key-change",
		"meta": map[string]any{"termsOfService": s.URL + "/tos", "externalAccountRequired": b == EABRequired},
	})
}

// redirected answers with a redirect to the peer when the behavior asks for it.
func (s *Server) redirected(w http.ResponseWriter, want Behavior, path string, code int) bool {
	if s.behavior != want || s.peer == "" {
		return false
	}
	w.Header().Set("Location", s.peer+path)
	w.WriteHeader(code)
	return true
}

func (s *Server) newAccount(w http.ResponseWriter, payload []byte) {
	if s.redirected(w, RedirectNewAccount, "/new-account", http.StatusTemporaryRedirect) {
		return
	}
	if s.behavior == EABRequired && !bytes.Contains(payload, []byte("externalAccountBinding")) {
		problem(w, http.StatusUnauthorized, "externalAccountRequired", "external account binding is required")
		return
	}
	w.Header().Set("Location", s.URL+"/acct/1")
	writeJSON(w, http.StatusCreated, map[string]any{"status": "valid", "orders": s.URL + "/acct/1/orders"})
}

func (s *Server) newOrder(w http.ResponseWriter, payload []byte) {
	if s.redirected(w, RedirectNewOrder, "/new-order", http.StatusTemporaryRedirect) {
		return
	}
	var req struct {
		Identifiers []ident `json:"identifiers"`
	}
	if err := json.Unmarshal(payload, &req); err != nil || len(req.Identifiers) == 0 {
		problem(w, http.StatusBadRequest, "malformed", "bad newOrder")
		return
	}
	b := s.behavior
	o := &order{asked: req.Identifiers, ids: append([]ident(nil), req.Identifiers...), status: "pending"}
	ids := o.ids
	if b == ExtraOrderName {
		o.ids = append(o.ids, ident{"dns", ForeignName})
	}
	if b == ExtraAuthz {
		ids = append(append([]ident(nil), ids...), ident{"dns", ForeignName})
	}
	for _, id := range ids {
		tok := make([]byte, 32)
		rand.Read(tok)
		a := &authz{id: id, token: b64.EncodeToString(tok), status: "pending"}
		if t, ok := Tokens[b]; ok {
			a.token = t
		}
		o.authzs = append(o.authzs, a)
	}
	s.orders = append(s.orders, o)
	n := len(s.orders) - 1
	w.Header().Set("Location", fmt.Sprintf("%s/order/%d", s.URL, n))
	writeJSON(w, http.StatusCreated, s.orderJSON(n))
}

func (s *Server) authzOrChallenge(w http.ResponseWriter, path string) {
	var o, a int
	if _, err := fmt.Sscanf(path[len("/authz/"):], "%d/%d", &o, &a); err != nil || o < 0 || o >= len(s.orders) || a < 0 || a >= len(s.orders[o].authzs) {
		problem(w, http.StatusNotFound, "malformed", "no such authorization")
		return
	}
	az := s.orders[o].authzs[a]
	if strings.HasPrefix(path, "/chall/") {
		// No validation: a hostile CA says yes to anything.
		az.status = "valid"
		writeJSON(w, http.StatusOK, s.challJSON(o, a))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifier": az.id, "status": az.status,
		"expires": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "challenges": []any{s.challJSON(o, a)}})
}

func (s *Server) finalize(w http.ResponseWriter, path string, payload []byte) {
	n, ok := s.orderNum(path, "/finalize/")
	if !ok {
		problem(w, http.StatusNotFound, "malformed", "no such order")
		return
	}
	o := s.orders[n]
	o.finalized++
	var req struct {
		CSR string `json:"csr"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		problem(w, http.StatusBadRequest, "malformed", "bad finalize")
		return
	}
	der, err := b64.DecodeString(req.CSR)
	if err != nil {
		problem(w, http.StatusBadRequest, "badCSR", err.Error())
		return
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		problem(w, http.StatusBadRequest, "badCSR", err.Error())
		return
	}
	if err := s.issue(o, csr, s.behavior); err != nil {
		problem(w, http.StatusInternalServerError, "serverInternal", err.Error())
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/order/%d", s.URL, n))
	writeJSON(w, http.StatusOK, s.orderJSON(n))
}

func (s *Server) certificate(w http.ResponseWriter, path string) {
	n, ok := s.orderNum(path, "/cert/")
	if !ok || s.orders[n].certPEM == nil {
		problem(w, http.StatusNotFound, "malformed", "no such certificate")
		return
	}
	if s.redirected(w, RedirectCert, path, http.StatusPermanentRedirect) {
		return
	}
	if s.behavior == GarbageCert {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("<html><body>504 Gateway Time-out</body></html>"))
		return
	}
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	w.WriteHeader(http.StatusOK)
	w.Write(s.orders[n].certPEM)
}

func (s *Server) issue(o *order, csr *x509.CertificateRequest, b Behavior) error {
	pub := csr.PublicKey
	names := append([]string(nil), csr.DNSNames...)
	ips := csr.IPAddresses
	switch b {
	case CertOtherNames:
		names, ips = []string{ForeignName}, nil
	case CertExtraName:
		names = append(names, ForeignName)
	case CertOtherKey:
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub = k.Public()
	}
	der, err := s.CA.sign(pub, names, ips)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	n := 1
	if b == HugeChain {
		n = HugeChainLen - 1
	}
	for range n {
		buf.Write(s.CA.PEM)
	}
	o.certPEM = buf.Bytes()
	o.status = "valid"
	return nil
}

func (s *Server) orderJSON(n int) map[string]any {
	o := s.orders[n]
	var az []string
	for i := range o.authzs {
		az = append(az, fmt.Sprintf("%s/authz/%d/%d", s.URL, n, i))
	}
	status := o.status
	if status == "pending" {
		status = "ready"
		for _, a := range o.authzs {
			if a.status != "valid" {
				status = "pending"
			}
		}
	}
	m := map[string]any{"status": status, "identifiers": o.ids, "authorizations": az,
		"finalize": fmt.Sprintf("%s/finalize/%d", s.URL, n), "expires": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	if o.certPEM != nil {
		m["certificate"] = fmt.Sprintf("%s/cert/%d", s.URL, n)
	}
	return m
}

func (s *Server) challJSON(o, a int) map[string]any {
	az := s.orders[o].authzs[a]
	st := "pending"
	if az.status == "valid" {
		st = "valid"
	}
	return map[string]any{"type": "http-01", "url": fmt.Sprintf("%s/chall/%d/%d", s.URL, o, a), "token": az.token, "status": st}
}

// jwsPayload returns the decoded payload of a flattened JWS (no signature check).
func jwsPayload(body io.Reader) ([]byte, error) {
	var j struct {
		Protected, Payload, Signature string
	}
	if err := json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&j); err != nil {
		return nil, fmt.Errorf("not a JWS: %v", err)
	}
	if j.Protected == "" || j.Signature == "" {
		return nil, fmt.Errorf("not a JWS: missing protected header or signature")
	}
	return b64.DecodeString(j.Payload)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "urn:ietf:params:acme:error:" + typ, "detail": detail, "status": status})
}
