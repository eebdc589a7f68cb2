package reliability

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/acmectlbin"
	"github.com/acmectl/acmectl/internal/testparallel"
	"github.com/acmectl/acmectl/storage"
)

// The suite runs acmectl as an operator would: the binary the end-to-end
// tests of every package share (internal/acmectlbin), built without -race:
// it is the product under test, and the kill loop needs it fast.

func TestMain(m *testing.M) {
	// The tests are independent (each its own CA, trees and ports) and
	// wait much of the time (certificates ageing 30 s, kill timers, fault
	// delays); at -parallel = GOMAXPROCS the crash loop, the longest, began
	// only when two others had ended (issue 19).
	if err := testparallel.AtLeast(8); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func acmectlBin(t testing.TB) string {
	t.Helper()
	bin, err := acmectlbin.Path()
	if err != nil {
		t.Fatalf("build acmectl: %v", err)
	}
	return bin
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end reliability test skipped with -short")
	}
}

// box is one acmectl installation: its config/work/logs dirs, a working
// directory that must stay empty, and a private environment (no system or
// user cli.ini).
type box struct {
	t                  testing.TB
	bin                string
	root               string
	config, work, logs string
	cwd                string
	caBundle           string
	env                []string
	timeout            time.Duration
}

func newBox(t testing.TB, caBundle string) *box {
	t.Helper()
	d := t.TempDir()
	b := &box{t: t, bin: acmectlBin(t), root: d, caBundle: caBundle, timeout: 2 * time.Minute,
		config: filepath.Join(d, "config"), work: filepath.Join(d, "work"), logs: filepath.Join(d, "logs"), cwd: filepath.Join(d, "cwd")}
	if err := os.MkdirAll(b.cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	b.env = []string{"HOME=" + d, "XDG_CONFIG_HOME=" + filepath.Join(d, "xdg"), "ACMECTL_SYSTEM_CLI_INI=",
		"ACMECTL_EAB_HMAC_KEY=", "REQUESTS_CA_BUNDLE=", "LANG=C"}
	return b
}

type result struct {
	args           []string
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("acmectl %s\nexit %d after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// dirArgs are the flags that point acmectl at the box.
func (b *box) dirArgs() []string {
	a := []string{"--config-dir", b.config, "--work-dir", b.work, "--logs-dir", b.logs}
	if b.caBundle != "" {
		a = append(a, "--ca-bundle", b.caBundle)
	}
	return a
}

func (b *box) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{}, args...), b.dirArgs()...)
	cmd := exec.CommandContext(ctx, b.bin, full...)
	cmd.Dir = b.cwd
	cmd.Env = append(os.Environ(), b.env...)
	return cmd
}

// run runs acmectl with the box's dirs appended.
func (b *box) run(args ...string) result {
	b.t.Helper()
	return b.runRaw(append(append([]string{}, args...), b.dirArgs()...)...)
}

// runRaw runs acmectl with exactly args.
func (b *box) runRaw(args ...string) result {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Dir = b.cwd
	cmd.Env = append(os.Environ(), b.env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := result{args: args, stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			b.t.Fatalf("run acmectl: %v", err)
		}
		r.code = ee.ExitCode()
		if ctx.Err() != nil {
			b.t.Errorf("acmectl hung: killed after %v\n%s", b.timeout, r)
		}
	}
	return r
}

func (b *box) mustRun(args ...string) result {
	b.t.Helper()
	r := b.run(args...)
	if r.code != 0 {
		b.t.Fatalf("%s", r)
	}
	return r
}

// cleanError checks the failure contract: a non-zero exit ends with exactly
// one "Error: " line, and nothing panicked. It returns the error line.
func cleanError(t testing.TB, r result) string {
	t.Helper()
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("acmectl panicked:\n%s", r)
	}
	if r.code == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "Error: ") || strings.Count(r.stderr, "\nError: ")+btoi(strings.HasPrefix(r.stderr, "Error: ")) != 1 || len(last) < len("Error: ")+8 {
		t.Errorf("want exactly one final 'Error: ...' line:\n%s", r)
	}
	return last
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// --- the tree on disk --------------------------------------------------------

// snapshot maps every entry under accounts/, archive/, live/ and renewal/ to
// its content hash (files) or target (symlinks).
func snapshot(t testing.TB, config string) map[string]string {
	t.Helper()
	return snapshotOf(t, config, "accounts", "archive", "live", "renewal")
}

// snapshotOf is snapshot of some subdirectories only.
func snapshotOf(t testing.TB, config string, subs ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, sub := range subs {
		root := filepath.Join(config, sub)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			rel, _ := filepath.Rel(config, p)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				tgt, err := os.Readlink(p)
				if err != nil {
					return err
				}
				m[rel] = "-> " + tgt
			case d.IsDir():
			default:
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				h := sha256.Sum256(b)
				m[rel] = hex.EncodeToString(h[:8])
			}
			return nil
		})
		if err != nil {
			t.Fatalf("snapshot %s: %v", root, err)
		}
	}
	return m
}

var archiveRE = regexp.MustCompile(`^archive/([^/]+)/(cert|chain|fullchain|privkey)([0-9]+)\.pem$`)
var liveRE = regexp.MustCompile(`^live/([^/]+)/(cert|chain|fullchain|privkey)\.pem$`)

// linkVersion is the version number a live link points at (-1 if none).
func linkVersion(target string) int {
	m := regexp.MustCompile(`([0-9]+)\.pem$`).FindStringSubmatch(target)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// checkAdvance checks that after is before, or before advanced by exactly
// one whole version per lineage: new archive files only of version N+1 (all
// four), live links unchanged or all four moved to N+1, nothing removed
// except archive versions older than the current one (pruning), accounts
// unchanged (new ones only when there were none). It returns the lineages
// that advanced.
func checkAdvance(t testing.TB, before, after map[string]string) (advanced []string) {
	t.Helper()
	maxV := func(m map[string]string, name string) int {
		n := 0
		for k := range m {
			if mm := archiveRE.FindStringSubmatch(k); mm != nil && mm[1] == name {
				v, _ := strconv.Atoi(mm[3])
				n = max(n, v)
			}
		}
		return n
	}
	hadAccounts := false
	for k := range before {
		if strings.HasPrefix(k, "accounts/") {
			hadAccounts = true
		}
	}
	newFiles := map[string]map[int]int{} // lineage → version → files
	for k, v := range after {
		old, ok := before[k]
		switch {
		case strings.HasPrefix(k, "accounts/"):
			if ok && old != v {
				t.Errorf("account file %s changed", k)
			}
			if !ok && hadAccounts {
				t.Errorf("account file %s appeared though an account existed", k)
			}
		case archiveRE.MatchString(k):
			mm := archiveRE.FindStringSubmatch(k)
			if ok && old != v {
				t.Errorf("archive file %s was rewritten", k)
			}
			if !ok {
				n, _ := strconv.Atoi(mm[3])
				if newFiles[mm[1]] == nil {
					newFiles[mm[1]] = map[int]int{}
				}
				newFiles[mm[1]][n]++
			}
		case strings.HasPrefix(k, "archive/"), strings.HasPrefix(k, "live/"), strings.HasPrefix(k, "renewal/"):
			if !liveRE.MatchString(k) && !strings.HasSuffix(k, ".conf") && !strings.HasSuffix(k, "/README") {
				t.Errorf("unexpected entry %s", k)
			}
		}
	}
	for k := range before {
		if _, ok := after[k]; ok {
			continue
		}
		if strings.HasPrefix(k, "accounts/") {
			t.Errorf("account file %s was lost", k)
		} else if mm := archiveRE.FindStringSubmatch(k); mm != nil {
			n, _ := strconv.Atoi(mm[3])
			if n >= maxV(before, mm[1]) {
				t.Errorf("archive file %s (the current version) was lost", k)
			}
		} else {
			t.Errorf("%s was lost", k)
		}
	}
	for name, vers := range newFiles {
		prev := maxV(before, name)
		for n, files := range vers {
			if n != prev+1 || files != 4 {
				t.Errorf("lineage %s: %d new archive files of version %d (had up to %d): want 4 files of version %d", name, files, n, prev, prev+1)
			}
		}
	}
	// live links: unchanged, or all four moved together to N+1.
	names := map[string]bool{}
	for k := range after {
		if mm := liveRE.FindStringSubmatch(k); mm != nil {
			names[mm[1]] = true
		}
	}
	for name := range names {
		moved := 0
		for _, kind := range []string{"cert", "chain", "fullchain", "privkey"} {
			k := "live/" + name + "/" + kind + ".pem"
			if before[k] != after[k] {
				moved++
				if _, existed := before[k]; existed && linkVersion(after[k]) != maxV(before, name)+1 {
					t.Errorf("%s moved to %s, want version %d", k, after[k], maxV(before, name)+1)
				}
			}
		}
		if moved != 0 && moved != 4 {
			t.Errorf("lineage %s: %d of 4 live links moved", name, moved)
		}
		if moved == 4 {
			advanced = append(advanced, name)
		}
	}
	sort.Strings(advanced)
	return advanced
}

// treeState is what checkTree found.
type treeState struct {
	lineages    int
	mixed       []string // lineages whose live links point at different versions
	halfCreated []string // live/<name> without renewal/<name>.conf
}

// checkTree checks every lineage as a web server would read it: each live
// link resolves inside archive/, cert.pem is the leaf of fullchain.pem, and
// privkey.pem matches both. Lineages whose four links point at different
// versions are returned in mixed, not checked further; mustWhole makes
// that an error.
func checkTree(t testing.TB, config string) treeState {
	t.Helper()
	var st treeState
	ents, err := os.ReadDir(filepath.Join(config, "live"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return st
		}
		t.Fatalf("read live/: %v", err)
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			// Hidden entries are a writer's scratch (the live directory being
			// built before it is swapped in whole); no lineage name starts
			// with a dot, and `live/*` globs skip them.
			continue
		}
		st.lineages++
		dir := filepath.Join(config, "live", e.Name())
		data := map[string][]byte{}
		vers := map[int]bool{}
		_, cerr := os.Stat(filepath.Join(config, "renewal", e.Name()+".conf"))
		half := cerr != nil
		if half {
			// A create that died before its renewal conf: not a lineage
			// yet (not listed); whatever links it has must still resolve.
			st.halfCreated = append(st.halfCreated, e.Name())
		}
		for _, kind := range []string{"cert", "chain", "fullchain", "privkey"} {
			p := filepath.Join(dir, kind+".pem")
			tgt, err := os.Readlink(p)
			if err != nil {
				if !half {
					t.Errorf("%s is not a symlink: %v", p, err)
				}
				continue
			}
			if filepath.IsAbs(tgt) || !strings.HasPrefix(tgt, "../../archive/"+e.Name()+"/") {
				t.Errorf("%s -> %s: not a relative link into archive/%s", p, tgt, e.Name())
			}
			vers[linkVersion(tgt)] = true
			b, err := os.ReadFile(p)
			if err != nil {
				t.Errorf("%s does not resolve: %v", p, err)
				continue
			}
			if len(b) == 0 {
				t.Errorf("%s is empty", p)
			}
			data[kind] = b
		}
		if half {
			continue
		}
		if len(vers) > 1 {
			// A writer died between two link swaps: the caller decides
			// (it is an error everywhere, counted separately by the crash loop).
			st.mixed = append(st.mixed, e.Name())
			continue
		}
		if len(data) != 4 {
			continue
		}
		if err := storage.KeyMatchesCert(data["cert"], data["privkey"]); err != nil {
			t.Errorf("lineage %s: privkey.pem does not match cert.pem: %v", e.Name(), err)
		}
		if err := storage.KeyMatchesCert(data["fullchain"], data["privkey"]); err != nil {
			t.Errorf("lineage %s: privkey.pem does not match fullchain.pem: %v", e.Name(), err)
		}
		leaf, _ := pem.Decode(data["fullchain"])
		cb, _ := pem.Decode(data["cert"])
		if leaf == nil || cb == nil || !bytes.Equal(leaf.Bytes, cb.Bytes) {
			t.Errorf("lineage %s: cert.pem is not the leaf of fullchain.pem", e.Name())
		}
		if !bytes.HasPrefix(data["fullchain"], data["cert"]) || !bytes.HasSuffix(data["fullchain"], data["chain"]) {
			t.Errorf("lineage %s: fullchain.pem is not cert.pem + chain.pem", e.Name())
		}
	}
	return st
}

// listCerts runs `acmectl certificates --json` and checks it succeeds and
// reports no broken lineage.
func (b *box) listCerts(t testing.TB) []certJSON {
	t.Helper()
	r := b.run("certificates", "--json")
	if r.code != 0 {
		t.Errorf("certificates failed: %s", r)
		return nil
	}
	var list []certJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Errorf("certificates --json: %v\n%s", err, r.stdout)
	}
	for _, c := range list {
		if c.Error != "" {
			t.Errorf("certificates: lineage %s is broken: %s", c.Name, c.Error)
		}
	}
	return list
}

type certJSON struct {
	Name     string    `json:"name"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	Error    string    `json:"error"`
}

// checkEmptyDir fails if dir holds anything.
func checkEmptyDir(t testing.TB, dir, what string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read %s: %v", dir, err)
	}
	for _, e := range ents {
		t.Errorf("%s: %s was written (%s)", what, e.Name(), dir)
	}
}

// webroot serves dir on 127.0.0.1:port for http-01 (Pebble's VA dials it).
func webroot(t testing.TB, port int) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return dir
}

// certonlyArgs is a webroot certonly for name.example.com.
func certonlyArgs(server, wr, name string, extra ...string) []string {
	a := []string{"certonly", "-n", "--agree-tos", "-m", "rel@example.com", "--server", server,
		"--cert-name", name, "--webroot", "-w", wr, "-d", name + ".example.com"}
	return append(a, extra...)
}

// mustWhole is checkTree with mixed links an error.
func mustWhole(t testing.TB, config string) treeState {
	t.Helper()
	st := checkTree(t, config)
	if len(st.mixed) > 0 {
		t.Errorf("live links point at different versions in %v", st.mixed)
	}
	if len(st.halfCreated) > 0 {
		t.Errorf("live/ holds half-created lineages (no renewal conf): %v", st.halfCreated)
	}
	return st
}
