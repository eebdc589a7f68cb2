//go:build !nocluster

package manager

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acmectl/acmectl/cluster"
)

// The human-readable reports of the cluster verbs; the front-end decides
// where they go (and -q, --json).

// Summary is what join did, one line per kind of change.
func (r *ClusterJoinResult) Summary() []string {
	var out []string
	if r.KeyGenerated != "" {
		out = append(out, fmt.Sprintf("Created the cluster key %s (key %s): copy this file (mode 0600) to every node before it joins.", r.KeyGenerated, r.KeyID))
	}
	if r.JoinReport == nil {
		return out
	}
	for _, l := range []struct {
		what  string
		names []string
	}{{"Imported into the cluster", r.Imported}, {"Already in the cluster (same key)", r.Shared},
		{"Replaced by the cluster's certificate and key", r.Adopted}, {"Accounts shared", r.Accounts},
		{"Lineages now using the cluster's account", r.Repointed}} {
		if len(l.names) > 0 {
			out = append(out, l.what+": "+strings.Join(l.names, ", "))
		}
	}
	out = append(out, "This node's cluster lineages now renew through "+r.Store+"; their renewal confs say autorenew = False, so certbot leaves them alone.")
	for _, a := range r.Thumbprints {
		out = append(out, fmt.Sprintf("Every node answers http-01 for %s with <token>.%s (see acmectl cluster status)", a.Server, a.Thumbprint))
	}
	return out
}

// Lines is what a sync changed (and failed), one line each; total adds
// the counts.
func (r *ClusterSyncResult) Lines(total bool) []string {
	if r == nil || r.SyncReport == nil {
		return nil
	}
	var out []string
	for _, c := range r.Changes {
		switch c.Kind {
		case cluster.ChangeRemoved:
			out = append(out, c.Lineage+": no longer in the cluster; this node's copy is left as it is (remove it with acmectl delete)")
		case cluster.ChangeSettings:
			out = append(out, c.Lineage+": renewal settings updated")
		default:
			out = append(out, fmt.Sprintf("%s: version %d (serial %s) %s in %s", c.Lineage, c.Version, c.Serial, c.Kind, c.Live))
		}
	}
	for _, e := range r.Errs {
		out = append(out, "failed: "+OneLine(e.Error()))
	}
	if total {
		out = append(out, fmt.Sprintf("%d lineage(s) changed, %d compared, %d unchanged since the last sync.", len(r.Changes), r.Checked, r.Unchanged))
	}
	return out
}

// NginxSnippet is the nginx location that answers every http-01 challenge
// of the account with this thumbprint, on every node, with no file and no
// state: "<token>.<thumbprint>" (RFC 8555 §8.3).
func NginxSnippet(thumbprint string) string {
	return "location ~ \"^/\\.well-known/acme-challenge/([-_a-zA-Z0-9]+)$\" {\n" +
		"    default_type text/plain;\n" +
		"    return 200 \"$1." + thumbprint + "\";\n}\n"
}

// WriteText writes the status: nodes running now, the shared accounts
// with their thumbprint and nginx snippet, then one line per lineage.
func (s *ClusterStatus) WriteText(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "Cluster %s (cluster key %s)\n", s.Store, s.KeyID)
	if len(s.Nodes) == 0 {
		fmt.Fprintln(w, "Nodes running acmectl now: none")
	}
	for _, n := range s.Nodes {
		fmt.Fprintf(w, "Node running acmectl now: %s (pid %d, since %s)\n", n.Node, n.PID, n.Started.Local().Format(time.DateTime))
	}
	for _, a := range s.Accounts {
		fmt.Fprintf(w, "Account %s at %s\n  thumbprint %s\n  nginx on every node, to answer http-01 for any node's order:\n", a.ID, a.Server, a.Thumbprint)
		for _, l := range strings.Split(strings.TrimSpace(NginxSnippet(a.Thumbprint)), "\n") {
			fmt.Fprintln(w, "    "+l)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "LINEAGE\tVERSION\tEXPIRES\tRENEWED BY\tRENEWED\tDUE\tNOW")
	for _, l := range s.Lineages {
		due := "no"
		if l.Due {
			due = "yes"
		}
		state := "-"
		switch {
		case l.Holder != "":
			state = "held by " + l.Holder
		case l.InFlight != nil:
			state = "order in flight from " + l.InFlightNode
		case l.Failures > 0:
			state = fmt.Sprintf("%d failure(s): %s", l.Failures, OneLine(l.LastError))
		}
		by := l.RenewedBy
		if by == "" {
			by = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s (%dd)\t%s\t%s\t%s (%s)\t%s\n", l.Name, l.Version, l.NotAfter.UTC().Format(time.DateOnly),
			int(l.NotAfter.Sub(now).Hours()/24), by, l.RenewedAt.Local().Format(time.DateTime), due, l.DueReason, state)
	}
	tw.Flush()
}
