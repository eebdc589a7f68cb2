package main

// End-to-end tests of issue 15: the built binary against internal/sectigoca,
// a fake CA that behaves as Sectigo's ACME service behaved for its customers
// (shared/reference/sectigo.md §3). One test per numbered item of the issue,
// plus Sectigo's refusal of ARI's "replaces" (win-acme/win-acme#2607).

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/sectigoca"
)

const sectigoKid = "sectigo-kid-1"

var sectigoHMAC = bytes.Repeat([]byte("0123456789abcdef"), 4) // 64 bytes, as SCM's keys

// sectigoEnv is one test's fake Sectigo CA and acmectl tree.
type sectigoEnv struct {
	*tree
	ca *sectigoca.Server
}

func newSectigo(t *testing.T, edit func(*sectigoca.Config)) *sectigoEnv {
	t.Helper()
	skipShort(t)
	cfg := sectigoca.SectigoDefaults(map[string][]byte{sectigoKid: sectigoHMAC})
	if edit != nil {
		edit(&cfg)
	}
	ca, err := sectigoca.Start(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ca.Close() })
	tr := newTree(t, nil)
	tr.env = append(tr.env, "REQUESTS_CA_BUNDLE="+ca.Bundle)
	return &sectigoEnv{tree: tr, ca: ca}
}

// certonlyArgs is the product notes' command for the names, with the EAB.
func (e *sectigoEnv) certonlyArgs(name string, domains []string, extra ...string) []string {
	args := []string{"certonly", "-n", "--agree-tos", "-m", "ops@example.com", "--server", e.ca.DirectoryURL,
		"--eab-kid", sectigoKid, "--eab-hmac-key", base64.RawURLEncoding.EncodeToString(sectigoHMAC), "--cert-name", name}
	for _, d := range domains {
		args = append(args, "-d", d)
	}
	return append(args, extra...)
}

func (e *sectigoEnv) certonly(name string, domains []string, extra ...string) result {
	e.t.Helper()
	return e.run(e.certonlyArgs(name, domains, extra...)...)
}

// heldPort returns the port of a real listener on 127.0.0.1 that stays
// open for the test, as a web server holding port 80 would.
func heldPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func standaloneOn(port int) []string {
	return []string{"--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", fmt.Sprint(port)}
}

// checkLineage: live/NAME links to one complete version in archive/, the key
// matches the certificate, fullchain is cert + chain, the conf exists, and
// no order record is left. It returns the leaf.
func checkLineage(t *testing.T, config, name string) *x509.Certificate {
	t.Helper()
	live := filepath.Join(config, "live", name)
	version := ""
	for _, k := range []string{"cert", "chain", "fullchain", "privkey"} {
		target, err := os.Readlink(filepath.Join(live, k+".pem"))
		if err != nil {
			t.Fatalf("live/%s/%s.pem: %v", name, k, err)
		}
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(target), k), ".pem")
		if version == "" {
			version = v
		} else if v != version {
			t.Errorf("live/%s links versions %s and %s", name, version, v)
		}
		if filepath.Dir(target) != filepath.Join("..", "..", "archive", name) {
			t.Errorf("live/%s/%s.pem -> %s", name, k, target)
		}
	}
	cert := readCert(t, filepath.Join(live, "cert.pem"))
	if !keyMatchesCert(readKey(t, filepath.Join(live, "privkey.pem")), cert) {
		t.Errorf("live/%s: the key does not match the certificate", name)
	}
	read := func(k string) []byte { b, _ := os.ReadFile(filepath.Join(live, k+".pem")); return b }
	if !bytes.Equal(read("fullchain"), append(read("cert"), read("chain")...)) {
		t.Errorf("live/%s: fullchain.pem is not cert.pem + chain.pem", name)
	}
	if _, err := os.Stat(filepath.Join(config, "renewal", name+".conf")); err != nil {
		t.Errorf("renewal conf: %v", err)
	}
	if _, err := os.Stat(inFlightPath(config, name)); !os.IsNotExist(err) {
		t.Errorf("the order record of %s is still there (%v)", name, err)
	}
	return cert
}

func inFlightPath(config, name string) string {
	return filepath.Join(config, ".acmectl", "inflight", name+".json")
}

func noLineage(t *testing.T, config, name string) {
	t.Helper()
	for _, p := range []string{filepath.Join(config, "live", name), filepath.Join(config, "archive", name), filepath.Join(config, "renewal", name+".conf")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists (%v)", p, err)
		}
	}
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 0 {
		t.Errorf("%s holds %v (%v), want nothing", dir, ents, err)
	}
}

// orderRequests counts the newOrder and finalize requests the CA received,
// refused ones included.
func orderRequests(ca *sectigoca.Server) [2]int {
	return [2]int{countRequests(ca, "POST /v2/OV/newOrder"), countRequests(ca, "POST /v2/OV/finalize/")}
}

func countRequests(ca *sectigoca.Server, prefix string) int {
	n := 0
	for _, r := range ca.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// Item 1: with every name pre-validated (authorizations valid, only
// sectigo-email-01), nothing is prepared: --standalone does not bind the
// port a real listener holds, --webroot writes nothing, --manual needs no
// hook and runs none, --dns-rfc2136 sends nothing to its DNS server. A
// pending authorization still needs the port, and then the run fails naming
// the name and the port, and saves nothing.
func TestE2ESectigo1NothingPreparedWhenPreValidated(t *testing.T) {
	t.Parallel()
	port := heldPort(t)
	webroot := t.TempDir()
	marker := filepath.Join(t.TempDir(), "hook-ran")
	dnsServer, dnsCreds := silentDNSServer(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"standalone", standaloneOn(port)},
		{"webroot", []string{"--webroot", "-w", webroot}},
		{"manual-no-hook", []string{"--manual"}},
		{"manual-hook", []string{"--manual", "--manual-auth-hook", "touch " + marker}},
		{"dns-rfc2136", []string{"--dns-rfc2136", "--dns-rfc2136-credentials", dnsCreds}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSectigo(t, nil)
			r := e.certonly("pv", []string{"pv.example.com", "www.pv.example.com"}, tc.args...)
			if r.code != 0 {
				t.Fatalf("pre-validated names must issue without preparing anything: %s", r)
			}
			checkLineage(t, e.config, "pv")
			if c := e.ca.Counts(); c.NewOrder != 1 || c.Finalize != 1 || c.Issued != 1 {
				t.Errorf("CA counts = %+v, want one order, one finalize, one certificate", c)
			}
		})
	}
	emptyDir(t, webroot)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the manual auth hook ran (%v)", err)
	}
	dnsServer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := dnsServer.ReadFrom(make([]byte, 512)); err == nil {
		t.Errorf("the DNS server of --dns-rfc2136 got a %d-byte packet: the dns-01 solver ran", n)
	}

	t.Run("pending-needs-the-port", func(t *testing.T) {
		t.Parallel()
		e := newSectigo(t, func(c *sectigoca.Config) { c.PreValidateAll = false })
		r := e.certonly("pend", []string{"pend.example.com"}, standaloneOn(port)...)
		msg := cleanErrorLine(t, r)
		if r.code != 1 || !strings.Contains(msg, "pend.example.com") || !strings.Contains(msg, fmt.Sprintf("port %d is already in use", port)) {
			t.Fatalf("want exit 1 naming the name and the held port: %s", r)
		}
		noLineage(t, e.config, "pend")
		if c := e.ca.Counts(); c.Finalize != 0 || c.Issued != 0 {
			t.Errorf("CA counts = %+v, want no finalize", c)
		}
	})
}

// silentDNSServer is a UDP socket on 127.0.0.1 that never answers (what
// reaches it stays queued for the test to see) and a certbot rfc2136
// credentials file (0600) pointing at it.
func silentDNSServer(t *testing.T) (net.PacketConn, string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	creds := filepath.Join(t.TempDir(), "rfc2136.ini")
	body := fmt.Sprintf("dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %d\ndns_rfc2136_name = acmectl-test.\n"+
		"dns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n", pc.LocalAddr().(*net.UDPAddr).Port, base64.StdEncoding.EncodeToString(sectigoHMAC))
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return pc, creds
}

// cleanErrorLine returns the "Error: " line of a failed run (exactly one).
func cleanErrorLine(t *testing.T, r result) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			lines = append(lines, l)
		}
	}
	if r.code != 0 && len(lines) != 1 {
		t.Errorf("want one error line, got %q:\n%s", lines, r)
	}
	return strings.Join(lines, "\n")
}

// Item 2: a pre-validated wildcard is issued with --standalone (port held)
// or --manual without a hook: the decision is made on the authorization, not
// on the name. A wildcard whose authorization is pending, with no dns-01
// solver, fails after the order was created, naming the wildcard.
func TestE2ESectigo2PreValidatedWildcard(t *testing.T) {
	t.Parallel()
	port := heldPort(t)
	names := []string{"*.w.example.com", "w.example.com"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"standalone", standaloneOn(port)},
		{"manual-no-hook", []string{"--manual"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSectigo(t, nil)
			if r := e.certonly("w", names, tc.args...); r.code != 0 {
				t.Fatalf("a pre-validated wildcard must issue: %s", r)
			}
			if got := checkLineage(t, e.config, "w").DNSNames; !slices.Contains(got, "*.w.example.com") {
				t.Errorf("DNSNames = %v", got)
			}
		})
	}
	t.Run("pending-wildcard", func(t *testing.T) {
		t.Parallel()
		e := newSectigo(t, func(c *sectigoca.Config) { c.PreValidateAll, c.PreValidated = false, []string{"w.example.com"} })
		r := e.certonly("w", names, standaloneOn(port)...)
		msg := cleanErrorLine(t, r)
		if r.code != 1 || !strings.Contains(msg, "*.w.example.com") || !strings.Contains(msg, "dns-01") || !strings.Contains(msg, "--dns PROVIDER") {
			t.Fatalf("want exit 1 naming the wildcard and dns-01: %s", r)
		}
		if c := e.ca.Counts(); c.NewOrder != 1 || c.Finalize != 0 {
			t.Errorf("CA counts = %+v, want the order placed and not finalized", c)
		}
		noLineage(t, e.config, "w")
	})
}

// Item 3: the CA holds finalize open for 50 s. With --issuance-timeout 180
// (and with the default 90) the run waits for the answer: exit 0, exactly
// one finalize, one certificate, and acmectl still waits when the CA answers
// finalize (FinalizeAbandoned 0); the timeout is saved for renewals. (Before
// issue 15 the HTTP client's 45-s response-header timeout abandoned the
// request; e5320a1 then collected the order by polling, so only the
// abandonment tells the two apart on this CA.)
func TestE2ESectigo3FinalizeHeldOpen50s(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, timeout, conf string
	}{
		{"issuance-timeout-180", "180", "issuance_timeout = 180"},
		{"default-90", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSectigo(t, func(c *sectigoca.Config) { c.FinalizeDelay = 50 * time.Second })
			args := standaloneOn(heldPort(t))
			if tc.timeout != "" {
				args = append(args, "--issuance-timeout", tc.timeout)
			}
			start := time.Now()
			r := e.certonly("slow", []string{"slow.example.com"}, args...)
			took := time.Since(start)
			if r.code != 0 {
				t.Fatalf("certonly with a 50-s finalize: %s", r)
			}
			checkLineage(t, e.config, "slow")
			if c := e.ca.Counts(); c.NewOrder != 1 || c.Finalize != 1 || c.Issued != 1 || c.FinalizeAbandoned != 0 {
				t.Errorf("CA counts = %+v, want exactly one order, one finalize answered (not abandoned), one certificate", c)
			}
			if n := countRequests(e.ca, "POST /v2/OV/finalize/"); n != 1 {
				t.Errorf("finalize requests = %d, want 1", n)
			}
			if !strings.Contains(r.stderr, "Waiting for the CA to issue the certificate (finalize held open): ") {
				t.Errorf("no progress line while finalize was held open:\n%s", r.stderr)
			}
			conf, _ := os.ReadFile(filepath.Join(e.config, "renewal", "slow.conf"))
			if tc.conf != "" && !strings.Contains(string(conf), tc.conf) || tc.conf == "" && strings.Contains(string(conf), "issuance_timeout") {
				t.Errorf("renewal conf, want %q:\n%s", tc.conf, conf)
			}
			t.Logf("finalize held 50 s, --issuance-timeout %q: run took %s", tc.timeout, took.Round(100*time.Millisecond))
		})
	}
}

// Item 3, the deadline side: finalize held open longer than
// --issuance-timeout allows. The run ends at the deadline without sending
// finalize again, exits 1 saying the order is recorded; the next run
// collects the certificate without a second order or finalize.
func TestE2ESectigo3FinalizeBeyondDeadline(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, func(c *sectigoca.Config) { c.FinalizeDelay = 50 * time.Second })
	args := append(standaloneOn(heldPort(t)), "--issuance-timeout", "15")
	start := time.Now()
	r := e.certonly("late", []string{"late.example.com"}, args...)
	took := time.Since(start)
	msg := cleanErrorLine(t, r)
	if r.code != 1 || !strings.Contains(msg, "the order is recorded") || !strings.Contains(msg, "--issuance-timeout") {
		t.Fatalf("want exit 1 saying the order is recorded: %s", r)
	}
	if c := e.ca.Counts(); c.Finalize != 1 || c.Issued != 1 {
		t.Fatalf("CA counts = %+v, want one finalize", c)
	}
	if fi, err := os.Stat(inFlightPath(e.config, "late")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("order record: %v (%v), want 0600", fi, err)
	}
	noLineage(t, e.config, "late")
	// The CA finishes; the next run collects.
	e.ca.Update(func(c *sectigoca.Config) { c.FinalizeDelay = 0 })
	r = e.certonly("late", []string{"late.example.com"}, args...)
	if r.code != 0 || !strings.Contains(r.stderr, "Collecting the order an earlier run left after finalize") {
		t.Fatalf("the next run must collect the recorded order: %s", r)
	}
	checkLineage(t, e.config, "late")
	if c := e.ca.Counts(); c.NewOrder != 1 || c.Finalize != 1 || c.Issued != 1 {
		t.Errorf("CA counts = %+v, want still one order, one finalize, one certificate", c)
	}
	t.Logf("--issuance-timeout 15 with a 50-s finalize: first run ended after %s", took.Round(100*time.Millisecond))
}

// startAcmectl starts the binary as tree.run would, without waiting.
func (tr *tree) start(args ...string) (*exec.Cmd, *bytes.Buffer) {
	tr.t.Helper()
	full := append(append([]string{}, args...), "--config-dir", tr.config, "--work-dir", tr.work, "--logs-dir", tr.logs)
	cmd := exec.Command(tr.bin, full...)
	cmd.Env = append(os.Environ(), tr.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tr.t.Fatal(err)
	}
	return cmd, &out
}

// killAfterFinalize starts acmectl with args, waits until the CA got the
// finalize request, and SIGKILLs it.
func (e *sectigoEnv) killAfterFinalize(args ...string) {
	e.t.Helper()
	before := e.ca.Counts().Finalize
	cmd, out := e.start(args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := e.ca.WaitFinalize(ctx, before+1)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if err != nil {
		e.t.Fatalf("no finalize: %v\n%s", err, out)
	}
}

// Item 4: acmectl is SIGKILLed right after the finalize request was sent.
// The next run (certonly for a new lineage; renew, not forced, for a renewal)
// collects that order: the CA sees no second newOrder or finalize and issues
// no second certificate, and the lineage is complete.
func TestE2ESectigo4ResumeAfterKill(t *testing.T) {
	t.Parallel()
	t.Run("certonly", func(t *testing.T) {
		t.Parallel()
		e := newSectigo(t, func(c *sectigoca.Config) { c.FinalizeDelay = 3 * time.Second })
		args := e.certonlyArgs("k", []string{"k.example.com"}, standaloneOn(heldPort(t))...)
		e.killAfterFinalize(args...)
		if _, err := os.Stat(inFlightPath(e.config, "k")); err != nil {
			t.Fatalf("no order record after the kill: %v", err)
		}
		noLineage(t, e.config, "k")
		before, rawBefore := e.ca.Counts(), orderRequests(e.ca)
		r := e.run(args...)
		if r.code != 0 {
			t.Fatalf("the run after the kill: %s", r)
		}
		checkLineage(t, e.config, "k")
		after := e.ca.Counts()
		if after.NewOrder != before.NewOrder || after.Finalize != before.Finalize || after.Issued != 1 {
			t.Errorf("CA counts before %+v, after %+v: want no new order, no new finalize, one certificate", before, after)
		}
		if raw := orderRequests(e.ca); raw != rawBefore {
			t.Errorf("newOrder/finalize requests before the collecting run %v, after %v: want none sent", rawBefore, raw)
		}
		t.Logf("CA counts after the kill and the collecting run: %+v; newOrder/finalize requests in all: %v", after, orderRequests(e.ca))
	})
	t.Run("renew", func(t *testing.T) {
		t.Parallel()
		e := newSectigo(t, nil)
		if r := e.certonly("rk", []string{"rk.example.com"}, standaloneOn(heldPort(t))...); r.code != 0 {
			t.Fatalf("setup: %s", r)
		}
		first := checkLineage(t, e.config, "rk")
		e.ca.Update(func(c *sectigoca.Config) { c.FinalizeDelay = 3 * time.Second })
		e.killAfterFinalize("renew", "--force-renewal", "--no-random-sleep-on-renew")
		before, rawBefore := e.ca.Counts(), orderRequests(e.ca)
		// Not forced, and the certificate is not due: the recorded order is
		// collected all the same.
		r := e.run("renew", "--no-random-sleep-on-renew")
		if r.code != 0 || !strings.Contains(r.stdout, "Congratulations, all renewals succeeded") {
			t.Fatalf("renew after the kill: %s", r)
		}
		second := checkLineage(t, e.config, "rk")
		if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Error("the collected certificate was not saved")
		}
		after := e.ca.Counts()
		if after.NewOrder != before.NewOrder || after.Finalize != before.Finalize || after.Issued != 2 {
			t.Errorf("CA counts before %+v, after %+v: want no new order or finalize, two certificates in all", before, after)
		}
		if raw := orderRequests(e.ca); raw != rawBefore {
			t.Errorf("newOrder/finalize requests before the collecting renew %v, after %v: want none sent", rawBefore, raw)
		}
		t.Logf("CA counts after certonly, the killed renew and the collecting renew: %+v; newOrder/finalize requests in all: %v", after, orderRequests(e.ca))
		if _, err := os.Stat(filepath.Join(e.config, "archive", "rk", "cert2.pem")); err != nil {
			t.Errorf("version 2: %v", err)
		}
	})
}

// Item 4, deleting: delete removes a lineage's order record with it, so a
// later certonly of the name orders anew instead of collecting the order.
func TestE2ESectigo4DeleteRemovesRecord(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, nil)
	if r := e.certonly("dk", []string{"dk.example.com"}, "--manual"); r.code != 0 {
		t.Fatalf("setup: %s", r)
	}
	e.ca.Update(func(c *sectigoca.Config) { c.FinalizeDelay = 3 * time.Second })
	e.killAfterFinalize("renew", "--force-renewal", "--no-random-sleep-on-renew")
	if _, err := os.Stat(inFlightPath(e.config, "dk")); err != nil {
		t.Fatalf("no order record after the kill: %v", err)
	}
	if r := e.run("delete", "--cert-name", "dk", "-n"); r.code != 0 {
		t.Fatalf("delete: %s", r)
	}
	if _, err := os.Stat(inFlightPath(e.config, "dk")); !os.IsNotExist(err) {
		t.Errorf("the order record survived delete (%v)", err)
	}
	noLineage(t, e.config, "dk")
}

// Item 5: the EAB key ID is bound to the first account key. A second server
// with the same credentials gets a one-line hint: what happened and what to
// do (copy accounts/, or a new ACME account in SCM); nothing is saved.
func TestE2ESectigo5EABKeyIDBound(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, nil)
	if r := e.certonly("first", []string{"first.example.com"}, "--manual"); r.code != 0 {
		t.Fatalf("first server: %s", r)
	}
	second := newTree(t, nil)
	second.env = e.env
	r := second.run(e.certonlyArgs("second", []string{"second.example.com"}, "--manual")...)
	msg := cleanErrorLine(t, r)
	for _, want := range []string{"already bound to another ACME account", sectigoKid, "copy", "accounts/",
		"acmectl scm account create", "acmectl scm onboard", "not awaiting external account binding"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error should say %q:\n%s", want, msg)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if _, err := os.Stat(filepath.Join(second.config, "accounts")); !os.IsNotExist(err) {
		t.Errorf("accounts/ was written on the second server (%v)", err)
	}
	noLineage(t, second.config, "second")
}

// Item 6: Sectigo sends "Retry-After: 300" on a pending authorization whose
// DCV completes in seconds. Polls are capped at --retry-after-max (here 2 s)
// and the progress says what is awaited, for how long, and when the next
// check is; the cap is saved for renewals.
func TestE2ESectigo6RetryAfterCapped(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, func(c *sectigoca.Config) {
		c.PreValidateAll, c.DCVDelay, c.PendingChallenges = false, 5*time.Second, []string{"http-01"}
	})
	start := time.Now()
	r := e.certonly("ra", []string{"ra.example.com"}, "--manual", "--manual-auth-hook", "true", "--retry-after-max", "2")
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	checkLineage(t, e.config, "ra")
	if !strings.Contains(r.stderr, "Waiting for authorization for ra.example.com, pending: ") ||
		!strings.Contains(r.stderr, "next check in 2s (the CA asked for 5m0s)") {
		t.Errorf("no progress line for the capped wait:\n%s", r.stderr)
	}
	conf, _ := os.ReadFile(filepath.Join(e.config, "renewal", "ra.conf"))
	if !strings.Contains(string(conf), "retry_after_max = 2") {
		t.Errorf("the renewal conf does not keep --retry-after-max:\n%s", conf)
	}
	t.Logf("DCV of 5 s under Retry-After: 300, --retry-after-max 2: run took %s", took.Round(100*time.Millisecond))

	// Quiet runs print no progress.
	r = e.run(e.certonlyArgs("ra", []string{"ra.example.com"}, "--manual", "--manual-auth-hook", "true", "--retry-after-max", "2", "--force-renewal", "-q")...)
	if r.code != 0 || strings.Contains(r.stderr, "Waiting") {
		t.Errorf("-q run: %s", r)
	}
}

// Item 7: Sectigo marks a valid authorization "wildcard": true for a name
// ordered without "*." and shows the order pending although it is valid:
// the name is matched leniently and the certificate issued.
func TestE2ESectigo7WildcardFlagOnValidAuthorization(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, func(c *sectigoca.Config) { c.WildcardFlagOnValid, c.OrderPendingWhileValid = true, true })
	if r := e.certonly("wf", []string{"some.valid.example.com"}, "--manual"); r.code != 0 {
		t.Fatalf("a valid authorization flagged wildcard must be accepted: %s", r)
	}
	if got := checkLineage(t, e.config, "wf").DNSNames; len(got) != 1 || got[0] != "some.valid.example.com" {
		t.Errorf("DNSNames = %v", got)
	}
}

// Item 8: the certificate names more than was asked (a reseller product's
// free www. name): accepted and saved, with a warning naming the extra name.
func TestE2ESectigo8ExtraSAN(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, func(c *sectigoca.Config) { c.ExtraSAN = true })
	r := e.certonly("x", []string{"x.example.com"}, "--manual")
	if r.code != 0 {
		t.Fatalf("a superset of the names must be accepted: %s", r)
	}
	if !strings.Contains(r.stderr, "Warning: the CA's certificate also names www.x.example.com, which was not requested") {
		t.Errorf("no warning about the extra name:\n%s", r.stderr)
	}
	if got := checkLineage(t, e.config, "x").DNSNames; !slices.Equal(got, []string{"x.example.com", "www.x.example.com"}) {
		t.Errorf("DNSNames = %v", got)
	}
}

// Item 9: the chain as served ends with the cross-sign by "AAA Certificate
// Services"; --chain-drop-issuer drops it from chain.pem and fullchain.pem,
// is saved in the conf and applies to renewals; the trimmed chain verifies
// against the USERTrust root alone (a modern trust store).
func TestE2ESectigo9ChainDropIssuer(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, nil)
	chainLen := func(name string) int {
		b, _ := os.ReadFile(filepath.Join(e.config, "live", name, "chain.pem"))
		return bytes.Count(b, []byte("BEGIN CERTIFICATE"))
	}
	if r := e.certonly("served", []string{"served.example.com"}, "--manual"); r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	if n := chainLen("served"); n != 2 {
		t.Errorf("chain as served: %d certificates, want 2 (intermediate, AAA cross-sign)", n)
	}
	if r := e.certonly("trim", []string{"trim.example.com"}, "--manual", "--chain-drop-issuer", sectigoca.RootAAA); r.code != 0 {
		t.Fatalf("certonly --chain-drop-issuer: %s", r)
	}
	conf, _ := os.ReadFile(filepath.Join(e.config, "renewal", "trim.conf"))
	if !strings.Contains(string(conf), "chain_drop_issuer = "+sectigoca.RootAAA) {
		t.Errorf("conf lacks chain_drop_issuer:\n%s", conf)
	}
	if r := e.run("renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", "trim"); r.code != 0 {
		t.Fatalf("renew: %s", r)
	}
	leaf := checkLineage(t, e.config, "trim")
	if n := chainLen("trim"); n != 1 {
		t.Errorf("chain after --chain-drop-issuer (renewed): %d certificates, want 1", n)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for rest := e.ca.RootsPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if c, _ := x509.ParseCertificate(b.Bytes); c != nil && c.Subject.CommonName == sectigoca.RootUSERTrust {
			roots.AddCert(c)
		}
	}
	chain, _ := os.ReadFile(filepath.Join(e.config, "live", "trim", "chain.pem"))
	inter.AppendCertsFromPEM(chain)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "trim.example.com"}); err != nil {
		t.Errorf("the trimmed chain does not verify against USERTrust: %v", err)
	}
}

// Sectigo answered a renewal order carrying ARI's "replaces" with 400
// malformed and an empty detail (win-acme/win-acme#2607): the order is
// placed once more without it, and the renewal succeeds.
func TestE2ESectigoReplacesRefused(t *testing.T) {
	t.Parallel()
	e := newSectigo(t, func(c *sectigoca.Config) { c.RenewalInfo = true })
	if r := e.certonly("ari", []string{"ari.example.com"}, "--manual"); r.code != 0 {
		t.Fatalf("certonly: %s", r)
	}
	orders, finalizes := countRequests(e.ca, "POST /v2/OV/newOrder"), e.ca.Counts().Finalize
	r := e.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
	if r.code != 0 {
		t.Fatalf("renew: %s", r)
	}
	checkLineage(t, e.config, "ari")
	orders, finalizes = countRequests(e.ca, "POST /v2/OV/newOrder")-orders, e.ca.Counts().Finalize-finalizes
	if orders != 2 || finalizes != 1 {
		t.Errorf("renewal: %d newOrder, %d finalize; want 2 (with replaces, refused; without) and 1", orders, finalizes)
	}
}
