package reliability

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/storage"
)

// certbotRenew runs Debian's certbot renew on the box's config dir.
func (b *box) certbotRenew(ctx context.Context, extra ...string) result {
	args := append([]string{"renew", "--no-random-sleep-on-renew", "-n", "--config-dir", b.config,
		"--work-dir", filepath.Join(b.root, "certbot-work"), "--logs-dir", filepath.Join(b.root, "certbot-logs")}, extra...)
	cmd := exec.CommandContext(ctx, "certbot", args...)
	cmd.Dir = b.cwd
	cmd.Env = append(os.Environ(), "HOME="+b.root, "XDG_CONFIG_HOME="+filepath.Join(b.root, "xdg"), "REQUESTS_CA_BUNDLE="+b.caBundle)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := result{args: append([]string{"(certbot)"}, args...), stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += "\n" + err.Error()
	}
	return r
}

// archiveVersions checks every archived version of a lineage (each key
// matches its certificate, fullchain = cert + chain) and returns the version
// numbers found.
func archiveVersions(t *testing.T, config, name string) []int {
	t.Helper()
	dir := filepath.Join(config, "archive", name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("archive/%s: %v", name, err)
		return nil
	}
	re := regexp.MustCompile(`^cert([0-9]+)\.pem$`)
	var vs []int
	for _, e := range ents {
		m := re.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		vs = append(vs, n)
		read := func(kind string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s%d.pem", kind, n)))
			if err != nil {
				t.Errorf("archive/%s version %d: %v", name, n, err)
			}
			return b
		}
		cert, chain, full, key := read("cert"), read("chain"), read("fullchain"), read("privkey")
		if err := storage.KeyMatchesCert(cert, key); err != nil {
			t.Errorf("archive/%s version %d: key does not match certificate: %v", name, n, err)
		}
		if !bytes.Equal(full, append(append([]byte{}, cert...), chain...)) {
			t.Errorf("archive/%s version %d: fullchain is not cert + chain (interleaved writers?)", name, n)
		}
	}
	return vs
}

func notAfter(t *testing.T, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}

// lockOK reports whether a failed run failed because of the lock, clearly.
func lockOK(r result) bool {
	s := r.stdout + r.stderr
	return strings.Contains(s, "storage: locked") || strings.Contains(s, "Another instance of Certbot is already running")
}

// TestE2EConcurrentRenew runs several `acmectl renew` at once on one tree,
// plus Debian's certbot renew on the same tree. Forced: nothing is corrupted
// (every archived version is whole, every live link resolves, every key
// matches), the acmectl runs succeed or fail clearly on the lock. Due once
// (renew_before_expiry set so that the current certificates are due and the
// renewed ones are not): every lineage is renewed exactly once in total.
func TestE2EConcurrentRenew(t *testing.T) {
	skipShort(t)
	t.Parallel()
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot (Debian package certbot) is needed: %v", err)
	}
	// One profile: Pebble picks a random one when an order names none (certbot
	// 2.1 never does), and a shorter one would make a renewed lineage due again.
	s := pebbletest.Start(t, pebbletest.Options{Profiles: map[string]pebbletest.Profile{
		"only": {Description: "90 days", ValidityPeriod: 90 * 24 * 3600}}})
	wr := webroot(t, s.HTTPPort)
	const n, runs = 6, 4
	mkTree := func(prefix string) *box {
		b := newBox(t, s.CABundle)
		b.mustRun("register", "-n", "--agree-tos", "-m", "conc@example.com", "--server", s.DirectoryURL)
		var wg sync.WaitGroup
		errs := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := b.run(certonlyArgs(s.DirectoryURL, wr, fmt.Sprintf("%s%d", prefix, i))...); r.code != 0 {
					errs[i] = r.String()
				}
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatal(e)
			}
		}
		return b
	}
	due := mkTree("d") // made first: it must age before its phase
	forced := mkTree("f")

	// race runs `runs` acmectl renews and one certbot renew at once.
	race := func(b *box, extra ...string) (acm []result, cb result) {
		var wg sync.WaitGroup
		acm = make([]result, runs)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				acm[i] = b.run(append([]string{"renew", "--no-random-sleep-on-renew", "--parallel", "3"}, extra...)...)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cb = b.certbotRenew(ctx, extra...)
		}()
		wg.Wait()
		for _, r := range acm {
			if r.code != 0 {
				if msg := cleanError(t, r); !lockOK(r) {
					t.Errorf("acmectl renew failed for another reason than the lock: %s\n%s", msg, r)
				}
			}
		}
		if cb.code != 0 && !lockOK(cb) {
			t.Errorf("certbot renew failed for another reason than the lock:\n%s", cb)
		}
		return acm, cb
	}
	report := func(phase string, acm []result, cb result) {
		ok := 0
		for _, r := range acm {
			if r.code == 0 {
				ok++
			}
		}
		t.Logf("%s: %d of %d acmectl renews exited 0, certbot exited %d in %v", phase, ok, runs, cb.code, cb.took.Round(time.Millisecond))
		if cb.code != 0 {
			t.Logf("certbot:\n%s", cb.stderr)
		}
	}

	t.Run("forced", func(t *testing.T) {
		acm, cb := race(forced, "--force-renewal")
		report("forced", acm, cb)
		mustWhole(t, forced.config)
		forced.listCerts(t)
		for i := range n {
			name := fmt.Sprintf("f%d", i)
			vs := archiveVersions(t, forced.config, name)
			if len(vs) < 2 || len(vs) > runs+2 {
				t.Errorf("%s: versions %v after %d forced runs", name, vs, runs+1)
			}
		}
	})

	t.Run("due-once", func(t *testing.T) {
		// Let the certificates age first, so renewed ones end well after
		// the old ones.
		oldest := time.Now()
		for i := range n {
			if fi, err := os.Stat(filepath.Join(due.config, "archive", fmt.Sprintf("d%d", i), "cert1.pem")); err == nil && fi.ModTime().Before(oldest) {
				oldest = fi.ModTime()
			}
		}
		if wait := 30*time.Second - time.Since(oldest); wait > 0 {
			time.Sleep(wait)
		}
		// Then renew_before_expiry = time left + 2 s, measured now, just
		// before the race: the current certificates are due; one issued from
		// now on ends at least their age (30 s) later, so it is not due while
		// the test runs. (Measured before the wait, the margin was eaten by
		// the wait itself and the renewed certificates could be due again.)
		now := time.Now()
		for i := range n {
			name := fmt.Sprintf("d%d", i)
			na := notAfter(t, filepath.Join(due.config, "live", name, "cert.pem"))
			conf := filepath.Join(due.config, "renewal", name+".conf")
			b, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			secs := int(na.Sub(now).Seconds()) + 2
			re := regexp.MustCompile(`(?m)^#? ?renew_before_expiry = .*$`)
			line := fmt.Sprintf("renew_before_expiry = %d seconds", secs)
			var nb []byte
			if re.Match(b) {
				nb = re.ReplaceAll(b, []byte(line))
			} else {
				nb = append([]byte(line+"\n"), b...)
			}
			if err := os.WriteFile(conf, nb, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		age := time.Since(oldest)
		start := time.Now()
		acm, cb := race(due)
		report("due-once", acm, cb)
		if took := time.Since(start); took > age-3*time.Second {
			t.Errorf("the phase took %v but the certificates were only %v old: the renewed ones may be due again (inconclusive)", took, age)
		}
		mustWhole(t, due.config)
		due.listCerts(t)
		for i := range n {
			name := fmt.Sprintf("d%d", i)
			vs := archiveVersions(t, due.config, name)
			if len(vs) != 2 {
				t.Errorf("%s: archive versions %v, want exactly [1 2]: renewed %d times in one due period by %d acmectl runs and certbot", name, vs, len(vs)-1, runs)
			}
		}
		// And once more, now that nothing is due.
		r := due.mustRun("renew", "--no-random-sleep-on-renew")
		if !strings.Contains(r.stdout, "No renewals were attempted") {
			t.Errorf("a renew after the due-once phase renewed something:\n%s", r)
		}
	})
}
