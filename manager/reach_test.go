package manager

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// deadListener accepts connections and, by kind, resets them at once
// ("reset") or holds them without a byte ("silent"). It counts connections.
func deadListener(t *testing.T, kind string) (url string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if kind == "reset" {
					buf := make([]byte, 4096)
					_, _ = c.Read(buf)
					c.(*net.TCPConn).SetLinger(0)
					return
				}
				<-done
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/dir", conns
}

// deadCATree is a tree with lineages on server, each with an account there,
// a webroot authenticator and a certificate that is due.
func deadCATree(t *testing.T, server string, lineages ...string) *storage.Tree {
	t.Helper()
	ctx := context.Background()
	tr, err := storage.Open(t.TempDir(), &storage.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	akey, _ := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	id, err := tr.SaveAccount(ctx, &storage.Account{Server: server, URL: server + "/acct/1", Key: akey})
	if err != nil {
		t.Fatal(err)
	}
	webroot := t.TempDir()
	for _, name := range lineages {
		cert, key := testCert(t, name)
		kp, err := pemutil.EncodePrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		conf := &storage.RenewalConf{RenewBeforeExpiry: "100 days", Params: storage.RenewalParams{Server: server, Account: id,
			Authenticator: "webroot", WebrootPath: []string{webroot}, WebrootMap: []storage.KV{{Key: name, Value: webroot}}}}
		v := &storage.Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), KeyPEM: kp}
		if _, err := tr.CreateLineage(ctx, name, v, conf); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func deadCAManager(t *testing.T, tr *storage.Tree, flags FlagMap) (*Manager, *[]Event) {
	t.Helper()
	flags["config-dir"], flags["work-dir"], flags["logs-dir"] = tr.Dir, t.TempDir(), t.TempDir()
	flags["no-random-sleep-on-renew"] = "true"
	var mu sync.Mutex
	var events []Event
	m := &Manager{Config: mustConfig(t, flags), Store: tr, Observer: ObserverFunc(func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})}
	return m, &events
}

// failures returns each failed lineage's error line.
func failures(res *RenewResult) map[string]error {
	out := map[string]error{}
	res.Each(func(oc *Outcome) {
		if oc.Status == StatusFailed {
			out[oc.Lineage] = oc.Err()
		}
	})
	return out
}

// A CA that failed at the transport level is remembered for the rest of the
// run: its other lineages fail at once with the same reason, without a
// connection — one call chain (3 tries) for the run, not one per lineage,
// whether the first failure came from the ARI check, the order, or lineages
// running in parallel on one account client. (The real per-request timeouts
// against a CA that never answers: internal/reliability TestE2EDeadCA.)
func TestDeadCARemembered(t *testing.T) {
	names := []string{"a.example", "b.example", "c.example", "d.example"}
	for _, tc := range []struct {
		name  string
		flags FlagMap
	}{
		{"due by date, ARI first", FlagMap{}},
		{"forced", FlagMap{"force-renewal": "true"}},
		{"forced parallel", FlagMap{"force-renewal": "true", "parallel": "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, conns := deadListener(t, "reset")
			tr := deadCATree(t, url, names...)
			m, _ := deadCAManager(t, tr, tc.flags)
			res, err := m.Renew(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			fails := failures(res)
			if len(fails) != len(names) {
				t.Errorf("failed lineages: %v, want all %d", fails, len(names))
			}
			remembered := 0
			for n, err := range fails {
				if !errors.Is(err, acme.ErrCAUnreachable) {
					t.Errorf("%s: %v, want the CA unreachable", n, err)
				}
				var cu *CAUnreachableError
				if errors.As(err, &cu) {
					remembered++
				}
				if msg := OneLine(err.Error()); msg != err.Error() || !strings.Contains(msg, url[:len(url)-4]) {
					t.Errorf("%s: error %q is not one line naming the CA", n, err)
				}
			}
			// In parallel the lineages wait on one directory fetch and share
			// its failure (acme.Client.Directory) instead.
			if tc.flags["parallel"] == "" && remembered < len(names)-1 {
				t.Errorf("%d lineages failed from the remembered CA, want at least %d", remembered, len(names)-1)
			}
			if got := conns.Load(); got != 3 {
				t.Errorf("the dead CA got %d connections for %d lineages, want one call chain (3)", got, len(names))
			}
		})
	}
}

// Renew's deadline ends a run stuck on a silent CA; the lineages report the
// deadline (not the CA: the run's own deadline cut the request), the CA is
// not remembered as unreachable, and the post hook still runs.
func TestRenewDeadline(t *testing.T) {
	url, _ := deadListener(t, "silent")
	tr := deadCATree(t, url, "a.example", "b.example")
	marker := filepath.Join(t.TempDir(), "post-ran")
	m, _ := deadCAManager(t, tr, FlagMap{"force-renewal": "true", "renew-deadline": "1s", "post-hook": "touch " + marker})
	start := time.Now()
	res, err := m.Renew(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("renew with a 1 s deadline took %v", took)
	}
	fails := failures(res)
	if len(fails) != 2 {
		t.Fatalf("failed: %v, want both lineages", fails)
	}
	for n, err := range fails {
		var de *DeadlineError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "--renew-deadline 1s") {
			t.Errorf("%s: %v, want a DeadlineError naming --renew-deadline", n, err)
		}
		var cu *CAUnreachableError
		if errors.As(err, &cu) {
			t.Errorf("%s: %v: the run's own deadline marked the CA unreachable", n, err)
		}
	}
	if m.unreachableCA(url) != nil {
		t.Errorf("the CA was remembered as unreachable after the run's own deadline")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("post hook did not run after the deadline: %v", err)
	}
}

func TestRenewDeadlineFlag(t *testing.T) {
	if got := DefaultConfig().RenewDeadline; got != DefaultRenewDeadline {
		t.Errorf("default --renew-deadline = %v, want %v", got, DefaultRenewDeadline)
	}
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "90m": 90 * time.Minute, "4h": 4 * time.Hour, "0": 0, "1h30m": 90 * time.Minute} {
		c, err := LoadConfig(FlagMap{"renew-deadline": in}, nil)
		if err != nil || c.RenewDeadline != want {
			t.Errorf("--renew-deadline %s = %v, %v; want %v", in, c.RenewDeadline, err, want)
		}
	}
	for _, in := range []string{"-5", "soon", "4 hours", "-1h"} {
		if _, err := LoadConfig(FlagMap{"renew-deadline": in}, nil); !IsUsage(err) {
			t.Errorf("--renew-deadline %s: err = %v, want a usage error", in, err)
		}
	}
}

// --cert-name is checked with storage's rule and reasons; every refusal is a
// usage error (exit 2), a leading '-' included (issue 16 item 12).
func TestCertNameReasons(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{`a\b`, "backslash"},
		{"a/b", "slash"},
		{"-x", "would read it as an option"},
		{".hidden", "starts with '.'"},
		{"a\x01b", "control character"},
	} {
		_, err := LoadConfig(FlagMap{"cert-name": tc.name}, nil)
		if !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--cert-name %q: err = %v, want a usage error saying %q", tc.name, err, tc.want)
		}
		if tc.name == "-x" && !errors.Is(err, storage.ErrNameIsFlag) {
			t.Errorf("--cert-name -x: %v does not wrap storage.ErrNameIsFlag", err)
		}
	}
	if _, err := LoadConfig(FlagMap{"cert-name": "www.example.com-0001"}, nil); err != nil {
		t.Errorf("a good name: %v", err)
	}
}
