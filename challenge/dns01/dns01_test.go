package dns01

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var (
	_ interface {
		Present(ctx context.Context, domain, token, keyAuth string) error
		CleanUp(ctx context.Context, domain, token, keyAuth string) error
	} = (*Solver)(nil)
	_ interface {
		Wait(ctx context.Context, domain, token, keyAuth string) error
	} = (*Solver)(nil)
)

// fakeZone is an authoritative server for one zone on 127.0.0.1 (UDP), with
// TXT records the test changes while it runs.
type fakeZone struct {
	zone  string
	addr  string
	mu    sync.Mutex
	txt   map[string][]string // fqdn → values
	cname map[string]string
}

func startZone(t *testing.T, zone string) *fakeZone {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z := &fakeZone{zone: dns.Fqdn(zone), addr: pc.LocalAddr().String(), txt: map[string][]string{}, cname: map[string]string{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return z
}

func (z *fakeZone) setTXT(fqdn string, values ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[dns.Fqdn(fqdn)] = values
}

func (z *fakeZone) serve(w dns.ResponseWriter, req *dns.Msg) {
	z.mu.Lock()
	defer z.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	if !dns.IsSubDomain(z.zone, name) {
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	if target, ok := z.cname[name]; ok {
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: target})
		_ = w.WriteMsg(m)
		return
	}
	switch {
	case q.Qtype == dns.TypeSOA && name == z.zone:
		m.Answer = append(m.Answer, &dns.SOA{Hdr: hdr(dns.TypeSOA), Ns: "ns1." + z.zone, Mbox: "hostmaster." + z.zone, Serial: 1, Refresh: 60, Retry: 60, Expire: 600, Minttl: 60})
	case q.Qtype == dns.TypeNS && name == z.zone:
		m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(dns.TypeNS), Ns: "ns1." + z.zone})
	case q.Qtype == dns.TypeA && name == "ns1."+z.zone:
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: net.IPv4(127, 0, 0, 1)})
	case q.Qtype == dns.TypeTXT:
		for _, v := range z.txt[name] {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: []string{v}})
		}
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: z.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1." + z.zone, Mbox: "hostmaster." + z.zone, Serial: 1, Refresh: 60, Retry: 60, Expire: 600, Minttl: 60})
	}
	_ = w.WriteMsg(m)
}

func (z *fakeZone) port(t *testing.T) int {
	_, p, _ := net.SplitHostPort(z.addr)
	n, err := net.LookupPort("udp", p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fakeProvider records calls and writes into a fakeZone.
type fakeProvider struct {
	zone  *fakeZone
	mu    sync.Mutex
	calls []string
}

func (p *fakeProvider) Present(domain, token, keyAuth string) error {
	p.mu.Lock()
	p.calls = append(p.calls, "present "+domain)
	p.mu.Unlock()
	fqdn, value := Record(domain, keyAuth)
	p.zone.setTXT(fqdn, value)
	return nil
}

func (p *fakeProvider) CleanUp(domain, token, keyAuth string) error {
	p.mu.Lock()
	p.calls = append(p.calls, "cleanup "+domain)
	p.mu.Unlock()
	fqdn, _ := Record(domain, keyAuth)
	p.zone.setTXT(fqdn)
	return nil
}

func TestSolverPresentWaitCleanUp(t *testing.T) {
	z := startZone(t, "example.test")
	p := &fakeProvider{zone: z}
	s, err := NewWithProvider("fake", p, Options{
		Resolvers: []string{z.addr}, NameserverPort: z.port(t),
		PropagationTimeout: 3 * time.Second, PollInterval: 50 * time.Millisecond, DNSTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const keyAuth = "tok.thumb"
	// Wildcards arrive as the base name; a stray "*." is stripped too.
	for _, d := range []string{"a.example.test", "*.b.example.test"} {
		if err := s.Present(ctx, d, "tok", keyAuth); err != nil {
			t.Fatal(err)
		}
		if err := s.Wait(ctx, d, "tok", keyAuth); err != nil {
			t.Fatalf("Wait(%s) = %v", d, err)
		}
		if err := s.CleanUp(ctx, d, "tok", keyAuth); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"present a.example.test", "cleanup a.example.test", "present b.example.test", "cleanup b.example.test"}
	if !reflect.DeepEqual(p.calls, want) {
		t.Errorf("provider calls = %v, want %v", p.calls, want)
	}
	fqdn, value := Record("a.example.test", keyAuth)
	if fqdn != "_acme-challenge.a.example.test." || value != "sYAwVrqDtVOuJZvAHurSAYPoEt5fFV_C4bdSOOW-o5Y" {
		// value: printf %s tok.thumb | openssl dgst -sha256 -binary | basenc --base64url | tr -d =
		t.Errorf("Record = %q %q", fqdn, value)
	}
}

func TestSolverWaitTimesOut(t *testing.T) {
	z := startZone(t, "example.test")
	z.setTXT("_acme-challenge.slow.example.test", "some-other-value")
	s, err := NewWithProvider("fake", &fakeProvider{zone: z}, Options{
		Resolvers: []string{z.addr}, NameserverPort: z.port(t),
		// Long enough for a loaded machine to see the wrong value at least
		// once (a first query cut by the deadline names no value).
		PropagationTimeout: 3 * time.Second, PollInterval: 100 * time.Millisecond, DNSTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Wait(t.Context(), "slow.example.test", "tok", "tok.thumb")
	if err == nil {
		t.Fatal("Wait = nil for a record that never appears")
	}
	for _, w := range []string{"not on every authoritative server after 3s", "ns1.example.test.", "some-other-value", "--dns-propagation-seconds"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Wait took %s with a 3s timeout", d)
	}
}

func TestSolverFixedPropagationWait(t *testing.T) {
	s, err := NewWithProvider("fake", &fakeProvider{}, Options{Resolvers: []string{"127.0.0.1:9"}, PropagationWait: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Wait(t.Context(), "a.example.test", "tok", "ka"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("Wait returned after %s, want >= 150ms (no DNS check)", d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s.opts.PropagationWait = time.Hour
	if err := s.Wait(ctx, "a.example.test", "tok", "ka"); err == nil {
		t.Error("Wait with a cancelled ctx = nil")
	}
}

func TestRecordFollowsCNAME(t *testing.T) {
	z := startZone(t, "example.test")
	z.mu.Lock()
	z.cname["_acme-challenge.alias.example.test."] = "_acme-challenge.target.example.test."
	z.mu.Unlock()
	if _, err := NewWithProvider("fake", &fakeProvider{zone: z}, Options{Resolvers: []string{z.addr}}); err != nil {
		t.Fatal(err)
	}
	if fqdn, _ := Record("alias.example.test", "ka"); fqdn != "_acme-challenge.target.example.test." {
		t.Errorf("Record(alias) fqdn = %q, want the CNAME target", fqdn)
	}
}

func TestNewUnknownProvider(t *testing.T) {
	_, err := New("no-such-dns", Options{Resolvers: []string{"127.0.0.1:9"}})
	if err == nil || !strings.Contains(err.Error(), `unknown DNS provider "no-such-dns"`) {
		t.Fatalf("New(no-such-dns) = %v", err)
	}
	if _, err := New("", Options{}); err == nil || !strings.Contains(err.Error(), "--dns NAME") {
		t.Errorf("New(\"\") = %v", err)
	}
}

func TestProvidersCurated(t *testing.T) {
	got := Providers()
	for _, want := range []string{"cloudflare", "route53", "digitalocean", "gcloud", "azuredns", "ovh", "linode", "hetzner", "gandiv5", "godaddy", "namecheap", "porkbun", "rfc2136", "exec", "httpreq"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("Providers() lacks %s", want)
		}
	}
}

func TestNewWithCredentialsFile(t *testing.T) {
	script := filepath.Join(t.TempDir(), "update.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EXEC_PATH", "") // restored after the test; New sets it from the file
	t.Setenv("EXEC_MODE", "")
	creds := filepath.Join(t.TempDir(), "exec.ini")
	if err := os.WriteFile(creds, []byte("# certbot style\ndns_exec_path = "+script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New("exec", Options{CredentialsFile: creds, Resolvers: []string{"127.0.0.1:9"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "exec" || os.Getenv("EXEC_PATH") != script {
		t.Errorf("New(exec) name %q EXEC_PATH %q", s.Name(), os.Getenv("EXEC_PATH"))
	}
	// The provider's own error when its settings are missing names it.
	t.Setenv("EXEC_PATH", "")
	os.Unsetenv("EXEC_PATH")
	if _, err := New("exec", Options{Resolvers: []string{"127.0.0.1:9"}}); err == nil || !strings.Contains(err.Error(), "EXEC_PATH") {
		t.Errorf("New(exec) without EXEC_PATH = %v", err)
	}
}

func TestLoadCredentials(t *testing.T) {
	tests := []struct {
		name, provider, body string
		mode                 os.FileMode
		want                 map[string]string
		wantErr              string
	}{
		{
			name: "certbot cloudflare", provider: "cloudflare", mode: 0o600,
			body: "# Cloudflare API token\ndns_cloudflare_api_token = 0123456789abcdef\n",
			want: map[string]string{"CLOUDFLARE_DNS_API_TOKEN": "0123456789abcdef"},
		},
		{
			name: "certbot rfc2136", provider: "rfc2136", mode: 0o600,
			body: "dns_rfc2136_server = 192.0.2.1\ndns_rfc2136_port = 5353\ndns_rfc2136_name = keyname.\ndns_rfc2136_secret = \"c2VjcmV0\"\ndns_rfc2136_algorithm = HMAC-SHA512\n",
			want: map[string]string{"RFC2136_NAMESERVER": "192.0.2.1:5353", "RFC2136_TSIG_KEY": "keyname.", "RFC2136_TSIG_SECRET": "c2VjcmV0", "RFC2136_TSIG_ALGORITHM": "hmac-sha512"},
		},
		{
			name: "env style, group readable ok", provider: "ovh", mode: 0o640,
			body: "OVH_ENDPOINT=ovh-eu\n; comment\n\nOVH_APPLICATION_KEY='k=v'\n",
			want: map[string]string{"OVH_ENDPOINT": "ovh-eu", "OVH_APPLICATION_KEY": "k=v"},
		},
		{
			name: "generic lower-case keys", provider: "ovh", mode: 0o600,
			body: "dns_ovh_endpoint = ovh-eu\napplication_secret = s\n",
			want: map[string]string{"OVH_ENDPOINT": "ovh-eu", "OVH_APPLICATION_SECRET": "s"},
		},
		{
			name: "certbot plugin alias", provider: "gcloud", mode: 0o600,
			body: "dns_google_credentials = /etc/google.json\n",
			want: map[string]string{"GCE_SERVICE_ACCOUNT_FILE": "/etc/google.json"},
		},
		{
			name: "route53 keys keep their prefix", provider: "route53", mode: 0o600,
			body: "aws_access_key_id = AKIA\naws_secret_access_key = s\n",
			want: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"},
		},
		{name: "world readable", provider: "cloudflare", mode: 0o644, body: "dns_cloudflare_api_token = x\n", wantErr: "is accessible by others (mode 0644); run: chmod 600 "},
		{name: "world writable", provider: "cloudflare", mode: 0o602, body: "dns_cloudflare_api_token = x\n", wantErr: "chmod 600"},
		{name: "other plugin's key", provider: "cloudflare", mode: 0o600, body: "dns_ovh_endpoint = x\n", wantErr: "not for provider cloudflare"},
		{name: "no equals", provider: "cloudflare", mode: 0o600, body: "just a line\n", wantErr: "line 1"},
		{name: "empty", provider: "cloudflare", mode: 0o600, body: "# nothing\n", wantErr: "sets nothing"},
		{name: "port without server", provider: "rfc2136", mode: 0o600, body: "dns_rfc2136_port = 53\n", wantErr: "no server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "creds.ini")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			got, err := LoadCredentials(path, tc.provider)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadCredentials = %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "chmod") && !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadCredentials = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "missing"), "ovh"); err == nil {
		t.Error("missing file: nil error")
	}
}

func TestCheckWildcards(t *testing.T) {
	tests := []struct {
		names, types []string
		wantErr      bool
	}{
		{[]string{"a.example", "*.a.example"}, []string{"dns-01"}, false},
		{[]string{"a.example", "*.a.example"}, []string{"http-01", "dns-01"}, false},
		{[]string{"a.example", "*.a.example"}, []string{"http-01", "tls-alpn-01"}, true},
		{[]string{"a.example"}, []string{"http-01"}, false},
	}
	for _, tc := range tests {
		err := CheckWildcards(tc.names, tc.types)
		if (err != nil) != tc.wantErr {
			t.Errorf("CheckWildcards(%v, %v) = %v, want error %v", tc.names, tc.types, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "*.a.example") {
			t.Errorf("error %q does not name the wildcard", err)
		}
	}
	if b, w := SplitWildcard("*.x.example"); b != "x.example" || !w {
		t.Errorf("SplitWildcard = %q %v", b, w)
	}
	if b, w := SplitWildcard("x.example"); b != "x.example" || w {
		t.Errorf("SplitWildcard = %q %v", b, w)
	}
}

func TestSolverReplacingProviderRefusesSecondRecord(t *testing.T) {
	z := startZone(t, "example.test")
	p := &fakeProvider{zone: z}
	s, err := NewWithProvider("rfc2136", p, Options{Resolvers: []string{z.addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Present(ctx, "a.example.test", "t1", "t1.ka"); err != nil {
		t.Fatal(err)
	}
	err = s.Present(ctx, "a.example.test", "t2", "t2.ka") // *.a.example.test arrives as the base name
	if err == nil || !strings.Contains(err.Error(), "replaces the whole TXT record set") {
		t.Fatalf("second Present for the same name = %v", err)
	}
	if err := s.CleanUp(ctx, "a.example.test", "t1", "t1.ka"); err != nil {
		t.Fatal(err)
	}
	if err := s.Present(ctx, "a.example.test", "t2", "t2.ka"); err != nil {
		t.Errorf("Present after CleanUp = %v", err)
	}
	if ok, _ := s.Sequential(); ok {
		t.Error("fake provider reported sequential")
	}
}
