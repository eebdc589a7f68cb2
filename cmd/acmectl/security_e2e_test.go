package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// Issue 16's remaining items through the binary: the dead CA (item 4),
// archive retention (3), world-writable directories (11) and --cert-name
// refusals (12).

// requestChain is what one call chain to a CA that never answers costs
// (acme: 3 tries of 45 s, certbot's socket timeout, with 0.25 s and 0.5 s
// between them). The tests below run against the real timeouts.
const requestChain = 3*45*time.Second + 750*time.Millisecond

// TestE2EDeadCA (issue 16 item 4, must-show 2): four lineages on a CA that
// accepts connections and never answers — or answers and drips its body a
// byte a second — cost one call chain for the whole renew, not one per
// lineage: renew ends within one chain plus a few seconds, the proxy sees one
// chain of requests, and every lineage reports the CA as unreachable on one
// line. --renew-deadline ends a run stuck on such a CA at the deadline. No
// test seam: the per-request timeouts are the production ones, so the three
// runs (~2.3 min, mostly idle) go at once, beside the other parallel
// end-to-end tests.
func TestE2EDeadCA(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"dead1", "dead2", "dead3", "dead4"}
	type setup struct {
		name  string
		fault faultproxy.Fault
		extra []string
		tr    *tree
		p     *faultproxy.Proxy
	}
	cases := []*setup{
		{name: "silent", fault: faultproxy.Fault{Kind: faultproxy.Delay, Delay: time.Hour}},
		{name: "drip", fault: faultproxy.Fault{Kind: faultproxy.Drip}},
		{name: "deadline", fault: faultproxy.Fault{Kind: faultproxy.Delay, Delay: time.Hour}, extra: []string{"--renew-deadline", "20s"}},
	}
	// The lineages are made while the CA answers, one tree at a time (the
	// standalone port is shared); then the CA dies.
	for _, c := range cases {
		p, err := faultproxy.Start(s.DirectoryURL, filepath.Join(mod, "test/certs/localhost/cert.pem"),
			filepath.Join(mod, "test/certs/localhost/key.pem"), s.HTTPClient())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		c.p, c.tr = p, newTree(t, s)
		for _, n := range names {
			c.tr.mustRun(append([]string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", p.DirectoryURL,
				"--cert-name", n, "-d", n + ".example.com", "--renew-before-expiry", "10000 days"}, c.tr.standalone()...)...)
		}
	}
	// The three runs go concurrently (goroutines, not parallel subtests: they
	// mostly wait, and must not hold the package's -parallel slots).
	type outcome struct {
		r      result
		err    error
		took   time.Duration
		before string
	}
	outs := make([]outcome, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		outs[i].before = archiveListing(t, c.tr.config)
		var faults []faultproxy.Fault
		for _, st := range faultproxy.AllSteps {
			f := c.fault
			f.Step = st
			faults = append(faults, f)
		}
		c.p.Inject(faults...)
		c.p.ResetLog()
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			outs[i].r, outs[i].err = c.tr.runNoFatal(append([]string{"renew", "--no-random-sleep-on-renew"}, c.extra...)...)
			outs[i].took = time.Since(start)
		}()
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, took := outs[i].r, outs[i].took
			if outs[i].err != nil {
				t.Fatalf("run acmectl: %v", outs[i].err)
			}
			if r.code != 1 {
				t.Errorf("renew on a dead CA: exit %d, want 1\n%s", r.code, r)
			}
			want := "unreachable"
			bound := requestChain + 15*time.Second
			if c.extra != nil {
				want, bound = "renew reached its deadline (--renew-deadline 20s)", 20*time.Second+15*time.Second
			}
			for _, n := range names {
				lines := regexp.MustCompile(`(?m)^Failed to renew certificate `+n+` with error: .*$`).FindAllString(r.stderr, -1)
				if len(lines) != 1 || !strings.Contains(lines[0], want) {
					t.Errorf("%s: failure lines %q, want one saying %q\n%s", n, lines, want, r)
				}
			}
			if took > bound {
				t.Errorf("renew of %d lineages on a %s CA took %v, want at most %v (one call chain is %v)", len(names), c.name, took, bound, requestChain)
			}
			if c.extra == nil && took < requestChain-5*time.Second {
				t.Errorf("renew took %v: less than one call chain (%v) — were the production timeouts in play?", took, requestChain)
			}
			// Every request the CA got ends when acmectl gives up on it.
			var seen []faultproxy.Entry
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if seen = c.p.Log(); c.extra != nil || len(seen) >= 3 {
					break
				}
			}
			if c.extra == nil && len(seen) != 3 {
				t.Errorf("the dead CA got %d requests, want one call chain (3): %+v", len(seen), seen)
			}
			if after := archiveListing(t, c.tr.config); after != outs[i].before {
				t.Errorf("archive/ changed on a failed run:\n%s\n->\n%s", outs[i].before, after)
			}
			t.Logf("%s CA: renew of %d lineages took %v (one call chain: %v), %d requests reached the CA", c.name, len(names),
				took.Round(100*time.Millisecond), requestChain, len(seen))
		})
	}
}

// runNoFatal is tree.run for a goroutine: an error instead of t.Fatal.
func (tr *tree) runNoFatal(args ...string) (result, error) {
	full := append(append([]string{}, args...), "--config-dir", tr.config, "--work-dir", tr.work, "--logs-dir", tr.logs)
	if tr.s != nil {
		full = append(full, "--ca-bundle", tr.s.CABundle)
	}
	cmd := exec.Command(tr.bin, full...)
	cmd.Env = append(os.Environ(), tr.env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{so.String(), se.String(), 0}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code, err = ee.ExitCode(), nil
	}
	return r, err
}

// archiveListing is every file under config/archive, one per line.
func archiveListing(t *testing.T, config string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(config, "archive"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(config, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

var archiveFile = regexp.MustCompile(`^(cert|chain|fullchain|privkey)([0-9]+)\.pem$`)

// archivedVersions lists the versions in archive/name that have all four files.
func archivedVersions(t *testing.T, config, name string) []int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(config, "archive", name))
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	for _, e := range ents {
		if m := archiveFile.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[2])
			count[n]++
		}
	}
	var out []int
	for n, c := range count {
		if c != 4 {
			t.Errorf("archive/%s version %d has %d of its 4 files", name, n, c)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// TestE2EArchiveRetention (issue 16 item 3): every version, private keys
// included, stays in archive/ by default (certbot 2.1 keeps them; e5320a1
// kept the current and 5 previous). --archive-versions N, saved in the
// lineage's conf, prunes to the newest N; 0 keeps everything again. (What
// pruning never removes — the versions live/ links and the in-flight order
// record need — storage TestPruneKeepsPinnedVersions.)
func TestE2EArchiveRetention(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	tr.certonly("keepall", []string{"keepall.example.com"}).mustOK(t)
	keep6 := true
	if r := tr.certonly("keep6", []string{"keep6.example.com"}, "--archive-versions", "6"); r.code != 0 {
		t.Errorf("certonly --archive-versions 6: %s", r)
		keep6 = false
	}
	if keep6 {
		conf, err := os.ReadFile(filepath.Join(tr.config, "renewal", "keep6.conf"))
		if err != nil || !strings.Contains(string(conf), "archive_versions = 6") {
			t.Errorf("keep6.conf does not save archive_versions = 6 (%v):\n%s", err, conf)
		}
	}
	for i := 2; i <= 8; i++ {
		tr.mustRun("renew", "--force-renewal", "--no-random-sleep-on-renew")
	}
	if got := fmt.Sprint(archivedVersions(t, tr.config, "keepall")); got != "[1 2 3 4 5 6 7 8]" {
		t.Errorf("default: archive/keepall holds versions %s after 8, want all 8", got)
	}
	if !keep6 {
		return
	}
	if got := fmt.Sprint(archivedVersions(t, tr.config, "keep6")); got != "[3 4 5 6 7 8]" {
		t.Errorf("--archive-versions 6: archive/keep6 holds versions %s, want the newest 6 [3 4 5 6 7 8]", got)
	}
	// 0 goes back to keeping everything (and removes the key from the conf).
	tr.mustRun("renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", "keep6", "--archive-versions", "0")
	if got := fmt.Sprint(archivedVersions(t, tr.config, "keep6")); got != "[3 4 5 6 7 8 9]" {
		t.Errorf("--archive-versions 0: archive/keep6 holds %s, want [3 4 5 6 7 8 9]", got)
	}
	if conf, _ := os.ReadFile(filepath.Join(tr.config, "renewal", "keep6.conf")); strings.Contains(string(conf), "archive_versions") {
		t.Errorf("--archive-versions 0 left the key in keep6.conf:\n%s", conf)
	}
}

func (r result) mustOK(t *testing.T) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
}

// TestE2EOtherWritableDirs (issue 16 item 11): a config directory or
// archive/ others may write is not accepted silently: certonly and renew
// warn once per directory with the fix, doctor reports each with the fix.
func TestE2EOtherWritableDirs(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	tr := newTree(t, s)
	tr.certonly("ww", []string{"ww.example.com"}).mustOK(t)
	archive := filepath.Join(tr.config, "archive")
	for _, d := range []string{tr.config, archive} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	warned := func(what string, out string) {
		t.Helper()
		for _, d := range []string{tr.config, archive} {
			line := regexp.MustCompile(`(?m)^Warning: ` + regexp.QuoteMeta(d) + ` is writable by other users.*; fix: chmod o-w ` + regexp.QuoteMeta(d) + `$`)
			if got := len(line.FindAllString(out, -1)); got != 1 {
				t.Errorf("%s: %d warnings for %s, want 1 with its fix:\n%s", what, got, d, out)
			}
		}
	}
	r := tr.certonly("ww2", []string{"ww2.example.com"})
	r.mustOK(t)
	warned("certonly", r.stderr)
	r = tr.mustRun("renew", "--no-random-sleep-on-renew")
	warned("renew", r.stderr)
	r = tr.run("doctor")
	for _, d := range []string{tr.config, archive} {
		if !strings.Contains(r.stdout, d+" is writable by other users") || !strings.Contains(r.stdout, "fix: chmod o-w "+d+"\n") {
			t.Errorf("doctor does not report %s with its fix:\n%s", d, r)
		}
	}
	// Fixed: no warning any more.
	for _, d := range []string{tr.config, archive} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if r := tr.mustRun("renew", "--no-random-sleep-on-renew"); strings.Contains(r.stderr, "writable by other users") {
		t.Errorf("renew still warns after chmod o-w:\n%s", r)
	}
}

// TestE2ECertNameRefusals (issue 16 item 12): --cert-name is refused with
// storage's reason, as a usage error (exit 2) — a backslash says so, and a
// leading '-' given as "--cert-name=-x" too; "--cert-name -x" is a usage
// error either way (argparse: the option expects one argument).
func TestE2ECertNameRefusals(t *testing.T) {
	skipShort(t)
	t.Parallel()
	tr := newTree(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delete", "--cert-name=-x", "-n"}, "start it with a letter or digit"},
		{[]string{"certonly", "--cert-name=-x", "-d", "a.example.com", "-n", "--standalone"}, "start it with a letter or digit"},
		{[]string{"delete", "--cert-name", "-x", "-n"}, ""},
		{[]string{"delete", "--cert-name", `a\b`, "-n"}, "contains a backslash"},
		{[]string{"renew", "--cert-name", "a/b"}, "contains a slash"},
	} {
		r := tr.run(tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("acmectl %s: exit %d, want 2 (usage) saying %q\n%s", strings.Join(tc.args, " "), r.code, tc.want, r)
		}
		if strings.Contains(r.stderr, "may not contain '/', NUL") {
			t.Errorf("acmectl %s: the old wrong reason\n%s", strings.Join(tc.args, " "), r)
		}
	}
}

// TestE2EDiskFullCertificateCollected (issue 16 item 10, its second half):
// the config directory is a tmpfs filled up to a few free pages, and renew
// runs out of space. Whatever the point it fails at — before finalize (the
// order record does not fit) or after the CA issued (the version does not
// fit) — the run exits non-zero with the reason, archive/ holds no partial
// version, and once space is back the next renew saves the certificate the
// CA issued from the order record, without a new order or finalize: every
// certificate the CA issued ends up in archive/. At least one of the cases
// must fail after issuance, or the test proves nothing.
func TestE2EDiskFullCertificateCollected(t *testing.T) {
	skipShort(t)
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("mounting a tmpfs needs root")
	}
	afterIssue := 0
	for free := 0; free <= 4; free++ {
		t.Run(fmt.Sprintf("%d pages free", free), func(t *testing.T) {
			e := newSectigo(t, nil)
			mnt := t.TempDir()
			if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=512k,mode=0755"); err != nil {
				t.Fatalf("mount tmpfs: %v", err)
			}
			t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
			e.config = filepath.Join(mnt, "config")
			if r := e.certonly("df", []string{"df.example.com"}, "--manual"); r.code != 0 {
				t.Fatalf("certonly: %s", r)
			}
			// Warm up what every renew writes (locks, the listing cache).
			e.mustRun("renew", "--no-random-sleep-on-renew")
			fillTo(t, filepath.Join(mnt, "filler"), free)
			before, start := e.ca.Counts(), time.Now()
			r := e.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
			took := time.Since(start)
			failed := e.ca.Counts()
			if r.code == 0 {
				t.Logf("renew succeeded with %d pages free; nothing to check", free)
				return
			}
			failedLine := regexp.MustCompile(`(?m)^Failed to renew certificate df with error: .*$`).FindString(r.stderr)
			if !strings.Contains(failedLine, "no space left on device") {
				t.Errorf("the failure does not say the disk is full:\n%s", r)
			}
			issued, failedCode := failed.Issued > before.Issued, r.code
			if issued {
				afterIssue++
				if _, err := os.Stat(inFlightPath(e.config, "df")); err != nil {
					t.Errorf("the CA issued, the save failed, and no order record is left: %v", err)
				}
				if !strings.Contains(failedLine, "the CA issued the certificate and its order is recorded") || !strings.Contains(failedLine, "the next certonly or renew of df collects it") {
					t.Errorf("the failure does not say the issued certificate will be collected: %s", failedLine)
				}
			}
			if got := fmt.Sprint(archivedVersions(t, e.config, "df")); got != "[1]" {
				t.Errorf("after the failed renew archive/df holds versions %s, want [1] and no partial one", got)
			}
			if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
				t.Fatal(err)
			}
			raw := orderRequests(e.ca)
			r = e.run("renew", "--no-random-sleep-on-renew")
			after := e.ca.Counts()
			if r.code != 0 {
				t.Fatalf("renew with space back: %s", r)
			}
			checkLineage(t, e.config, "df")
			versions := archivedVersions(t, e.config, "df")
			if len(versions) != after.Issued {
				t.Errorf("the CA issued %d certificates, archive/df holds versions %v: a certificate was lost", after.Issued, versions)
			}
			if issued && orderRequests(e.ca) != raw {
				t.Errorf("collecting the recorded order sent newOrder/finalize requests: %v -> %v", raw, orderRequests(e.ca))
			}
			t.Logf("%d pages free: the renew failed %s issuance after %s (exit %d: %q); after space came back: versions %v, CA %+v",
				free, map[bool]string{true: "after", false: "before"}[issued], took.Round(10*time.Millisecond), failedCode, failedLine, versions, after)
		})
	}
	if afterIssue == 0 && !t.Failed() {
		t.Error("no case failed after the CA issued: the recovery path was not exercised")
	}
}

// fillTo fills the file system of path with a file, leaving free pages.
func fillTo(t *testing.T, path string, free int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	for {
		if _, err := f.Write(page); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(fi.Size()/4096*4096 - int64(free)*4096); err != nil {
		t.Fatal(err)
	}
}
