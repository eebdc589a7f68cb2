package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acmectl/acmectl/internal/hostileca"
)

// TestCrashStateRecovery builds, by hand, each state a SIGKILL can leave
// (the crash loop finds them at random) and checks that acmectl lists the
// tree and that the next command finishes the work:
//   - half-created: archive/x version 1 and live/x links, no renewal conf
//     (killed in CreateLineage before the conf): certonly --cert-name x works;
//   - mixed links: live/x/privkey.pem already at version 2, the rest at 1
//     (killed between two link swaps): renew repairs and renews;
//   - pending: version 2 complete in archive/ but never linked: renew works
//     and the links end whole;
//   - temp files: leftovers of atomic writes in archive/x and live/x.
func TestCrashStateRecovery(t *testing.T) {
	t.Parallel()
	ca, err := hostileca.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hostileca.Start(ca)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	setup := func(t *testing.T) (*box, string) {
		b := newBox(t, ca.Bundle)
		web := filepath.Join(t.TempDir(), "www")
		if err := os.Mkdir(web, 0o755); err != nil {
			t.Fatal(err)
		}
		b.mustRun("register", "-n", "--agree-tos", "-m", "seed@example.com", "--server", srv.DirectoryURL)
		seedLineage(t, b.config, strings.NewReplacer("{S}", srv.DirectoryURL, "{W}", web, "{C}", b.config).Replace(goodConf))
		return b, web
	}
	// addVersion2 writes a complete version 2 of x (a renewal through the CA
	// in a scratch tree, copied in) and returns its archive dir.
	addVersion2 := func(t *testing.T, b *box, web string) string {
		t.Helper()
		r := b.run("renew", "--cert-name", "x", "--force-renewal", "--no-random-sleep-on-renew")
		if r.code != 0 {
			t.Fatalf("renew to make version 2: %s", r)
		}
		// Put the links back on version 1: version 2 is now "written, not linked".
		for _, k := range []string{"cert", "chain", "fullchain", "privkey"} {
			link := filepath.Join(b.config, "live/x", k+".pem")
			os.Remove(link)
			if err := os.Symlink("../../archive/x/"+k+"1.pem", link); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(b.config, "archive/x")
	}
	renewWhole := func(t *testing.T, b *box, minVersion int) {
		t.Helper()
		b.listCerts(t)
		r := b.run("renew", "--cert-name", "x", "--force-renewal", "--no-random-sleep-on-renew")
		if r.code != 0 {
			t.Fatalf("renew after the crash state: %s", r)
		}
		mustWhole(t, b.config)
		if v := liveVersions(t, b.config)["x"]; v < minVersion {
			t.Errorf("live/x at version %d, want at least %d", v, minVersion)
		}
		b.listCerts(t)
	}

	t.Run("half-created", func(t *testing.T) {
		b, web := setup(t)
		if err := os.Remove(filepath.Join(b.config, "renewal/x.conf")); err != nil {
			t.Fatal(err)
		}
		b.listCerts(t)
		r := b.run("certonly", "-n", "--agree-tos", "-m", "a@example.com", "--server", srv.DirectoryURL,
			"--cert-name", "x", "--webroot", "-w", web, "-d", "x.example.com")
		if r.code != 0 {
			t.Fatalf("certonly over a create killed before its renewal conf: %s", r)
		}
		mustWhole(t, b.config)
		if _, err := os.Stat(filepath.Join(b.config, "renewal/x.conf")); err != nil {
			t.Errorf("no renewal conf after certonly: %v", err)
		}
	})
	t.Run("mixed-links", func(t *testing.T) {
		b, web := setup(t)
		addVersion2(t, b, web)
		link := filepath.Join(b.config, "live/x/privkey.pem")
		os.Remove(link)
		if err := os.Symlink("../../archive/x/privkey2.pem", link); err != nil {
			t.Fatal(err)
		}
		renewWhole(t, b, 3)
	})
	t.Run("pending-version", func(t *testing.T) {
		b, web := setup(t)
		addVersion2(t, b, web)
		renewWhole(t, b, 2)
	})
	t.Run("temp-files", func(t *testing.T) {
		b, _ := setup(t)
		// storage's temp names (.acmectl-tmp-<base>-<hex>), as a kill leaves them.
		for _, p := range []string{"archive/x/.acmectl-tmp-cert2.pem-0a1b2c3d4e5f", "archive/x/.acmectl-tmp-privkey2.pem-00ff00ff00ff",
			"live/x/.acmectl-tmp-privkey.pem-123456abcdef", "renewal/.acmectl-tmp-x.conf-abcdefabcdef"} {
			if err := os.WriteFile(filepath.Join(b.config, p), []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		renewWhole(t, b, 2)
		for _, d := range []string{"archive/x", "live/x"} {
			ents, _ := os.ReadDir(filepath.Join(b.config, d))
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".acmectl-tmp-") {
					t.Errorf("%s/%s left after a save", d, e.Name())
				}
			}
		}
	})
}

// TestConcurrentLogRotation: acmectl runs that start at the same moment on
// one --logs-dir (cron's renew next to an operator's command, or several
// renews as in TestE2EConcurrentRenew) must all work; rotating
// letsencrypt.log is not a reason to fail.
func TestConcurrentLogRotation(t *testing.T) {
	t.Parallel()
	b := newBox(t, "")
	const rounds, runs = 5, 12
	failed := 0
	var first string
	for range rounds {
		var wg sync.WaitGroup
		res := make([]result, runs)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = b.run("certificates")
			}()
		}
		wg.Wait()
		for _, r := range res {
			if r.code != 0 {
				failed++
				if first == "" {
					first = r.String()
				}
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d concurrent runs failed; first:\n%s", failed, rounds*runs, first)
	}
}
