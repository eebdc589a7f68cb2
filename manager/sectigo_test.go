package manager

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// TestSolversPreparedOnDemand: building the solver set binds nothing; the
// standalone listener is bound only when a pending authorization asks for
// http-01 (a taken port then fails naming the name and the port), a type
// the authenticator does not answer is declined without binding, and
// release frees the port for the next issuance.
func TestSolversPreparedOnDemand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	m := &Manager{}
	c := mustConfig(t, FlagMap{"standalone": "true", "http-01-address": "127.0.0.1", "http-01-port": fmt.Sprint(port)})
	set, err := m.buildSolvers(c, []string{"*.a.example", "a.example"})
	if err != nil {
		t.Fatalf("buildSolvers with a held port and a wildcard: %v", err)
	}
	ctx := t.Context()
	if s, err := set.solverFor(ctx, acme.ChallengeDNS01, acme.Identifier{Type: "dns", Value: "a.example"}, true); s != nil || err != nil {
		t.Errorf("dns-01 for --standalone = %v, %v; want declined", s, err)
	}
	_, err = set.solverFor(ctx, acme.ChallengeHTTP01, acme.Identifier{Type: "dns", Value: "a.example"}, false)
	if err == nil || !strings.Contains(err.Error(), "a.example needs validation over http-01") || !strings.Contains(err.Error(), fmt.Sprintf("port %d is already in use", port)) {
		t.Errorf("http-01 on a held port: %v", err)
	}
	set.release()
	ln.Close()

	// The port is free now: the listener binds on first need and is shared.
	set, err = m.buildSolvers(c, []string{"a.example", "b.example"})
	if err != nil {
		t.Fatal(err)
	}
	s1, err := set.solverFor(ctx, acme.ChallengeHTTP01, acme.Identifier{Type: "dns", Value: "a.example"}, false)
	if err != nil || s1 == nil {
		t.Fatalf("http-01: %v, %v", s1, err)
	}
	s2, _ := set.solverFor(ctx, acme.ChallengeHTTP01, acme.Identifier{Type: "dns", Value: "b.example"}, false)
	if s1 != s2 {
		t.Error("two authorizations got two listeners")
	}
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Errorf("the listener is not bound: %v", err)
	} else {
		c.Close()
	}
	set.release()
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlock, err := m.ports.lock(lctx, fmt.Sprintf("port 127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the port lock was not released: %v", err)
	}
	unlock()
}

// TestManualWithoutHook: --manual without --manual-auth-hook is accepted
// until a pending authorization needs the hook; then the error names the
// name and the flag.
func TestManualWithoutHook(t *testing.T) {
	m := &Manager{}
	set, err := m.buildSolvers(mustConfig(t, FlagMap{"manual": "true"}), []string{"*.m.example"})
	if err != nil {
		t.Fatalf("buildSolvers: %v", err)
	}
	_, err = set.solverFor(t.Context(), acme.ChallengeDNS01, acme.Identifier{Type: "dns", Value: "m.example"}, true)
	if err == nil || !strings.Contains(err.Error(), "*.m.example needs validation") || !strings.Contains(err.Error(), "--manual-auth-hook") || !IsUsage(err) {
		t.Errorf("pending authorization, no hook: %v", err)
	}
	if s, err := set.solverFor(t.Context(), acme.ChallengeTLSALPN01, acme.Identifier{Type: "dns", Value: "m.example"}, false); s != nil || err != nil {
		t.Errorf("tls-alpn-01 for --manual = %v, %v; want declined", s, err)
	}
}

// TestExplainNoSolver: a pending authorization nothing configured can
// answer is one line naming the name, what the CA offers and what to pass.
func TestExplainNoSolver(t *testing.T) {
	nse := func(name string, wildcard bool, offered ...string) error {
		return fmt.Errorf("obtain: %w", errors.Join(&acme.AuthorizationError{Identifier: acme.Identifier{Type: "dns", Value: name},
			Err: &acme.NoSolverError{Identifier: acme.Identifier{Type: "dns", Value: name}, Wildcard: wildcard, Offered: offered}}))
	}
	for _, tc := range []struct {
		flags FlagMap
		err   error
		want  []string
	}{
		{FlagMap{"standalone": "true"}, nse("w.example", true, "dns-01"),
			[]string{"the wildcard *.w.example needs validation", "wildcards need dns-01", "--standalone does not answer", "--dns PROVIDER"}},
		{FlagMap{"standalone": "true"}, nse("p.example", false, "dns-01"),
			[]string{"p.example needs validation; the CA offers dns-01 and --standalone answers http-01", "--dns PROVIDER"}},
		{FlagMap{"dns": "cloudflare"}, nse("h.example", false, "http-01"),
			[]string{"h.example needs validation; the CA offers http-01 and --dns cloudflare answers dns-01", "--standalone or --webroot"}},
		{FlagMap{"manual": "true", "manual-auth-hook": "x", "preferred-challenges": "http"}, nse("d.example", false, "dns-01"),
			[]string{"--manual answers http-01", "add dns to --preferred-challenges"}},
		{FlagMap{"webroot": "true", "webroot-path": "/w", "domains": "s.example"}, nse("s.example", false, "sectigo-dns-01"),
			[]string{"s.example needs validation, but the CA offers only sectigo-dns-01", "complete the domain's validation at the CA"}},
		{FlagMap{"standalone": "true"}, errors.Join(nse("a.example", true, "dns-01"), nse("b.example", true, "dns-01")),
			[]string{"*.a.example", "(and 1 more name(s) alike)"}},
	} {
		got := explainNoSolver(mustConfig(t, tc.flags), tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%v: %q lacks %q", tc.flags, got, w)
			}
		}
		var ae *acme.AuthorizationError
		if strings.Contains(got.Error(), "\n") || !errors.As(got, &ae) {
			t.Errorf("%q: want one line that keeps the cause", got)
		}
	}
	plain := errors.New("other")
	if got := explainNoSolver(DefaultConfig(), plain); got != plain {
		t.Errorf("an unrelated error was rewritten: %v", got)
	}
}

// TestClientFromConfig: the engine's acme client gets --issuance-timeout
// and --retry-after-max, and its waits become EventWaiting.
func TestClientFromConfig(t *testing.T) {
	var got []Event
	m := &Manager{Config: mustConfig(t, FlagMap{"issuance-timeout": "180", "retry-after-max": "7"}),
		Observer: ObserverFunc(func(e Event) { got = append(got, e) })}
	cl, err := m.newClient("https://ca.example/dir", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if cl.IssuanceTimeout != 180*time.Second || cl.MaxPollWait != 7*time.Second {
		t.Errorf("client IssuanceTimeout %v, MaxPollWait %v; want 3m0s, 7s", cl.IssuanceTimeout, cl.MaxPollWait)
	}
	cl.OnWait(acme.WaitProgress{Kind: acme.WaitAuthorization, Identifier: "a.example", Status: "pending",
		Elapsed: 35 * time.Second, Next: 7 * time.Second, RetryAfter: 300 * time.Second})
	if len(got) != 1 || got[0].Kind != EventWaiting || got[0].Wait.String() != "authorization for a.example, pending: 35s so far, next check in 7s (the CA asked for 5m0s)" {
		t.Errorf("events = %+v", got)
	}
}

// TestExplainEABBound: Sectigo's refusal of a key ID bound to another
// account key becomes the hint: what happened, and the ways out.
func TestExplainEABBound(t *testing.T) {
	c := mustConfig(t, FlagMap{"config-dir": "/etc/letsencrypt"})
	c.EAB = &acme.ExternalAccountBinding{KeyID: "kid-9", HMACKey: []byte("x")}
	cause := &acme.EABBoundError{KeyID: "kid-9", Err: &acme.Problem{Type: acme.ProblemMalformed, Status: 400,
		Detail: "[External Account Binding] The account is not awaiting external account binding"}}
	got := explainRegister(c, "https://acme.sectigo.com/v2/OV", cause).Error()
	for _, w := range []string{"the EAB key ID kid-9 is already bound to another ACME account", "copy /etc/letsencrypt/accounts/ from the first server",
		"acmectl scm account create", "acmectl scm onboard", "not awaiting external account binding"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
	other := errors.New("connection refused")
	if got := explainRegister(c, "https://x", other); !errors.Is(got, other) || strings.Contains(got.Error(), "scm") {
		t.Errorf("another error: %v", got)
	}
}

// TestInFlightVersionKept: storage's opt-in retention (--archive-versions,
// here 6 as certbot 2.3+) never prunes the version whose key is the key of
// the lineage's recorded order (OpenTree wires Options.KeepVersion to the
// record); without a record it prunes as usual.
func TestInFlightVersionKept(t *testing.T) {
	ctx := t.Context()
	c := mustConfig(t, FlagMap{"config-dir": t.TempDir(), "work-dir": t.TempDir()})
	tr, err := OpenTree(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	version := func() *storage.Version {
		cert, key := testCert(t, "k.example")
		kp, _ := pemutil.EncodePrivateKey(key)
		cp := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		return &storage.Version{CertPEM: cp, ChainPEM: cp, KeyPEM: kp, KeepVersions: 6}
	}
	if _, err := tr.CreateLineage(ctx, "k.example", version(), nil); err != nil {
		t.Fatal(err)
	}
	key1, err := os.ReadFile(filepath.Join(tr.ArchiveDir("k.example"), "privkey1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := pemutil.ParsePrivateKey(key1)
	csr, err := makeCSR(k1, []string{"k.example"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rec := &storage.InFlight{Server: "https://ca.example/dir", AccountID: "a", OrderURL: "https://ca.example/order/1",
		Identifiers: []string{"k.example"}, CSR: csr, KeyPEM: key1}
	if err := tr.SaveInFlight(ctx, "k.example", rec); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if _, err := tr.SaveVersion(ctx, "k.example", version(), nil); err != nil {
			t.Fatal(err)
		}
	}
	for n, want := range map[int]bool{1: true, 2: false, 3: true, 8: true} {
		_, err := os.Stat(filepath.Join(tr.ArchiveDir("k.example"), fmt.Sprintf("privkey%d.pem", n)))
		if (err == nil) != want {
			t.Errorf("privkey%d.pem present = %v, want %v", n, err == nil, want)
		}
	}
	if err := tr.RemoveInFlight(ctx, "k.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SaveVersion(ctx, "k.example", version(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(tr.ArchiveDir("k.example"), "privkey1.pem")); !os.IsNotExist(err) {
		t.Errorf("without a record version 1 should be pruned (%v)", err)
	}
}

// TestMayStillIssue: after finalize, the record is kept when the CA may
// still issue for the order, and removed when the outcome is known.
func TestMayStillIssue(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&acme.OrderInFlightError{OrderURL: "u"}, true},
		{fmt.Errorf("x: %w", acme.ErrCAUnreachable), true},
		{context.Canceled, true},
		{&acme.Problem{Type: acme.ProblemServerInternal, Status: 500}, true},
		{&acme.Problem{Type: acme.ProblemBadCSR, Status: 400}, false},
		{errors.New("acme: the issued certificate is not for the requested key: refused"), false},
	} {
		if got := mayStillIssue(fmt.Errorf("obtain: %w", tc.err)); got != tc.want {
			t.Errorf("mayStillIssue(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
