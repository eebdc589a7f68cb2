package dnspersist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds one DNS query when Resolver.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// maxCNAME bounds the CNAME chain followed from a record name.
const maxCNAME = 8

// Resolver reads the TXT records of a name. The zero value asks the zone's
// authoritative servers, found through the resolvers of /etc/resolv.conf, so
// a record just published is seen without waiting for caches. It holds no
// state and is safe for concurrent use.
type Resolver struct {
	// Servers are recursive resolvers ("host" or "host:port"); empty means
	// those of /etc/resolv.conf.
	Servers []string
	// Direct asks Servers for the TXT records themselves instead of the
	// authoritative servers (acmectl's --dns-resolver: a split-horizon or
	// test resolver, the one the CA uses).
	Direct bool
	// NameserverPort is the authoritative servers' port; zero means 53.
	// Tests point it at a loopback server.
	NameserverPort int
	// Timeout bounds one query; zero means DefaultTimeout.
	Timeout time.Duration
}

// Answer is the TXT set one server gave for a name.
type Answer struct {
	// Server names who answered: "ns1.example. (192.0.2.1:53)" or
	// "resolver 127.0.0.1:53".
	Server string
	// Values are the TXT values, each record's character-strings joined.
	Values []string
	// Err is set when this server could not be asked or refused.
	Err error
}

// TXT returns the TXT records at name as each authoritative server of its
// zone holds them (following CNAMEs), or, with Direct, as the first
// resolver that answers holds them. When the authoritative servers cannot be
// found or reached (a firewall that lets only the local resolver out), the
// resolvers are asked instead and Answer.Server says so. A name that does
// not exist has no values; an error is returned only when nobody answered.
func (r *Resolver) TXT(ctx context.Context, name string) ([]Answer, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	if r.Direct {
		a, err := r.direct(ctx, name, servers)
		if err != nil {
			return nil, err
		}
		return []Answer{a}, nil
	}
	answers, authErr := r.authoritative(ctx, name, servers, 0)
	if authErr == nil {
		return answers, nil
	}
	if ctx.Err() != nil {
		return nil, authErr
	}
	a, err := r.direct(ctx, name, servers)
	if err != nil {
		return nil, fmt.Errorf("%w; resolvers: %w", authErr, err)
	}
	a.Server += " (the authoritative servers could not be asked: " + authErr.Error() + ")"
	return []Answer{a}, nil
}

func (r *Resolver) servers() ([]string, error) {
	in := r.Servers
	if len(in) == 0 {
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("dns-persist-01: no resolver given and /etc/resolv.conf unreadable: %w", err)
		}
		for _, s := range cfg.Servers {
			in = append(in, net.JoinHostPort(s, cfg.Port))
		}
		if len(in) == 0 {
			return nil, errors.New("dns-persist-01: /etc/resolv.conf lists no resolver; give one (--dns-resolver)")
		}
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		out = append(out, s)
	}
	return out, nil
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

// direct asks the resolvers in turn; the first answer counts.
func (r *Resolver) direct(ctx context.Context, name string, servers []string) (Answer, error) {
	var errs []error
	for _, srv := range servers {
		m, err := r.exchange(ctx, name, dns.TypeTXT, srv, true)
		if err == nil && m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			err = fmt.Errorf("answered %s", dns.RcodeToString[m.Rcode])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("resolver %s: %w", srv, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return Answer{Server: "resolver " + srv, Values: txtValues(m.Answer, "")}, nil
	}
	return Answer{}, fmt.Errorf("TXT %s: %w", name, errors.Join(errs...))
}

// authoritative asks every authoritative server of name's zone.
func (r *Resolver) authoritative(ctx context.Context, name string, resolvers []string, depth int) ([]Answer, error) {
	zone, err := r.findZone(ctx, name, resolvers)
	if err != nil {
		return nil, err
	}
	nsNames, err := r.nameservers(ctx, zone, resolvers)
	if err != nil {
		return nil, err
	}
	port := r.NameserverPort
	if port == 0 {
		port = 53
	}
	var out []Answer
	ok := 0
	var errs []error
	for _, ns := range nsNames {
		addrs, err := r.addresses(ctx, ns, resolvers)
		if err != nil {
			out = append(out, Answer{Server: ns, Err: err})
			errs = append(errs, err)
			continue
		}
		for _, a := range addrs {
			srv := net.JoinHostPort(a, strconv.Itoa(port))
			label := ns + " (" + srv + ")"
			m, err := r.exchange(ctx, name, dns.TypeTXT, srv, false)
			if err == nil && m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
				err = fmt.Errorf("answered %s", dns.RcodeToString[m.Rcode])
			}
			if err != nil {
				err = fmt.Errorf("%s: %w", label, err)
				out = append(out, Answer{Server: label, Err: err})
				errs = append(errs, err)
				continue
			}
			target := cnameTarget(m.Answer, name)
			values := txtValues(m.Answer, target)
			if target != dns.Fqdn(strings.ToLower(name)) && len(values) == 0 {
				// A CNAME out of the zone: ask the target's own servers.
				if depth >= maxCNAME {
					return nil, fmt.Errorf("TXT %s: more than %d CNAMEs", name, maxCNAME)
				}
				more, err := r.authoritative(ctx, target, resolvers, depth+1)
				if err != nil {
					return nil, fmt.Errorf("TXT %s (CNAME to %s): %w", name, target, err)
				}
				for i := range more {
					more[i].Server += " via CNAME " + target
				}
				return more, nil
			}
			out = append(out, Answer{Server: label, Values: values})
			ok++
		}
	}
	if ok == 0 {
		return nil, fmt.Errorf("no authoritative server of %s answered: %w", zone, errors.Join(errs...))
	}
	return out, nil
}

// findZone returns the zone holding name: the owner of the SOA a resolver
// gives for name (in the answer, or in the authority section of a negative
// answer), walking up a label when it gives none.
func (r *Resolver) findZone(ctx context.Context, name string, resolvers []string) (string, error) {
	name = dns.Fqdn(strings.ToLower(name))
	var lastErr error
	for cand := name; ; {
		m, err := r.ask(ctx, cand, dns.TypeSOA, resolvers)
		if err == nil {
			for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
				if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(strings.ToLower(soa.Hdr.Name), name) {
					return strings.ToLower(soa.Hdr.Name), nil
				}
			}
			if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
				lastErr = fmt.Errorf("SOA %s: answered %s", cand, dns.RcodeToString[m.Rcode])
			}
		} else {
			lastErr = err
			if ctx.Err() != nil {
				return "", err
			}
		}
		_, rest, _ := strings.Cut(cand, ".")
		if rest == "" {
			break
		}
		cand = rest
	}
	if lastErr != nil {
		return "", fmt.Errorf("find the zone of %s: %w", name, lastErr)
	}
	return "", fmt.Errorf("find the zone of %s: no SOA record", name)
}

func (r *Resolver) nameservers(ctx context.Context, zone string, resolvers []string) ([]string, error) {
	m, err := r.ask(ctx, zone, dns.TypeNS, resolvers)
	if err != nil {
		return nil, fmt.Errorf("NS %s: %w", zone, err)
	}
	var out []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok {
			out = append(out, strings.ToLower(ns.Ns))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("zone %s has no NS records", zone)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (r *Resolver) addresses(ctx context.Context, host string, resolvers []string) ([]string, error) {
	var out []string
	var errs []error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, err := r.ask(ctx, host, t, resolvers)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range m.Answer {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, v.A.String())
			case *dns.AAAA:
				out = append(out, v.AAAA.String())
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("name server %s has no address: %w", host, errors.Join(errs...))
	}
	return out, nil
}

// ask sends a recursive query to the resolvers in turn; the first answer
// (any rcode) counts.
func (r *Resolver) ask(ctx context.Context, name string, qtype uint16, resolvers []string) (*dns.Msg, error) {
	var errs []error
	for _, srv := range resolvers {
		m, err := r.exchange(ctx, name, qtype, srv, true)
		if err == nil {
			return m, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", srv, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// exchange sends one query over UDP, again over TCP when truncated.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16, server string, recursive bool) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(4096, false)
	q.RecursionDesired = recursive
	c := &dns.Client{Net: "udp", Timeout: r.timeout()}
	m, _, err := c.ExchangeContext(ctx, q, server)
	if err == nil && m.Truncated {
		c.Net = "tcp"
		m, _, err = c.ExchangeContext(ctx, q, server)
	}
	return m, err
}

// cnameTarget follows the CNAME chain from name within rrs and returns
// where it ends (name itself when there is none), lower case, with a final dot.
func cnameTarget(rrs []dns.RR, name string) string {
	cur := dns.Fqdn(strings.ToLower(name))
	for range maxCNAME {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				next = dns.Fqdn(strings.ToLower(c.Target))
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	return cur
}

// txtValues returns the TXT values in rrs owned by owner ("" for any), each
// record's character-strings joined as the CA joins them.
func txtValues(rrs []dns.RR, owner string) []string {
	out := []string{}
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok && (owner == "" || strings.EqualFold(t.Hdr.Name, owner)) {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out
}

// CheckName reads name's record through r (nil: the zero Resolver) and
// checks it (Check) against each server's answer. The verdict is that of
// the first server whose answer the CA would refuse, else the first one's;
// Source names the server. A server that could not be asked while others
// answered is left out (the CA's resolver would ask one that answers).
// Nobody answering is StatusLookupFailed.
func CheckName(ctx context.Context, r *Resolver, name string, exp Expect) Verdict {
	if r == nil {
		r = &Resolver{}
	}
	rn, err := RecordName(name)
	if err != nil {
		return Check(name, nil, exp)
	}
	answers, err := r.TXT(ctx, rn)
	if err != nil {
		v := Check(name, nil, exp)
		if v.Status == StatusLookupFailed {
			return v
		}
		v.Status = StatusLookupFailed
		v.Reason = fmt.Sprintf("could not read TXT %s: %v", rn, err)
		v.Fix = "check that the name's DNS servers answer from here, or name the resolver the CA sees with --dns-resolver"
		return v
	}
	var first, bad *Verdict
	var okServers []string
	for _, a := range answers {
		if a.Err != nil {
			continue
		}
		v := Check(name, a.Values, exp)
		v.Source = a.Server
		if first == nil {
			first = &v
		}
		if v.OK() {
			okServers = append(okServers, a.Server)
		} else if bad == nil {
			bad = &v
		}
	}
	if bad != nil {
		if len(okServers) > 0 {
			bad.Reason += fmt.Sprintf(" (at %s; %s holds an acceptable record: the zone's servers disagree, it may still be propagating)", bad.Source, strings.Join(okServers, ", "))
		}
		return *bad
	}
	if first == nil {
		v := Check(name, nil, exp)
		v.Status, v.Reason = StatusLookupFailed, "no server answered for "+rn
		return v
	}
	return *first
}

// CheckNames checks several requested names at once (in parallel, results
// in order). A name whose wildcard is also among names is told so
// (Expect.Wildcard): the record they share must carry policy=wildcard.
func CheckNames(ctx context.Context, r *Resolver, names []string, exp Expect) []Verdict {
	wild := WildcardBases(names)
	out := make([]Verdict, len(names))
	done := make(chan struct{}, len(names))
	for i, n := range names {
		go func() {
			defer func() { done <- struct{}{} }()
			e := exp
			if base, _, err := SplitWildcard(n); err == nil && wild[base] {
				e.Wildcard = true
			}
			out[i] = CheckName(ctx, r, n, e)
		}()
	}
	for range names {
		<-done
	}
	return out
}

// WildcardBases returns the base names of the wildcards among names.
func WildcardBases(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		if base, w, err := SplitWildcard(n); err == nil && w {
			m[base] = true
		}
	}
	return m
}
