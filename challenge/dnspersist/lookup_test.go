package dnspersist

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeDNS is a loopback DNS server answering from a record list, as an
// authoritative server (AA set) and as a resolver alike. Zones are the
// owners of the SOA records; a name below a zone with no record is NXDOMAIN
// with the zone's SOA in the authority section.
type fakeDNS struct {
	addr string
	port int
	mu   sync.Mutex
	rrs  []dns.RR
	// noSOA makes it answer NOTIMP to SOA and NS queries (as
	// pebble-challtestsrv does).
	noSOA bool
}

func startDNS(t *testing.T, ip string, port int, records ...string) *fakeDNS {
	t.Helper()
	f := &fakeDNS{}
	for _, r := range records {
		f.add(t, r)
	}
	// A free UDP port may be taken for TCP: try again (a fixed port once).
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for try := 0; ; try++ {
		if pc, err = net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port))); err != nil {
			t.Fatal(err)
		}
		f.port = pc.LocalAddr().(*net.UDPAddr).Port
		f.addr = net.JoinHostPort(ip, strconv.Itoa(f.port))
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		pc.Close()
		if port != 0 || try == 20 {
			t.Fatal(err)
		}
	}
	udp := &dns.Server{PacketConn: pc, Handler: f}
	tcp := &dns.Server{Listener: ln, Handler: f}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return f
}

func (f *fakeDNS) add(t *testing.T, zoneLine string) {
	t.Helper()
	rr, err := dns.NewRR(zoneLine)
	if err != nil {
		t.Fatalf("record %q: %v", zoneLine, err)
	}
	f.mu.Lock()
	f.rrs = append(f.rrs, rr)
	f.mu.Unlock()
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	f.mu.Lock()
	defer f.mu.Unlock()
	qn, qt := strings.ToLower(q.Question[0].Name), q.Question[0].Qtype
	if f.noSOA && (qt == dns.TypeSOA || qt == dns.TypeNS) {
		m.Rcode = dns.RcodeNotImplemented
		_ = w.WriteMsg(m)
		return
	}
	exists := false
	for _, rr := range f.rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, qn) {
			continue
		}
		exists = true
		if h.Rrtype == qt {
			m.Answer = append(m.Answer, rr)
		} else if c, ok := rr.(*dns.CNAME); ok {
			// An authoritative server adds the target's records when it is
			// in the same zone only.
			m.Answer = append(m.Answer, rr)
			for _, rr2 := range f.rrs {
				if strings.EqualFold(rr2.Header().Name, c.Target) && rr2.Header().Rrtype == qt && f.zoneOf(c.Target) == f.zoneOf(qn) {
					m.Answer = append(m.Answer, rr2)
				}
			}
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		for _, rr := range f.rrs {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(soa.Hdr.Name, qn) {
				m.Ns = append(m.Ns, soa)
			}
		}
	}
	_ = w.WriteMsg(m)
}

// zoneOf returns the longest SOA owner above name (caller holds mu).
func (f *fakeDNS) zoneOf(name string) string {
	best := ""
	for _, rr := range f.rrs {
		if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(soa.Hdr.Name, name) && len(soa.Hdr.Name) > len(best) {
			best = soa.Hdr.Name
		}
	}
	return best
}

const pZone = `p.example. 5 IN SOA ns1.p.example. hostmaster.p.example. 1 60 60 600 5`

func TestResolverAuthoritative(t *testing.T) {
	long := "authority.example; accounturi=https://ca.example/acct/" + strings.Repeat("9", 300)
	f := startDNS(t, "127.0.0.1", 0,
		pZone,
		`p.example. 5 IN NS ns1.p.example.`,
		`ns1.p.example. 5 IN A 127.0.0.1`,
		`_validation-persist.p.example. 5 IN TXT "authority.example; accounturi=`+acct+`"`,
		`_validation-persist.p.example. 5 IN TXT "v=spf1 -all"`,
		`_validation-persist.long.p.example. 5 IN TXT "`+long[:255]+`" "`+long[255:]+`"`,
		`_validation-persist.alias.p.example. 5 IN CNAME _validation-persist.q.other.example.`,
		`_validation-persist.alias2.p.example. 5 IN CNAME _validation-persist.p.example.`,
		`other.example. 5 IN SOA ns1.p.example. hostmaster.p.example. 1 60 60 600 5`,
		`other.example. 5 IN NS ns1.p.example.`,
		`_validation-persist.q.other.example. 5 IN TXT "authority.example; accounturi=`+other+`"`,
	)
	r := &Resolver{Servers: []string{f.addr}, NameserverPort: f.port, Timeout: 2 * time.Second}
	for _, tc := range []struct {
		name   string
		want   []string
		server string
	}{
		{"_validation-persist.p.example", []string{"authority.example; accounturi=" + acct, "v=spf1 -all"}, "ns1.p.example. (" + f.addr + ")"},
		{"_validation-persist.long.p.example", []string{long}, "ns1.p.example."},
		{"_validation-persist.none.p.example", []string{}, "ns1.p.example."},
		{"_validation-persist.alias.p.example", []string{"authority.example; accounturi=" + other}, "ns1.p.example. (" + f.addr + ") via CNAME _validation-persist.q.other.example."},
		{"_validation-persist.alias2.p.example", []string{"authority.example; accounturi=" + acct, "v=spf1 -all"}, "ns1.p.example. (" + f.addr + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answers, err := r.TXT(t.Context(), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(answers) != 1 || answers[0].Err != nil {
				t.Fatalf("answers %+v", answers)
			}
			if got := strings.Join(answers[0].Values, "|"); got != strings.Join(tc.want, "|") {
				t.Errorf("values %q, want %q", answers[0].Values, tc.want)
			}
			if !strings.HasPrefix(answers[0].Server, tc.server) {
				t.Errorf("server %q, want %q…", answers[0].Server, tc.server)
			}
		})
	}

	v := CheckName(t.Context(), r, "p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if !v.OK() || !strings.HasPrefix(v.Source, "ns1.p.example.") {
		t.Errorf("CheckName = %s %q from %q", v.Status, v.Reason, v.Source)
	}
	v = CheckName(t.Context(), r, "alias.p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if v.Status != StatusWrongAccount || !strings.Contains(v.Source, "via CNAME _validation-persist.q.other.example.") {
		t.Errorf("CheckName through a CNAME = %s %q from %q", v.Status, v.Reason, v.Source)
	}
}

// TestResolverServersDisagree: one authoritative server has the record, the
// other does not yet: the verdict is the refusing server's, naming both.
func TestResolverServersDisagree(t *testing.T) {
	a := startDNS(t, "127.0.0.1", 0,
		pZone,
		`p.example. 5 IN NS ns1.p.example.`, `p.example. 5 IN NS ns2.p.example.`,
		`ns1.p.example. 5 IN A 127.0.0.1`, `ns2.p.example. 5 IN A 127.0.0.2`,
		`_validation-persist.p.example. 5 IN TXT "authority.example; accounturi=`+acct+`"`,
	)
	startDNS(t, "127.0.0.2", a.port, pZone)
	r := &Resolver{Servers: []string{a.addr}, NameserverPort: a.port, Timeout: 2 * time.Second}
	v := CheckName(t.Context(), r, "p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if v.Status != StatusMissing || !strings.HasPrefix(v.Source, "ns2.p.example.") || !strings.Contains(v.Reason, "ns1.p.example.") || !strings.Contains(v.Reason, "disagree") {
		t.Errorf("CheckName = %s %q from %q", v.Status, v.Reason, v.Source)
	}
}

// TestResolverDirectAndFallback: --dns-resolver asks the resolver itself; a
// resolver that answers no SOA (pebble-challtestsrv) is asked directly
// after the authoritative walk fails, and the source says so.
func TestResolverDirectAndFallback(t *testing.T) {
	f := startDNS(t, "127.0.0.1", 0, `_validation-persist.p.example. 5 IN TXT "authority.example; accounturi=`+acct+`"`)
	f.mu.Lock()
	f.noSOA = true
	f.mu.Unlock()
	direct := &Resolver{Servers: []string{f.addr}, Direct: true, Timeout: 2 * time.Second}
	v := CheckName(t.Context(), direct, "p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if !v.OK() || v.Source != "resolver "+f.addr {
		t.Errorf("direct: %s %q from %q", v.Status, v.Reason, v.Source)
	}
	walk := &Resolver{Servers: []string{f.addr}, NameserverPort: f.port, Timeout: 2 * time.Second}
	v = CheckName(t.Context(), walk, "p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if !v.OK() || !strings.Contains(v.Source, "authoritative servers could not be asked") {
		t.Errorf("fallback: %s %q from %q", v.Status, v.Reason, v.Source)
	}
}

// TestResolverNobodyAnswers: a dead resolver is a lookup failure naming
// --dns-resolver, within the timeouts.
func TestResolverNobodyAnswers(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String() // bound and silent
	t.Cleanup(func() { pc.Close() })
	r := &Resolver{Servers: []string{addr}, Timeout: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	v := CheckName(ctx, r, "*.p.example", Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct})
	if v.Status != StatusLookupFailed || !strings.Contains(v.Fix, "--dns-resolver") || !strings.Contains(v.Reason, "_validation-persist.p.example") {
		t.Errorf("CheckName = %s %q fix %q", v.Status, v.Reason, v.Fix)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
	err = v.Err()
	if err == nil || !strings.Contains(err.Error(), "*.p.example") {
		t.Errorf("Err() = %v", err)
	}
}

// TestSolverPresentPersist checks the solver end to end against the fake
// server: the CA's list is refused when malformed, a missing record is a
// *RecordError naming it, Report sees every verdict, CleanUp does nothing.
func TestSolverPresentPersist(t *testing.T) {
	f := startDNS(t, "127.0.0.1", 0,
		`_validation-persist.p.example. 5 IN TXT "authority.example; accounturi=`+acct+`; persistUntil=1767312000"`)
	f.mu.Lock()
	f.noSOA = true
	f.mu.Unlock()
	var mu sync.Mutex
	var seen []Verdict
	s := &Solver{Resolver: &Resolver{Servers: []string{f.addr}, Direct: true, Timeout: 2 * time.Second},
		Now:    func() time.Time { return time.Unix(1767225600, 0) },
		Report: func(v Verdict) { mu.Lock(); seen = append(seen, v); mu.Unlock() }}
	ctx := t.Context()
	if err := s.PresentPersist(ctx, "p.example", false, []string{issuer}, acct); err != nil {
		t.Fatalf("PresentPersist: %v", err)
	}
	// The record's persistUntil is a day away: the proposed record drops it.
	err := s.PresentPersist(ctx, "p.example", true, []string{issuer}, acct)
	var re *RecordError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), `*.p.example: the record has no policy=wildcard`) ||
		!strings.Contains(err.Error(), `TXT _validation-persist.p.example "authority.example; accounturi=`+acct+`; policy=wildcard"`) {
		t.Errorf("wildcard: %v", err)
	}
	if err := s.PresentPersist(ctx, "p.example", false, nil, acct); err == nil || !strings.Contains(err.Error(), "challenge is malformed") {
		t.Errorf("no issuers: %v", err)
	}
	if err := s.PresentPersist(ctx, "p.example", false, []string{"Bad Issuer"}, acct); err == nil || !strings.Contains(err.Error(), "challenge is malformed") {
		t.Errorf("bad issuer: %v", err)
	}
	if err := s.Present(ctx, "p.example", "", ""); err == nil {
		t.Error("Present without details succeeded")
	}
	if err := s.CleanUp(ctx, "p.example", "", ""); err != nil {
		t.Errorf("CleanUp: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || !seen[0].OK() || seen[0].Warning == "" || seen[1].Status != StatusNoWildcardPolicy {
		t.Errorf("reported %+v", seen)
	}
}
