package reliability

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// faultKinds are the faults of issue 7, each injected on every step.
var faultKinds = []faultproxy.Fault{
	{Kind: faultproxy.Drop, Times: 1},
	{Kind: faultproxy.DropAfter, Times: 1},
	{Kind: faultproxy.Status, Status: 503, RetryAfter: "1", Times: 1},
	{Kind: faultproxy.Status, Status: 500, Times: 1},
	{Kind: faultproxy.Status, Status: 429, RetryAfter: "3600", Times: 1},
	{Kind: faultproxy.Status, Status: 429, RetryAfter: "1", Times: 1},
	{Kind: faultproxy.Status, Status: 503, RetryAfter: "1"}, // persistent
	{Kind: faultproxy.Drop},                                 // persistent
	{Kind: faultproxy.Truncate, Times: 1},
	{Kind: faultproxy.InvalidJSON, Times: 1},
	{Kind: faultproxy.Huge, Times: 1},
	{Kind: faultproxy.WrongType, Times: 1},
	{Kind: faultproxy.Delay, Delay: 1500 * time.Millisecond, Times: 1},
}

var faultSteps = []faultproxy.Step{faultproxy.Directory, faultproxy.NewNonce, faultproxy.NewAccount, faultproxy.NewOrder,
	faultproxy.Authz, faultproxy.Challenge, faultproxy.Finalize, faultproxy.Order, faultproxy.Certificate}

func faultName(f faultproxy.Fault) string {
	s := string(f.Kind)
	if f.Kind == faultproxy.Status {
		s = fmt.Sprintf("%d-ra%s", f.Status, f.RetryAfter)
	}
	if f.Times == 0 {
		s += "-always"
	}
	return s
}

// TestE2ECLIFaults runs `acmectl certonly` (fresh tree: registers, orders)
// or `acmectl renew --force-renewal` (existing lineage) through the fault
// proxy with every fault kind on every protocol step. Each (kind, step) runs
// once, certonly and renew alternating over the matrix so that every kind and
// every step meet both commands (newAccount: certonly only, renew sends none);
// both commands take the same client paths for every step, so running both for
// every pair doubled the time and added nothing. Each run must exit 0
// having advanced the tree by exactly one whole version, or exit non-zero
// with one clear error line leaving the tree as it was; finalize is never
// sent twice; no account is lost; every live link resolves and every key
// matches its certificate.
func TestE2ECLIFaults(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	wr := webroot(t, s.HTTPPort)
	var cases, fired, completed, failed atomic.Int64
	start := time.Now()
	// Each (fault, step) gets its own proxy (its own log for the finalize
	// count), a renew tree and a fresh certonly tree; units run concurrently
	// (t.Parallel would be capped at GOMAXPROCS and the units mostly wait).
	sem := make(chan struct{}, 12)
	var wg sync.WaitGroup
	t.Run("matrix", func(t *testing.T) {
		for ki, k := range faultKinds {
			for si, step := range faultSteps {
				f := k
				f.Step = step
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					t.Run(faultName(k)+"/"+string(step), func(t *testing.T) {
						p, err := faultproxy.Start(s.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"),
							filepath.Join(mod, "test/certs/localhost/key.pem"), s.HTTPClient())
						if err != nil {
							t.Fatal(err)
						}
						defer p.Close()
						// certonly in a fresh tree; then renew of that lineage (or,
						// if certonly failed, of one made without a fault).
						cname := fmt.Sprintf("c%d-%d", ki, si)
						b := newBox(t, s.CABundle)
						cmds := []string{"certonly"}
						if step != faultproxy.NewAccount && (ki+si)%2 == 1 {
							cmds = []string{"renew"}
						}
						for _, cmd := range cmds {
							name, args := cname, certonlyArgs(p.DirectoryURL, wr, cname)
							if cmd == "renew" {
								if _, err := os.Lstat(filepath.Join(b.config, "live", cname)); err != nil {
									b.mustRun(args...)
								}
								args = []string{"renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", cname}
							}
							t.Run(cmd, func(t *testing.T) {
								before := snapshot(t, b.config)
								p.ResetLog()
								p.Inject(f)
								r := b.run(args...)
								p.Inject()
								cases.Add(1)
								n := 0
								for _, e := range p.Log() {
									if e.Fault != "" {
										n++
									}
								}
								fired.Add(int64(n))
								if got := p.Count(faultproxy.Finalize, http.MethodPost); got > 1 {
									t.Errorf("finalize sent %d times for one order\n%s", got, r)
								}
								msg := cleanError(t, r)
								after := snapshot(t, b.config)
								adv := checkAdvance(t, before, after)
								mustWhole(t, b.config)
								b.listCerts(t)
								if r.code == 0 {
									completed.Add(1)
									if strings.Join(adv, ",") != name {
										t.Errorf("exit 0 but the tree advanced %v, want [%s]\n%s", adv, name, r)
									}
									t.Logf("%s: completed in %v (%d faults fired)", f, r.took.Round(time.Millisecond), n)
									return
								}
								failed.Add(1)
								if mustComplete(f) {
									t.Errorf("%s is transient and recoverable: acmectl should have completed\n%s", f, r)
								}
								if len(adv) != 0 {
									t.Errorf("exit %d but lineages %v advanced\n%s", r.code, adv, r)
								}
								if cmd == "certonly" {
									for k := range after {
										if !strings.HasPrefix(k, "accounts/") {
											t.Errorf("failed certonly left %s", k)
										}
									}
								}
								t.Logf("%s: failed cleanly in %v (%d faults fired): %s", f, r.took.Round(time.Millisecond), n, msg)
							})
						}
					})
				}()
			}
		}
		wg.Wait()
	})
	t.Logf("CLI fault matrix: %d runs (%d kinds × %d steps, certonly or renew), %d faults fired, %d completed, %d failed cleanly, in %v",
		cases.Load(), len(faultKinds), len(faultSteps), fired.Load(), completed.Load(), failed.Load(), time.Since(start).Round(time.Second))
	if completed.Load() == 0 || failed.Load() == 0 {
		t.Errorf("completed %d, failed %d: the matrix should see both", completed.Load(), failed.Load())
	}
}

// mustComplete reports whether a fault is one acmectl must ride out: a
// single dropped connection, 5xx or short 429 anywhere but on finalize (which
// is never re-sent, so it fails safe there), a single garbled or slow
// answer. A long Retry-After fails fast by design.
func mustComplete(f faultproxy.Fault) bool {
	if f.Times != 1 {
		return false
	}
	switch f.Kind {
	case faultproxy.Drop, faultproxy.Status:
		if f.RetryAfter == "3600" {
			return false
		}
		return f.Step != faultproxy.Finalize
	}
	return true
}
