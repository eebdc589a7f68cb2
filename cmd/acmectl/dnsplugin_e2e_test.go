package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"

	"github.com/acmectl/acmectl/internal/pebbletest"
)

// startKnotd runs Debian's knotd on a loopback UDP/TCP port serving the
// zone acmectl.test. from testdata/dns with RFC 2136 updates allowed under
// the TSIG key "acmectl-test." (hmac-sha256); it returns the address and
// the key's secret, and stops knotd when the test ends.
func startKnotd(t *testing.T) (addr, secret string) {
	t.Helper()
	bin, err := exec.LookPath("knotd")
	if err != nil {
		bin = "/usr/sbin/knotd"
	}
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	secret = base64.StdEncoding.EncodeToString(key)
	port := pebbletest.FreeUDPPort(t)
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	tmpl := template.Must(template.ParseFiles(filepath.Join("..", "..", "testdata", "dns", "knot.conf.tmpl")))
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, map[string]any{"Dir": dir, "Port": port, "KeyName": "acmectl-test.", "Secret": secret, "Zone": "acmectl.test."}); err != nil {
		t.Fatal(err)
	}
	zone, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dns", "acmectl.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "knot.conf"), conf.Bytes(), 0o600)
	os.WriteFile(filepath.Join(dir, "acmectl.test.zone"), zone, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", filepath.Join(dir, "knot.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("knotd (Debian package knot): %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(60 * time.Second) // a loaded machine starts knotd slowly
	for {
		m := new(dns.Msg)
		m.SetQuestion("acmectl.test.", dns.TypeSOA)
		if r, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, addr); err == nil && len(r.Answer) > 0 {
			return addr, secret
		}
		select {
		case <-done:
			t.Fatalf("knotd exited:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("knotd not answering on %s:\n%s", addr, out.String())
		}
	}
}

// TestE2EDNSPluginFlagsRFC2136: certbot's DNS plugin flags —
// --dns-rfc2136 --dns-rfc2136-credentials FILE
// --dns-rfc2136-propagation-seconds N — with certbot's INI credentials file
// (dns_rfc2136_server, _port, _name, _secret, _algorithm), run through a
// certbot symlink to acmectl and through Debian's certbot 2.1 with
// python3-certbot-dns-rfc2136, against the same knotd and Pebble: both
// obtain the certificate by dns-01 and write the same renewal-conf keys,
// and acmectl renews from the conf.
func TestE2EDNSPluginFlagsRFC2136(t *testing.T) {
	skipShort(t)
	t.Parallel()
	addr, secret := startKnotd(t)
	s := pebbletest.Start(t, pebbletest.Options{DNSServer: addr})
	ac, cb := sideBySide(t, s)
	host, port, _ := strings.Cut(addr, ":")
	creds := filepath.Join(t.TempDir(), "rfc2136.ini")
	ini := fmt.Sprintf("# certbot-dns-rfc2136\ndns_rfc2136_server = %s\ndns_rfc2136_port = %s\ndns_rfc2136_name = acmectl-test.\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n", host, port, secret)
	if err := os.WriteFile(creds, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	ac.tr.env = append(ac.tr.env, "RFC2136_SEQUENCE_INTERVAL=1")
	for _, p := range []*peer{ac, cb} {
		name := strings.Fields(p.name)[0] + ".acmectl.test" // acmectl.acmectl.test, certbot.acmectl.test
		p.mustRun("certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--no-eff-email", "--server", s.DirectoryURL,
			"--dns-rfc2136", "--dns-rfc2136-credentials", creds, "--dns-rfc2136-propagation-seconds", "1", "-d", name)
		k := confKeys(t, p.tr, name)
		for key, want := range map[string]string{"authenticator": "dns-rfc2136", "dns_rfc2136_credentials": creds, "dns_rfc2136_propagation_seconds": "1"} {
			if k[key] != want {
				t.Errorf("%s: conf %s = %q, want %q (conf %v)", p.name, key, k[key], want, k)
			}
		}
	}
	ac.mustRun("renew", "-n", "--force-renewal", "--no-random-sleep-on-renew")
}
