// Package faultproxy is a fault-injecting HTTPS proxy for tests: it sits between
// an ACME client and Pebble on loopback, keeps Pebble's URLs pointing at itself (Pebble builds them from Host), and
// breaks chosen requests in chosen ways (dropped connections before or after the
// CA saw the request, 5xx/429 with Retry-After, delays, truncated, invalid, huge
// or mislabelled bodies). It serves TLS with Pebble's own localhost certificate,
// so clients trust it through the same root as Pebble. It listens on 127.0.0.1
// only. Test support: nothing but tests imports it.
package faultproxy

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Step names the ACME resource a request is for (matched on Pebble's paths).
type Step string

// Steps of the protocol, as Pebble names its paths.
const (
	Directory   Step = "directory"
	NewNonce    Step = "newNonce"
	NewAccount  Step = "newAccount"
	NewOrder    Step = "newOrder"
	Authz       Step = "authz"
	Challenge   Step = "challenge"
	Finalize    Step = "finalize"
	Order       Step = "order"
	Certificate Step = "certificate"
	Account     Step = "account"
	RenewalInfo Step = "renewalInfo"
	Revoke      Step = "revoke"
	KeyChange   Step = "keyChange"
)

// AllSteps lists every step, in protocol order.
var AllSteps = []Step{Directory, NewNonce, NewAccount, NewOrder, Authz, Challenge, Finalize, Order, Certificate, Account, RenewalInfo, Revoke, KeyChange}

var pebblePaths = []struct {
	prefix string
	step   Step
}{
	{"/dir", Directory}, {"/nonce-plz", NewNonce}, {"/sign-me-up", NewAccount}, {"/order-plz", NewOrder},
	{"/authZ/", Authz}, {"/chalZ/", Challenge}, {"/finalize-order/", Finalize}, {"/my-order/", Order},
	{"/certZ/", Certificate}, {"/my-account/", Account}, {"/draft-ietf-acme-ari", RenewalInfo},
	{"/revoke-cert", Revoke}, {"/rollover-account-key", KeyChange},
}

// StepOf maps a Pebble path to its step ("" when unknown).
func StepOf(path string) Step {
	for _, p := range pebblePaths {
		if strings.HasPrefix(path, p.prefix) {
			return p.step
		}
	}
	return ""
}

// Kind is what a fault does.
type Kind string

// Fault kinds.
const (
	Drop        Kind = "drop"         // close the connection before forwarding: the CA never sees it
	DropAfter   Kind = "drop_after"   // forward, then close without answering: the CA acted
	Status      Kind = "status"       // answer Status (5xx, 429) with a problem document, not forwarded
	Delay       Kind = "delay"        // wait Delay, then forward
	Truncate    Kind = "truncate"     // forward, then send only half of the body
	InvalidJSON Kind = "invalid_json" // forward, then replace the body with broken JSON
	Huge        Kind = "huge"         // forward, then send a body of HugeSize bytes
	WrongType   Kind = "wrong_type"   // forward, then label the body text/html
	Notify      Kind = "notify"       // forward, call Hook, then answer as the CA did
	Drip        Kind = "drip"         // answer 200 at once, then the body one byte a second, never finishing
)

// HugeSize is the body size of a Huge fault.
const HugeSize = 8 << 20

// Fault breaks requests for Step (and Method, if set). It applies to the Skip+1th
// matching request and the Times-1 after it (Times 0 means every one after Skip).
type Fault struct {
	Step       Step
	Method     string
	Kind       Kind
	Skip       int
	Times      int
	Status     int           // for Status
	RetryAfter string        // Retry-After header for Status
	Delay      time.Duration // for Delay
	// Match, when set, limits the fault to the requests it accepts (one
	// client among several: its User-Agent).
	Match func(*http.Request) bool
	// Hook is called by a Notify fault after the CA answered and before the
	// client is (kill the client here: the CA acted, the client never knew);
	// the request is in Log by then.
	Hook func()
}

func (f Fault) String() string {
	s := fmt.Sprintf("%s on %s", f.Kind, f.Step)
	if f.Kind == Status {
		s = fmt.Sprintf("%d on %s", f.Status, f.Step)
		if f.RetryAfter != "" {
			s += " (Retry-After " + f.RetryAfter + ")"
		}
	}
	return s
}

// Proxy is one running proxy.
type Proxy struct {
	// URL is the proxy's base ("https://127.0.0.1:PORT"); DirectoryURL the directory through it.
	URL, DirectoryURL string

	upstream string // Pebble's base, "https://127.0.0.1:PORT"
	client   *http.Client
	ln       net.Listener
	srv      *http.Server

	mu     sync.Mutex
	faults []*activeFault
	log    []Entry
	// SetProcessing: how long an order stays "processing" after its finalize,
	// the Retry-After sent meanwhile, and when each order (by finalize URL)
	// was finalized.
	processing   time.Duration
	processingRA string
	finalized    map[string]time.Time

	serialize atomic.Bool
	serial    sync.Mutex // held while a request is at Pebble (Serialize)
}

type activeFault struct {
	Fault
	seen, fired int
}

// Entry records one request through the proxy.
type Entry struct {
	Method string
	Step   Step
	Path   string
	Fault  string // the fault applied, "" when forwarded untouched
	Status int    // what the client got (0 when the connection was dropped)
}

// Start starts a proxy in front of upstreamDir (Pebble's directory URL), serving
// TLS with certFile/keyFile (Pebble's test/certs/localhost pair) and talking to
// Pebble with client. It stops when Close is called.
func Start(upstreamDir, certFile, keyFile string, client *http.Client) (*Proxy, error) {
	i := strings.Index(upstreamDir[len("https://"):], "/")
	if !strings.HasPrefix(upstreamDir, "https://") || i < 0 {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an https URL with a path", upstreamDir)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{upstream: upstreamDir[:len("https://")+i], client: client, ln: ln}
	p.URL = "https://" + ln.Addr().String()
	p.DirectoryURL = p.URL + upstreamDir[len("https://")+i:]
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Serialize makes the proxy forward one request at a time. Pebble's
// in-memory store takes its locks in different orders (a new order holds the
// store's read lock while locking each authorization; an authorization
// fetch holds its authorization's lock while reading the store; issuing
// waits for the write lock), so tens of clients at once can deadlock it —
// seen with three nodes renewing 300 lineages (see letsencrypt/pebble#270 on
// its locks). Call it before the clients start.
func (p *Proxy) Serialize() { p.serialize.Store(true) }

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

// Inject replaces the active faults.
func (p *Proxy) Inject(faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
	for _, f := range faults {
		p.faults = append(p.faults, &activeFault{Fault: f})
	}
}

// SetProcessing makes the proxy act as a CA that takes d to issue and asks
// clients to wait: for d after an order's finalize request, the finalize
// answer and every poll of the order show it "processing" (without its
// certificate URL) with a Retry-After of retryAfter seconds, as Boulder
// answers (Retry-After on a processing order). Pebble issues at once behind
// it. d = 0 turns it off.
func (p *Proxy) SetProcessing(d time.Duration, retryAfter string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.processing, p.processingRA = d, retryAfter
	p.finalized = map[string]time.Time{}
}

// asProcessing rewrites an order answer (finalize or poll) as "processing"
// while its order is within the processing time. It reports whether it did.
func (p *Proxy) asProcessing(step Step, status int, body []byte, h http.Header) ([]byte, bool) {
	p.mu.Lock()
	d, ra := p.processing, p.processingRA
	p.mu.Unlock()
	if d == 0 || status != http.StatusOK || (step != Finalize && step != Order) {
		return body, false
	}
	var order map[string]any
	if json.Unmarshal(body, &order) != nil {
		return body, false
	}
	key, _ := order["finalize"].(string)
	st, _ := order["status"].(string)
	if key == "" || (st != "valid" && st != "processing") {
		return body, false
	}
	p.mu.Lock()
	at, ok := p.finalized[key]
	if !ok && step == Finalize {
		at, ok = time.Now(), true
		p.finalized[key] = at
	}
	p.mu.Unlock()
	if !ok || time.Since(at) >= d {
		return body, false
	}
	order["status"] = "processing"
	delete(order, "certificate")
	out, err := json.Marshal(order)
	if err != nil {
		return body, false
	}
	h.Set("Retry-After", ra)
	return out, true
}

// Log returns the requests seen so far.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Entry(nil), p.log...)
}

// Count returns how many requests for step (and method, if non-empty) reached the proxy.
func (p *Proxy) Count(step Step, method string) int {
	n := 0
	for _, e := range p.Log() {
		if e.Step == step && (method == "" || e.Method == method) {
			n++
		}
	}
	return n
}

// ResetLog forgets the requests seen so far.
func (p *Proxy) ResetLog() {
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

func (p *Proxy) pick(r *http.Request, step Step) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if f.Step != step || f.Method != "" && f.Method != r.Method || f.Match != nil && !f.Match(r) {
			continue
		}
		f.seen++
		if f.seen <= f.Skip || f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		ff := f.Fault
		return &ff
	}
	return nil
}

func (p *Proxy) record(e Entry) {
	p.mu.Lock()
	p.log = append(p.log, e)
	p.mu.Unlock()
}

// answerBefore applies the faults that answer without asking upstream (or
// delay the request); true when the request is answered.
func (p *Proxy) answerBefore(w http.ResponseWriter, r *http.Request, f *Fault, e *Entry) bool {
	switch f.Kind {
	case Drop:
		hijackClose(w)
		return true
	case Status:
		typ := "serverInternal"
		if f.Status == http.StatusTooManyRequests {
			typ = "rateLimited"
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"type":"urn:ietf:params:acme:error:%s","detail":"injected by faultproxy","status":%d}`, typ, f.Status)
		e.Status = f.Status
		return true
	case Drip:
		drip(w, r)
		e.Status = http.StatusOK
		return true
	case Delay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	}
	return false
}

// mangle applies the faults that change upstream's answer.
func mangle(f *Fault, rb []byte, h http.Header) []byte {
	switch f.Kind {
	case Truncate:
		return rb[:len(rb)/2]
	case InvalidJSON:
		return []byte(`{"status": "valid", "identifiers": [`)
	case Huge:
		return bytes.Repeat([]byte("A"), HugeSize)
	case WrongType:
		h.Set("Content-Type", "text/html")
		return []byte("<html><body><h1>504 Gateway Time-out</h1></body></html>")
	}
	return rb
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	step := StepOf(r.URL.Path)
	f := p.pick(r, step)
	e := Entry{Method: r.Method, Step: step, Path: r.URL.Path}
	if f != nil {
		e.Fault = f.String()
	}
	recorded := false
	defer func() {
		if !recorded {
			p.record(e)
		}
	}()

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f != nil && p.answerBefore(w, r, f, &e) {
		return
	}

	// Forward with the client's Host: Pebble builds every URL it returns (and
	// checks each JWS "url") from the Host it is sent, so the client keeps
	// talking to the proxy and its signatures stay valid.
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host
	resp, rb, err := p.forward(req)
	if resp == nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		e.Status = http.StatusBadGateway
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if f != nil && f.Kind == DropAfter {
		hijackClose(w)
		return
	}
	if f != nil && f.Kind == Notify && f.Hook != nil {
		// The request is in the log before the hook runs: a test that
		// counts requests once its hook fired counts this one.
		e.Status = resp.StatusCode
		p.record(e)
		recorded = true
		f.Hook()
	}
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if nb, ok := p.asProcessing(step, resp.StatusCode, rb, w.Header()); ok {
		rb = nb
		e.Fault = "processing"
	}
	if f != nil {
		rb = mangle(f, rb, w.Header())
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rb)))
	w.WriteHeader(resp.StatusCode)
	w.Write(rb)
	e.Status = resp.StatusCode
}

// drip answers 200 with a long Content-Length and sends the body one byte
// a second until the client goes away (or an hour passes).
func drip(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "100000")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_, _ = io.WriteString(w, "{")
	_ = rc.Flush()
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for range 3600 {
		select {
		case <-r.Context().Done():
			return
		case <-tk.C:
		}
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// forward sends req to Pebble and reads the answer (one at a time when
// Serialize was called); resp is nil when Pebble did not answer.
func (p *Proxy) forward(req *http.Request) (*http.Response, []byte, error) {
	if p.serialize.Load() {
		p.serial.Lock()
		defer p.serial.Unlock()
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp, rb, err
}
