package dnspersist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Publisher creates a record once (set-up day); it never deletes one.
// Existing TXT records at the name (other CAs', other accounts') are kept.
type Publisher interface {
	Publish(ctx context.Context, r Record) error
}

// Env reads a setting by lego's environment variable name
// (RFC2136_NAMESERVER, EXEC_PATH, ...).
type Env func(name string) string

// RFC2136 adds records by DNS UPDATE (RFC 2136), signed with TSIG, as lego's
// rfc2136 provider does, with the same settings: RFC2136_NAMESERVER
// (host[:port]), RFC2136_TSIG_KEY, RFC2136_TSIG_SECRET,
// RFC2136_TSIG_ALGORITHM (default hmac-sha1.), RFC2136_TTL (default 3600:
// the record stays), RFC2136_DNS_TIMEOUT (seconds, default 10).
type RFC2136 struct {
	Nameserver          string
	TSIGKey, TSIGSecret string
	TSIGAlgorithm       string
	TTL                 uint32
	Timeout             time.Duration
}

// NewRFC2136 reads the settings; a missing nameserver is an error naming it.
func NewRFC2136(env Env) (*RFC2136, error) {
	p := &RFC2136{Nameserver: strings.TrimSpace(env("RFC2136_NAMESERVER")), TSIGKey: env("RFC2136_TSIG_KEY"),
		TSIGSecret: env("RFC2136_TSIG_SECRET"), TSIGAlgorithm: env("RFC2136_TSIG_ALGORITHM"), TTL: 3600, Timeout: 10 * time.Second}
	if p.Nameserver == "" {
		return nil, errors.New("rfc2136: RFC2136_NAMESERVER is not set (in the environment or --dns-credentials)")
	}
	if _, _, err := net.SplitHostPort(p.Nameserver); err != nil {
		p.Nameserver = net.JoinHostPort(strings.Trim(p.Nameserver, "[]"), "53")
	}
	if p.TSIGAlgorithm == "" {
		p.TSIGAlgorithm = dns.HmacSHA1
	}
	p.TSIGAlgorithm = dns.Fqdn(strings.ToLower(p.TSIGAlgorithm))
	if v := env("RFC2136_TTL"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("rfc2136: RFC2136_TTL %q: want seconds", v)
		}
		p.TTL = uint32(n)
	}
	if v := env("RFC2136_DNS_TIMEOUT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("rfc2136: RFC2136_DNS_TIMEOUT %q: want seconds", v)
		}
		p.Timeout = time.Duration(n) * time.Second
	}
	if (p.TSIGKey == "") != (p.TSIGSecret == "") {
		return nil, errors.New("rfc2136: set both RFC2136_TSIG_KEY and RFC2136_TSIG_SECRET, or neither")
	}
	return p, nil
}

// Publish finds the record's zone at the name server and adds the record.
func (p *RFC2136) Publish(ctx context.Context, r Record) error {
	fqdn := dns.Fqdn(r.Name)
	zone, err := (&Resolver{Timeout: p.Timeout}).findZone(ctx, fqdn, []string{p.Nameserver})
	if err != nil {
		return fmt.Errorf("rfc2136: %w", err)
	}
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: fqdn, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: p.TTL}, Txt: chunks(r.Value)}
	m := new(dns.Msg).SetUpdate(zone)
	m.Insert([]dns.RR{rr})
	c := &dns.Client{Net: "tcp", Timeout: p.Timeout}
	if p.TSIGKey != "" {
		key := dns.Fqdn(p.TSIGKey)
		m.SetTsig(key, p.TSIGAlgorithm, 300, time.Now().Unix())
		c.TsigSecret = map[string]string{key: p.TSIGSecret}
	}
	resp, _, err := c.ExchangeContext(ctx, m, p.Nameserver)
	if err != nil {
		return fmt.Errorf("rfc2136: update %s at %s: %w", zone, p.Nameserver, err)
	}
	if resp.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("rfc2136: %s refused the update of %s: %s", p.Nameserver, zone, dns.RcodeToString[resp.Rcode])
	}
	return nil
}

// chunks splits a TXT value into character-strings of at most 255 octets.
func chunks(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

// Exec runs lego's exec provider program as lego does in its default mode:
// `$EXEC_PATH present <fqdn.> <value>` (no shell), bounded by Timeout
// (EXEC_PROPAGATION_TIMEOUT seconds, default 60). EXEC_MODE=RAW is refused:
// its arguments are a dns-01 token and key authorization.
type Exec struct {
	Program string
	Env     []string
	Timeout time.Duration
}

// NewExec reads EXEC_PATH and EXEC_MODE; env is the program's environment.
func NewExec(get Env, environ []string) (*Exec, error) {
	p := &Exec{Program: get("EXEC_PATH"), Env: environ, Timeout: 60 * time.Second}
	if p.Program == "" {
		return nil, errors.New("exec: EXEC_PATH is not set (in the environment or --dns-credentials)")
	}
	if strings.EqualFold(get("EXEC_MODE"), "RAW") {
		return nil, errors.New("exec: EXEC_MODE=RAW passes a dns-01 token and key authorization; unset it so the program gets the record name and value")
	}
	if v := get("EXEC_PROPAGATION_TIMEOUT"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			p.Timeout = time.Duration(n) * time.Second
		}
	}
	return p, nil
}

// Publish runs the program and returns its output with a failure.
func (p *Exec) Publish(ctx context.Context, r Record) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Program, "present", dns.Fqdn(r.Name), r.Value)
	cmd.Env = p.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", p.Timeout)
		}
		msg := strings.TrimSpace(out.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return fmt.Errorf("exec: %s present %s: %w: %s", p.Program, r.Name, err, msg)
	}
	return nil
}
