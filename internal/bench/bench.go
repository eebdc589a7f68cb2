package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

const (
	legoVersion = "v4.35.2"
	email       = "bench@example.com"
	baseName    = "base.example" // the one real lineage each client's trees are cloned from
)

// client is one ACME client under test.
type client struct {
	name    string
	bin     string
	version string
	missing string   // why it cannot run ("" = it can)
	env     []string // added to the environment of every run
}

// sample is one measured run (or one batch of runs).
type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
	reqs      int
}

// row is one line of the result table.
type row struct {
	scenario string
	client   string
	items    int // certificates per sample (ratio is per certificate when > 1)
	samples  []sample
	lower    bool // a run hit its time limit: wall is a lower bound
	note     string
	err      error
}

type bench struct {
	cfg     *config
	log     io.Writer
	repo    string
	work    string
	clients []*client
	pebble  *pebbletest.Server
	proxy   *faultproxy.Proxy
	webroot string
	runwrap string // internal/bench/runwrap, which measures each client process
	rows    []*row
	machine string
	// loadStart is the load average when the run began (other work on the
	// host inflates wall times; CPU times are less affected).
	loadStart string
}

func newBench(ctx context.Context, cfg *config, log io.Writer) (b *bench, err error) {
	b = &bench{cfg: cfg, log: log}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return nil, fmt.Errorf("find the acmectl module (run from the repository): %v", err)
	}
	b.repo = filepath.Dir(strings.TrimSpace(string(out)))
	b.work, err = os.MkdirTemp("", "acmectl-bench-")
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	made := b // a failing return sets b to nil before this runs
	defer func() {
		if err != nil {
			made.close()
			b = nil
		}
	}()
	b.machine, b.loadStart = machine(), loadavg()
	b.logf("work dir %s", b.work)

	bin := filepath.Join(b.work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	b.runwrap = filepath.Join(bin, "runwrap")
	rw := exec.CommandContext(ctx, "go", "build", "-o", b.runwrap, "./internal/bench/runwrap")
	rw.Dir = b.repo
	if o, err := rw.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build runwrap: %v\n%s", err, o)
	}
	b.logf("building acmectl")
	a := &client{name: "acmectl", bin: filepath.Join(bin, "acmectl"), version: "this tree"}
	// Built by `make build`: the release binary (the DNS plugin embedded).
	build := exec.CommandContext(ctx, "make", "--no-print-directory", "build", "DIST="+bin)
	build.Dir = b.repo
	if o, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build acmectl: %v\n%s", err, o)
	}
	if v, err := exec.CommandContext(ctx, "git", "-C", b.repo, "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		a.version = strings.TrimSpace(string(v))
	}
	if a.bin, err = installed(a.bin, a.bin); err != nil {
		return nil, err
	}
	b.clients = append(b.clients, a)
	if cfg.only["certbot"] {
		b.clients = append(b.clients, findCertbot(ctx, b))
	}
	if cfg.only["lego"] {
		l := b.findLego(ctx)
		if l.missing == "" {
			if l.bin, err = installed(l.bin, filepath.Join(bin, "lego")); err != nil {
				return nil, err
			}
		}
		b.clients = append(b.clients, l)
	}

	b.logf("starting pebble")
	b.pebble, err = pebbletest.Launch(pebbletest.Options{
		// One 90-day profile: nothing is due right after issuance for any of
		// the three clients, and renew_before_expiry = 100 days makes it due.
		Profiles: map[string]pebbletest.Profile{"default": {Description: "90 days", ValidityPeriod: 90 * 24 * 3600}},
		LogFile:  filepath.Join(mkdir(b.work, "pebble"), "pebble.log"),
	}, mkdir(b.work, "pebble"))
	if err != nil {
		return nil, fmt.Errorf("start pebble: %w", err)
	}
	b.logf("pebble log: %s", filepath.Join(b.work, "pebble", "pebble.log"))
	mod, err := pebbletest.ModuleDir()
	if err != nil {
		return nil, err
	}
	b.proxy, err = faultproxy.Start(b.pebble.DirectoryURL,
		filepath.Join(mod, "test/certs/localhost/cert.pem"), filepath.Join(mod, "test/certs/localhost/key.pem"),
		b.pebble.HTTPClient())
	if err != nil {
		return nil, fmt.Errorf("start request counter: %w", err)
	}
	b.webroot = mkdir(b.work, "webroot")
	common := []string{"REQUESTS_CA_BUNDLE=" + b.pebble.CABundle, "LEGO_CA_CERTIFICATES=" + b.pebble.CABundle,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "XDG_CONFIG_HOME=" + mkdir(b.work, "xdg")}
	for _, c := range b.clients {
		c.env = append(c.env, common...)
	}
	return b, nil
}

func (b *bench) close() {
	if b.proxy != nil {
		b.proxy.Close()
	}
	if b.pebble != nil {
		b.pebble.Stop()
	}
	if b.work != "" && !b.cfg.keep {
		os.RemoveAll(b.work)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// installed copies the Go program at src to dst (src may be dst) as an
// install — cp, install(1), a package manager — writes it, and returns dst.
// Every Go program of the benchmark is measured so, the hello-worlds too:
// straight from the linker a binary starts up to 1.5 ms slower on the
// benchmark machine (acmectl 12.9 against 11.9 ms for a copy of the same
// file; hello-world 5.5 against 5.2 ms). The linker writes its output
// through a memory map, which leaves the file in the page cache as single
// pages; a copy, or the file read back from disk, is cached in larger
// folios, which the start's page faults map in fewer steps (evicting the
// linked file and reading it back made it as fast as the copy).
func installed(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst+".copy", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", fmt.Errorf("install %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return dst, os.Rename(dst+".copy", dst)
}

func mkdir(parts ...string) string {
	d := filepath.Join(parts...)
	if err := os.MkdirAll(d, 0o755); err != nil {
		panic(err) // only under our own temp dir
	}
	return d
}

// findCertbot returns Debian's certbot, installing it when it is missing and
// we are root; otherwise the client is reported as missing.
func findCertbot(ctx context.Context, b *bench) *client {
	c := &client{name: "certbot"}
	p, err := exec.LookPath("certbot")
	if err != nil && os.Geteuid() == 0 {
		b.logf("installing certbot (apt-get install -y certbot)")
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "certbot")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if o, ierr := cmd.CombinedOutput(); ierr != nil {
			c.missing = fmt.Sprintf("apt-get install certbot failed: %v (%s)", ierr, lastLine(o))
			return c
		}
		p, err = exec.LookPath("certbot")
	}
	if err != nil {
		c.missing = "certbot is not installed (apt-get install certbot, as root)"
		return c
	}
	c.bin = p
	if v, err := exec.CommandContext(ctx, p, "--version").CombinedOutput(); err == nil {
		c.version = strings.TrimSpace(string(v))
	}
	return c
}

// findLego builds lego v4.35.2 in a throwaway module (go install @version is
// refused for lego because its version list is not served), once per
// machine: the binary is kept in the user cache directory.
func (b *bench) findLego(ctx context.Context) *client {
	c := &client{name: "lego", version: "lego " + legoVersion}
	if b.cfg.legoBin != "" {
		c.bin = b.cfg.legoBin
		return c
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "acmectl-bench", "lego-"+legoVersion)
	c.bin = filepath.Join(dir, "lego")
	if _, err := os.Stat(c.bin); err == nil {
		return c
	}
	b.logf("building lego %s in a throwaway module (first run only; takes minutes)", legoVersion)
	mod := mkdir(b.work, "legomod")
	bctx, cancel := context.WithTimeout(ctx, 25*time.Minute)
	defer cancel()
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	for _, args := range [][]string{
		{"mod", "init", "legobench"},
		{"get", "github.com/go-acme/lego/v4@" + legoVersion},
		{"build", "-o", filepath.Join(mod, "lego"), "github.com/go-acme/lego/v4/cmd/lego"},
	} {
		cmd := exec.CommandContext(bctx, "go", args...)
		cmd.Dir, cmd.Env = mod, env
		if o, err := cmd.CombinedOutput(); err != nil {
			c.missing = fmt.Sprintf("build lego %s: go %s: %v (%s)", legoVersion, args[0], err, lastLine(o))
			return c
		}
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.Rename(filepath.Join(mod, "lego"), c.bin); err == nil {
			return c
		}
	}
	c.bin = filepath.Join(mod, "lego")
	return c
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// runErr is a failed run with the tail of its output.
type runErr struct {
	args   []string
	err    error
	output string
}

func (e *runErr) Error() string {
	out := e.output
	if len(out) > 1500 {
		out = "…" + out[len(out)-1500:]
	}
	return fmt.Sprintf("%s: %v\n%s", strings.Join(e.args, " "), e.err, out)
}

func (e *runErr) Unwrap() error { return e.err }

// timeoutErr is a run stopped at its time limit: its wall time is a lower bound.
type timeoutErr struct{ limit time.Duration }

func (e *timeoutErr) Error() string {
	return fmt.Sprintf("stopped after %s", e.limit)
}

// limit is how long one process of c may run: certbot and lego are stopped
// at -peer-limit (their time is then reported as a lower bound), acmectl at
// a generous bound that only catches hangs.
func (b *bench) limit(c *client, d time.Duration) time.Duration {
	if c.name != "acmectl" && b.cfg.peerLimit < d {
		return b.cfg.peerLimit
	}
	return d
}

// exec runs one process of c and measures it; requests are those the proxy saw.
func (b *bench) exec(ctx context.Context, c *client, args []string, timeout time.Duration) (sample, error) {
	b.proxy.ResetLog()
	s, err := b.execNoReset(ctx, c, args, timeout)
	s.reqs = len(b.proxy.Log())
	return s, err
}

func (b *bench) execNoReset(parent context.Context, c *client, args []string, timeout time.Duration) (sample, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	// The client runs under runwrap (see there: the rusage of a child of
	// this process would carry this process's own peak RSS).
	stats, err := os.CreateTemp(b.work, "rusage-")
	if err != nil {
		return sample{}, err
	}
	stats.Close()
	defer os.Remove(stats.Name())
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.runwrap, append([]string{stats.Name(), c.bin}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil // /dev/null: not a terminal, like cron
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // the client too
	cmd.WaitDelay = 5 * time.Second
	t0 := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(t0)}
	if line, rerr := os.ReadFile(stats.Name()); rerr == nil && len(line) > 0 {
		var wall, user, sys int64
		if n, _ := fmt.Sscanf(string(line), "%d %d %d %d", &wall, &user, &sys, &s.rssKiB); n == 4 {
			s.wall, s.cpu = time.Duration(wall), time.Duration(user+sys)
		}
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
		return s, &timeoutErr{limit: timeout}
	}
	if err != nil {
		return s, &runErr{args: append([]string{c.name}, args...), err: err, output: out.String()}
	}
	return s, nil
}

// execMany runs every argument list of c, par at a time, as one sample: wall
// for the whole batch, CPU summed, RSS the largest, requests all counted.
func (b *bench) execMany(ctx context.Context, c *client, argss [][]string, par int, timeout time.Duration) (sample, error) {
	b.proxy.ResetLog()
	var (
		mu    sync.Mutex
		total sample
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, par)
	)
	t0 := time.Now()
	for _, args := range argss {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if ctx.Err() != nil || failed {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := b.execNoReset(ctx, c, args, timeout)
			mu.Lock()
			defer mu.Unlock()
			total.cpu += s.cpu
			total.rssKiB = max(total.rssKiB, s.rssKiB)
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	total.wall = time.Since(t0)
	total.reqs = len(b.proxy.Log())
	if first == nil {
		first = ctx.Err()
	}
	return total, first
}

// serveWebroot serves b.webroot on Pebble's http-01 port (what nginx would do
// on a real host) until the returned stop is called.
func (b *bench) serveWebroot() (stop func(), err error) {
	var ln net.Listener
	for i := 0; i < 50; i++ { // the previous standalone client may still be releasing the port
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", b.pebble.HTTPPort))
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("webroot server: %w", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(b.webroot)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// home is one client's state directory.
type home struct{ dir string }

func newHome(parts ...string) home { return home{mkdir(parts...)} }

func (h home) config() string { return filepath.Join(h.dir, "config") }
func (h home) lego() string   { return filepath.Join(h.dir, "lego") }

// auth says how http-01 is answered.
type auth int

const (
	standalone auth = iota // the client's own listener on Pebble's http-01 port
	webroot                // files in b.webroot, served by serveWebroot
)

func (b *bench) certbotFlags(h home) []string {
	return []string{"--config-dir", h.config(), "--work-dir", filepath.Join(h.dir, "work"),
		"--logs-dir", filepath.Join(h.dir, "logs"), "--non-interactive"}
}

// certonlyArgs issues one certificate for name into h.
func (b *bench) certonlyArgs(c *client, h home, name string, a auth) []string {
	dir := b.proxy.DirectoryURL
	port := strconv.Itoa(b.pebble.HTTPPort)
	switch c.name {
	case "lego":
		args := []string{"--server", dir, "--email", email, "--accept-tos", "--path", h.lego(),
			"--key-type", "ec256", "--http"}
		if a == webroot {
			args = append(args, "--http.webroot", b.webroot)
		} else {
			args = append(args, "--http.port", "127.0.0.1:"+port)
		}
		return append(args, "-d", name, "run")
	default: // acmectl and certbot take the same flags
		args := append([]string{"certonly", "--server", dir, "--agree-tos", "-m", email, "--key-type", "ecdsa",
			"-d", name}, b.certbotFlags(h)...)
		if a == webroot {
			return append(args, "--webroot", "-w", b.webroot)
		}
		return append(args, "--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", port)
	}
}

func (b *bench) renewArgs(c *client, h home) []string {
	args := append([]string{"renew", "--no-random-sleep-on-renew"}, b.certbotFlags(h)...)
	if c.name == "acmectl" && b.cfg.parallel > 1 {
		args = append(args, "--parallel", strconv.Itoa(b.cfg.parallel))
	}
	return args
}

func (b *bench) legoRenewArgs(h home, name string, days int, a auth) []string {
	args := []string{"--server", b.proxy.DirectoryURL, "--email", email, "--accept-tos", "--path", h.lego(),
		"--key-type", "ec256", "--http"}
	if a == webroot {
		args = append(args, "--http.webroot", b.webroot)
	} else {
		args = append(args, "--http.port", "127.0.0.1:"+strconv.Itoa(b.pebble.HTTPPort))
	}
	return append(args, "-d", name, "renew", "--days", strconv.Itoa(days), "--no-random-sleep")
}

func (b *bench) listArgs(c *client, h home) []string {
	if c.name == "lego" {
		return []string{"--path", h.lego(), "list"}
	}
	return append([]string{"certificates"}, b.certbotFlags(h)...)
}

// addRow records a row and logs it.
func (b *bench) addRow(r *row) *row {
	b.rows = append(b.rows, r)
	return r
}

// record adds one sample (or an error) to r.
func (b *bench) record(r *row, s sample, err error) {
	if te := (*timeoutErr)(nil); errors.As(err, &te) {
		s.wall = max(s.wall, te.limit)
		r.lower = true
		r.samples = append(r.samples, s)
		b.logf("%s / %s: stopped after %s (lower bound)", r.scenario, r.client, te.limit)
		return
	}
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		b.logf("%s / %s: FAILED: %v", r.scenario, r.client, err)
		return
	}
	r.samples = append(r.samples, s)
	b.logf("%s / %s: wall %s cpu %s rss %d MiB reqs %d", r.scenario, r.client,
		s.wall.Round(time.Millisecond), s.cpu.Round(time.Millisecond), s.rssKiB/1024, s.reqs)
}

// enough says whether a case has used its time budget: its runs took
// -peer-budget in total (acmectl: and it ran at least 3 times).
func (b *bench) enough(c *client, r *row) bool {
	if r.err != nil {
		return true
	}
	if c.name == "acmectl" && len(r.samples) < 3 {
		return false
	}
	var total time.Duration
	for _, s := range r.samples {
		total += s.wall
	}
	return total >= b.cfg.peerBudget
}
