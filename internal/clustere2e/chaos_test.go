package clustere2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
)

// start starts acmectl on the node without waiting for it.
func (n *node) start(args ...string) *running {
	n.w.t.Helper()
	cmd, so, se := n.command(args...)
	r := &running{cmd: cmd, done: make(chan struct{}), start: time.Now()}
	if err := cmd.Start(); err != nil {
		n.w.t.Fatalf("%s: %v", n.name, err)
	}
	go func() {
		err := cmd.Wait()
		r.res = result{stdout: so.String(), stderr: se.String(), took: time.Since(r.start)}
		if ee, ok := err.(*exec.ExitError); ok {
			r.res.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.res.code = -int(ws.Signal())
			}
		} else if err != nil {
			r.res.code, r.res.stderr = -1, r.res.stderr+err.Error()
		}
		close(r.done)
	}()
	n.w.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
	})
	return r
}

type running struct {
	cmd   *exec.Cmd
	done  chan struct{}
	start time.Time
	res   result
}

func (r *running) wait(t *testing.T, within time.Duration) result {
	t.Helper()
	select {
	case <-r.done:
		return r.res
	case <-time.After(within):
		t.Fatalf("acmectl still running after %s", within)
		return result{}
	}
}

// from matches the requests of one node (its User-Agent names it).
func (n *node) from() func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.Contains(r.UserAgent(), "acmectl-"+n.name) }
}

// waitCount waits (bounded) until the CA saw at least want requests of step.
func (w *world) waitCount(step faultproxy.Step, want int, within time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for w.ca.Count(step, "POST") < want {
		if time.Now().After(deadline) {
			w.t.Fatalf("after %s the CA saw %d %s requests, want %d", within, w.ca.Count(step, "POST"), step, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EClusterHolderKilledAfterFinalize (issue 18, must-show 2): the node
// renewing a lineage is killed (SIGKILL) right after its finalize request
// reached the CA — the CA issued, the node never heard. Its lock goes with
// its lease; the next node to renew finds the order recorded in etcd before
// finalize and collects that certificate: no second order, no second
// finalize, and every node's tree serves the one certificate.
func TestE2EClusterHolderKilledAfterFinalize(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w := newWorld(t, worldOpts{nodes: 2, lease: "3s", env: []string{"PEBBLE_VA_ALWAYS_VALID=1"}})
	n0, n1 := w.nodes[0], w.nodes[1]
	names := n0.seed(n0.register(), 1, "killed")
	n0.mustRun("cluster", "join", "--generate-key", "-n")
	w.ca.ResetLog()

	// The hook runs in the proxy's goroutine: it gets the process through a
	// channel (the start below happens before the finalize it reacts to).
	started := make(chan *running, 1)
	var once sync.Once
	killed := make(chan struct{})
	w.ca.Inject(faultproxy.Fault{Step: faultproxy.Finalize, Method: "POST", Kind: faultproxy.Notify, Times: 1, Match: n0.from(),
		Hook: func() {
			once.Do(func() {
				v := <-started
				_ = v.cmd.Process.Signal(syscall.SIGKILL)
				<-v.done
				close(killed)
			})
		}})
	victim := n0.start(append([]string{"renew", "-n", "--no-random-sleep-on-renew"}, n0.standalone()...)...)
	started <- victim
	select {
	case <-killed:
	case <-victim.done: // killed by the hook (then killed closes at once) or ended by itself
		select {
		case <-killed:
		case <-time.After(10 * time.Second):
			t.Fatalf("node0 ended before its finalize request: %s", victim.res)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("node0 sent no finalize request within 2 minutes")
	}
	if victim.res.code != -int(syscall.SIGKILL) {
		t.Fatalf("node0 was not killed: %s", victim.res)
	}
	if got := w.ca.Count(faultproxy.Finalize, "POST"); got != 1 {
		t.Fatalf("%d finalize requests before the kill, want 1", got)
	}
	s := w.clusterStore()
	st, err := s.Status(t.Context())
	if err != nil || len(st.Lineages) != 1 || st.Lineages[0].InFlight == nil {
		t.Fatalf("after the kill the cluster shows no order in flight: %+v, %v", st, err)
	}
	// The dead node's lock goes with its lease (3 s).
	if err := s.WaitUnlocked(t.Context(), names); err != nil {
		t.Fatal(err)
	}
	r := n1.mustRun(append([]string{"renew", "-n", "--no-random-sleep-on-renew"}, n1.standalone()...)...)
	if !strings.Contains(r.stdout, names[0]) {
		t.Errorf("node1's renew does not report %s:\n%s", names[0], r)
	}
	fin, orders := w.ca.Count(faultproxy.Finalize, "POST"), w.ca.Count(faultproxy.NewOrder, "POST")
	t.Logf("after node0 was killed post-finalize, node1 completed the order: %d order(s), %d finalize request(s) in all", orders, fin)
	if fin != 1 || orders != 1 {
		t.Errorf("the CA saw %d new orders and %d finalize requests, want 1 and 1 (the recorded order collected, nothing ordered again)", orders, fin)
	}
	metas, _, err := s.Lineages(t.Context(), nil)
	if err != nil || len(metas) != 1 || metas[0].Version != 2 || metas[0].RenewedBy != n1.name {
		t.Fatalf("cluster after takeover: %+v, %v; want version 2 renewed by node1", metas, err)
	}
	// node0 comes back: its sync brings the certificate node1 collected.
	n0.mustRun("cluster", "sync")
	w.checkReplicas(t.Context(), metas)
}

// TestE2EClusterEtcdOutages (issue 18, must-show 3): three nodes renew 120
// due lineages at once while etcd is stopped (SIGSTOP) for 8 s, and then one
// node's connection to etcd is cut for 8 s (longer than its 5 s lease, so
// it loses every lineage it held and its in-progress work is cancelled).
// After recovery one more renew on every node finishes what was left: no
// lineage got a second certificate (the CA saw exactly one finalize per
// lineage) and every node's tree serves every lineage's one certificate.
func TestE2EClusterEtcdOutages(t *testing.T) {
	skipShort(t)
	t.Parallel()
	const lineages = 120
	w := newWorld(t, worldOpts{nodes: 3, lease: "5s", env: []string{"PEBBLE_VA_ALWAYS_VALID=1"}})
	n0 := w.nodes[0]
	n0.seed(n0.register(), lineages, "outage")
	n0.mustRun("cluster", "join", "--generate-key", "-n")
	w.ca.ResetLog()

	args := func(n *node) []string {
		return append([]string{"renew", "-n", "--no-random-sleep-on-renew", "--parallel", "4"}, n.standalone()...)
	}
	runs := make([]*running, len(w.nodes))
	for i, n := range w.nodes {
		runs[i] = n.start(args(n)...)
	}
	w.waitCount(faultproxy.Finalize, 10, 2*time.Minute)
	if err := w.etcd.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := w.ca.Count(faultproxy.Finalize, "POST")
	time.Sleep(8 * time.Second) // the outage itself (its length is the test's input)
	if err := w.etcd.Resume(); err != nil {
		t.Fatal(err)
	}
	w.waitCount(faultproxy.Finalize, paused+10, 2*time.Minute)
	cut := w.nodes[1].etcdProxy
	cut.Cut()
	cutAt := w.ca.Count(faultproxy.Finalize, "POST")
	time.Sleep(8 * time.Second) // the outage itself
	cut.Restore()
	first := make([]result, len(runs))
	for i, r := range runs {
		first[i] = r.wait(t, 5*time.Minute)
		t.Logf("node%d first run: exit %d after %s, %d failure line(s)", i, first[i].code, first[i].took.Round(time.Millisecond),
			strings.Count(first[i].stderr, "Failed to renew"))
		if testing.Verbose() {
			t.Logf("%s", failures(first[i].stderr))
		}
	}
	t.Logf("finalize requests: %d when etcd was stopped, %d when node1 was cut off, %d after the first runs",
		paused, cutAt, w.ca.Count(faultproxy.Finalize, "POST"))
	// Recovery: every node renews once more; whatever was left (failed,
	// held by the node that was cut off, in flight) is finished.
	for i, n := range w.nodes {
		runs[i] = n.start(args(n)...)
	}
	for i, r := range runs {
		if res := r.wait(t, 5*time.Minute); res.code != 0 {
			t.Errorf("node%d second run: %s", i, res)
		}
	}
	fin := w.ca.Count(faultproxy.Finalize, "POST")
	t.Logf("after recovery: %d finalize requests for %d lineages, %d new orders", fin, lineages, w.ca.Count(faultproxy.NewOrder, "POST"))
	if fin != lineages {
		t.Errorf("the CA saw %d finalize requests for %d lineages, want exactly one each (0 duplicates)", fin, lineages)
	}
	s := w.clusterStore()
	metas, _, err := s.Lineages(t.Context(), nil)
	if err != nil || len(metas) != lineages {
		t.Fatalf("cluster: %d lineages, %v", len(metas), err)
	}
	for _, m := range metas {
		if m.Version != 2 {
			t.Errorf("%s: version %d, want 2 (renewed last by %s)", m.Name, m.Version, m.RenewedBy)
			w.logLineage(m.Name)
		}
	}
	w.checkReplicas(t.Context(), metas)
}

// logLineage prints what every node's log says about one lineage (the
// diagnosis of a lineage renewed twice).
func (w *world) logLineage(name string) {
	w.t.Helper()
	for _, n := range w.nodes {
		files, _ := filepath.Glob(filepath.Join(n.logs, "*.log*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, name) {
					w.t.Logf("%s %s: %s", n.name, filepath.Base(f), line)
				}
			}
		}
	}
}
