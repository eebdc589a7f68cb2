package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/grpclog"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnavailable: etcd did not answer in time (down, partitioned, wrong
	// address). Nothing was changed by the failed call.
	ErrUnavailable = errors.New("cluster: etcd unavailable")
	// ErrHeld: another node holds the lineage (it is renewing it); skip it.
	ErrHeld = errors.New("cluster: lineage held by another node")
	// ErrRenewedMeanwhile: another node committed a new version of the
	// lineage after this run listed it (its due decision is stale); skip it.
	ErrRenewedMeanwhile = errors.New("cluster: lineage renewed by another node during this run")
	// ErrFenced: this node no longer owns the lineage (its session's lease
	// expired, or the record changed under it); the write was refused and
	// nothing it wrote is in etcd.
	ErrFenced = errors.New("cluster: ownership lost, write refused")
	// ErrNotFound: no such lineage or account in the cluster.
	ErrNotFound = errors.New("cluster: not found")
	// ErrNotInitialized: the prefix holds no acmectl cluster (join first).
	ErrNotInitialized = errors.New("cluster: no cluster at this prefix")
	// ErrConflict: a node's lineage cannot join (see ConflictError).
	ErrConflict = errors.New("cluster: conflicting lineage")
)

// quietGRPC keeps gRPC's own logger (process-wide, stderr by default) off
// the command's output: every failure reaches the caller as an error.
var quietGRPC sync.Once

// Store is one connection to a cluster's etcd under its prefix. It is safe for
// concurrent use; do not copy it. Close releases the connection.
type Store struct {
	cli     *clientv3.Client
	prefix  string // with trailing "/"
	key     *Key
	node    string
	cfg     Config
	log     *slog.Logger
	display string
}

// Open connects to the cluster described by cfg, reads the cluster key file
// and checks, within cfg.DialTimeout, that etcd answers and that the cluster
// (when the prefix holds one) was made with the same cluster key. It fails
// fast with an error wrapping ErrUnavailable when etcd does not answer, and
// with a message naming both key IDs when the keys differ. A prefix that
// holds no cluster yet is not an error here (Join creates it; other calls
// return ErrNotInitialized).
func Open(ctx context.Context, cfg *Config) (*Store, error) {
	if cfg == nil || len(cfg.Endpoints) == 0 {
		return nil, errors.New("cluster: no etcd endpoint")
	}
	c := *cfg
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Node == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return nil, errors.New("cluster: no node name (set node= in the store URL)")
		}
		c.Node = h
	}
	quietGRPC.Do(func() { grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard)) })
	key, err := LoadKey(c.ClusterKeyFile)
	if err != nil {
		return nil, err
	}
	ec := clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          c.DialTimeout,
		DialKeepAliveTime:    30 * time.Second, // etcd refuses pings more often than every 5 s
		DialKeepAliveTimeout: 5 * time.Second,
		PermitWithoutStream:  true,
		Username:             c.Username,
		Password:             c.Password.Reveal(),
		Logger:               zap.NewNop(),
		// etcd's default limits: a request of 1.5 MiB; replies are paged.
		MaxCallSendMsgSize: 2 << 20,
		DialOptions:        []grpc.DialOption{},
		Context:            context.WithoutCancel(ctx),
	}
	if c.TLS {
		tc, err := tlsConfig(&c)
		if err != nil {
			return nil, err
		}
		ec.TLS = tc
	}
	s := &Store{prefix: strings.TrimSuffix(c.Prefix, "/") + "/", key: key, node: c.Node, cfg: c, log: c.Logger, display: c.String()}
	cli, err := clientv3.New(ec)
	if err != nil {
		return nil, s.wrap("connect", err)
	}
	s.cli = cli
	if _, err := s.format(ctx); err != nil && !errors.Is(err, ErrNotInitialized) {
		cli.Close()
		return nil, err
	}
	return s, nil
}

func tlsConfig(c *Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		b, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("etcd CA bundle %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		if _, err := readPrivateFile(c.KeyFile, "etcd client key", 1<<20, false); err != nil {
			return nil, err
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Close closes the connection (sessions made from it end; their locks are
// released when their leases expire).
func (s *Store) Close() error { return s.cli.Close() }

// Node is this node's name as the shared records show it.
func (s *Store) Node() string { return s.node }

// Key is the cluster key this node loaded.
func (s *Store) Key() *Key { return s.key }

// String is the store URL without credentials.
func (s *Store) String() string { return s.display }

// abs turns a key relative to the prefix into an etcd key.
func (s *Store) abs(rel string) string { return s.prefix + rel }

// rel strips the prefix from an etcd key.
func (s *Store) rel(key []byte) string { return strings.TrimPrefix(string(key), s.prefix) }

// reqCtx bounds one request by cfg.RequestTimeout.
func (s *Store) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// wrap names the operation and marks errors that mean "etcd did not answer"
// with ErrUnavailable (the caller's own cancellation is passed through).
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrFenced) || errors.Is(err, ErrHeld) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	if isUnavailable(err) {
		return fmt.Errorf("%s: etcd at %s did not answer (%v): %w", op, strings.Join(s.cfg.Endpoints, ","), err, ErrUnavailable)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"Unavailable", "connection refused", "DeadlineExceeded", "deadline exceeded", "no connection", "transport is closing", "connection error", "i/o timeout", "EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// format reads P/cluster and checks the format and key ID.
func (s *Store) format(ctx context.Context) (*formatRecord, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.abs(kFormat))
	if err != nil {
		return nil, s.wrap("read cluster record", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%s: %w (run acmectl cluster join on a first node)", s.display, ErrNotInitialized)
	}
	var f formatRecord
	if err := json.Unmarshal(resp.Kvs[0].Value, &f); err != nil {
		return nil, fmt.Errorf("%s: cluster record: %w", s.display, err)
	}
	if f.Format > formatVersion {
		return nil, fmt.Errorf("%s: cluster format %d is newer than this acmectl (%d): upgrade acmectl", s.display, f.Format, formatVersion)
	}
	if f.KeyID != s.key.ID() {
		return nil, fmt.Errorf("%s: the cluster's key is %s, this node's cluster key file holds %s: copy the cluster's key file to this node", s.display, f.KeyID, s.key.ID())
	}
	return &f, nil
}

// initialize creates P/cluster when absent (first join) and checks it.
func (s *Store) initialize(ctx context.Context) error {
	b, _ := json.Marshal(formatRecord{Format: formatVersion, KeyID: s.key.ID(), Created: time.Now().UTC(), CreatedBy: s.node})
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	k := s.abs(kFormat)
	_, err := s.cli.Txn(rctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).Then(clientv3.OpPut(k, string(b))).Commit()
	if err != nil {
		return s.wrap("create cluster record", err)
	}
	_, err = s.format(ctx)
	return err
}

// Lineages returns every lineage's metadata sorted by name (only those named
// in only, when it is not nil), read at one revision in pages of 1,000 keys:
// everything renew needs to decide that nothing is due, without a
// certificate. An unreadable record is returned with its error joined into
// errs; the others stay usable.
func (s *Store) Lineages(ctx context.Context, only []string) (metas []*Meta, rev int64, err error) {
	if _, err := s.format(ctx); err != nil {
		return nil, 0, err
	}
	if only != nil {
		return s.someMetas(ctx, only)
	}
	return s.listMetas(ctx, 0)
}

// LineagesSince returns the metadata of the lineages changed after
// revision since (etcd filters: the unchanged ones never cross the
// network), at the revision returned. When nothing at all was written to
// etcd since, one small request says so: the filtered range makes etcd
// read every record (over 10,000 lineages, a tenth of a nothing-due run).
func (s *Store) LineagesSince(ctx context.Context, since int64) (metas []*Meta, rev int64, err error) {
	rctx, cancel := s.reqCtx(ctx)
	resp, err := s.cli.Get(rctx, s.abs(kMeta), clientv3.WithCountOnly())
	cancel()
	if err == nil && resp.Header.Revision == since {
		return nil, since, nil
	}
	return s.listMetas(ctx, since+1)
}

// listMetas pages through the metadata (those with a revision ≥ minRev
// when minRev > 0) at one revision. The next page is asked for as soon as a
// page arrives, while this one's records are decoded: over 10,000 lineages
// etcd's work and the transfer of one page overlap the decoding of the
// previous one.
func (s *Store) listMetas(ctx context.Context, minRev int64) (metas []*Meta, rev int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		kvs []*mvccKV
		rev int64
		err error
	}
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		from, end := s.abs(kMeta), clientv3.GetPrefixRangeEnd(s.abs(kMeta))
		var rev int64
		for {
			rctx, rcancel := s.reqCtx(ctx)
			opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(metaPage)}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev))
			}
			if minRev > 0 {
				opts = append(opts, clientv3.WithMinModRev(minRev))
			}
			resp, gerr := s.cli.Get(rctx, from, opts...)
			rcancel()
			if gerr != nil {
				pages <- page{err: s.wrap("list lineages", gerr)}
				return
			}
			if rev == 0 {
				rev = resp.Header.Revision
			}
			select {
			case pages <- page{kvs: resp.Kvs, rev: rev}:
			case <-ctx.Done():
				return
			}
			if !resp.More || len(resp.Kvs) == 0 {
				return
			}
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
	}()
	var errs []error
	for p := range pages {
		if p.err != nil {
			return nil, 0, p.err
		}
		rev = p.rev
		for _, kv := range p.kvs {
			m, err := s.metaFromKV(kv)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			metas = append(metas, m)
		}
	}
	if err := ctx.Err(); err != nil { // the pages stopped short
		return nil, 0, s.wrap("list lineages", err)
	}
	return metas, rev, errors.Join(errs...)
}

// metaPage is how many metadata records one range request asks for.
const metaPage = 1000

func (s *Store) someMetas(ctx context.Context, only []string) ([]*Meta, int64, error) {
	var ops []clientv3.Op
	for _, n := range only {
		ops = append(ops, clientv3.OpGet(s.abs(metaKey(n))))
	}
	var metas []*Meta
	var errs []error
	var rev int64
	for len(ops) > 0 {
		batch := ops[:min(len(ops), 100)] // etcd's default --max-txn-ops is 128
		ops = ops[len(batch):]
		rctx, cancel := s.reqCtx(ctx)
		txn := s.cli.Txn(rctx).Then(batch...)
		resp, err := txn.Commit()
		cancel()
		if err != nil {
			return nil, 0, s.wrap("read lineages", err)
		}
		rev = resp.Header.Revision
		for _, r := range resp.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				m, err := s.metaFromKV(kv)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				metas = append(metas, m)
			}
		}
	}
	return metas, rev, errors.Join(errs...)
}

// metaFromKV decodes a P/meta/<name> record. The name is the key's, never
// the record's (a record cannot claim another lineage or a path).
func (s *Store) metaFromKV(kv *mvccKV) (*Meta, error) {
	rel := s.rel(kv.Key)
	name := strings.TrimPrefix(rel, kMeta)
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	m := &Meta{}
	if err := decodeMeta(kv.Value, m); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	m.Name, m.ModRevision = name, kv.ModRevision
	return m, nil
}

// Lineage returns one lineage's metadata, or an error wrapping ErrNotFound.
func (s *Store) Lineage(ctx context.Context, name string) (*Meta, error) {
	ms, _, err := s.someMetas(ctx, []string{name})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("lineage %s: %w", name, ErrNotFound)
	}
	return ms[0], nil
}
