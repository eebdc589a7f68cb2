//go:build !nocluster

package manager

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
	"github.com/acmectl/acmectl/cluster"
	"github.com/acmectl/acmectl/storage"
)

// A cluster (--store etcd://…) is a second store behind the same engine:
// the cluster's lineages are renewed and issued by the engine's own Renew
// and Certonly over a cluster.Storage (etcd, one lock per lineage taken
// without waiting, fenced commits, the order in flight recorded in etcd),
// and every node's certbot tree is the cluster's replica: each commit is
// written into the committing node's tree at once, and a renew run ends
// with a sync that writes what other nodes renewed and runs the deploy
// hooks and the installer for it. The node's own lineages (not joined)
// renew from its tree as before, in the same run.

// checkStore validates --store (a password in the URL is refused there).
func checkStore(c *Config) error {
	if c.Store == "" {
		return nil
	}
	if _, err := cluster.ParseURL(c.Store); err != nil {
		return Usagef("--store: %w", err)
	}
	return nil
}

// ClusterConfig is the connection Config.Store names: the URL's options,
// then the environment ($ACMECTL_ETCD_USER, $ACMECTL_ETCD_PASSWORD or
// $ACMECTL_ETCD_PASSWORD_FILE). The cluster key file is --cluster-key-file
// when given, else the URL's cluster-key=, else $ACMECTL_CLUSTER_KEY_FILE,
// else /etc/acmectl/cluster.key.
func ClusterConfig(c *Config, log *slog.Logger) (*cluster.Config, error) {
	if c.Store == "" {
		return nil, NeedFlag("no cluster store given", "--store etcd://HOST:2379/PREFIX (or store = ... in cli.ini)")
	}
	cc, err := cluster.ParseURL(c.Store)
	if err != nil {
		return nil, &UsageError{err}
	}
	fromURL := cc.ClusterKeyFile
	if err := cc.LoadEnv(os.Getenv); err != nil {
		return nil, &UsageError{err}
	}
	switch {
	case c.Set["cluster-key-file"]:
		if fromURL != "" && fromURL != c.ClusterKeyFile {
			return nil, Usagef("--cluster-key-file %s and the store URL's cluster-key=%s disagree; give one", c.ClusterKeyFile, fromURL)
		}
		cc.ClusterKeyFile = c.ClusterKeyFile
	case cc.ClusterKeyFile == "":
		cc.ClusterKeyFile = c.ClusterKeyFile
	}
	if cc.ClusterKeyFile == "" {
		cc.ClusterKeyFile = DefaultClusterKeyFile
	}
	cc.Logger = log
	return cc, nil
}

// openCluster returns the cluster store: Manager.Cluster, or one opened
// from Config.Store (closed by done).
func (m *Manager) openCluster(ctx context.Context) (s *cluster.Store, done func(), err error) {
	if m.Cluster != nil {
		return m.Cluster, func() {}, nil
	}
	cc, err := ClusterConfig(m.Config, m.log())
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(cc.ClusterKeyFile); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no cluster key at %s: copy the cluster's key file from another node (mode 0600), give its path with --cluster-key-file, or start a new cluster with acmectl cluster join --generate-key", cc.ClusterKeyFile)
	}
	s, err = cluster.Open(ctx, cc)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// openShared opens the cluster as the store of a sibling manager.
func (m *Manager) openShared(ctx context.Context) (*Manager, func(), error) {
	t, err := m.tree()
	if err != nil {
		return nil, nil, err
	}
	s, done, err := m.openCluster(ctx)
	if err != nil {
		return nil, nil, err
	}
	st := cluster.NewStorage(s, t)
	// The CA client is m's, made on first use (a run with nothing due makes
	// none: loading the system's CA certificates is a tenth of such a run).
	cm := &Manager{Config: m.Config, Store: st, Log: m.Log, Observer: m.Observer, Prompter: m.Prompter, httpFrom: m,
		Installer: m.Installer, Authenticators: m.Authenticators, Terminal: m.Terminal, Now: m.Now, Sleep: m.Sleep, shared: st}
	return cm, func() { cm.closeResponders(); st.Close(); done() }, nil
}

// heldBy is why a lineage another node holds or renewed during this run is
// skipped ("being renewed by node b (pid 12, since …)", "renewed by node b
// during this run (…)").
func heldBy(err error) string {
	s := err.Error()
	for _, sentinel := range []error{cluster.ErrHeld, cluster.ErrRenewedMeanwhile} {
		s = strings.TrimSuffix(s, ": "+sentinel.Error())
	}
	if i := strings.Index(s, " is being renewed by "); i >= 0 {
		return s[i+len(" is "):]
	}
	if i := strings.Index(s, " was renewed by "); i >= 0 {
		return s[i+len(" was "):]
	}
	return "being renewed by another node"
}

// lostLease names a cancelled lineage's cause when it was the cluster
// lease.
func lostLease(ctx context.Context, err error) error {
	if ctx.Err() == nil || !errors.Is(context.Cause(ctx), cluster.ErrFenced) {
		return err
	}
	return fmt.Errorf("this node lost its cluster lease (etcd unreachable for too long), so the lineage's work was stopped; whichever node renews it next collects the order recorded before finalize: %w", err)
}

// renewCluster is renew's pass over the cluster's lineages: the engine's
// walk over a cluster.Storage, then a sync of the node's replica with the
// deploy hooks and installer for what other nodes renewed. It returns the
// lineages the cluster manages (the local pass skips them). When etcd does
// not answer, each of the node's cluster lineages fails with one line and
// nothing local changes.
func (r *renewRun) renewCluster(ctx context.Context, only []string, outcomes *outcomeList) (map[string]bool, error) {
	m := r.m
	if !m.clusterMode() {
		return nil, nil
	}
	cm, done, err := m.openShared(ctx)
	if errors.Is(err, cluster.ErrUnavailable) {
		return r.clusterDown(ctx, only, outcomes)
	}
	if err != nil {
		return nil, err
	}
	defer done()
	st := cm.shared
	cr := &renewRun{m: cm, hooks: r.hooks, sleepOnce: r.sleepOnce, rnd: r.rnd, rndMu: r.rndMu, runCtx: r.runCtx, hookCtx: r.hookCtx,
		inFlight: cm.inFlightNames(ctx)}
	werr := cr.walk(ctx, only, outcomes, nil)
	skip := map[string]bool{}
	for _, n := range st.ListedNames() {
		skip[n] = true
	}
	if errors.Is(werr, cluster.ErrUnavailable) && len(skip) == 0 {
		return r.clusterDown(ctx, only, outcomes)
	}
	if werr != nil {
		return skip, werr
	}
	cm.closeResponders()
	if !m.Config.DryRun {
		rep, err := st.SyncReplica(ctx, only)
		r.synced = m.deploySynced(r.hookCtx, r.hooks, rep)
		r.syncErr = err
		if err == nil && rep != nil {
			r.syncErr = rep.Err()
		}
	}
	return skip, nil
}

// clusterDown fails every cluster lineage of the node's tree (one line
// each) without touching it: the replica keeps serving.
func (r *renewRun) clusterDown(ctx context.Context, only []string, outcomes *outcomeList) (map[string]bool, error) {
	m := r.m
	t, err := m.tree()
	if err != nil {
		return nil, err
	}
	cc, err := ClusterConfig(m.Config, m.log())
	if err != nil {
		return nil, err
	}
	lis, err := cluster.ManagedLocally(ctx, t, cc.String(), only)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, li := range lis {
		skip[li.Name] = true
		oc := outcomes.add()
		oc.Lineage, oc.Expiry = li.Name, li.NotAfter.Unix()
		m.emit(Event{Kind: EventLineageStarted, Lineage: li.Name, ConfPath: li.ConfPath})
		oc.more().names = li.Domains
		r.fail(oc, li.Name, StatusFailed, fmt.Errorf("not renewed: the cluster's etcd at %s did not answer (%w); this node's copy keeps serving until %s",
			strings.Join(cc.Endpoints, ","), cluster.ErrUnavailable, li.NotAfter.UTC().Format("2006-01-02")))
	}
	return skip, nil
}

// deploySynced runs, for every lineage a sync created or renewed in the
// node's tree, the lineage's deploy hook (and the renewal-hooks/deploy
// directory) and the installer, and reports it; it returns the names
// deployed (for the post hooks).
func (m *Manager) deploySynced(ctx context.Context, h *hooks, rep *cluster.SyncReport) []string {
	if rep == nil {
		return nil
	}
	t, err := m.tree()
	if err != nil {
		return nil
	}
	var names []string
	for _, ch := range rep.Changes {
		if ch.Kind != cluster.ChangeCreated && ch.Kind != cluster.ChangeRenewed {
			continue
		}
		l, err := t.LoadLineage(ctx, ch.Lineage)
		if err != nil {
			m.emit(Event{Kind: EventLineageFailed, Lineage: ch.Lineage, Err: fmt.Errorf("the cluster's new certificate was written but does not load: %w", err)})
			continue
		}
		lc, err := lineageConfig(m.Config, l)
		if err != nil {
			lc = m.Config
		}
		certNames := CertNames(l.Cert)
		names = append(names, certNames...)
		m.emit(Event{Kind: EventLineageSynced, Lineage: ch.Lineage, Names: certNames, NotAfter: l.Cert.NotAfter, ConfPath: ch.Live})
		h.AddPost(lc.PostHook)
		h.Deploy(ctx, ch.Lineage, lc.DeployHook, ch.Live, certNames)
		m.install(ctx, h, lc, ch.Lineage, &IssueResult{Lineage: ch.Lineage, Cert: l.Cert, Names: certNames, LiveDir: ch.Live,
			Fullchain: l.FullchainPath, Privkey: l.KeyPath, AccountID: l.Conf.Params.Account}, true)
	}
	return names
}

// certonlyCluster is certonly on the cluster's lineages: the name must be
// free in the cluster and in the node's tree, the lineage is taken with
// TryLock and committed with its settings, and written into the node's tree.
func (m *Manager) certonlyCluster(ctx context.Context) (*CertonlyResult, error) {
	cm, done, err := m.openShared(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return cm.Certonly(ctx)
}

// registerCluster registers an account and shares it (a node that finds
// the cluster's account already there is told so).
func (m *Manager) registerCluster(ctx context.Context) (*storage.Account, error) {
	cm, done, err := m.openShared(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return cm.Register(ctx)
}

// sharedAccount switches a freshly registered account to the one the store
// uses for its CA: in a cluster, another node may have shared its account
// first (one account per CA, so any node can answer any http-01 challenge).
func (m *Manager) sharedAccount(ctx context.Context, cl *acme.Client, sa *storage.Account) (*acme.Client, *storage.Account, error) {
	if m.shared == nil {
		return cl, sa, nil
	}
	got, err := m.Store.LoadAccount(ctx, sa.Server, sa.ID)
	if err != nil || got.ID == sa.ID {
		return cl, sa, err
	}
	m.log().LogAttrs(ctx, slog.LevelInfo, "using the account another node shared first", slog.String("account_id", got.ID))
	ncl, err := m.newClient(sa.Server, got.Key, got.URL)
	return ncl, got, err
}

// sharedStandalone is the http-01 listener of a cluster run: one per
// address for the whole run, answering the tokens this node presents and,
// statelessly, any other token with the cluster account's thumbprint — the
// CA's validation of another node's order may reach this node through the
// load balancer.
func (m *Manager) sharedStandalone(o *Config) func(context.Context) (map[string]acme.Solver, func(), error) {
	return func(ctx context.Context) (map[string]acme.Solver, func(), error) {
		key := fmt.Sprintf("%s:%d", o.HTTP01Addr, o.HTTP01Port)
		m.respMu.Lock()
		defer m.respMu.Unlock()
		s := m.responders[key]
		if s == nil {
			s = http01.NewStandalone(o.HTTP01Addr, o.HTTP01Port)
			s.Logger = m.log()
			s.KeyAuthorizer = keyAuthorizer(m.shared, o.Server)
			if err := s.Start(context.WithoutCancel(ctx)); err != nil {
				return nil, nil, fmt.Errorf("standalone http-01 server on port %d: %w", o.HTTP01Port, err)
			}
			if m.responders == nil {
				m.responders = map[string]*http01.Standalone{}
			}
			m.responders[key] = s
		}
		return map[string]acme.Solver{acme.ChallengeHTTP01: s}, nil, nil
	}
}

// keyAuthorizer answers a token with "<token>.<thumbprint>" of the cluster's
// account for server (looked up once it exists; bounded).
func keyAuthorizer(st thumbprinter, server string) func(string) (string, bool) {
	return func(token string) (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		th, err := st.Thumbprint(ctx, server)
		if err != nil || th == "" {
			return "", false
		}
		return cluster.Responder{Thumbprint: th}.KeyAuthorization(token)
	}
}

type thumbprinter interface {
	Thumbprint(ctx context.Context, server string) (string, error)
}

// closeResponders stops the run's http-01 listeners.
func (m *Manager) closeResponders() {
	m.respMu.Lock()
	rs := m.responders
	m.responders = nil
	m.respMu.Unlock()
	for _, s := range rs {
		s.Close()
	}
}
