package clustere2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/internal/faultproxy"
)

// certbot runs Debian's certbot 2.1 on the node's tree against the test's
// CA (through the counting proxy), http-01 on the node's port.
func (n *node) certbot(args ...string) string {
	n.w.t.Helper()
	if _, err := exec.LookPath("certbot"); err != nil {
		n.w.t.Fatalf("certbot not installed (Debian package certbot): %v", err)
	}
	// A bound, not a wait: certbot renew took up to ~2 min on a loaded machine.
	ctx, cancel := context.WithTimeout(n.w.t.Context(), 8*time.Minute)
	defer cancel()
	all := append([]string{"--config-dir", n.config, "--work-dir", n.work, "--logs-dir", n.logs, "-n"}, args...)
	cmd := exec.CommandContext(ctx, "certbot", all...)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+n.w.pebble.CABundle)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	n.w.t.Logf("%s: certbot %s: %s", n.name, args[0], time.Since(start).Round(time.Millisecond))
	if err != nil {
		n.w.t.Fatalf("certbot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serials are the serial numbers the node's tree serves, by lineage.
func (n *node) serials(names ...string) map[string]string {
	n.w.t.Helper()
	out := map[string]string{}
	tree := n.tree()
	for _, name := range names {
		l, err := tree.LoadLineage(n.w.t.Context(), name)
		if err != nil {
			n.w.t.Fatalf("%s: %s: %v", n.name, name, err)
		}
		out[name] = l.Cert.SerialNumber.Text(16)
	}
	return out
}

// TestE2EClusterJoinStatusLeaveCertbot (issue 18, must-show 5): real
// certbot 2.1 makes a node's tree (account, two lineages, standalone
// http-01 at Pebble). `cluster join` imports it, a second node joins and
// gets the copies, `cluster status` shows the lineages with their state,
// and certbot on the node leaves the cluster's lineages alone although they
// are due (autorenew = False). `cluster leave` hands them back: certbot
// renews them again, with the account and settings it made.
func TestE2EClusterJoinStatusLeaveCertbot(t *testing.T) {
	skipShort(t)
	t.Parallel()
	w := newWorld(t, worldOpts{nodes: 2, env: []string{"PEBBLE_VA_ALWAYS_VALID=1"}})
	n0, n1 := w.nodes[0], w.nodes[1]
	names := []string{"shop.cluster.example.com", "blog.cluster.example.com"}
	n0.certbot("register", "--agree-tos", "-m", "ops@example.com", "--server", w.ca.DirectoryURL)
	for _, name := range names {
		n0.certbot("certonly", "--standalone", "--http-01-port", fmt.Sprint(n0.port), "--http-01-address", "127.0.0.1",
			"--server", w.ca.DirectoryURL, "-d", name, "-d", "www."+name)
		// Due from now on: Pebble's certificates live 90 days.
		tree := n0.tree()
		conf, err := tree.LoadRenewalConf(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		conf.RenewBeforeExpiry = "100 days"
		if err := tree.SaveRenewalConf(t.Context(), name, conf); err != nil {
			t.Fatal(err)
		}
	}
	before := n0.serials(names...)

	r := n0.mustRun("cluster", "join", "--generate-key", "-n")
	for _, want := range append([]string{"Imported into the cluster", "Accounts shared", "<token>."}, names...) {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cluster join does not say %q:\n%s", want, r)
		}
	}
	n1.mustRun("cluster", "join", "-n")
	if got := n1.serials(names...); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("node1's copies serve %v, node0's certbot lineages %v", got, before)
	}

	st := n1.mustRun("cluster", "status")
	for _, want := range append([]string{"LINEAGE", "RENEWED BY", "node0", "yes (", "thumbprint"}, names...) {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("cluster status does not show %q:\n%s", want, st.stdout)
		}
	}
	var js struct {
		Lineages []struct {
			Name      string
			RenewedBy string `json:"renewed_by"`
			Due       bool
		}
	}
	if err := json.Unmarshal([]byte(n1.mustRun("cluster", "status", "--json").stdout), &js); err != nil || len(js.Lineages) != 2 {
		t.Fatalf("cluster status --json: %+v, %v", js, err)
	}
	for _, l := range js.Lineages {
		if l.RenewedBy != "node0" || !l.Due {
			t.Errorf("status --json: %+v, want renewed by node0 (the join) and due", l)
		}
	}

	// A certbot timer left on the node never renews the cluster's lineages.
	w.ca.ResetLog()
	out := n0.certbot("renew", "--no-random-sleep-on-renew")
	if !strings.Contains(out, "No renewals were attempted") || w.ca.Count(faultproxy.NewOrder, "POST") != 0 {
		t.Errorf("certbot renewed cluster-managed lineages:\n%s", out)
	}

	r = n0.mustRun("cluster", "leave", "-n")
	if !strings.Contains(r.stdout, "Handed back") || !strings.Contains(r.stdout, names[0]) {
		t.Errorf("cluster leave:\n%s", r)
	}
	out = n0.certbot("renew", "--no-random-sleep-on-renew")
	if got := w.ca.Count(faultproxy.Finalize, "POST"); got != len(names) || !strings.Contains(out, "Congratulations, all renewals succeeded") {
		t.Errorf("certbot renew after leave: %d finalize requests, want %d:\n%s", got, len(names), out)
	}
	after := n0.serials(names...)
	for _, name := range names {
		if after[name] == before[name] {
			t.Errorf("%s: certbot did not renew it after leave (serial %s)", name, after[name])
		}
	}
	// The cluster keeps the lineages for node1.
	if st := n1.mustRun("cluster", "status"); !strings.Contains(st.stdout, names[0]) {
		t.Errorf("after node0 left, the cluster lost its lineages:\n%s", st.stdout)
	}
}
