package pebbletest

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/acmectl/acmectl/internal/pemutil"
)

// OCSPResponder is an OCSP responder for a Pebble, which has none of its
// own: it answers from Pebble's real certificate status (the management
// API's /cert-status-by-serial, so a revocation through ACME shows at once)
// and signs with Pebble's real issuing intermediate key. Start it before the
// Pebble (its URL goes into Options.OCSPResponderURL), then Attach the
// Pebble. It counts the requests it answers.
type OCSPResponder struct {
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	s        *Server
	issuer   *x509.Certificate
	key      crypto.Signer
	requests int
	// Validity is the nextUpdate - thisUpdate of its answers (1 h if zero).
	Validity time.Duration
}

// NewOCSPResponder starts a responder on 127.0.0.1; it stops with the test.
func NewOCSPResponder(t testing.TB) *OCSPResponder {
	r := &OCSPResponder{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + "/ocsp"
	t.Cleanup(r.srv.Close)
	return r
}

// Attach makes the responder answer for s.
func (r *OCSPResponder) Attach(s *Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = s
}

// Requests is the number of OCSP requests answered so far.
func (r *OCSPResponder) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

func (r *OCSPResponder) serve(w http.ResponseWriter, req *http.Request) {
	var body []byte
	var err error
	switch req.Method {
	case http.MethodPost:
		body, err = io.ReadAll(io.LimitReader(req.Body, 10<<10))
	case http.MethodGet:
		body, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(req.URL.Path, "/ocsp/"))
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	oreq, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	r.mu.Lock()
	r.requests++
	s := r.s
	r.mu.Unlock()
	resp, err := r.answer(s, oreq.SerialNumber)
	if err != nil {
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// answer signs the status Pebble has for serial.
func (r *OCSPResponder) answer(s *Server, serial *big.Int) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("no pebble attached")
	}
	issuer, key, err := r.signer(s)
	if err != nil {
		return nil, err
	}
	now := time.Now().Truncate(time.Second)
	validity := r.Validity
	if validity == 0 {
		validity = time.Hour
	}
	tpl := ocsp.Response{Status: ocsp.Unknown, SerialNumber: serial, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(validity)}
	b, code, err := mgmtGetErr(s, "/cert-status-by-serial/"+serial.Text(16))
	if err != nil {
		return nil, err
	}
	if code == http.StatusOK {
		var st struct{ Status, RevokedAt string }
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, err
		}
		switch st.Status {
		case "Valid":
			tpl.Status = ocsp.Good
		case "Revoked":
			tpl.Status, tpl.RevokedAt = ocsp.Revoked, now.Add(-time.Minute)
		}
	}
	return ocsp.CreateResponse(issuer, issuer, tpl, key)
}

// signer fetches Pebble's intermediate and its key once.
func (r *OCSPResponder) signer(s *Server) (*x509.Certificate, crypto.Signer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.issuer != nil {
		return r.issuer, r.key, nil
	}
	cb, _, err := mgmtGetErr(s, "/intermediates/0")
	if err != nil {
		return nil, nil, err
	}
	kb, _, err := mgmtGetErr(s, "/intermediate-keys/0")
	if err != nil {
		return nil, nil, err
	}
	cert, err := pemutil.ParseCert(cb)
	if err != nil {
		return nil, nil, err
	}
	key, err := pemutil.ParsePrivateKey(kb)
	if err != nil {
		return nil, nil, err
	}
	r.issuer, r.key = cert, key
	return cert, key, nil
}

// mgmtGetErr is mgmtGet for a handler (no testing.TB): body and status.
func mgmtGetErr(s *Server, path string) ([]byte, int, error) {
	resp, err := s.HTTPClient().Get(s.ManagementURL + path)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b, resp.StatusCode, err
}
