// Package dnsplugin runs a lego DNS provider in a child process and drives it
// through a pipe, so that a binary can offer providers whose SDKs it does not
// link. acmectl uses it for the cloud providers (route53, gcloud, azuredns):
// their SDKs' package initialisation alone cost more than the rest of
// acmectl's start-up, and a Go package's init runs whenever it is linked,
// used or not. `make build` embeds the plugin executable (cmd/acmectl-dns-cloud)
// in acmectl; see Embedded.
//
// It is not a plugin system for third parties: the plugin is built from this
// repository, with the same lego version, and travels inside the binary that
// starts it.
//
// Protocol: one JSON object per line on the child's stdin and stdout. The first
// request is "init" (provider name, resolvers, DNS timeout): the child builds
// the provider from its environment, which it inherits, and answers with the
// provider's propagation timeout and interval, or the error of lego's
// constructor. Then "present" and "cleanup" requests, each with an id, are
// answered in any order (the child serves them concurrently). The child exits
// when its stdin ends, after answering what it has started; so it also ends
// when the parent dies.
package dnsplugin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	legodns01 "github.com/go-acme/lego/v4/challenge/dns01"
)

// maxLine bounds one protocol line (requests and answers are a few hundred
// bytes; a provider's error message may be longer).
const maxLine = 1 << 20

const (
	opInit    = "init"
	opPresent = "present"
	opCleanUp = "cleanup"
)

type request struct {
	ID         uint64        `json:"id"`
	Op         string        `json:"op"`
	Provider   string        `json:"provider,omitempty"`
	Resolvers  []string      `json:"resolvers,omitempty"`
	DNSTimeout time.Duration `json:"dns_timeout,omitempty"`
	Domain     string        `json:"domain,omitempty"`
	Token      string        `json:"token,omitempty"`
	KeyAuth    string        `json:"key_auth,omitempty"`
}

type response struct {
	ID    uint64 `json:"id"`
	Error string `json:"error,omitempty"`
	// Answers to init: the provider's lego Timeout() (zero when it has none)
	// and Sequential() (nil when it has none).
	Timeout    time.Duration  `json:"timeout,omitempty"`
	Interval   time.Duration  `json:"interval,omitempty"`
	Sequential *time.Duration `json:"sequential,omitempty"`
}

// Serve is the child's side: it reads requests from r and answers on w until
// r ends, then waits for the requests it started and returns nil. newProvider
// builds the provider named by the init request. A malformed request or a
// first request other than init ends Serve with an error.
func Serve(r io.Reader, w io.Writer, newProvider func(name string) (challenge.Provider, error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	var wmu sync.Mutex
	enc := json.NewEncoder(w)
	send := func(resp response) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = enc.Encode(resp) // a parent that is gone reads nothing anyway
	}

	if !sc.Scan() {
		return sc.Err()
	}
	var init request
	if err := json.Unmarshal(sc.Bytes(), &init); err != nil || init.Op != opInit {
		return fmt.Errorf("dnsplugin: first request is not init: %.80q", sc.Bytes())
	}
	if len(init.Resolvers) > 0 {
		_ = legodns01.AddRecursiveNameservers(init.Resolvers)(nil)
	}
	if init.DNSTimeout > 0 {
		_ = legodns01.AddDNSTimeout(init.DNSTimeout)(nil)
	}
	p, err := newProvider(init.Provider)
	if err != nil {
		send(response{ID: init.ID, Error: err.Error()})
		return nil
	}
	resp := response{ID: init.ID}
	if pt, ok := p.(challenge.ProviderTimeout); ok {
		resp.Timeout, resp.Interval = pt.Timeout()
	}
	if s, ok := p.(interface{ Sequential() time.Duration }); ok {
		d := s.Sequential()
		resp.Sequential = &d
	}
	send(resp)

	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("dnsplugin: malformed request: %w", err)
		}
		wg.Go(func() {
			var err error
			switch req.Op {
			case opPresent:
				err = p.Present(req.Domain, req.Token, req.KeyAuth)
			case opCleanUp:
				err = p.CleanUp(req.Domain, req.Token, req.KeyAuth)
			default:
				err = fmt.Errorf("dnsplugin: unknown request %q", req.Op)
			}
			resp := response{ID: req.ID}
			if err != nil {
				resp.Error = err.Error()
			}
			send(resp)
		})
	}
	return sc.Err()
}

// errExited is returned for requests the child did not answer.
var errExited = errors.New("the DNS plugin process exited")
