package dnsplugin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/challenge"
)

// Config says which provider the child builds and how.
type Config struct {
	// Provider is the lego provider name ("route53").
	Provider string
	// Command returns a new, unstarted command that runs the plugin (Serve on
	// its stdin and stdout; Stdin and Stdout must be unset), and optionally a
	// function to call once the command has started or failed to start. Env
	// left nil means the child inherits this process's environment, where the
	// provider's credentials are.
	Command func() (cmd *exec.Cmd, started func(), err error)
	// Resolvers and DNSTimeout are handed to lego in the child, as package dns01
	// hands them to lego in this process.
	Resolvers  []string
	DNSTimeout time.Duration
}

// Provider is a lego provider served by a child process. It starts the child
// in New (so that a configuration error shows there, as with a provider built
// in process), stops it when the last record it presented is cleaned up, and
// starts a new one for the next Present. Calls are safe for concurrent use and
// run concurrently in the child.
type Provider struct {
	cfg      Config
	timeout  time.Duration
	interval time.Duration

	mu          sync.Mutex
	proc        *process // nil when no child runs
	outstanding int      // records presented and not cleaned up
}

// SequentialProvider is a Provider whose lego provider asks to solve one
// challenge at a time (lego's sequential interface).
type SequentialProvider struct {
	*Provider
	sequential time.Duration
}

// Sequential returns the pause the provider wants between two challenges.
func (p *SequentialProvider) Sequential() time.Duration { return p.sequential }

var (
	_ challenge.ProviderTimeout = (*Provider)(nil)
	_ challenge.ProviderTimeout = (*SequentialProvider)(nil)
)

// New starts the plugin and builds cfg.Provider in it. It returns the
// provider's constructor error as the child reports it (lego's message), or
// the error of starting the child.
func New(cfg Config) (challenge.Provider, error) {
	p := &Provider{cfg: cfg}
	proc, init, err := p.start()
	if err != nil {
		return nil, err
	}
	p.proc = proc
	p.timeout, p.interval = init.Timeout, init.Interval
	if init.Sequential != nil {
		return &SequentialProvider{Provider: p, sequential: *init.Sequential}, nil
	}
	return p, nil
}

// Timeout returns the provider's propagation timeout and interval as it
// reported them; zero when it has none (package dns01 then uses its defaults).
func (p *Provider) Timeout() (timeout, interval time.Duration) { return p.timeout, p.interval }

// Present asks the child to create the TXT record.
func (p *Provider) Present(domain, token, keyAuth string) error {
	p.mu.Lock()
	if p.proc == nil || p.proc.exited() {
		proc, _, err := p.start()
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.proc = proc
	}
	proc := p.proc
	p.outstanding++
	p.mu.Unlock()
	_, err := proc.call(request{Op: opPresent, Domain: domain, Token: token, KeyAuth: keyAuth})
	return err
}

// CleanUp asks the child to delete the TXT record; after the last outstanding
// record, the child is stopped.
func (p *Provider) CleanUp(domain, token, keyAuth string) error {
	p.mu.Lock()
	if p.proc == nil || p.proc.exited() {
		// The child that presented the record is gone (it crashed, or CleanUp
		// came without Present): a new one can still delete it.
		proc, _, err := p.start()
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.proc = proc
	}
	proc := p.proc
	p.mu.Unlock()
	_, err := proc.call(request{Op: opCleanUp, Domain: domain, Token: token, KeyAuth: keyAuth})
	p.mu.Lock()
	if p.outstanding > 0 {
		p.outstanding--
	}
	if p.outstanding == 0 && p.proc == proc {
		p.proc = nil
		proc.stop()
	}
	p.mu.Unlock()
	return err
}

// start runs a new child and sends it init. The caller holds p.mu or owns p.
func (p *Provider) start() (*process, response, error) {
	cmd, started, err := p.cfg.Command()
	if err != nil {
		return nil, response{}, fmt.Errorf("DNS plugin for %s: %w", p.cfg.Provider, err)
	}
	proc, err := startProcess(cmd)
	if started != nil {
		started()
	}
	if err != nil {
		return nil, response{}, fmt.Errorf("DNS plugin for %s: %w", p.cfg.Provider, err)
	}
	init, err := proc.call(request{Op: opInit, Provider: p.cfg.Provider, Resolvers: p.cfg.Resolvers, DNSTimeout: p.cfg.DNSTimeout})
	if err != nil {
		proc.stop()
		return nil, response{}, err
	}
	return proc, init, nil
}

// process is one running child and the requests waiting for its answers.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the reader has seen the child's stdout end

	wmu sync.Mutex // serialises writes to stdin
	enc *json.Encoder

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan response
	closed  bool // stdout ended: no more answers
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	proc := &process{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), done: make(chan struct{}), pending: map[uint64]chan response{}}
	go proc.read(stdout)
	return proc, nil
}

// read dispatches answers until stdout ends, then fails what is pending and
// reaps the child.
func (proc *process) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		var resp response
		if json.Unmarshal(sc.Bytes(), &resp) != nil {
			continue
		}
		proc.mu.Lock()
		ch := proc.pending[resp.ID]
		delete(proc.pending, resp.ID)
		proc.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
	proc.mu.Lock()
	proc.closed = true
	for id, ch := range proc.pending {
		delete(proc.pending, id)
		close(ch)
	}
	proc.mu.Unlock()
	_ = proc.cmd.Wait()
	close(proc.done)
}

func (proc *process) exited() bool {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	return proc.closed
}

// call sends req and waits for its answer. The wait is not bounded here: lego
// providers bound their own calls (route53 waits for INSYNC at most its
// propagation timeout), and the child's death ends it.
func (proc *process) call(req request) (response, error) {
	ch := make(chan response, 1)
	proc.mu.Lock()
	if proc.closed {
		proc.mu.Unlock()
		return response{}, errExited
	}
	proc.nextID++
	req.ID = proc.nextID
	proc.pending[req.ID] = ch
	proc.mu.Unlock()

	proc.wmu.Lock()
	err := proc.enc.Encode(req)
	proc.wmu.Unlock()
	if err != nil {
		proc.mu.Lock()
		delete(proc.pending, req.ID)
		proc.mu.Unlock()
		return response{}, fmt.Errorf("%w: %w", errExited, err)
	}
	resp, ok := <-ch
	if !ok {
		return response{}, errExited
	}
	if resp.Error != "" {
		return resp, remoteError(resp.Error)
	}
	return resp, nil
}

// stop closes the child's stdin: it answers what it started, then exits. stop
// does not wait.
func (proc *process) stop() { _ = proc.stdin.Close() }

// remoteError is an error message from the child (lego's text).
type remoteError string

func (e remoteError) Error() string { return string(e) }
