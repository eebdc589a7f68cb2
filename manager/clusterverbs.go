//go:build !nocluster

package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/cluster"
	"github.com/acmectl/acmectl/internal/argparse"
)

// ClusterJoinResult is what ClusterJoin did.
type ClusterJoinResult struct {
	*cluster.JoinReport
	Store string
	// KeyGenerated is the cluster key file written (--generate-key), KeyID
	// the cluster key's ID.
	KeyGenerated, KeyID string
	// Thumbprints are the cluster's accounts with the thumbprint every
	// node's stateless http-01 answer uses.
	Thumbprints  []cluster.AccountStatus
	HookFailures int
}

// ClusterJoin imports the node's lineages (Config.CertName alone when
// given) into the cluster Config.Store names, creating the cluster on the
// first join; Config.Adopt lets the cluster's version replace a local
// lineage renewed separately. With Config.GenerateKey the cluster key file
// is created first (it must not exist; a cluster that exists already has
// its key: copy it instead). Conflicts change nothing and come back as one
// *cluster.ConflictError per lineage. Lineages that got the cluster's
// certificate run their deploy hooks.
func (m *Manager) ClusterJoin(ctx context.Context) (*ClusterJoinResult, error) {
	t, err := m.tree()
	if err != nil {
		return nil, err
	}
	cc, err := ClusterConfig(m.Config, m.log())
	if err != nil {
		return nil, err
	}
	res := &ClusterJoinResult{Store: cc.String()}
	if m.Config.GenerateKey && m.Cluster == nil {
		if _, err := os.Lstat(cc.ClusterKeyFile); err == nil {
			return nil, Usagef("the cluster key file %s exists already: omit --generate-key to join with it (or remove it to start a new cluster)", cc.ClusterKeyFile)
		}
		k, err := cluster.GenerateKeyFile(cc.ClusterKeyFile)
		if err != nil {
			return nil, err
		}
		res.KeyGenerated, res.KeyID = cc.ClusterKeyFile, k.ID()
	}
	s, done, err := m.openCluster(ctx)
	if err != nil {
		if res.KeyGenerated != "" {
			_ = os.Remove(res.KeyGenerated)
			err = fmt.Errorf("%w (the key generated for a new cluster was removed: to join an existing cluster, copy its key file to %s)", err, cc.ClusterKeyFile)
		}
		return nil, err
	}
	defer done()
	res.KeyID = s.Key().ID()
	var only []string
	if m.Config.CertName != "" {
		only = []string{m.Config.CertName}
	}
	rep, err := s.Join(ctx, t, cluster.JoinOptions{Only: only, Adopt: m.Config.Adopt})
	res.JoinReport = rep
	if rep != nil {
		h := m.newHooks()
		if names := m.deploySynced(ctx, h, rep.Sync); len(names) > 0 {
			m.reloadInstaller(ctx, h)
			h.AddPost(m.Config.PostHook)
			h.Post(ctx, names, nil)
		}
		res.HookFailures = h.Failures()
	}
	if err != nil {
		return res, err
	}
	res.Thumbprints = accountStatus(ctx, s)
	return res, nil
}

func accountStatus(ctx context.Context, s *cluster.Store) []cluster.AccountStatus {
	accts, _ := s.Accounts(ctx)
	var out []cluster.AccountStatus
	for _, a := range accts {
		th, _ := cluster.Thumbprint(a.Key.Public())
		out = append(out, cluster.AccountStatus{Server: a.Server, ID: a.ID, URL: a.URL, Thumbprint: th})
	}
	return out
}

// ClusterLeave hands the node's cluster lineages (Config.CertName alone
// when given) back to local renewal: the newest versions first, then each
// local conf without the cluster's marker and with the lineage's own
// autorenew, so certbot or a plain acmectl renew renews it again. The
// cluster keeps them for the other nodes. When etcd does not answer, the
// lineages are handed back as the node has them and the error says so.
func (m *Manager) ClusterLeave(ctx context.Context) (*cluster.LeaveReport, error) {
	t, err := m.tree()
	if err != nil {
		return nil, err
	}
	var only []string
	if m.Config.CertName != "" {
		only = []string{m.Config.CertName}
	}
	s, done, err := m.openCluster(ctx)
	if errors.Is(err, cluster.ErrUnavailable) {
		cc, cerr := ClusterConfig(m.Config, m.log())
		if cerr != nil {
			return nil, cerr
		}
		names, herr := cluster.HandBackLocal(ctx, t, cc.String(), only)
		return &cluster.LeaveReport{HandedBack: names}, errors.Join(
			fmt.Errorf("the lineages were handed back as this node has them; the cluster's newest versions could not be fetched: %w", err), herr)
	}
	if err != nil {
		return nil, err
	}
	defer done()
	return s.Leave(ctx, t, only)
}

// ClusterLineage is one lineage of ClusterStatus with the engine's due
// decision from its metadata (the CA's ARI window when known).
type ClusterLineage struct {
	cluster.LineageStatus
	Due       bool
	DueReason string
}

// ClusterStatus is the cluster as `cluster status` shows it.
type ClusterStatus struct {
	Store, KeyID string
	Nodes        []cluster.NodeStatus
	Accounts     []cluster.AccountStatus
	Lineages     []ClusterLineage
}

// ClusterStatus reads the cluster: each lineage with the node that renewed
// it last and when, its expiry, whether it is due (and why), who holds it
// and any order in flight; the nodes running now; the shared accounts with
// the thumbprint of the stateless http-01 answer.
func (m *Manager) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	s, done, err := m.openCluster(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := s.Status(ctx)
	if st == nil {
		return nil, err
	}
	out := &ClusterStatus{Store: st.Store, KeyID: st.KeyID, Nodes: st.Nodes, Accounts: st.Accounts}
	now := m.now()
	for _, l := range st.Lineages {
		cl := ClusterLineage{LineageStatus: l}
		li := l.Info()
		in, derr := confDueInput(li.Conf, li.NotBefore, li.NotAfter, now)
		if derr != nil {
			cl.DueReason = derr.Error()
		} else {
			in.ARITime = l.ARIStart
			cl.Due, cl.DueReason = isDue(in)
		}
		out.Lineages = append(out.Lineages, cl)
	}
	return out, err
}

// ClusterSyncResult is one sync of the node's tree with the cluster.
type ClusterSyncResult struct {
	*cluster.SyncReport
	HookFailures int
}

// ClusterSync writes the cluster's current version of every lineage
// (Config.CertName alone when given) into the node's tree, comparing each
// with the tree, and runs the deploy hooks and the installer for what
// changed, then the post hooks.
func (m *Manager) ClusterSync(ctx context.Context) (*ClusterSyncResult, error) {
	t, err := m.tree()
	if err != nil {
		return nil, err
	}
	s, done, err := m.openCluster(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var only []string
	if m.Config.CertName != "" {
		only = []string{m.Config.CertName}
	}
	rep, err := s.Sync(ctx, t, cluster.SyncOptions{Only: only, Verify: true})
	res := &ClusterSyncResult{SyncReport: rep, HookFailures: m.afterSync(ctx, rep)}
	if err == nil && rep != nil {
		err = rep.Err()
	}
	return res, err
}

// afterSync runs the hooks and the installer for what a sync changed.
func (m *Manager) afterSync(ctx context.Context, rep *cluster.SyncReport) int {
	h := m.newHooks()
	names := m.deploySynced(ctx, h, rep)
	if len(names) == 0 {
		return h.Failures()
	}
	m.reloadInstaller(ctx, h)
	h.AddPost(m.Config.PostHook)
	h.Post(ctx, names, nil)
	return h.Failures()
}

// ClusterWatch keeps the node's tree in step with the cluster until ctx is
// cancelled (then it returns nil): a full sync, then one per change etcd
// reports, each followed by its hooks and reported to onSync. With the
// standalone authenticator (--standalone) it also answers http-01 on
// --http-01-address/--http-01-port for every order of the cluster, with the
// shared account's thumbprint: behind a load balancer the CA's validation
// may reach any node.
func (m *Manager) ClusterWatch(ctx context.Context, onSync func(*ClusterSyncResult, error)) error {
	t, err := m.tree()
	if err != nil {
		return err
	}
	s, done, err := m.openCluster(ctx)
	if err != nil {
		return err
	}
	defer done()
	if m.Config.Authenticator == "standalone" {
		l := http01.NewStandalone(m.Config.HTTP01Addr, m.Config.HTTP01Port)
		l.Logger = m.log()
		l.KeyAuthorizer = keyAuthorizer(&cachedThumb{s: s}, m.Config.Server)
		if err := l.Start(ctx); err != nil {
			return fmt.Errorf("standalone http-01 server on port %d: %w", m.Config.HTTP01Port, err)
		}
		defer l.Close()
	}
	return s.Watch(ctx, t, cluster.WatchOptions{OnSync: func(rep *cluster.SyncReport, err error) {
		res := &ClusterSyncResult{SyncReport: rep, HookFailures: m.afterSync(ctx, rep)}
		if onSync != nil {
			onSync(res, err)
		}
	}})
}

// cachedThumb is the responder thumbprint of a long-running watch, asked
// again every minute (an account rolled over, or shared after the start).
type cachedThumb struct {
	s     *cluster.Store
	mu    sync.Mutex
	th    string
	until time.Time
}

func (c *cachedThumb) Thumbprint(ctx context.Context, server string) (string, error) {
	c.mu.Lock()
	th, fresh := c.th, time.Now().Before(c.until)
	c.mu.Unlock()
	if fresh {
		return th, nil
	}
	th, err := c.s.ResponderThumbprint(ctx, server)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.th, c.until = th, time.Now().Add(time.Minute)
	c.mu.Unlock()
	return th, nil
}

// ClusterVerbs are the subcommands of "acmectl cluster", with their use.
var ClusterVerbs = [][2]string{
	{"join", "import this node's lineages into the cluster (the first join creates it; --generate-key makes its key)"},
	{"leave", "hand this node's cluster lineages back to its own renewal (certbot or a plain acmectl renew)"},
	{"status", "the cluster's nodes, shared accounts and lineages: who renewed each last, when, and what is due"},
	{"sync", "write the cluster's certificates into this node's tree and run deploy hooks; --watch keeps doing so"},
}

// ClusterArgs splits the words after "acmectl cluster" into the verb (the
// first word that is no option or option value, by p's rules) and the
// command line certbot's parser reads (renew's: non-interactive); asked for
// help, or given nothing, the command line asks for the cluster topic.
func ClusterArgs(p *argparse.Parser, args []string) (verb string, cmdline []string) {
	if slices.Contains(args, "-h") || slices.Contains(args, "--help") || len(args) == 0 {
		return "", []string{"--help", "cluster"}
	}
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		if m, isOpt := p.Classify(args[i]); isOpt {
			if m.NeedsValue {
				i++
			}
			continue
		}
		return args[i], append([]string{"renew"}, slices.Delete(slices.Clone(args), i, i+1)...)
	}
	return "", append([]string{"renew"}, args...)
}

// ClusterCommand runs the cluster verb and writes its report to w (status
// as JSON with --json; nothing but failures with -q); a --watch sync
// reports each sync's failures to errw as they happen.
func (m *Manager) ClusterCommand(ctx context.Context, verb string, w, errw io.Writer) error {
	lines := func(ls []string) {
		if !m.Config.Quiet && len(ls) > 0 {
			fmt.Fprintln(w, strings.Join(ls, "\n"))
		}
	}
	switch verb {
	case "join":
		res, err := m.ClusterJoin(ctx)
		if res != nil {
			lines(res.Summary())
		}
		return err
	case "leave":
		rep, err := m.ClusterLeave(ctx)
		if rep != nil {
			lines([]string{"Handed back to this node's own renewal: " + strings.Join(append(rep.HandedBack, "none")[:max(1, len(rep.HandedBack))], ", ")})
		}
		return err
	case "status":
		cs, err := m.ClusterStatus(ctx)
		if cs != nil && m.Config.JSON {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return errors.Join(enc.Encode(cs), err)
		} else if cs != nil {
			cs.WriteText(w, m.now())
		}
		return err
	case "sync":
		if !m.Config.Watch {
			r, err := m.ClusterSync(ctx)
			lines(r.Lines(true))
			return err
		}
		return m.ClusterWatch(ctx, func(r *ClusterSyncResult, err error) {
			if err != nil {
				fmt.Fprintf(errw, "cluster sync: %s\n", OneLine(err.Error()))
			}
			lines(r.Lines(false))
		})
	}
	var names []string
	for _, v := range ClusterVerbs {
		names = append(names, v[0])
	}
	return Usagef("cluster takes one of %s, not %q (see 'acmectl cluster --help')", strings.Join(names, ", "), verb)
}
