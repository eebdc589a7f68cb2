// Package scmtest is an in-process fake of the Sectigo Certificate Manager
// REST API for tests: ACME accounts (with macId/macKey), their domains and
// clients, the tenant's ACME servers, position/size paging with X-Total-Count,
// the {code, description} error shape, header authentication and, optionally,
// client-certificate authentication under /private. Every request is logged
// for assertions. It is test support, not a model of SCM's business rules:
// no organizations, roles or domain validation.
package scmtest

import (
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
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default credentials accepted by a Server started with zero Options.
const (
	DefaultLogin       = "admin"
	DefaultPassword    = "s3cret-Passw0rd"
	DefaultCustomerURI = "acme-customer"
)

// Options configure a Server. The zero value serves plain HTTP on 127.0.0.1
// with the Default* credentials and the three Sectigo public servers.
type Options struct {
	Login, Password, CustomerURI string
	// Servers replaces the default server list (Sectigo DV, OV and EV).
	Servers []ACMEServer
	// NotAddedDomains are refused by "add domains": they come back in
	// notAddedDomains and are not assigned.
	NotAddedDomains []string
	// TLS serves HTTPS and accepts client certificates signed by the Server's
	// own test CA (ClientCertificate) under /private, without a password.
	TLS bool
	// MaxPageSize is the largest accepted size (default 200); larger → 400.
	MaxPageSize int
}

// ACMEServer is an entry of GET /api/acme/v1/server.
type ACMEServer struct {
	URL                string `json:"url"`
	CAID               int    `json:"caId"`
	Name               string `json:"name"`
	SingleProductID    int    `json:"singleProductId"`
	MultiProductID     int    `json:"multiProductId"`
	WCProductID        int    `json:"wcProductId"`
	CertValidationType string `json:"certValidationType"`
	Active             bool   `json:"active"`
}

// Account is the fake's state for one ACME account.
type Account struct {
	ID                 int
	AccountID          string
	MACID, MACKey      string
	ACMEServer         string
	Name               string
	OrganizationID     int
	CertValidationType string
	Status             string
	Contacts           string
	Domains            []string
	Clients            []Client
}

// Client is an ACME client registered with an account's EAB.
type Client struct {
	AccountID    string `json:"accountId"`
	UserAgent    string `json:"userAgent"`
	IPAddress    string `json:"ipAddress"`
	Status       string `json:"status"`
	LastActivity string `json:"lastActivity"`
	Contacts     string `json:"contacts"`
}

// Request is one logged request. The password header is never recorded;
// HasPassword says whether it was sent.
type Request struct {
	Method      string
	Path        string // as received, e.g. /private/api/acme/v2/account/3
	Query       url.Values
	Body        string
	Login       string
	CustomerURI string
	HasPassword bool
	ClientCert  bool // a verified client certificate was presented
}

// Server is a running fake SCM. Its methods are safe for concurrent use.
type Server struct {
	// URL is the REST base for scm.Client.BaseURL: http(s)://127.0.0.1:PORT/api.
	URL string
	// HTTP is the underlying httptest server; HTTP.Client() trusts its certificate.
	HTTP *httptest.Server

	opts       Options
	clientCert tls.Certificate // signed by the CA below; only with Options.TLS

	mu       sync.Mutex
	nextID   int
	accounts map[int]*Account
	servers  []ACMEServer
	refused  map[string]bool
	eab      map[string][2]string // account name → preset macId, macKey
	log      []Request
}

// DefaultServers is the server list of a zero Options.
func DefaultServers() []ACMEServer {
	return []ACMEServer{
		{URL: "https://acme.sectigo.com/v2/DV", CAID: 1, Name: "DV ACME Server", SingleProductID: 101, CertValidationType: "DV", Active: true},
		{URL: "https://acme.sectigo.com/v2/OV", CAID: 2, Name: "OV ACME Server", SingleProductID: 102, CertValidationType: "OV", Active: true},
		{URL: "https://acme.sectigo.com/v2/EV", CAID: 3, Name: "EV ACME Server", SingleProductID: 103, CertValidationType: "EV", Active: true},
	}
}

// New starts a Server on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Login == "" {
		opts.Login = DefaultLogin
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.CustomerURI == "" {
		opts.CustomerURI = DefaultCustomerURI
	}
	if opts.MaxPageSize == 0 {
		opts.MaxPageSize = 200
	}
	s := &Server{
		opts:     opts,
		nextID:   100,
		accounts: map[int]*Account{},
		servers:  opts.Servers,
		refused:  map[string]bool{},
		eab:      map[string][2]string{},
	}
	if s.servers == nil {
		s.servers = DefaultServers()
	}
	for _, d := range opts.NotAddedDomains {
		s.refused[strings.ToLower(d)] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("scmtest: listen: %v", err)
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // refused client certificates are expected in tests
	hs.Listener.Close()
	hs.Listener = ln
	if opts.TLS {
		caCert, cert, err := newClientPKI()
		if err != nil {
			t.Fatalf("scmtest: client pki: %v", err)
		}
		s.clientCert = cert
		pool := x509.NewCertPool()
		pool.AddCert(caCert)
		hs.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool, MinVersion: tls.VersionTLS12}
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
	s.HTTP = hs
	s.URL = hs.URL + "/api"
	return s
}

// newClientPKI makes a CA and a client certificate it signs.
func newClientPKI() (*x509.Certificate, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scmtest client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: DefaultLogin},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return caCert, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ClientCertificate is a client certificate the server accepts under /private
// (Options.TLS only).
func (s *Server) ClientCertificate() tls.Certificate { return s.clientCert }

// WriteClientCert writes the client certificate and its key as PEM files
// (mode 0600) into dir and returns their paths (Options.TLS only).
func (s *Server) WriteClientCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(s.clientCert.PrivateKey)
	if err != nil {
		t.Fatalf("scmtest: marshal client key: %v", err)
	}
	certFile, keyFile = filepath.Join(dir, "scm-client.pem"), filepath.Join(dir, "scm-client.key")
	writePEM(t, certFile, "CERTIFICATE", s.clientCert.Certificate[0])
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

// WriteCABundle writes the server's TLS certificate as a PEM bundle into dir
// (Options.TLS only) and returns its path.
func (s *Server) WriteCABundle(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "scm-ca.pem")
	writePEM(t, p, "CERTIFICATE", s.HTTP.Certificate().Raw)
	return p
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("scmtest: %v", err)
	}
}

// PresetEAB makes the account created with this name get macId/macKey
// instead of random ones, e.g. the kid and HMAC key an EAB-required Pebble accepts.
func (s *Server) PresetEAB(accountName, macID, macKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eab[accountName] = [2]string{macID, macKey}
}

// RefuseDomains adds domains that "add domains" reports in notAddedDomains.
func (s *Server) RefuseDomains(domains ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range domains {
		s.refused[strings.ToLower(d)] = true
	}
}

// AddAccount stores a copy of a; zero ID, AccountID, MACID, MACKey and Status
// get defaults. It returns the ID.
func (s *Server) AddAccount(a Account) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(a)
}

func (s *Server) addLocked(a Account) int {
	if a.ID == 0 {
		s.nextID++
		a.ID = s.nextID
	} else if a.ID > s.nextID {
		s.nextID = a.ID
	}
	if p, ok := s.eab[a.Name]; ok && a.MACID == "" {
		a.MACID, a.MACKey = p[0], p[1]
	}
	if a.MACID == "" {
		a.MACID = randB64(16) // 22 characters, as SCM shows
	}
	if a.MACKey == "" {
		a.MACKey = randB64(64) // 86 characters
	}
	if a.AccountID == "" {
		a.AccountID = a.MACID
	}
	if a.Status == "" {
		a.Status = "Pending"
	}
	a.Domains = append([]string(nil), a.Domains...)
	a.Clients = append([]Client(nil), a.Clients...)
	s.accounts[a.ID] = &a
	return a.ID
}

func randB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AddClient registers an ACME client with account id and marks the account valid.
func (s *Server) AddClient(id int, c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[id]
	if a == nil {
		panic(fmt.Sprintf("scmtest: AddClient: no account %d", id))
	}
	if c.Status == "" {
		c.Status = "valid"
	}
	a.Clients = append(a.Clients, c)
	a.Status = "valid"
}

// Account returns a copy of account id.
func (s *Server) Account(id int) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return Account{}, false
	}
	c := *a
	c.Domains = append([]string(nil), a.Domains...)
	c.Clients = append([]Client(nil), a.Clients...)
	return c, true
}

// Accounts returns copies of every account, by ID.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	ids := s.sortedIDsLocked()
	s.mu.Unlock()
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		if a, ok := s.Account(id); ok {
			out = append(out, a)
		}
	}
	return out
}

func (s *Server) sortedIDsLocked() []int {
	ids := make([]int, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Requests returns the request log in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Count returns how many logged requests had this method and a path (without
// the /private prefix) matching the regular expression pathRE.
func (s *Server) Count(method, pathRE string) int {
	re := regexp.MustCompile(pathRE)
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && re.MatchString(strings.TrimPrefix(r.Path, "/private")) {
			n++
		}
	}
	return n
}

// wire types: what SCM sends, including deprecated fields clients must tolerate.
type wireAccount struct {
	ID                 int    `json:"id"`
	AccountID          string `json:"accountId"`
	MACID              string `json:"macId"`
	MACKey             string `json:"macKey"`
	ACMEServer         string `json:"acmeServer"`
	Name               string `json:"name"`
	OrganizationID     int    `json:"organizationId"`
	CertValidationType string `json:"certValidationType"`
	Status             string `json:"status"`
	OVOrderNumber      int    `json:"ovOrderNumber"`
	OVAnchorID         string `json:"ovAnchorID"`
	ValidationID       string `json:"validationId"`
	Contacts           string `json:"contacts"`
}

type wireDomain struct {
	Name                string `json:"name"`
	ValidUntil          string `json:"validUntil"`
	StickyUntil         string `json:"stickyUntil"`
	ValidationID        string `json:"validationId"`
	OVAnchorOrderNumber int    `json:"ovAnchorOrderNumber"`
}

func (a *Account) wire() wireAccount {
	return wireAccount{ID: a.ID, AccountID: a.AccountID, MACID: a.MACID, MACKey: a.MACKey, ACMEServer: a.ACMEServer,
		Name: a.Name, OrganizationID: a.OrganizationID, CertValidationType: a.CertValidationType, Status: a.Status,
		Contacts: a.Contacts}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, desc string) {
	writeJSON(w, status, map[string]any{"code": code, "description": desc})
}

var (
	reAccounts = regexp.MustCompile(`^/api/acme/v2/account/?$`)
	reAccount  = regexp.MustCompile(`^/api/acme/v2/account/([0-9]+)$`)
	reDomains  = regexp.MustCompile(`^/api/acme/v2/account/([0-9]+)/domain$`)
	reClients  = regexp.MustCompile(`^/api/acme/v2/account/([0-9]+)/client$`)
	reClient   = regexp.MustCompile(`^/api/acme/v2/account/([0-9]+)/client/([^/]+)$`)
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	private := strings.HasPrefix(r.URL.Path, "/private/")
	certOK := r.TLS != nil && len(r.TLS.VerifiedChains) > 0
	s.mu.Lock()
	s.log = append(s.log, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body),
		Login: r.Header.Get("login"), CustomerURI: r.Header.Get("customerUri"),
		HasPassword: r.Header.Get("password") != "", ClientCert: certOK,
	})
	s.mu.Unlock()

	p, ok := s.authenticate(r, private, certOK)
	if !ok {
		writeError(w, http.StatusUnauthorized, -16, "Unknown user")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p == "/api/acme/v1/server" && r.Method == http.MethodGet:
		s.listServers(w, r)
	case reAccounts.MatchString(p):
		switch r.Method {
		case http.MethodGet:
			s.listAccounts(w, r)
		case http.MethodPost:
			s.createAccount(w, r, body, private)
		default:
			writeError(w, http.StatusMethodNotAllowed, -1, "Method not allowed")
		}
	case reAccount.MatchString(p):
		a := s.account(w, reAccount.FindStringSubmatch(p)[1])
		if a == nil {
			return
		}
		s.accountMethod(w, r.Method, body, a)
	case reDomains.MatchString(p):
		a := s.account(w, reDomains.FindStringSubmatch(p)[1])
		if a == nil {
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.listDomains(w, r, a)
		case http.MethodPost, http.MethodDelete:
			s.changeDomains(w, r.Method, body, a)
		default:
			writeError(w, http.StatusMethodNotAllowed, -1, "Method not allowed")
		}
	case reClients.MatchString(p) && r.Method == http.MethodGet:
		a := s.account(w, reClients.FindStringSubmatch(p)[1])
		if a == nil {
			return
		}
		s.listClients(w, r, a)
	case reClient.MatchString(p) && r.Method == http.MethodPut:
		m := reClient.FindStringSubmatch(p)
		a := s.account(w, m[1])
		if a == nil {
			return
		}
		deactivateClient(w, a, m[2])
	default:
		writeError(w, http.StatusNotFound, -1, "Not found: "+r.Method+" "+r.URL.Path)
	}
}

// authenticate checks the header credentials on /api and the client
// certificate on /private/api; it returns the path without /private.
func (s *Server) authenticate(r *http.Request, private, certOK bool) (string, bool) {
	p := r.URL.Path
	ok := r.Header.Get("login") == s.opts.Login && r.Header.Get("customerUri") == s.opts.CustomerURI
	if private {
		return strings.TrimPrefix(p, "/private"), ok && certOK
	}
	return p, ok && r.Header.Get("password") == s.opts.Password
}

// accountMethod answers GET, PUT (rename) and DELETE on one account.
func (s *Server) accountMethod(w http.ResponseWriter, method string, body []byte, a *Account) {
	switch method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, a.wire())
	case http.MethodPut:
		var in struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(body, &in) != nil || in.Name == "" {
			writeError(w, http.StatusBadRequest, -7, "name is required but missing")
			return
		}
		a.Name = in.Name
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		delete(s.accounts, a.ID)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusMethodNotAllowed, -1, "Method not allowed")
	}
}

// deactivateClient marks the ACME client with the account id deactivated.
func deactivateClient(w http.ResponseWriter, a *Account, id string) {
	for i := range a.Clients {
		if a.Clients[i].AccountID == id {
			a.Clients[i].Status = "deactivated"
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, -1, fmt.Sprintf("ACME client %s not found", id))
}

// account looks up the id or writes a 404.
func (s *Server) account(w http.ResponseWriter, idStr string) *Account {
	id, _ := strconv.Atoi(idStr)
	a := s.accounts[id]
	if a == nil {
		writeError(w, http.StatusNotFound, -1, fmt.Sprintf("ACME Account with id %s does not exist", idStr))
	}
	return a
}

// page applies position/size to n items; ok false means an error was written.
func (s *Server) page(w http.ResponseWriter, r *http.Request, n int) (lo, hi int, ok bool) {
	q := r.URL.Query()
	pos, size := 0, 10
	var err error
	if v := q.Get("position"); v != "" {
		if pos, err = strconv.Atoi(v); err != nil || pos < 0 {
			writeError(w, http.StatusBadRequest, -1, "Invalid position")
			return 0, 0, false
		}
	}
	if v := q.Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > s.opts.MaxPageSize {
			writeError(w, http.StatusBadRequest, -1, fmt.Sprintf("Size must be between 1 and %d", s.opts.MaxPageSize))
			return 0, 0, false
		}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(n))
	lo, hi = min(pos, n), min(pos+size, n)
	return lo, hi, true
}

func eqFold(filter, v string) bool { return filter == "" || strings.EqualFold(filter, v) }

func (s *Server) serverMatches(filter, v string) bool {
	if filter == "" || strings.EqualFold(filter, v) {
		return true
	}
	for _, sv := range s.servers {
		names := []string{sv.Name, sv.URL}
		if (strings.EqualFold(filter, names[0]) || strings.EqualFold(filter, names[1])) &&
			(strings.EqualFold(v, names[0]) || strings.EqualFold(v, names[1])) {
			return true
		}
	}
	return false
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	org := -1
	if v := q.Get("organizationId"); v != "" {
		var err error
		if org, err = strconv.Atoi(strings.TrimSuffix(v, ",-2")); err != nil {
			writeError(w, http.StatusBadRequest, -1, "Invalid organizationId")
			return
		}
	}
	var match []wireAccount
	for _, id := range s.sortedIDsLocked() {
		a := s.accounts[id]
		if org >= 0 && a.OrganizationID != org {
			continue
		}
		if (q.Get("name") != "" && q.Get("name") != a.Name) || !s.serverMatches(q.Get("acmeServer"), a.ACMEServer) ||
			!eqFold(q.Get("certValidationType"), a.CertValidationType) || !eqFold(q.Get("status"), a.Status) {
			continue
		}
		match = append(match, a.wire())
	}
	lo, hi, ok := s.page(w, r, len(match))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, nonNil(match[lo:hi]))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, body []byte, private bool) {
	var in struct {
		Name               string `json:"name"`
		ACMEServer         string `json:"acmeServer"`
		OrganizationID     int    `json:"organizationId"`
		CertValidationType string `json:"certValidationType"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, -1, "Malformed request body")
		return
	}
	switch {
	case in.Name == "":
		writeError(w, http.StatusBadRequest, -7, "name is required but missing")
		return
	case in.ACMEServer == "":
		writeError(w, http.StatusBadRequest, -7, "acmeServer is required but missing")
		return
	case in.OrganizationID == 0:
		writeError(w, http.StatusBadRequest, -7, "organizationId is required but missing")
		return
	}
	var srv *ACMEServer
	for i := range s.servers {
		if strings.EqualFold(s.servers[i].Name, in.ACMEServer) || strings.EqualFold(s.servers[i].URL, in.ACMEServer) {
			srv = &s.servers[i]
		}
	}
	if srv == nil {
		writeError(w, http.StatusBadRequest, -1, fmt.Sprintf("ACME server %s not found", in.ACMEServer))
		return
	}
	cvt := in.CertValidationType
	if cvt == "" {
		cvt = srv.CertValidationType
	}
	id := s.addLocked(Account{Name: in.Name, ACMEServer: in.ACMEServer, OrganizationID: in.OrganizationID, CertValidationType: cvt})
	prefix := ""
	if private {
		prefix = "/private"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Location", fmt.Sprintf("%s://%s%s/api/acme/v2/account/%d", scheme, r.Host, prefix, id))
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, a *Account) {
	var re *regexp.Regexp
	if v := r.URL.Query().Get("name"); v != "" {
		var err error
		if re, err = regexp.Compile(v); err != nil {
			writeError(w, http.StatusBadRequest, -1, "Invalid name pattern")
			return
		}
	}
	var match []wireDomain
	for _, d := range a.Domains {
		if re == nil || re.MatchString(d) {
			match = append(match, wireDomain{Name: d, ValidUntil: "2027-01-01", StickyUntil: "2027-01-01"})
		}
	}
	lo, hi, ok := s.page(w, r, len(match))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, nonNil(match[lo:hi]))
}

func (s *Server) changeDomains(w http.ResponseWriter, method string, body []byte, a *Account) {
	var in struct {
		Domains []struct {
			Name string `json:"name"`
		} `json:"domains"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.Domains) == 0 {
		writeError(w, http.StatusBadRequest, -7, "domains is required but missing")
		return
	}
	var failed []string
	for _, d := range in.Domains {
		name := strings.ToLower(strings.TrimSpace(d.Name))
		i := indexFold(a.Domains, name)
		switch {
		case name == "":
			writeError(w, http.StatusBadRequest, -7, "name is required but missing")
			return
		case method == http.MethodPost && s.refused[name]:
			failed = append(failed, d.Name)
		case method == http.MethodPost && i < 0:
			a.Domains = append(a.Domains, name)
		case method == http.MethodDelete && i < 0:
			failed = append(failed, d.Name)
		case method == http.MethodDelete:
			a.Domains = append(a.Domains[:i], a.Domains[i+1:]...)
		}
	}
	key := "notAddedDomains"
	if method == http.MethodDelete {
		key = "notRemovedDomains"
	}
	if len(failed) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{}) // the reference's example body when all succeeded
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: failed})
}

func indexFold(list []string, v string) int {
	for i, x := range list {
		if strings.EqualFold(x, v) {
			return i
		}
	}
	return -1
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request, a *Account) {
	var match []Client
	for _, c := range a.Clients {
		if eqFold(r.URL.Query().Get("status"), c.Status) {
			match = append(match, c)
		}
	}
	lo, hi, ok := s.page(w, r, len(match))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, nonNil(match[lo:hi]))
}

func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var match []ACMEServer
	for _, sv := range s.servers {
		if eqFold(q.Get("name"), sv.Name) && eqFold(q.Get("certValidationType"), sv.CertValidationType) &&
			(q.Get("url") == "" || strings.EqualFold(q.Get("url"), sv.URL)) {
			match = append(match, sv)
		}
	}
	lo, hi, ok := s.page(w, r, len(match))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, nonNil(match[lo:hi]))
}
