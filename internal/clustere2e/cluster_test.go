package clustere2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster end-to-end test skipped with -short")
	}
}

// hookLog is a deploy hook that appends the lineage it ran for to a file
// of the node's.
func (n *node) hookLog() (flag, path string) {
	path = filepath.Join(n.w.dir, n.name+"-deployed.log")
	return `echo "$RENEWED_LINEAGE" >> ` + path, path
}

// failures are the "Failed to renew" lines of a renew's stderr.
func failures(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "Failed to renew") || strings.HasPrefix(l, "Error") {
			out = append(out, l)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

func lines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestE2EClusterRenewAtOnce (issue 18, must-show 1): three acmectl
// processes run renew at the same moment against one etcd and one Pebble
// over 300 lineages that are all due. Every lineage gets exactly one new
// certificate (Pebble's finalize requests are counted), every node's tree
// serves it with the matching key, and every node ran its deploy hook for
// every lineage (its own renewals at once, the others' after its sync).
func TestE2EClusterRenewAtOnce(t *testing.T) {
	skipShort(t)
	t.Parallel()
	const lineages = 300
	// Validation is not the point here (TestE2EClusterHTTP01RoundRobin is).
	w := newWorld(t, worldOpts{nodes: 3, env: []string{"PEBBLE_VA_ALWAYS_VALID=1"}})
	n0 := w.nodes[0]
	acct := n0.register()
	names := n0.seed(acct, lineages, "site")
	n0.mustRun("cluster", "join", "--generate-key", "-n")
	s := w.clusterStore()
	metas, _, err := s.Lineages(t.Context(), nil)
	if err != nil || len(metas) != lineages {
		t.Fatalf("after join: %d lineages, %v", len(metas), err)
	}
	w.ca.ResetLog()

	hooks := make([]string, len(w.nodes))
	start := time.Now()
	res := make([]result, len(w.nodes))
	done := make(chan int)
	for i, n := range w.nodes {
		hook, path := n.hookLog()
		hooks[i] = path
		go func() {
			res[i] = n.run(append([]string{"renew", "-n", "--no-random-sleep-on-renew", "--parallel", "8", "--deploy-hook", hook}, n.standalone()...)...)
			done <- i
		}()
	}
	for range w.nodes {
		<-done
	}
	took := time.Since(start)
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("node%d renew: exit %d after %s:\n%s", i, r.code, r.took, failures(r.stderr))
		}
	}
	finalized := w.ca.Count(faultproxy.Finalize, "POST")
	t.Logf("3 nodes renewed %d due lineages in %s: %d finalize requests reached Pebble, %d new orders", lineages, took.Round(time.Millisecond),
		finalized, w.ca.Count(faultproxy.NewOrder, "POST"))
	if finalized != lineages {
		t.Errorf("Pebble saw %d finalize requests for %d lineages, want exactly one each", finalized, lineages)
	}
	metas, _, err = s.Lineages(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]int{}
	for _, m := range metas {
		byNode[m.RenewedBy]++
		if m.Version != 2 {
			t.Errorf("%s: cluster version %d, want 2 (one renewal)", m.Name, m.Version)
		}
	}
	t.Logf("renewed by: %v", byNode)
	if len(byNode) < 2 {
		t.Errorf("one node renewed everything (%v): the nodes did not run at the same moment", byNode)
	}
	w.checkReplicas(t.Context(), metas)
	for i, p := range hooks {
		got := map[string]bool{}
		for _, l := range lines(t, p) {
			got[filepath.Base(l)] = true
		}
		for _, name := range names {
			if !got[name] {
				t.Errorf("node%d: no deploy hook ran for %s (%d ran)", i, name, len(got))
				break
			}
		}
	}
	// The next run on any node has nothing to do.
	r := w.nodes[2].mustRun("renew", "-n", "--no-random-sleep-on-renew")
	if !strings.Contains(r.stdout, "No renewals were attempted") || w.ca.Count(faultproxy.Finalize, "POST") != lineages {
		t.Errorf("second renew: %s", r)
	}
}
