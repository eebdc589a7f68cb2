package dns01

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	legodns01 "github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/miekg/dns"
)

func systemResolvers() []string {
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	return out
}

// checkPropagation reports nil when every authoritative server of fqdn's zone
// answers value among the TXT records of fqdn. The zone is found with lego's
// FindZoneByFqdnCustom through the resolvers; the NS names are resolved through
// them too, and each server is asked directly, without recursion.
func (s *Solver) checkPropagation(ctx context.Context, fqdn, value string) error {
	zone, err := legodns01.FindZoneByFqdnCustom(fqdn, s.resolvers)
	if err != nil {
		return fmt.Errorf("find zone of %s: %w", fqdn, err)
	}
	r, err := s.query(ctx, zone, dns.TypeNS, s.resolvers, true)
	if err != nil {
		return fmt.Errorf("NS of zone %s: %w", zone, err)
	}
	var nsNames []string
	for _, rr := range r.Answer {
		if ns, ok := rr.(*dns.NS); ok {
			nsNames = append(nsNames, strings.ToLower(ns.Ns))
		}
	}
	if len(nsNames) == 0 {
		return fmt.Errorf("zone %s has no NS records", zone)
	}
	slices.Sort(nsNames)
	port := strconv.Itoa(s.opts.NameserverPort)
	for _, ns := range nsNames {
		addrs, err := s.addresses(ctx, ns)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			server := net.JoinHostPort(a, port)
			r, err := s.query(ctx, fqdn, dns.TypeTXT, []string{server}, false)
			if err != nil {
				return fmt.Errorf("TXT %s at %s (%s): %w", fqdn, ns, server, err)
			}
			if r.Rcode != dns.RcodeSuccess {
				return fmt.Errorf("%s (%s) answered %s for TXT %s", ns, server, dns.RcodeToString[r.Rcode], fqdn)
			}
			var seen []string
			found := false
			for _, rr := range r.Answer {
				if txt, ok := rr.(*dns.TXT); ok {
					v := strings.Join(txt.Txt, "")
					seen = append(seen, v)
					found = found || v == value
				}
			}
			if !found {
				return fmt.Errorf("%s (%s) does not have TXT %s = %q yet (has %q)", ns, server, fqdn, value, seen)
			}
		}
	}
	return nil
}

// addresses resolves a name server's name to its IPv4 and IPv6 addresses.
func (s *Solver) addresses(ctx context.Context, host string) ([]string, error) {
	var out []string
	var errs []error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		r, err := s.query(ctx, host, t, s.resolvers, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, v.A.String())
			case *dns.AAAA:
				out = append(out, v.AAAA.String())
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolve name server %s: no address: %w", host, errors.Join(errs...))
	}
	return out, nil
}

// query asks the servers in turn and returns the first answer (any rcode).
func (s *Solver) query(ctx context.Context, name string, qtype uint16, servers []string, recursive bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, false)
	m.RecursionDesired = recursive
	var errs []error
	for _, srv := range servers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := &dns.Client{Net: "udp", Timeout: s.opts.DNSTimeout}
		r, _, err := c.ExchangeContext(ctx, m, srv)
		if err == nil && r.Truncated {
			c.Net = "tcp"
			r, _, err = c.ExchangeContext(ctx, m, srv)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", srv, err))
			continue
		}
		return r, nil
	}
	return nil, errors.Join(errs...)
}
