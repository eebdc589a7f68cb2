// Package sectigoca is a fake ACME CA for tests that behaves as Sectigo's ACME
// service behaved for its customers (shared/reference/sectigo.md §3, issue
// 15): a bare directory URL whose ".../directory" is forbidden, mandatory
// external account binding with the key ID bound to the first account key,
// pre-validated names whose authorizations are already valid and offer only
// sectigo-* challenges, "wildcard": true on such authorizations whatever was
// ordered, "Retry-After: 300" on every authorization, orders that say
// "pending" although their authorizations are valid, a finalize held open
// for as long as issuance takes, a free extra SAN, and a chain ending in the
// cross-sign by "AAA Certificate Services".
//
// It listens on 127.0.0.1 with TLS (trust it through Server.Bundle, e.g.
// acmectl --ca-bundle) and is started in-process by a test; it counts what
// it was asked (newOrder, finalize, certificates issued) so a test can prove
// that no second certificate was minted. It verifies JWS signatures, nonces
// and EAB MACs, but validates no challenge: a pending authorization becomes
// valid Config.DCVDelay after the client responds. Test support: nothing but
// tests imports it.
package sectigoca

import (
	"bytes"
	"context"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Config is how the CA behaves. The zero value is an RFC-abiding CA without
// EAB whose authorizations are pending; SectigoDefaults is Sectigo's OV
// service for a customer whose domains are validated in SCM.
type Config struct {
	// PreValidateAll makes every authorization valid at creation, offering
	// only a tokenless sectigo-email-01 (sectigo-dns-01 for a wildcard)
	// challenge (grindsa/acme2certifier#122, acmesh-official/acme.sh PR
	// #4150). PreValidated does so for the listed names only ("*.x" for a
	// wildcard).
	PreValidateAll bool
	PreValidated   []string
	// WildcardFlagOnValid sets "wildcard": true on valid authorizations of
	// names ordered without "*." (acme2certifier#122). Other authorizations
	// of non-wildcard names carry an explicit "wildcard": false
	// (srvrco/getssl#843).
	WildcardFlagOnValid bool
	// OrderPendingWhileValid: an order is "pending" although its
	// authorizations are all valid, until the client has fetched each of them.
	OrderPendingWhileValid bool
	// AuthzRetryAfter is the Retry-After (seconds) sent with every
	// authorization, valid or pending (Sectigo: 300).
	AuthzRetryAfter int
	// PendingChallenges are the types a pending authorization offers
	// (default http-01 and dns-01; a wildcard gets dns-01 only).
	PendingChallenges []string
	// DCVDelay: a pending authorization becomes valid this long after the
	// client responded to one of its challenges (nothing is validated).
	DCVDelay time.Duration
	// FinalizeDelay holds the finalize request open this long before it is
	// answered (Sectigo's synchronous issuance; esnet/acme-proxy#22). The
	// certificate is minted when the request arrives and the order becomes
	// valid at the end of the delay whether or not the client is still there.
	FinalizeDelay time.Duration
	// ReadyDuringFinalize: during the hold the order shows "ready" for this
	// long, then "processing".
	ReadyDuringFinalize time.Duration
	// ProcessingAfterFinalize keeps the order "processing" this long after
	// the finalize answer (asynchronous issuance), with Retry-After 1.
	ProcessingAfterFinalize time.Duration
	// EAB maps EAB key IDs to HMAC keys; non-empty makes the directory
	// require external account binding.
	EAB map[string][]byte
	// EABReuse lets a key ID bind more than one account key (Sectigo enables
	// it on request). Without it a second key gets "[External Account
	// Binding] The account is not awaiting external account binding"
	// (certbot/certbot#8944).
	EABReuse bool
	// ExtraSAN adds "www." + the first name (its base name for a wildcard)
	// to the certificate, as Sectigo's single-domain and wildcard products do.
	ExtraSAN bool
	// CrossSigned ends the chain with the USERTrust root cross-signed by
	// "AAA Certificate Services" (win-acme/win-acme#2653); otherwise the
	// chain is the intermediate alone.
	CrossSigned bool
	// ReuseOrders answers newOrder for the same names as an unexpired order
	// of the same account that is not invalid with that order
	// (certbot/certbot#8301).
	ReuseOrders bool
	// StrictOrderFields refuses a newOrder carrying anything but identifiers
	// (replaces, profile, notBefore, notAfter) with 400 malformed and an empty
	// detail (win-acme/win-acme#2607).
	StrictOrderFields bool
	// RenewalInfo lists a renewalInfo endpoint (ARI) in the directory; it
	// answers 404 for every certificate. With StrictOrderFields a renewal
	// order carrying "replaces" then gets Sectigo's empty malformed.
	RenewalInfo bool
}

// SectigoDefaults is Sectigo's OV service for names validated in SCM.
func SectigoDefaults(eab map[string][]byte) Config {
	return Config{PreValidateAll: true, WildcardFlagOnValid: true, OrderPendingWhileValid: true, AuthzRetryAfter: 300,
		EAB: eab, CrossSigned: true, StrictOrderFields: true}
}

// Names of the issuing hierarchy.
const (
	RootAAA        = "AAA Certificate Services"
	RootUSERTrust  = "USERTrust RSA Certification Authority"
	IntermediateCN = "Sectigo RSA Domain Validation Secure Server CA"
	// DirectoryPath is the path of the directory: the bare URL, as Sectigo's
	// https://acme.sectigo.com/v2/OV.
	DirectoryPath = "/v2/OV"
)

// Counts are what the CA was asked.
type Counts struct {
	NewAccount, NewOrder, Finalize int
	// Issued counts certificates minted (one per accepted finalize).
	Issued int
	// CertDownloads counts certificate fetches.
	CertDownloads int
	// FinalizeAbandoned counts finalize requests held open (FinalizeDelay)
	// whose client went away before the answer: the certificate was minted
	// all the same.
	FinalizeAbandoned int
}

// Server is one running fake CA.
type Server struct {
	// URL is https://127.0.0.1:PORT; DirectoryURL is URL + DirectoryPath.
	URL, DirectoryURL string
	// Bundle is a PEM file holding the root of the server's TLS certificate
	// (for --ca-bundle / REQUESTS_CA_BUNDLE).
	Bundle string
	// RootsPEM are the issuing roots (USERTrust and AAA, self-signed): what a
	// trust store holds.
	RootsPEM []byte

	srv     *http.Server
	closing chan struct{}
	tlsCert tls.Certificate

	interKey crypto.Signer
	inter    *x509.Certificate
	crossPEM []byte

	mu       sync.Mutex
	cfg      Config
	nonces   map[string]bool
	nonceN   int
	accounts []*account
	eabBound map[string][]string // key ID → account key thumbprints
	orders   []*order
	counts   Counts
	log      []string
	finCond  chan struct{} // closed and replaced on every finalize
}

type account struct {
	id         int
	key        *jose.JSONWebKey
	thumbprint string
}

type ident struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type order struct {
	acct        int
	ids         []ident
	authzs      []*authz
	created     time.Time
	finalizedAt time.Time
	certPEM     []byte
	finalizes   int
}

type authz struct {
	name      string // without "*."
	wildcard  bool   // ordered as "*."
	preValid  bool
	token     string
	responded time.Time
	fetched   bool
}

// Start starts a CA with cfg on 127.0.0.1, writing its TLS root to
// dir/sectigoca-tls.pem.
func Start(dir string, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, nonces: map[string]bool{}, eabBound: map[string][]string{}, closing: make(chan struct{}), finCond: make(chan struct{})}
	if err := s.makeHierarchy(dir); err != nil {
		return nil, fmt.Errorf("sectigoca: %w", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{s.tlsCert}})
	if err != nil {
		return nil, fmt.Errorf("sectigoca: %w", err)
	}
	s.URL = "https://" + ln.Addr().String()
	s.DirectoryURL = s.URL + DirectoryPath
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and ends held finalize requests.
func (s *Server) Close() error {
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	return s.srv.Close()
}

// Update changes the configuration from the next request on.
func (s *Server) Update(f func(*Config)) {
	s.mu.Lock()
	f(&s.cfg)
	s.mu.Unlock()
}

// Counts returns what the CA was asked so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Requests returns "METHOD /path" for every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// OrderInfo describes one order for assertions.
type OrderInfo struct {
	URL, Status string
	Names       []string
	Finalizes   int
}

// Orders lists the orders created so far.
func (s *Server) Orders() []OrderInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OrderInfo
	for n, o := range s.orders {
		var names []string
		for _, id := range o.ids {
			names = append(names, id.Value)
		}
		out = append(out, OrderInfo{URL: s.orderURL(n), Status: s.orderStatus(o, time.Now()), Names: names, Finalizes: o.finalizes})
	}
	return out
}

// WaitFinalize returns once n finalize requests have arrived (or ctx ends).
func (s *Server) WaitFinalize(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch := s.counts.Finalize, s.finCond
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sectigoca: %d of %d finalize requests: %w", got, n, ctx.Err())
		case <-ch:
		}
	}
}

func (s *Server) base() string             { return s.URL + DirectoryPath }
func (s *Server) orderURL(n int) string    { return fmt.Sprintf("%s/order/%d", s.base(), n) }
func (s *Server) authzURL(n, i int) string { return fmt.Sprintf("%s/authz/%d/%d", s.base(), n, i) }
func (s *Server) challURL(n, i int) string { return fmt.Sprintf("%s/chall/%d/%d", s.base(), n, i) }
func (s *Server) accountURL(id int) string { return fmt.Sprintf("%s/account/%d", s.base(), id) }
func (s *Server) nonceLocked() string {
	s.nonceN++
	n := "n" + strconv.Itoa(s.nonceN)
	s.nonces[n] = true
	return n
}
func (s *Server) problem(w http.ResponseWriter, status int, typ, detail string) {
	problem(w, status, typ, detail)
}

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.log = append(s.log, r.Method+" "+r.URL.Path)
	w.Header().Set("Replay-Nonce", s.nonceLocked())
	cfg := s.cfg
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=0, no-cache, no-store")
	w.Header().Set("Link", "<"+s.DirectoryURL+">;rel=\"index\"")
	if s.serveUnsigned(w, r, cfg) {
		return
	}
	path := r.URL.Path
	if !strings.HasPrefix(path, DirectoryPath+"/") || r.Method != http.MethodPost {
		s.problem(w, http.StatusNotFound, "malformed", "not found")
		return
	}
	rest := strings.TrimPrefix(path, DirectoryPath+"/")
	if rest == "newAccount" {
		s.newAccount(w, r, cfg)
		return
	}
	acct, payload, ok := s.verify(w, r)
	if !ok {
		return
	}
	parts := strings.Split(rest, "/")
	nums := make([]int, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			s.problem(w, http.StatusNotFound, "malformed", "not found")
			return
		}
		nums = append(nums, n)
	}
	s.route(w, r, acct, parts[0], nums, payload, cfg)
}

// serveUnsigned answers the requests that carry no JWS (directory, nonce,
// renewal information); it reports whether it did.
func (s *Server) serveUnsigned(w http.ResponseWriter, r *http.Request, cfg Config) bool {
	path := r.URL.Path
	switch {
	case path == DirectoryPath && r.Method == http.MethodGet:
		meta := map[string]any{"termsOfService": s.URL + "/tos.pdf", "website": "https://sectigo.example", "caaIdentities": []string{"sectigo.com"}}
		if len(cfg.EAB) > 0 {
			meta["externalAccountRequired"] = true
		}
		dir := map[string]any{"newNonce": s.base() + "/newNonce", "newAccount": s.base() + "/newAccount",
			"newOrder": s.base() + "/newOrder", "revokeCert": s.base() + "/revokeCert", "keyChange": s.base() + "/keyChange", "meta": meta}
		if cfg.RenewalInfo {
			dir["renewalInfo"] = s.base() + "/renewalInfo"
		}
		writeJSON(w, http.StatusOK, dir)
	case path == "/v2/directory" || path == DirectoryPath+"/directory":
		// Sectigo answers 403 here (win-acme/win-acme#1909).
		http.Error(w, "Forbidden", http.StatusForbidden)
	case path == DirectoryPath+"/newNonce":
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(path, DirectoryPath+"/renewalInfo/") && r.Method == http.MethodGet:
		s.problem(w, http.StatusNotFound, "malformed", "no renewal information for this certificate")
	default:
		return false
	}
	return true
}

// route runs one signed request of acct.
func (s *Server) route(w http.ResponseWriter, r *http.Request, acct *account, kind string, nums []int, payload []byte, cfg Config) {
	switch {
	case kind == "account" && len(nums) == 1:
		if nums[0] != acct.id {
			s.problem(w, http.StatusForbidden, "unauthorized", "not your account")
			return
		}
		w.Header().Set("Location", s.accountURL(acct.id))
		writeJSON(w, http.StatusOK, map[string]any{"status": "valid", "orders": s.accountURL(acct.id) + "/orders"})
	case kind == "newOrder" && len(nums) == 0:
		s.newOrder(w, acct, payload, cfg)
	case kind == "order" && len(nums) == 1:
		s.withOrder(w, acct, nums[0], func(o *order) { s.writeOrder(w, http.StatusOK, nums[0], o) })
	case kind == "authz" && len(nums) == 2:
		s.withOrder(w, acct, nums[0], func(o *order) { s.writeAuthz(w, nums[0], nums[1], o, cfg) })
	case kind == "chall" && len(nums) == 2:
		s.withOrder(w, acct, nums[0], func(o *order) { s.respond(w, nums[0], nums[1], o) })
	case kind == "finalize" && len(nums) == 1:
		s.finalize(w, r, acct, nums[0], payload, cfg)
	case kind == "cert" && len(nums) == 1:
		s.withOrder(w, acct, nums[0], func(o *order) {
			if s.orderStatus(o, time.Now()) != "valid" {
				s.problem(w, http.StatusNotFound, "malformed", "no certificate yet")
				return
			}
			s.counts.CertDownloads++
			w.Header().Set("Content-Type", "application/pem-certificate-chain")
			w.WriteHeader(http.StatusOK)
			w.Write(o.certPEM)
		})
	default:
		s.problem(w, http.StatusNotFound, "malformed", "not found")
	}
}

// withOrder runs f with the lock held for the account's order n.
func (s *Server) withOrder(w http.ResponseWriter, acct *account, n int, f func(o *order)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= len(s.orders) || s.orders[n].acct != acct.id {
		s.problem(w, http.StatusNotFound, "malformed", "no such order")
		return
	}
	f(s.orders[n])
}

// parseJWS checks the nonce and the url header and returns the parsed JWS.
func (s *Server) parseJWS(w http.ResponseWriter, r *http.Request) (*jose.JSONWebSignature, []byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.problem(w, http.StatusBadRequest, "malformed", "read body")
		return nil, nil, false
	}
	jws, err := jose.ParseSignedJSON(string(body), []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		s.problem(w, http.StatusBadRequest, "malformed", "The JWS Protected Header MUST be present")
		return nil, nil, false
	}
	h := jws.Signatures[0].Protected
	if u, _ := h.ExtraHeaders["url"].(string); u != s.URL+r.URL.Path {
		s.problem(w, http.StatusUnauthorized, "unauthorized", "url header mismatch")
		return nil, nil, false
	}
	s.mu.Lock()
	ok := s.nonces[h.Nonce]
	delete(s.nonces, h.Nonce)
	s.mu.Unlock()
	if !ok {
		s.problem(w, http.StatusBadRequest, "badNonce", "JWS has an invalid anti-replay nonce")
		return nil, nil, false
	}
	return jws, body, true
}

// verify checks a kid-signed request and returns the account and payload.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) (*account, []byte, bool) {
	jws, _, ok := s.parseJWS(w, r)
	if !ok {
		return nil, nil, false
	}
	h := jws.Signatures[0].Protected
	var acct *account
	s.mu.Lock()
	for _, a := range s.accounts {
		if s.accountURL(a.id) == h.KeyID {
			acct = a
		}
	}
	s.mu.Unlock()
	if acct == nil {
		s.problem(w, http.StatusBadRequest, "accountDoesNotExist", "unknown account")
		return nil, nil, false
	}
	payload, err := jws.Verify(acct.key)
	if err != nil {
		s.problem(w, http.StatusUnauthorized, "unauthorized", "bad signature")
		return nil, nil, false
	}
	return acct, payload, true
}

func (s *Server) newAccount(w http.ResponseWriter, r *http.Request, cfg Config) {
	jws, _, ok := s.parseJWS(w, r)
	if !ok {
		return
	}
	jwk := jws.Signatures[0].Protected.JSONWebKey
	if jwk == nil {
		s.problem(w, http.StatusBadRequest, "malformed", "newAccount must be signed with a jwk")
		return
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		s.problem(w, http.StatusUnauthorized, "unauthorized", "bad signature")
		return
	}
	tp, _ := jwk.Thumbprint(crypto.SHA256)
	thumb := base64.RawURLEncoding.EncodeToString(tp)
	var req struct {
		OnlyReturnExisting     bool            `json:"onlyReturnExisting"`
		ExternalAccountBinding json.RawMessage `json:"externalAccountBinding"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		s.problem(w, http.StatusBadRequest, "malformed", "bad newAccount payload")
		return
	}
	s.mu.Lock()
	s.counts.NewAccount++
	for _, a := range s.accounts {
		if a.thumbprint == thumb {
			s.mu.Unlock()
			w.Header().Set("Location", s.accountURL(a.id))
			writeJSON(w, http.StatusOK, map[string]any{"status": "valid", "orders": s.accountURL(a.id) + "/orders"})
			return
		}
	}
	s.mu.Unlock()
	if req.OnlyReturnExisting {
		s.problem(w, http.StatusBadRequest, "accountDoesNotExist", "No account exists with the provided key")
		return
	}
	var kid string
	if len(cfg.EAB) > 0 {
		if len(req.ExternalAccountBinding) == 0 || string(req.ExternalAccountBinding) == "null" {
			// acmesh-official/acme.sh#5318
			s.problem(w, http.StatusBadRequest, "externalAccountRequired", `The request must include a value for the "externalAccountBinding" field`)
			return
		}
		var detail string
		if kid, detail = checkEAB(req.ExternalAccountBinding, cfg.EAB, jwk, s.URL+r.URL.Path); detail != "" {
			s.problem(w, http.StatusBadRequest, "malformed", "[External Account Binding] "+detail)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kid != "" {
		if bound := s.eabBound[kid]; len(bound) > 0 && !cfg.EABReuse && !slices.Contains(bound, thumb) {
			// certbot/certbot#8944, win-acme/win-acme#1904, cert-manager#2882.
			problem(w, http.StatusBadRequest, "malformed", "[External Account Binding] The account is not awaiting external account binding")
			return
		}
		s.eabBound[kid] = append(s.eabBound[kid], thumb)
	}
	a := &account{id: len(s.accounts) + 1, key: jwk, thumbprint: thumb}
	s.accounts = append(s.accounts, a)
	w.Header().Set("Location", s.accountURL(a.id))
	writeJSON(w, http.StatusCreated, map[string]any{"status": "valid", "orders": s.accountURL(a.id) + "/orders"})
}

// checkEAB verifies the inner JWS of an external account binding (RFC 8555
// §7.3.4) and returns its key ID, or the problem detail the CA sends.
func checkEAB(raw json.RawMessage, keys map[string][]byte, outer *jose.JSONWebKey, url string) (kid, detail string) {
	inner, err := jose.ParseSignedJSON(string(raw), []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512})
	if err != nil || len(inner.Signatures) != 1 {
		return "", "Invalid JWS"
	}
	h := inner.Signatures[0].Protected
	key, ok := keys[h.KeyID]
	if !ok {
		return "", "Unknown key identifier"
	}
	if u, _ := h.ExtraHeaders["url"].(string); u != url {
		return "", "url mismatch"
	}
	payload, err := inner.Verify(key)
	if err != nil {
		return "", "Invalid MAC on JWS request" // win-acme/win-acme#2565
	}
	var got jose.JSONWebKey
	if err := got.UnmarshalJSON(payload); err != nil {
		return "", "Invalid JWK in payload"
	}
	a, _ := got.Thumbprint(crypto.SHA256)
	b, _ := outer.Thumbprint(crypto.SHA256)
	if !bytes.Equal(a, b) {
		return "", "The JWK does not match the account key"
	}
	return h.KeyID, ""
}

func (s *Server) newOrder(w http.ResponseWriter, acct *account, payload []byte, cfg Config) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		s.problem(w, http.StatusBadRequest, "malformed", "bad newOrder payload")
		return
	}
	if cfg.StrictOrderFields {
		for k := range fields {
			if k != "identifiers" {
				s.problem(w, http.StatusBadRequest, "malformed", "") // win-acme/win-acme#2607
				return
			}
		}
	}
	var ids []ident
	if err := json.Unmarshal(fields["identifiers"], &ids); err != nil || len(ids) == 0 || len(ids) > 100 {
		s.problem(w, http.StatusBadRequest, "malformed", "bad identifiers")
		return
	}
	for i := range ids {
		ids[i].Value = strings.ToLower(strings.TrimSuffix(ids[i].Value, "."))
		if ids[i].Type != "dns" || ids[i].Value == "" {
			s.problem(w, http.StatusBadRequest, "unsupportedIdentifier", "only dns identifiers")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.NewOrder++
	now := time.Now()
	if cfg.ReuseOrders {
		for n, o := range s.orders {
			if o.acct == acct.id && sameIDs(o.ids, ids) && now.Before(o.created.Add(time.Hour)) && s.orderStatus(o, now) != "invalid" {
				w.Header().Set("Location", s.orderURL(n))
				s.writeOrder(w, http.StatusCreated, n, o)
				return
			}
		}
	}
	o := &order{acct: acct.id, ids: ids, created: now}
	for _, id := range ids {
		a := &authz{name: strings.TrimPrefix(id.Value, "*."), wildcard: strings.HasPrefix(id.Value, "*."), token: randToken()}
		a.preValid = cfg.PreValidateAll || slices.Contains(cfg.PreValidated, id.Value)
		o.authzs = append(o.authzs, a)
	}
	s.orders = append(s.orders, o)
	n := len(s.orders) - 1
	w.Header().Set("Location", s.orderURL(n))
	s.writeOrder(w, http.StatusCreated, n, o)
}

func sameIDs(a, b []ident) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// authzValid reports whether a is valid at now.
func (s *Server) authzValid(a *authz, now time.Time) bool {
	return a.preValid || !a.responded.IsZero() && !now.Before(a.responded.Add(s.cfg.DCVDelay))
}

// orderStatus computes the order's status at now (lock held).
func (s *Server) orderStatus(o *order, now time.Time) string {
	if !o.finalizedAt.IsZero() {
		issued := o.finalizedAt.Add(s.cfg.FinalizeDelay)
		switch {
		case now.Before(o.finalizedAt.Add(min(s.cfg.ReadyDuringFinalize, s.cfg.FinalizeDelay))):
			return "ready"
		case now.Before(issued.Add(s.cfg.ProcessingAfterFinalize)):
			return "processing"
		}
		return "valid"
	}
	if now.After(o.created.Add(time.Hour)) {
		return "invalid"
	}
	for _, a := range o.authzs {
		if !s.authzValid(a, now) {
			return "pending"
		}
		if s.cfg.OrderPendingWhileValid && !a.fetched {
			return "pending"
		}
	}
	return "ready"
}

func (s *Server) writeOrder(w http.ResponseWriter, status, n int, o *order) {
	st := s.orderStatus(o, time.Now())
	var urls []string
	for i := range o.authzs {
		urls = append(urls, s.authzURL(n, i))
	}
	m := map[string]any{"status": st, "expires": o.created.Add(time.Hour).UTC().Format(time.RFC3339), "identifiers": o.ids,
		"authorizations": urls, "finalize": fmt.Sprintf("%s/finalize/%d", s.base(), n)}
	if st == "valid" {
		m["certificate"] = fmt.Sprintf("%s/cert/%d", s.base(), n)
	}
	if st == "processing" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, m)
}

func (s *Server) writeAuthz(w http.ResponseWriter, n, i int, o *order, cfg Config) {
	if i >= len(o.authzs) {
		s.problem(w, http.StatusNotFound, "malformed", "no such authorization")
		return
	}
	a := o.authzs[i]
	a.fetched = true
	now := time.Now()
	valid := s.authzValid(a, now)
	m := map[string]any{"identifier": ident{"dns", a.name}, "expires": o.created.Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
	switch {
	case a.wildcard:
		m["wildcard"] = true
	case valid && cfg.WildcardFlagOnValid:
		m["wildcard"] = true // grindsa/acme2certifier#122
	default:
		m["wildcard"] = false // srvrco/getssl#843
	}
	if a.preValid {
		typ := "sectigo-email-01"
		if a.wildcard {
			typ = "sectigo-dns-01"
		}
		m["status"] = "valid"
		m["challenges"] = []any{map[string]any{"type": typ, "url": s.challURL(n, i), "status": "valid", "validated": o.created.UTC().Format(time.RFC3339)}}
	} else {
		types := cfg.PendingChallenges
		if len(types) == 0 {
			types = []string{"http-01", "dns-01"}
		}
		var chs []any
		for _, typ := range types {
			if a.wildcard && typ != "dns-01" {
				continue
			}
			st := "pending"
			switch {
			case valid:
				st = "valid"
			case !a.responded.IsZero():
				st = "processing" // do-know/Crypt-LE PR #66
			}
			chs = append(chs, map[string]any{"type": typ, "url": s.challURL(n, i), "status": st, "token": a.token})
		}
		m["status"] = map[bool]string{true: "valid", false: "pending"}[valid]
		m["challenges"] = chs
	}
	if cfg.AuthzRetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(cfg.AuthzRetryAfter))
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) respond(w http.ResponseWriter, n, i int, o *order) {
	if i >= len(o.authzs) {
		s.problem(w, http.StatusNotFound, "malformed", "no such challenge")
		return
	}
	a := o.authzs[i]
	if !a.preValid && a.responded.IsZero() {
		a.responded = time.Now()
	}
	st := "processing"
	if s.authzValid(a, time.Now()) {
		st = "valid"
	}
	w.Header().Set("Link", "<"+s.authzURL(n, i)+">;rel=\"up\"")
	writeJSON(w, http.StatusOK, map[string]any{"type": "http-01", "url": s.challURL(n, i), "status": st, "token": a.token})
}

func (s *Server) finalize(w http.ResponseWriter, r *http.Request, acct *account, n int, payload []byte, cfg Config) {
	s.mu.Lock()
	s.counts.Finalize++
	close(s.finCond)
	s.finCond = make(chan struct{})
	if n >= len(s.orders) || s.orders[n].acct != acct.id {
		s.mu.Unlock()
		s.problem(w, http.StatusNotFound, "malformed", "no such order")
		return
	}
	o := s.orders[n]
	o.finalizes++
	now := time.Now()
	if !o.finalizedAt.IsZero() {
		s.mu.Unlock()
		s.problem(w, http.StatusForbidden, "orderNotReady", "the order has already been finalized")
		return
	}
	ready := true
	for _, a := range o.authzs {
		ready = ready && s.authzValid(a, now)
	}
	if !ready {
		s.mu.Unlock()
		s.problem(w, http.StatusForbidden, "orderNotReady", "the order is not ready")
		return
	}
	var req struct {
		CSR string `json:"csr"`
	}
	der, err := []byte(nil), json.Unmarshal(payload, &req)
	if err == nil {
		der, err = base64.RawURLEncoding.DecodeString(req.CSR)
	}
	var csr *x509.CertificateRequest
	if err == nil {
		csr, err = x509.ParseCertificateRequest(der)
	}
	if err == nil {
		err = csr.CheckSignature()
	}
	if err == nil {
		var want, got []string
		for _, id := range o.ids {
			want = append(want, id.Value)
		}
		for _, d := range csr.DNSNames {
			got = append(got, strings.ToLower(d))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			err = fmt.Errorf("the CSR names %v, the order %v", got, want)
		}
	}
	if err != nil {
		s.mu.Unlock()
		s.problem(w, http.StatusBadRequest, "badCSR", err.Error())
		return
	}
	names := slices.Clone(csr.DNSNames)
	if cfg.ExtraSAN {
		if base, ok := strings.CutPrefix(names[0], "*."); ok {
			names = append(names, base)
		} else if !strings.HasPrefix(names[0], "www.") {
			names = append(names, "www."+names[0])
		}
	}
	leaf, err := s.issue(csr.PublicKey, names)
	if err != nil {
		s.mu.Unlock()
		s.problem(w, http.StatusInternalServerError, "serverInternal", err.Error())
		return
	}
	o.certPEM = append(leaf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.inter.Raw})...)
	if cfg.CrossSigned {
		o.certPEM = append(o.certPEM, s.crossPEM...)
	}
	o.finalizedAt = now
	s.counts.Issued++
	s.mu.Unlock()

	if cfg.FinalizeDelay > 0 {
		t := time.NewTimer(cfg.FinalizeDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			s.mu.Lock()
			s.counts.FinalizeAbandoned++
			s.mu.Unlock()
			return // the client went away; the certificate is minted anyway
		case <-s.closing:
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Location", s.orderURL(n))
	s.writeOrder(w, http.StatusOK, n, o)
}

// makeHierarchy makes the TLS root and server certificate and the issuing
// hierarchy: AAA root → USERTrust (cross-signed) → intermediate → leaf, with
// USERTrust also self-signed as modern trust stores hold it.
func (s *Server) makeHierarchy(dir string) error {
	mk := func(cn string, pub crypto.PublicKey, parent *x509.Certificate, signer crypto.Signer, ca bool, dns []string, ips []net.IP) (*x509.Certificate, error) {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
		tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"sectigoca test"}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour), DNSNames: dns, IPAddresses: ips,
			BasicConstraintsValid: true, IsCA: ca}
		if ca {
			tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			tpl.KeyUsage = x509.KeyUsageDigitalSignature
			tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		if parent == nil {
			parent = tpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, parent, pub, signer)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	key := func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }
	encode := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}

	tlsKey, srvKey := key(), key()
	tlsRoot, err := mk("sectigoca TLS root", tlsKey.Public(), nil, tlsKey, true, nil, nil)
	if err != nil {
		return err
	}
	srvCert, err := mk("localhost", srvKey.Public(), tlsRoot, tlsKey, false, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if err != nil {
		return err
	}
	s.tlsCert = tls.Certificate{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}
	s.Bundle = filepath.Join(dir, "sectigoca-tls.pem")
	if err := os.WriteFile(s.Bundle, encode(tlsRoot), 0o644); err != nil {
		return err
	}

	aaaKey, utKey, interKey := key(), key(), key()
	aaa, err := mk(RootAAA, aaaKey.Public(), nil, aaaKey, true, nil, nil)
	if err != nil {
		return err
	}
	ut, err := mk(RootUSERTrust, utKey.Public(), nil, utKey, true, nil, nil)
	if err != nil {
		return err
	}
	cross, err := mk(RootUSERTrust, utKey.Public(), aaa, aaaKey, true, nil, nil)
	if err != nil {
		return err
	}
	if s.inter, err = mk(IntermediateCN, interKey.Public(), ut, utKey, true, nil, nil); err != nil {
		return err
	}
	s.interKey = interKey
	s.crossPEM = encode(cross)
	s.RootsPEM = append(encode(ut), encode(aaa)...)
	return nil
}

// issue signs a leaf for names and pub (lock held).
func (s *Server) issue(pub crypto.PublicKey, names []string) ([]byte, error) {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, s.inter, pub, s.interKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func randToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
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
