// Command bench measures acmectl against certbot (Debian's package) and lego
// v4.35.2 on the same work against a local Pebble (PEBBLE_VA_NOSLEEP=1), on
// loopback only, and prints a markdown table of medians with the ratio of each
// client to acmectl (issue 8). `make bench` runs it; the table also goes into
// docs/performance.md (-out).
//
// Clients run interleaved (acmectl, certbot, lego, acmectl, ...). Wall time
// is measured around the process, CPU (user+sys) and peak RSS come from the
// child's rusage, and requests are counted by internal/faultproxy sitting
// between the client and Pebble with no fault injected.
//
// Usage:
//
//	go run ./internal/bench [-n 5] [-quick] [-only acmectl,certbot,lego] [-out docs/performance.md]
//	go run ./internal/bench -only acmectl -cases 3 -sizes 1000 -out ""   # one case, one tree size
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags chose.
type config struct {
	reps       int  // repetitions per scenario and client
	quick      bool // smoke run: one repetition, small trees
	only       map[string]bool
	out        string        // markdown file to write ("" = none)
	sizes      []int         // lineage counts for renew/certificates
	many       int           // certificates issued by acmectl in scenario 2 and renewed in 5
	manyPeer   int           // the same for certbot and lego (they run one at a time)
	parallel   int           // acmectl processes at once (scenario 2) and renew --parallel (5)
	peerBudget time.Duration // stop repeating a peer's case once its runs took this long
	peerLimit  time.Duration // stop one certbot/lego process after this long (lower bound)
	keep       bool          // keep the work directory
	legoBin    string        // use this lego binary instead of building one
	cases      map[int]bool  // the cases to run (case 1 always runs: the others start from its lineage)
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reps := fs.Int("n", 5, "repetitions per case and client (medians are reported)")
	quick := fs.Bool("quick", false, "smoke run: 1 repetition, trees of 1 and 20 lineages, 5 certificates")
	only := fs.String("only", "acmectl,certbot,lego", "comma-separated clients to run")
	out := fs.String("out", "docs/performance.md", "write the table and machine description here (\"\" = stdout only; -quick never writes unless -out is given)")
	par := fs.Int("parallel", 8, "acmectl processes at once when issuing many, and renew --parallel")
	budget := fs.Duration("peer-budget", 25*time.Second, "stop repeating a certbot/lego case once its runs took this long in total")
	limit := fs.Duration("peer-limit", 90*time.Second, "stop one certbot/lego run after this long and report a lower bound")
	keep := fs.Bool("keep", false, "keep the work directory")
	legoBin := fs.String("lego", "", "lego binary to use instead of building v4.35.2")
	cases := fs.String("cases", "0,1,2,3,4,5,6,7,8", "comma-separated cases to run (1 always runs; 3 and 4 run together; 5 needs 2; 7 and 8 are the cluster cases (one etcd))")
	sizes := fs.String("sizes", "", "comma-separated tree sizes for cases 3 and 4 (default 1,1000,2000,10000; -quick 1,20)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *reps < 1 || *reps > 50 {
		return fmt.Errorf("-n %d: want 1..50", *reps)
	}
	var err error
	if *par < 1 || *par > 64 {
		return fmt.Errorf("-parallel %d: want 1..64", *par)
	}
	cfg := &config{reps: *reps, quick: *quick, out: *out, parallel: *par, peerBudget: *budget, peerLimit: *limit,
		keep: *keep, legoBin: *legoBin, only: map[string]bool{}}
	for _, c := range strings.Split(*only, ",") {
		c = strings.TrimSpace(c)
		switch c {
		case "acmectl", "certbot", "lego":
			cfg.only[c] = true
		case "":
		default:
			return fmt.Errorf("-only: unknown client %q (want acmectl, certbot, lego)", c)
		}
	}
	if !cfg.only["acmectl"] {
		return errors.New("-only must include acmectl (ratios are relative to it)")
	}
	cfg.sizes, cfg.many, cfg.manyPeer = []int{1, 1000, 2000, 10000}, 100, 10
	if cfg.quick {
		cfg.reps, cfg.sizes, cfg.many, cfg.manyPeer = 1, []int{1, 20}, 5, 3
		outSet := false
		fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
		if !outSet {
			cfg.out = ""
		}
	}
	if cfg.cases, err = parseCases(*cases); err != nil {
		return err
	}
	if *sizes != "" {
		if cfg.sizes, err = parseSizes(*sizes); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Minute)
	defer cancel()

	start := time.Now()
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.runAll(ctx); err != nil {
		return err
	}
	md := b.markdown(time.Since(start))
	fmt.Fprint(stdout, md)
	if cfg.out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", cfg.out, err)
		}
		if err := os.WriteFile(cfg.out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", cfg.out, err)
		}
		fmt.Fprintf(stderr, "bench: wrote %s\n", cfg.out)
	}
	return nil
}

// parseCases reads -cases: numbers 0 to 8; case 1 is always run (every
// other case starts from the lineage its warm-up issues), and 5 needs 2.
func parseCases(s string) (map[int]bool, error) {
	cases := map[int]bool{1: true}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 8 {
			return nil, fmt.Errorf("-cases: %q is not a case (want 0 to 8)", f)
		}
		cases[n] = true
	}
	if cases[3] || cases[4] {
		cases[3], cases[4] = true, true
	}
	if cases[5] && !cases[2] {
		return nil, errors.New("-cases: case 5 renews the lineages case 2 issues: add 2")
	}
	return cases, nil
}

// parseSizes reads -sizes: tree sizes from 1 to 100,000 lineages.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 100000 {
			return nil, fmt.Errorf("-sizes: %q is not a tree size (want 1 to 100000)", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
