package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// median of the samples, field by field.
func median(ss []sample) sample {
	pick := func(f func(sample) int64) int64 {
		v := make([]int64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return sample{
		wall:   time.Duration(pick(func(s sample) int64 { return int64(s.wall) })),
		cpu:    time.Duration(pick(func(s sample) int64 { return int64(s.cpu) })),
		rssKiB: pick(func(s sample) int64 { return s.rssKiB }),
		reqs:   int(pick(func(s sample) int64 { return int64(s.reqs) })),
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

// perItem is d per certificate when the row counts several.
func perItem(r *row, d time.Duration) time.Duration {
	if r.items > 1 {
		return d / time.Duration(r.items)
	}
	return d
}

// times is "a/b×", or "–" without a base.
func times(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", float64(a)/float64(b))
}

func (b *bench) markdown(total time.Duration) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# Performance\n\n")
	fmt.Fprintf(&w, "acmectl, certbot and lego on the same work against a local Pebble (PEBBLE_VA_NOSLEEP=1) on loopback,\n")
	fmt.Fprintf(&w, "clients interleaved, medians of up to %d runs per case. `× acmectl` is the client's wall time divided by\n", b.cfg.reps)
	fmt.Fprintf(&w, "acmectl's, per certificate where the counts differ; `CPU × acmectl` is the same for CPU time (user+sys),\n")
	fmt.Fprintf(&w, "which other load on the host disturbs less. Peak RSS is the largest process's maxrss (rusage), taken by a\n")
	fmt.Fprintf(&w, "small wrapper process (`internal/bench/runwrap`): the rusage of a direct child would include the benchmark's own\n")
	fmt.Fprintf(&w, "peak, since Linux carries the parent's high-water mark into a vfork-started child at exec. Requests are\n")
	fmt.Fprintf(&w, "those that reached the CA, counted by a proxy in front of Pebble. A certbot or lego case stops repeating\n")
	fmt.Fprintf(&w, "once its runs took %s in total (`runs`), and one of their runs is stopped after %s (then marked ≥).\n\n", b.cfg.peerBudget, b.cfg.peerLimit)

	fmt.Fprintf(&w, "| case | client | runs | wall | × acmectl | CPU | CPU × acmectl | peak RSS | requests | notes |\n")
	fmt.Fprintf(&w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	var order []string
	by := map[string][]*row{}
	for _, r := range b.rows {
		if _, ok := by[r.scenario]; !ok {
			order = append(order, r.scenario)
		}
		by[r.scenario] = append(by[r.scenario], r)
	}
	for _, sc := range order {
		rows := by[sc]
		var base, baseCPU time.Duration
		for _, r := range rows {
			if r.client == "acmectl" && len(r.samples) > 0 {
				m := median(r.samples)
				base, baseCPU = perItem(r, m.wall), perItem(r, m.cpu)
			}
		}
		slices.SortStableFunc(rows, func(a, b *row) int { return clientRank(a.client) - clientRank(b.client) })
		for _, r := range rows {
			note := r.note
			if r.lower {
				note = strings.TrimSpace(note + fmt.Sprintf(" stopped at the %s limit: wall is a lower bound", b.cfg.peerLimit))
			}
			if r.err != nil {
				note = strings.TrimSpace(note + " FAILED: " + firstLine(r.err.Error()))
			}
			note = strings.ReplaceAll(note, "|", "\\|")
			if len(r.samples) == 0 {
				fmt.Fprintf(&w, "| %s | %s | 0 | – | – | – | – | – | – | %s |\n", sc, r.client, note)
				continue
			}
			m := median(r.samples)
			wall := fmtDur(m.wall)
			if r.lower {
				wall = "≥ " + wall
			}
			if r.items > 1 {
				wall += fmt.Sprintf(" (%s/cert)", fmtDur(m.wall/time.Duration(r.items)))
			}
			ratio, ratioCPU := "1×", "1×"
			if r.client != "acmectl" {
				ratio, ratioCPU = times(perItem(r, m.wall), base), times(perItem(r, m.cpu), baseCPU)
			}
			fmt.Fprintf(&w, "| %s | %s | %d | %s | %s | %s | %s | %.1f MiB | %d | %s |\n",
				sc, r.client, len(r.samples), wall, ratio, fmtDur(m.cpu), ratioCPU, float64(m.rssKiB)/1024, m.reqs, note)
		}
	}

	fmt.Fprintf(&w, "\n## Machine and versions\n\n%s", b.machine)
	for _, c := range b.clients {
		v := c.version
		if c.missing != "" {
			v = "not measured: " + c.missing
		}
		fmt.Fprintf(&w, "- %s: %s\n", c.name, v)
	}
	fmt.Fprintf(&w, "- Pebble: the version pinned in go.mod, 90-day certificates, PEBBLE_VA_NOSLEEP=1, no nonce rejection, no authz reuse\n")
	fmt.Fprintf(&w, "- load average (1/5/15 min) at the start: %s; at the end: %s\n", b.loadStart, loadavg())
	fmt.Fprintf(&w, "- whole run: %s\n", total.Round(time.Second))

	fmt.Fprintf(&w, "\n## How the cases run\n\n")
	fmt.Fprintf(&w, "0. `--version` of each client and three hello-world Go programs (built as `make build` builds acmectl: static, `-trimpath`, `-s -w`; the second also imports net/http, crypto/tls, crypto/x509 and encoding/json, what any Go HTTPS client links; the third imports every standard and third-party package acmectl's default build links, none of acmectl's own: what their package initialisation costs any program built on them), %d runs each, interleaved: process start-up, most of what a renew with nothing due costs. acmectl's `--version` parses its command line by certbot's rules (cli.ini included), as certbot does, so it pays what every command pays.\n", startupRuns)
	fmt.Fprintf(&w, "1. Each client first issues `base.example` (not timed; this registers its account), then one new name per run with its standalone http-01 server on Pebble's validation port.\n")
	fmt.Fprintf(&w, "2. New names into a fresh config dir holding only the account; http-01 through a webroot that the benchmark serves on Pebble's validation port (as nginx would). acmectl runs %d `certonly` processes at once on the same config dir; certbot and lego run one at a time (two certbot runs on one config dir fail on its lock, two standalone runs on the port) and issue %d.\n", b.cfg.parallel, b.cfg.manyPeer)
	fmt.Fprintf(&w, "3. The trees hold copies of `base.example` written straight into certbot's layout (archive, relative live symlinks, renewal conf; lego: certificates/*.crt,*.key,*.json). `renew --no-random-sleep-on-renew`; the \"first run of the day\" row (trees up to %d lineages) is the first renew over a fresh tree, when acmectl asks the CA for ARI per lineage (ahead of the walk, a few requests at once per CA — `manager.ariPerCA`, 8; a Retry-After holds back all of that CA's requests) and saves the Retry-Afters in one file (`.acmectl/ari-retry`); the other rows are later runs (larger acmectl trees are cloned with the ARI retry time in each conf, which acmectl reads too). lego renew takes one certificate per run, so it is measured on the 1-lineage tree only.\n", coldMax)
	fmt.Fprintf(&w, "4. `certificates` (lego: `lego list`) over the same trees.\n")
	fmt.Fprintf(&w, "5. The lineages of case 2 with `renew_before_expiry = 100 days` added to each conf (certificates live 90 days), so every run renews all of them. acmectl `renew --parallel %d`.\n", b.cfg.parallel)
	fmt.Fprintf(&w, "6. As case 1, but the CA keeps each order `processing` for %v after its finalize request and answers every poll meanwhile with `Retry-After: %s`, as Let's Encrypt's Boulder answers a processing order (the benchmark's proxy in front of Pebble does this: `faultproxy.SetProcessing`). The note counts the order polls of the last run.\n", slowCAIssue, slowCARetryAfter)
	fmt.Fprintf(&w, "%s", clusterCasesDoc)
	fmt.Fprint(&w, pollingNote)
	fmt.Fprintf(&w, "\nReproduce: `make bench` (= `go run ./internal/bench`, 10–12 minutes on 2 cores once lego is built, more on a loaded host; the first run also builds lego %s into the user cache, a few minutes more). `go run ./internal/bench -quick -only acmectl` is a smoke run. Flags: `-n` repetitions (default 5), `-parallel` (8), `-peer-budget` (25s), `-peer-limit` (90s), `-only`, `-out`, `-keep`, `-lego PATH`.\n", legoVersion)
	return w.String()
}

func clientRank(name string) int {
	switch name {
	case "acmectl":
		return 0
	case "certbot":
		return 1
	case helloName:
		return 3
	case httpsHelloName:
		return 4
	case libsHelloName:
		return 5
	}
	return 2
}

// machine describes the host: CPU count and model, memory, kernel, Go.
func machine() string {
	model, mem := "unknown", "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("- %d CPUs (nproc), %s\n- memory: %s\n- Linux %s, %s/%s, %s\n",
		runtime.NumCPU(), model, mem, kernel, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadavg is /proc/loadavg's first three fields.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// pollingNote explains case 6: how each client polls a processing order.
const pollingNote = `
### How each client waits for the CA (case 6)

- **acmectl** (package acme, ` + "`pollOrder`" + `): after finalize it waits what the CA's
  ` + "`Retry-After`" + ` says (delta-seconds or an HTTP date), poll after poll; without one it polls
  after 50 ms and doubles the pause up to 5 s, so a CA that issues at once costs no idle time. A wait
  that would pass the issuance deadline (` + "`--issuance-timeout`" + `) fails at once with a message
  naming the order instead of sleeping in vain. Authorizations are polled the same way.
- **certbot 2.1** (Debian's; ` + "`acme/client.py`" + ` ` + "`ClientV2.poll_and_finalize`" + ` →
  ` + "`poll_authorizations`" + `, ` + "`finalize_order`" + `): polls each authorization, then again every 1 s while it is pending; after
  finalize it sleeps a fixed 1 s before every poll of the order, even when the finalize answer is already ` + "`valid`" + `, and
  ignores ` + "`Retry-After`" + ` (90 s deadline). Current certbot (` + "`poll_finalization`" + `) sleeps
  1 s first, then honours the ` + "`Retry-After`" + ` of a ` + "`processing`" + ` order, bounded by the deadline.
- **lego v4.35.2** (` + "`certificate/certificates.go`" + ` ` + "`getForCSR`" + `, ` + "`platform/wait.For`" + `): takes a
  ` + "`valid`" + ` finalize answer at once; otherwise polls the order immediately and then every
  ` + "`--cert.timeout`" + `/60 (30 s/60 = 0.5 s), ignoring ` + "`Retry-After`" + `. For challenges
  (` + "`challenge/resolver/solver_manager.go`" + ` ` + "`validate`" + `) it does read the challenge's
  ` + "`Retry-After`" + ` (5 s when absent) as the first interval of an exponential backoff.

So against a CA that really takes 3 s and says so, all three finish shortly after the 3 s; they differ
in how many requests they send meanwhile: acmectl the polls the CA asked for, certbot 2.1 one a
second, lego two a second. Against a CA that asks for 3 s but is ready sooner, certbot and lego can
finish earlier by ignoring the request; acmectl keeps honouring it (RFC 8555 §7.4: poll a processing
order again after the time its Retry-After gives), as operators of CAs with rate limits expect.
`
