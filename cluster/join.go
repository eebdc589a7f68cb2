package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/acmectl/acmectl/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ConflictError is a local lineage that cannot join the cluster as it is.
type ConflictError struct {
	Lineage string
	// Reason says what differs and what to do.
	Reason string
}

func (e *ConflictError) Error() string { return "lineage " + e.Lineage + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// JoinOptions choose what Join imports.
type JoinOptions struct {
	// Only limits the join to these local lineages (nil: all).
	Only []string
	// Adopt lets the cluster's version replace a local lineage that has the
	// same name and names but another key (each node renewed on its own
	// before the cluster existed). Without it that is a conflict.
	Adopt bool
}

// JoinReport is what Join did.
type JoinReport struct {
	// Imported lineages were new to the cluster and now come from this node.
	Imported []string
	// Shared lineages were in the cluster already with the same names and
	// key; Adopted ones with another key (JoinOptions.Adopt). Both now take
	// the cluster's version.
	Shared, Adopted []string
	// Accounts are the accounts this node shared ("server id").
	Accounts []string
	// Repointed lineages use the cluster's account for their CA instead of
	// the local one they named ("lineage: old → new").
	Repointed []string
	// Sync is the replica sync that marked the local copies.
	Sync *SyncReport
}

// sameNames is a lineage's names as one comparable string.
func sameNames(domains []string) string {
	d := slices.Clone(domains)
	for i := range d {
		d[i] = strings.ToLower(d[i])
	}
	sort.Strings(d)
	return strings.Join(slices.Compact(d), ",")
}

type joinPlan struct {
	local          *storage.Lineage
	keyID, keyType string
	names          string
	action         string // "import", "shared", "adopt"
}

// Join imports the node's lineages (certbot-made or acmectl-made) into the
// cluster, creating the cluster record on the first join. Everything is
// checked before anything is written: a lineage whose name the cluster has
// with other names, or with another key (unless Adopt), makes Join fail with
// one *ConflictError
// per lineage (joined; errors.Is ErrConflict) and change nothing; so does a
// lineage whose names and key type another lineage of the cluster already
// has (a node's own lineages for one name set, such as certbot's RSA + ECDSA
// pairs, are fine). Broken local lineages are refused the same way.
//
// Imported lineages keep their certificate and key as version 1 and their
// renewal settings (node paths dropped); the account each uses is shared
// when the cluster has none for that CA, else the lineage is repointed to
// the cluster's. Then every joined lineage's local conf gets autorenew =
// False and MarkerParam, and lineages that differ from the cluster's version
// get it (Sync; its Changes are what needs a deploy hook); a join of the
// whole node (no Only) also writes every other lineage of the cluster into
// the tree.
func (s *Store) Join(ctx context.Context, tree *storage.Tree, opts JoinOptions) (*JoinReport, error) {
	if err := s.initialize(ctx); err != nil {
		return nil, err
	}
	plans, conflicts, err := s.planJoin(ctx, tree, opts)
	if err != nil {
		return nil, err
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("join refused, nothing changed:\n%w", errors.Join(conflicts...))
	}

	rep := &JoinReport{}
	se, err := s.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	defer se.Close()
	accounts := map[string]*storage.Account{} // server → the cluster's account
	take := map[string]bool{}
	for _, p := range plans {
		name := p.local.Name
		take[name] = true
		switch p.action {
		case "shared":
			rep.Shared = append(rep.Shared, name)
			continue
		case "adopt":
			rep.Adopted = append(rep.Adopted, name)
			continue
		}
		conf := *p.local.Conf
		if store, ok := IsClusterManaged(&conf); ok && store == s.display {
			// A copy marked by an earlier, interrupted join: the cluster lost it.
			return rep, fmt.Errorf("join %s: the local copy says it is managed by this cluster, which does not have it: run acmectl cluster leave on this node, then join again", name)
		}
		if srv := conf.Params.Server; srv != "" {
			ca, ok := accounts[srv]
			if !ok {
				ca, err = s.shareLocalAccount(ctx, tree, srv, conf.Params.Account, rep)
				if err != nil {
					return rep, fmt.Errorf("join %s: %w", name, err)
				}
				accounts[srv] = ca
			}
			if ca != nil && ca.ID != conf.Params.Account {
				rep.Repointed = append(rep.Repointed, fmt.Sprintf("%s: %s → %s", name, conf.Params.Account, ca.ID))
				conf.Params.Account = ca.ID
			}
		}
		h, err := se.TryLock(ctx, name)
		if err != nil {
			return rep, fmt.Errorf("join %s: %w", name, err)
		}
		if h.Meta() != nil {
			// Another node imported it since the check: compare again.
			m := h.Meta()
			h.Release()
			if sameNames(m.Domains) != p.names || (m.KeyID != p.keyID && !opts.Adopt) {
				return rep, fmt.Errorf("join %s: another node joined it meanwhile with other names or another key; run join again to see the conflict: %w", name, ErrConflict)
			}
			rep.Shared = append(rep.Shared, name)
			continue
		}
		v := &storage.Version{CertPEM: p.local.CertPEM, ChainPEM: p.local.ChainPEM, KeyPEM: p.local.KeyPEM}
		if _, err := h.Commit(ctx, v, &conf); err != nil {
			h.Release()
			return rep, fmt.Errorf("join %s: %w", name, err)
		}
		if !conf.ARIRetryAfter.IsZero() {
			_ = h.UpdateMeta(ctx, func(m *Meta) { m.ARIRetryAfter = conf.ARIRetryAfter })
		}
		h.Release()
		rep.Imported = append(rep.Imported, name)
	}
	// A whole-node join also brings the lineages other nodes joined: the
	// node serves every name of the cluster from then on.
	only := keys(take)
	if opts.Only == nil {
		only = nil
	}
	sr, err := s.Sync(ctx, tree, SyncOptions{Only: only, takeOver: take})
	rep.Sync = sr
	if err != nil {
		return rep, err
	}
	return rep, sr.Err()
}

// planJoin checks every local lineage Join would take (opts.Only, else all)
// against the cluster: the plan for each, and a *ConflictError for each
// that cannot join as it is.
func (s *Store) planJoin(ctx context.Context, tree *storage.Tree, opts JoinOptions) ([]*joinPlan, []error, error) {
	infos, err := tree.ListLineages(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("join: list local lineages: %w", err)
	}
	metas, _, err := s.Lineages(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	// byNames: the cluster's lineages by names and key type (a name set may
	// have one lineage per key type, as certbot's RSA + ECDSA pairs do).
	byName, byNames := map[string]*Meta{}, map[string]*Meta{}
	for _, m := range metas {
		byName[m.Name] = m
		byNames[sameNames(m.Domains)+" "+m.KeyType] = m
	}
	var plans []*joinPlan
	var conflicts []error
	for _, li := range infos {
		if opts.Only != nil && !slices.Contains(opts.Only, li.Name) {
			continue
		}
		if li.Err != nil {
			conflicts = append(conflicts, &ConflictError{li.Name, fmt.Sprintf("the local copy is broken (%v): repair or delete it first", li.Err)})
			continue
		}
		l, err := tree.LoadLineage(ctx, li.Name)
		if err != nil {
			conflicts = append(conflicts, &ConflictError{li.Name, fmt.Sprintf("the local copy does not load (%v): repair or delete it first", err)})
			continue
		}
		if store, ok := IsClusterManaged(l.Conf); ok {
			if store != s.display {
				conflicts = append(conflicts, &ConflictError{li.Name, "it belongs to cluster " + store + ": leave that cluster first"})
				continue
			}
		}
		sum := sha256.Sum256(l.Cert.RawSubjectPublicKeyInfo)
		p := &joinPlan{local: l, keyID: hex.EncodeToString(sum[:]), names: sameNames(localNames(l.Cert)), keyType: keyType(l.Cert.PublicKey)}
		switch m := byName[li.Name]; {
		case m != nil && sameNames(m.Domains) != p.names:
			conflicts = append(conflicts, &ConflictError{li.Name, fmt.Sprintf("the cluster's lineage of that name is for %s, this node's for %s: rename this node's copy (certbot --cert-name) or delete one", sameNames(m.Domains), p.names)})
			continue
		case m != nil && m.KeyID != p.keyID && !opts.Adopt:
			conflicts = append(conflicts, &ConflictError{li.Name, "the cluster has it with another private key (renewed separately on each node): join with adopt to take the cluster's certificate and key on this node"})
			continue
		case m != nil && m.KeyID != p.keyID:
			p.action = "adopt"
		case m != nil:
			p.action = "shared"
		default:
			// Another node's lineage for the same names and key type: two
			// certificates per name set is what the cluster is to prevent.
			// (This node's own lineages for the same names are left alone.)
			if other := byNames[p.names+" "+p.keyType]; other != nil {
				conflicts = append(conflicts, &ConflictError{li.Name, fmt.Sprintf("the cluster renews the same names with the same key type as lineage %s: delete this node's copy, or rename it to %s (certbot --cert-name) and join again", other.Name, other.Name)})
				continue
			}
			p.action = "import"
		}
		plans = append(plans, p)
	}
	if opts.Only != nil {
		for _, n := range opts.Only {
			if !slices.ContainsFunc(plans, func(p *joinPlan) bool { return p.local.Name == n }) &&
				!slices.ContainsFunc(conflicts, func(e error) bool { var c *ConflictError; return errors.As(e, &c) && c.Lineage == n }) {
				conflicts = append(conflicts, &ConflictError{n, "no such lineage on this node"})
			}
		}
	}
	return plans, conflicts, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func localNames(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// shareLocalAccount shares the node's account for server (the one the
// lineage names, else the only one) unless the cluster has one, and returns
// the cluster's account (nil when neither has one).
func (s *Store) shareLocalAccount(ctx context.Context, tree *storage.Tree, server, id string, rep *JoinReport) (*storage.Account, error) {
	cur, err := s.Account(ctx, server)
	if err == nil {
		return cur, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	local, err := storage.PickAccount(ctx, tree, server, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil // renew registers one (and shares it)
	}
	if err != nil {
		return nil, fmt.Errorf("account for %s: %w", server, err)
	}
	a, err := s.ShareAccount(ctx, local)
	if err != nil {
		return nil, err
	}
	if a.ID == local.ID {
		rep.Accounts = append(rep.Accounts, server+" "+a.ID)
	}
	return a, nil
}

// LeaveReport is what Leave did.
type LeaveReport struct {
	// HandedBack lineages renew on this node alone again (their conf has the
	// cluster's autorenew value and no marker).
	HandedBack []string
	// Sync is the sync that ran first so the node leaves with the newest
	// versions (nil when etcd was unreachable; Leave then hands back what
	// the node has).
	Sync *SyncReport
}

// Leave hands the node's cluster-managed lineages (only those named, when
// only is not nil) back to local renewal: first a sync, so the tree has the
// cluster's newest versions, then each local conf gets the shared settings
// with the lineage's own autorenew value and no marker, so certbot or a
// plain acmectl renew renews it again. The cluster keeps the lineages for
// the other nodes. When etcd does not answer, the local confs are handed
// back as they are (marker removed, autorenew on) and the error says so.
func (s *Store) Leave(ctx context.Context, tree *storage.Tree, only []string) (*LeaveReport, error) {
	rep := &LeaveReport{}
	infos, err := tree.ListLineages(ctx)
	if err != nil {
		return rep, fmt.Errorf("leave: list local lineages: %w", err)
	}
	var errs []error
	var mine []string
	for _, li := range infos {
		if only != nil && !slices.Contains(only, li.Name) {
			continue
		}
		conf, err := tree.LoadRenewalConf(ctx, li.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("leave %s: %w", li.Name, err))
			continue
		}
		if store, ok := IsClusterManaged(conf); ok && store == s.display {
			mine = append(mine, li.Name)
		}
	}
	if len(mine) == 0 {
		return rep, errors.Join(errs...)
	}
	// Only the lineages this node has: leaving does not fetch new ones.
	sr, syncErr := s.Sync(ctx, tree, SyncOptions{Only: mine, Verify: true})
	rep.Sync = sr
	var gone []string
	for _, name := range mine {
		var back *storage.RenewalConf
		if syncErr == nil {
			shared, err := s.settings(ctx, name, 0)
			if err == nil {
				back, err = HandBack(name, shared)
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, fmt.Errorf("leave %s: %w", name, err))
				continue
			}
		}
		if back == nil {
			conf, err := tree.LoadRenewalConf(ctx, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("leave %s: %w", name, err))
				continue
			}
			conf.DeleteParam(MarkerParam)
			conf.DeleteParam(SettingsParam)
			conf.Params.NoAutoRenew = false
			back = conf
		}
		if err := tree.SaveRenewalConf(ctx, name, back); err != nil {
			errs = append(errs, fmt.Errorf("leave %s: %w", name, err))
			continue
		}
		rep.HandedBack = append(rep.HandedBack, name)
		gone = append(gone, name)
	}
	if err := s.saveState(tree, &syncResult{removed: gone}); err != nil {
		errs = append(errs, err)
	}
	if syncErr != nil {
		errs = append(errs, fmt.Errorf("leave: the cluster's newest versions could not be fetched; the lineages were handed back as this node has them: %w", syncErr))
	}
	return rep, errors.Join(errs...)
}

// LineageStatus is one lineage as Status shows it. Whether it is due is the
// engine's decision from Meta (renew_before_expiry, ARI, autorenew).
type LineageStatus struct {
	*Meta
	// Holder is the node holding the lineage now ("" when free).
	Holder string
	// InFlight is the order a holder recorded and did not commit (key not
	// included), InFlightNode the node that recorded it; nil when none.
	InFlight     *InFlight
	InFlightNode string
}

// NodeStatus is one session alive now.
type NodeStatus struct {
	Node    string
	PID     int
	Started time.Time
}

// AccountStatus is one shared account.
type AccountStatus struct {
	Server, ID, URL string
	// Thumbprint is what every node's http-01 responder appends to tokens.
	Thumbprint string
}

// ClusterStatus is the whole cluster at one moment.
type ClusterStatus struct {
	Store    string
	KeyID    string
	Lineages []LineageStatus
	Nodes    []NodeStatus
	Accounts []AccountStatus
}

// Status reads the cluster: each lineage's metadata (last renewing node and
// when, expiry, ARI, failures), who holds it now, orders in flight, the
// nodes running a session, and the shared accounts.
func (s *Store) Status(ctx context.Context) (*ClusterStatus, error) {
	metas, rev, err := s.Lineages(ctx, nil)
	if err != nil && metas == nil {
		return nil, err
	}
	st := &ClusterStatus{Store: s.display, KeyID: s.key.ID()}
	holders := map[string]string{}
	flights := map[string]*InFlight{}
	flightNodes := map[string]string{}
	rctx, cancel := s.reqCtx(ctx)
	resp, gerr := s.cli.Txn(rctx).Then(
		clientv3.OpGet(s.abs(kLock), clientv3.WithPrefix(), clientv3.WithRev(rev)),
		clientv3.OpGet(s.abs(kInflight), clientv3.WithPrefix(), clientv3.WithRev(rev)),
		clientv3.OpGet(s.abs(kNode), clientv3.WithPrefix(), clientv3.WithRev(rev)),
	).Commit()
	cancel()
	if gerr != nil {
		return nil, s.wrap("cluster status", gerr)
	}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		var nr nodeRecord
		_ = json.Unmarshal(kv.Value, &nr)
		holders[strings.TrimPrefix(s.rel(kv.Key), kLock)] = nr.Node
	}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		name := strings.TrimPrefix(s.rel(kv.Key), kInflight)
		if f, node, err := s.openInFlight(name, kv.Value, false); err == nil {
			flights[name], flightNodes[name] = f, node
		}
	}
	for _, kv := range resp.Responses[2].GetResponseRange().Kvs {
		var nr nodeRecord
		if json.Unmarshal(kv.Value, &nr) == nil {
			st.Nodes = append(st.Nodes, NodeStatus(nr))
		}
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Node < st.Nodes[j].Node })
	for _, m := range metas {
		st.Lineages = append(st.Lineages, LineageStatus{Meta: m, Holder: holders[m.Name], InFlight: flights[m.Name], InFlightNode: flightNodes[m.Name]})
	}
	accts, aerr := s.Accounts(ctx)
	for _, a := range accts {
		th, _ := Thumbprint(a.Key.Public())
		st.Accounts = append(st.Accounts, AccountStatus{Server: a.Server, ID: a.ID, URL: a.URL, Thumbprint: th})
	}
	return st, errors.Join(err, aerr)
}
