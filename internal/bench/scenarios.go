package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
)

const (
	shortTimeout = 3 * time.Minute
	longTimeout  = 15 * time.Minute
	// coldMax is the largest tree the "first run of the day" (one ARI
	// request per lineage) is measured on; larger acmectl trees are cloned
	// with the ARI retry time such a run saves.
	coldMax = 1000
)

func (b *bench) runAll(ctx context.Context) error {
	cases := b.cfg.cases
	if cases[0] {
		if err := b.startUp(ctx); err != nil {
			return err
		}
	}
	homes, err := b.issueOne(ctx)
	if err != nil {
		return err
	}
	var many map[string]home
	if cases[2] {
		if many, err = b.issueMany(ctx, homes); err != nil {
			return err
		}
	}
	for _, n := range b.cfg.sizes {
		if !cases[3] {
			break
		}
		if err := b.renewAndList(ctx, homes, n); err != nil {
			return err
		}
	}
	if cases[5] {
		if err := b.renewDue(ctx, many); err != nil {
			return err
		}
	}
	if cases[6] {
		if err := b.issueSlowCA(ctx, homes); err != nil {
			return err
		}
	}
	if cases[7] || cases[8] {
		return b.clusterCases(ctx, homes)
	}
	return nil
}

// slowCA is how the CA of case 6 behaves: an order stays "processing" for
// slowCAIssue after its finalize, and every answer meanwhile carries
// Retry-After: slowCARetryAfter (Boulder's answer to a processing order).
const (
	slowCAIssue      = 3 * time.Second
	slowCARetryAfter = "3"
)

// issueSlowCA is case 6: one certificate, as case 1, from a CA that takes 3 s
// to issue and asks clients to wait 3 s between polls. The note counts the
// order polls of the last run: how each client polls (docs/performance.md).
func (b *bench) issueSlowCA(ctx context.Context, homes map[string]home) error {
	sc := fmt.Sprintf("6. issue one certificate, CA processing %v with Retry-After: %s", slowCAIssue, slowCARetryAfter)
	b.proxy.SetProcessing(slowCAIssue, slowCARetryAfter)
	defer b.proxy.SetProcessing(0, "")
	rows := map[string]*row{}
	for _, c := range b.active() {
		if _, ok := homes[c.name]; ok {
			rows[c.name] = b.addRow(&row{scenario: sc, client: c.name, items: 1})
		}
	}
	b.missingRows(sc)
	for i := 0; i < b.cfg.reps; i++ {
		for _, c := range b.active() {
			r := rows[c.name]
			if r == nil || i > 0 && b.enough(c, r) {
				continue
			}
			s, err := b.exec(ctx, c, b.certonlyArgs(c, homes[c.name], fmt.Sprintf("wait%d.example", i), standalone), b.limit(c, shortTimeout))
			b.record(r, s, err)
			if err == nil {
				polls, processing := 0, 0
				for _, e := range b.proxy.Log() {
					if e.Step == faultproxy.Order {
						polls++
					}
					if e.Fault == "processing" {
						processing++
					}
				}
				r.note = fmt.Sprintf("%d order polls, %d answers processing (finalize included)", polls, processing)
			}
		}
	}
	return ctx.Err()
}

// startupRuns is how many times case 0 runs each binary (interleaved).
const startupRuns = 40

// helloName is case 0's baseline: a hello-world Go program built as make
// build builds acmectl (static, -trimpath, -s -w).
const helloName = "hello-world (Go)"

// httpsHelloName is case 0's second baseline: the same program importing
// the standard packages any Go HTTPS client links (net/http, crypto/tls,
// crypto/x509, encoding/json), the floor for a Go ACME client's start-up.
const httpsHelloName = "hello-world (Go, HTTPS packages)"

// buildTags are the tags make build builds the binary that runs with.
const buildTags = "dnsembed,nocluster,urfave_cli_no_docs"

// libsHelloName is case 0's third baseline: the same program importing
// every standard and third-party package the default build of acmectl
// links, acmectl's own excepted — what any program built on the same
// libraries pays before its own code runs.
const libsHelloName = "hello-world (Go, acmectl's libraries)"

// startUp is case 0: `--version` of each client beside a hello-world Go
// binary, interleaved, startupRuns runs each: the process start-up that a
// renew with nothing due mostly is.
func (b *bench) startUp(ctx context.Context) error {
	const sc = "0. start-up: --version (hello-world: prints one line)"
	hello, err := b.buildHello(ctx, helloName, "hello", nil)
	if err != nil {
		return err
	}
	httpsHello, err := b.buildHello(ctx, httpsHelloName, "hello-https", []string{"crypto/tls", "crypto/x509", "encoding/json", "net/http"})
	if err != nil {
		return err
	}
	libs, err := b.acmectlLibraries(ctx)
	if err != nil {
		return err
	}
	libsHello, err := b.buildHello(ctx, libsHelloName, "hello-libs", libs)
	if err != nil {
		return err
	}
	clients := append([]*client{hello, httpsHello, libsHello}, b.active()...)
	rows := map[string]*row{}
	for _, c := range clients {
		rows[c.name] = b.addRow(&row{scenario: sc, client: c.name, items: 1})
	}
	b.missingRows(sc)
	for i := 0; i < startupRuns; i++ {
		for _, c := range clients {
			r := rows[c.name]
			if c.name == "certbot" && i > 0 && b.enough(c, r) {
				continue
			}
			s, err := b.execNoReset(ctx, c, []string{"--version"}, shortTimeout)
			b.record(r, s, err)
		}
	}
	rows[helloName].note = "the floor: Go runtime start-up and exit"
	rows[httpsHelloName].note = "the floor of a Go HTTPS client: the same, importing net/http, crypto/tls, crypto/x509, encoding/json"
	rows[libsHelloName].note = fmt.Sprintf("the floor of acmectl's libraries: the same, importing the %d standard and third-party packages acmectl links (go list -deps), none of acmectl's own", len(libs))
	return ctx.Err()
}

// acmectlLibraries lists the packages the default build of acmectl links
// (make build's tags) that are neither acmectl's own nor internal to
// another module, which a program cannot import.
func (b *bench) acmectlLibraries(ctx context.Context) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps", "-tags", buildTags, "-f", "{{.ImportPath}}", "./cmd/acmectl")
	cmd.Dir, cmd.Env = b.repo, append(os.Environ(), "CGO_ENABLED=0") // as make build links it
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps ./cmd/acmectl: %w", err)
	}
	var libs []string
	for _, p := range strings.Fields(string(out)) {
		internal := p == "internal" || strings.HasPrefix(p, "internal/") || strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal")
		if strings.HasPrefix(p, "github.com/acmectl/acmectl") || strings.HasPrefix(p, "vendor/") || internal || p == "unsafe" || p == "C" || p == "runtime/cgo" {
			continue
		}
		libs = append(libs, p)
	}
	if len(libs) < 50 {
		return nil, fmt.Errorf("go list -deps ./cmd/acmectl: only %d packages", len(libs))
	}
	return libs, nil
}

// buildHello builds one of case 0's hello-world programs in the work
// directory, with blank imports of imports.
func (b *bench) buildHello(ctx context.Context, name, dirName string, imports []string) (*client, error) {
	dir := mkdir(b.work, dirName)
	src := "package main\n\nimport \"fmt\"\n\n"
	for _, imp := range imports {
		src += "import _ \"" + imp + "\"\n"
	}
	src += "\nfunc main() { fmt.Println(\"hello\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	// Third-party packages resolve to the versions acmectl builds with: its
	// go.mod and go.sum under another module name.
	mod := []byte("module hello\n\ngo 1.26\n")
	if slices.ContainsFunc(imports, func(p string) bool { return strings.Contains(strings.Split(p, "/")[0], ".") }) {
		gomod, err := os.ReadFile(filepath.Join(b.repo, "go.mod"))
		if err != nil {
			return nil, err
		}
		mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module hello"))
		gosum, err := os.ReadFile(filepath.Join(b.repo, "go.sum"))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		return nil, err
	}
	// make build's tags: urfave_cli_no_docs leaves urfave/cli's man-page
	// generator out (the others only select acmectl's own files).
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", buildTags, "-trimpath", "-ldflags", "-s -w", "-o", "hello", ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build hello-world: %v\n%s", err, out)
	}
	bin, err := installed(filepath.Join(dir, "hello"), filepath.Join(dir, "hello"))
	if err != nil {
		return nil, err
	}
	return &client{name: name, bin: bin, version: runtime.Version()}, nil
}

// active lists the clients that can run.
func (b *bench) active() []*client {
	var cs []*client
	for _, c := range b.clients {
		if c.missing == "" {
			cs = append(cs, c)
		}
	}
	return cs
}

// missingRows adds a row per client that cannot run.
func (b *bench) missingRows(scenario string) {
	for _, c := range b.clients {
		if c.missing != "" {
			b.addRow(&row{scenario: scenario, client: c.name, note: "not measured: " + c.missing})
		}
	}
}

// issueOne is case 1: one certificate with an account that already exists
// (standalone http-01). The warm-up issuance of base.example registers the
// account and is the lineage the trees of cases 3 and 4 are cloned from.
func (b *bench) issueOne(ctx context.Context) (map[string]home, error) {
	const sc = "1. issue one certificate (existing account, standalone http-01)"
	homes := map[string]home{}
	rows := map[string]*row{}
	for _, c := range b.active() {
		h := newHome(b.work, "one", c.name)
		homes[c.name] = h
		b.logf("%s: warm-up issuance (registers the account)", c.name)
		if _, err := b.exec(ctx, c, b.certonlyArgs(c, h, baseName, standalone), shortTimeout); err != nil {
			if c.name == "acmectl" {
				return nil, fmt.Errorf("acmectl warm-up issuance: %w", err)
			}
			c.missing = "warm-up issuance failed: " + firstLine(err.Error())
			b.logf("%s: %v", c.name, err)
			delete(homes, c.name)
			continue
		}
		rows[c.name] = b.addRow(&row{scenario: sc, client: c.name, items: 1})
	}
	b.missingRows(sc)
	for i := 0; i < b.cfg.reps; i++ {
		for _, c := range b.active() {
			r := rows[c.name]
			if i > 0 && b.enough(c, r) {
				continue
			}
			s, err := b.exec(ctx, c, b.certonlyArgs(c, homes[c.name], fmt.Sprintf("one%d.example", i), standalone), b.limit(c, shortTimeout))
			b.record(r, s, err)
		}
	}
	return homes, ctx.Err()
}

// issueMany is case 2: many new certificates into one config dir, http-01
// answered from a webroot served on Pebble's port. acmectl runs -parallel
// certonly processes at once; certbot and lego take a lock / the port per
// run, so they go one at a time (and issue fewer: cfg.manyPeer).
func (b *bench) issueMany(ctx context.Context, homes map[string]home) (map[string]home, error) {
	sc := fmt.Sprintf("2. issue %d certificates (webroot http-01)", b.cfg.many)
	stop, err := b.serveWebroot()
	if err != nil {
		return nil, err
	}
	defer stop()
	rows := map[string]*row{}
	last := map[string]home{}
	for _, c := range b.active() {
		n, par, note := b.cfg.many, b.cfg.parallel, fmt.Sprintf("%d certonly processes at once on one config dir", b.cfg.parallel)
		if c.name != "acmectl" {
			n, par = b.cfg.manyPeer, 1
			note = fmt.Sprintf("%d certificates, one run at a time (concurrent runs fail on the lock); ratio per certificate", n)
		}
		rows[c.name] = b.addRow(&row{scenario: sc, client: c.name, items: n, note: note})
		_ = par
	}
	b.missingRows(sc)
	for i := 0; i < b.cfg.reps; i++ {
		for _, c := range b.active() {
			r := rows[c.name]
			if i > 0 && b.enough(c, r) {
				continue
			}
			h := newHome(b.work, "many", fmt.Sprintf("%s-%d", c.name, i))
			if err := copyAccounts(homes[c.name], h); err != nil {
				return nil, err
			}
			par := b.cfg.parallel
			if c.name != "acmectl" {
				par = 1
			}
			var argss [][]string
			for k := 0; k < r.items; k++ {
				argss = append(argss, b.certonlyArgs(c, h, fmt.Sprintf("m%d-%03d.example", i, k), webroot))
			}
			s, err := b.execMany(ctx, c, argss, par, b.limit(c, longTimeout))
			b.record(r, s, err)
			if err == nil {
				last[c.name] = h
			}
		}
	}
	return last, ctx.Err()
}

// cloneTrees makes each client's tree of n lineages cloned from its home.
func (b *bench) cloneTrees(ctx context.Context, homes map[string]home, n int) (map[string]home, error) {
	trees := map[string]home{}
	for _, c := range b.active() {
		h := newHome(b.work, fmt.Sprintf("tree%d", n), c.name)
		t0 := time.Now()
		var err error
		switch {
		case c.name == "lego":
			err = cloneLego(ctx, homes[c.name], h, n)
		case c.name == "acmectl" && n > coldMax:
			// What the first run of the day leaves: the CA's ARI answer is
			// good for 6 h (Pebble's Retry-After).
			err = cloneCertbot(ctx, homes[c.name], h, n, "[acme_renewal_info]\nari_retry_after = "+
				time.Now().UTC().Add(6*time.Hour).Format("2006-01-02T15:04:05")+"\n")
		default:
			err = cloneCertbot(ctx, homes[c.name], h, n, "")
		}
		if err != nil {
			return nil, fmt.Errorf("clone %d lineages for %s: %w", n, c.name, err)
		}
		b.logf("%s: cloned %d lineages in %s", c.name, n, time.Since(t0).Round(time.Millisecond))
		trees[c.name] = h
	}
	return trees, nil
}

// renewAndList is cases 3 and 4 over n lineages cloned from base.example.
func (b *bench) renewAndList(ctx context.Context, homes map[string]home, n int) error {
	sc3 := fmt.Sprintf("3. renew, nothing due, %s lineage%s", thousands(n), plural(n))
	sc3a := fmt.Sprintf("3. renew, nothing due, %s lineage%s, first run of the day", thousands(n), plural(n))
	sc4 := fmt.Sprintf("4. certificates, %s lineage%s", thousands(n), plural(n))
	trees, err := b.cloneTrees(ctx, homes, n)
	if err != nil {
		return err
	}
	r3 := map[string]*row{}
	r4 := map[string]*row{}
	// The first renew over a fresh tree asks the CA for ARI per lineage
	// (acmectl; lego per run); then the answer's Retry-After (6 h at Pebble)
	// is saved and later runs within it only read the tree.
	for _, c := range b.active() {
		if c.name == "lego" || n > coldMax {
			continue
		}
		r := b.addRow(&row{scenario: sc3a, client: c.name, items: 1})
		if c.name == "certbot" {
			r.note = "certbot 2.1 has no ARI: same work as any run"
		} else {
			r.note = "one ARI request per lineage, then the Retry-Afters are saved (.acmectl/ari-retry)"
		}
		s, err := b.exec(ctx, c, b.renewArgs(c, trees[c.name]), b.limit(c, longTimeout))
		b.record(r, s, err)
	}
	for _, c := range b.active() {
		r3[c.name] = b.addRow(&row{scenario: sc3, client: c.name, items: 1})
		if c.name == "lego" && n > 1 {
			r3[c.name].note = "not measured: lego renew takes one certificate (-d) per run"
		}
		r4[c.name] = b.addRow(&row{scenario: sc4, client: c.name, items: 1})
		if c.name == "lego" {
			r4[c.name].note = "lego list"
			if n == 1 {
				r3[c.name].note = "lego renew -d base.example --days 30 (asks ARI every run)"
			}
		}
	}
	b.missingRows(sc3)
	b.missingRows(sc4)
	for i := 0; i < b.cfg.reps; i++ {
		for _, c := range b.active() {
			h := trees[c.name]
			if r := r3[c.name]; !(c.name == "lego" && n > 1) && (i == 0 || !b.enough(c, r)) {
				args := b.renewArgs(c, h)
				if c.name == "lego" {
					args = b.legoRenewArgs(h, baseName, 30, standalone)
				}
				s, err := b.exec(ctx, c, args, b.limit(c, longTimeout))
				b.record(r, s, err)
			}
			if r := r4[c.name]; i == 0 || !b.enough(c, r) {
				s, err := b.exec(ctx, c, b.listArgs(c, h), b.limit(c, longTimeout))
				b.record(r, s, err)
			}
		}
	}
	if !b.cfg.keep {
		for _, h := range trees {
			os.RemoveAll(h.dir)
		}
	}
	return ctx.Err()
}

// renewDue is case 5: renew the lineages of case 2, made due by
// renew_before_expiry = 100 days (certificates live 90 days).
func (b *bench) renewDue(ctx context.Context, many map[string]home) error {
	sc := fmt.Sprintf("5. renew %d due lineages (webroot http-01)", b.cfg.many)
	stop, err := b.serveWebroot()
	if err != nil {
		return err
	}
	defer stop()
	rows := map[string]*row{}
	names := map[string][]string{}
	for _, c := range b.active() {
		h, ok := many[c.name]
		if !ok {
			b.addRow(&row{scenario: sc, client: c.name, note: "not measured: case 2 failed"})
			continue
		}
		r := b.addRow(&row{scenario: sc, client: c.name})
		rows[c.name] = r
		switch c.name {
		case "lego":
			ns, err := legoNames(h)
			if err != nil {
				return err
			}
			names[c.name] = ns
			r.items = len(ns)
			r.note = fmt.Sprintf("%d lineages, lego renew -d NAME --days 100 per lineage; ratio per certificate", len(ns))
		default:
			k, err := makeDue(h)
			if err != nil {
				return err
			}
			r.items = k
			if c.name == "acmectl" {
				r.note = fmt.Sprintf("renew --parallel %d", b.cfg.parallel)
			} else {
				r.note = fmt.Sprintf("%d lineages, one renew run; ratio per certificate", k)
			}
		}
	}
	b.missingRows(sc)
	for i := 0; i < b.cfg.reps; i++ {
		for _, c := range b.active() {
			r := rows[c.name]
			if r == nil || i > 0 && b.enough(c, r) {
				continue
			}
			h := many[c.name]
			var (
				s   sample
				err error
			)
			if c.name == "lego" {
				var argss [][]string
				for _, n := range names[c.name] {
					argss = append(argss, b.legoRenewArgs(h, n, 100, webroot))
				}
				s, err = b.execMany(ctx, c, argss, 1, b.limit(c, longTimeout))
			} else {
				s, err = b.exec(ctx, c, b.renewArgs(c, h), b.limit(c, longTimeout))
			}
			b.record(r, s, err)
		}
	}
	return ctx.Err()
}

// makeDue puts renew_before_expiry = 100 days at the top of every renewal
// conf under h and returns how many there are.
func makeDue(h home) (int, error) {
	confs, err := filepath.Glob(filepath.Join(h.config(), "renewal", "*.conf"))
	if err != nil {
		return 0, err
	}
	for _, p := range confs {
		data, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, append([]byte("renew_before_expiry = 100 days\n"), data...), 0o644); err != nil {
			return 0, err
		}
	}
	return len(confs), nil
}

func legoNames(h home) ([]string, error) {
	crts, err := filepath.Glob(filepath.Join(h.lego(), "certificates", "*.crt"))
	if err != nil {
		return nil, err
	}
	var ns []string
	for _, p := range crts {
		n := strings.TrimSuffix(filepath.Base(p), ".crt")
		if !strings.HasSuffix(n, ".issuer") {
			ns = append(ns, n)
		}
	}
	return ns, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// thousands formats n with commas (10000 → "10,000").
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
