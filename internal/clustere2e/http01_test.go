package clustere2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
)

// waitListening waits (bounded) until the node's http-01 listener answers.
func (n *node) waitListening(within time.Duration) {
	n.w.t.Helper()
	deadline := time.Now().Add(within)
	url := fmt.Sprintf("http://127.0.0.1:%d/.well-known/acme-challenge/probe", n.port)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			n.w.t.Fatalf("%s: the http-01 listener did not answer within %s: %v", n.name, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2EClusterHTTP01RoundRobin (issue 18, must-show 4): http-01 with no
// webroot behind a round-robin load balancer in front of three nodes'
// standalone listeners. node1 and node2 run `cluster sync --watch
// --standalone` (the long-running responder); node0 renews. Pebble really
// validates (no PEBBLE_VA_ALWAYS_VALID): each validation request goes to the
// next node in turn, so most land on nodes that never started the order
// and know nothing of its token — they answer "<token>.<thumbprint>" of the
// cluster's shared account, and every validation succeeds.
func TestE2EClusterHTTP01RoundRobin(t *testing.T) {
	skipShort(t)
	t.Parallel()
	const lineages = 6
	w := newWorld(t, worldOpts{nodes: 3})
	n0 := w.nodes[0]
	n0.seed(n0.register(), lineages, "lb")
	n0.mustRun("cluster", "join", "--generate-key", "-n")
	for _, n := range w.nodes[1:] {
		n.mustRun("cluster", "join", "-n") // nothing of its own: takes the cluster's copies
		n.start(append([]string{"cluster", "sync", "--watch"}, n.standalone()...)...)
		n.waitListening(time.Minute)
	}
	w.ca.ResetLog()
	w.lb.reset()
	r := n0.mustRun(append([]string{"renew", "-n", "--no-random-sleep-on-renew"}, n0.standalone()...)...)
	if got := w.ca.Count(faultproxy.Finalize, "POST"); got != lineages {
		t.Errorf("%d finalize requests for %d lineages: %s", got, lineages, r)
	}
	served := map[int]int{}
	for _, h := range w.lb.log() {
		if !strings.HasPrefix(h.path, "/.well-known/acme-challenge/") || strings.HasSuffix(h.path, "/probe") {
			continue
		}
		if h.status != http.StatusOK {
			t.Errorf("node%d answered %s with %d", h.backend, h.path, h.status)
		}
		served[h.backend]++
	}
	t.Logf("validation requests answered per node (node0 ordered): %v", served)
	if served[1] == 0 || served[2] == 0 {
		t.Errorf("validation requests reached only %v: the round robin never sent one to a node that did not start the order", served)
	}
	s := w.clusterStore()
	metas, _, err := s.Lineages(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metas {
		if m.Version != 2 {
			t.Errorf("%s: version %d, want 2", m.Name, m.Version)
		}
	}
	// The watching nodes install what node0 renewed without running renew.
	for _, n := range w.nodes[1:] {
		n.waitReplica(metas, time.Minute)
	}
}

// waitReplica waits (bounded) until the node's tree serves every lineage's
// current certificate (a watching node syncs on its own).
func (n *node) waitReplica(metas []*clusterMeta, within time.Duration) {
	n.w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		behind := ""
		tree := n.tree()
		for _, m := range metas {
			l, err := tree.LoadLineage(n.w.t.Context(), m.Name)
			if err != nil || l.Cert.SerialNumber.Text(16) != m.Serial || !keyMatches(n.w.t, l) {
				behind = m.Name
				break
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			n.w.t.Fatalf("%s: %s is not the cluster's current version after %s", n.name, behind, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
