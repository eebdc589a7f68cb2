package cluster

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/acmectl/acmectl/internal/b64url"
	"github.com/acmectl/acmectl/storage"
	"github.com/go-jose/go-jose/v4"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// accountKey is P/account/<server-path> (certbot's accounts/<server-path>).
func accountKey(server string) (string, error) {
	p, err := storage.ServerPath(server)
	if err != nil {
		return "", err
	}
	return kAccount + p, nil
}

// Account returns the cluster's account for the CA at server (one per CA:
// every node orders with it, so any node can answer any http-01 challenge).
// None wraps ErrNotFound.
func (s *Store) Account(ctx context.Context, server string) (*storage.Account, error) {
	k, err := accountKey(server)
	if err != nil {
		return nil, err
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.abs(k))
	if err != nil {
		return nil, s.wrap("read account for "+server, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("account for %s: %w", server, ErrNotFound)
	}
	return s.openAccount(k, resp.Kvs[0].Value)
}

func (s *Store) openAccount(rel string, b []byte) (*storage.Account, error) {
	var r accountRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	der, err := s.key.Open(rel, "key", r.Key)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: account key: %w", rel, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: account key: unsupported type %T", rel, k)
	}
	return &storage.Account{ID: r.ID, Server: r.Server, URL: r.URL, Key: signer, Regr: r.Regr,
		Meta: storage.AccountMeta{CreationDT: r.CreationDT, CreationHost: r.CreationHost}}, nil
}

// ShareAccount stores a as the cluster's account for a.Server when the
// cluster has none, and returns the account the cluster uses: a itself, or
// the one another node shared first (so two nodes registering at once end
// up with one account). Updating an existing account (same key: new URL or
// regr) is allowed; a different key is not replaced.
func (s *Store) ShareAccount(ctx context.Context, a *storage.Account) (*storage.Account, error) {
	if a == nil || a.Key == nil || a.Server == "" {
		return nil, errors.New("share account: server and key are required")
	}
	k, err := accountKey(a.Server)
	if err != nil {
		return nil, err
	}
	id, err := storage.AccountID(a.Key.Public())
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(a.Key)
	if err != nil {
		return nil, fmt.Errorf("share account: %w", err)
	}
	created := a.Meta.CreationDT
	if created.IsZero() {
		created = time.Now()
	}
	host := a.Meta.CreationHost
	if host == "" {
		host = s.node
	}
	rec := accountRecord{ID: id, Server: a.Server, URL: a.URL, Regr: a.Regr, CreationDT: created.UTC().Truncate(time.Second),
		CreationHost: host, Key: s.key.Seal(k, "key", der)}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	ak := s.abs(k)
	for attempt := 0; attempt < 5; attempt++ {
		rctx, cancel := s.reqCtx(ctx)
		resp, err := s.cli.Txn(rctx).If(clientv3.Compare(clientv3.CreateRevision(ak), "=", 0)).
			Then(clientv3.OpPut(ak, string(b))).Else(clientv3.OpGet(ak)).Commit()
		cancel()
		if err != nil {
			return nil, s.wrap("share account for "+a.Server, err)
		}
		if resp.Succeeded {
			out := *a
			out.ID = id
			return &out, nil
		}
		kv := resp.Responses[0].GetResponseRange().Kvs[0]
		cur, err := s.openAccount(k, kv.Value)
		if err != nil {
			return nil, err
		}
		if cur.ID != id || (cur.URL == a.URL && a.URL != "") {
			return cur, nil
		}
		// Same key, new registration details: update if unchanged meanwhile.
		rctx, cancel = s.reqCtx(ctx)
		up, err := s.cli.Txn(rctx).If(clientv3.Compare(clientv3.ModRevision(ak), "=", kv.ModRevision)).
			Then(clientv3.OpPut(ak, string(b))).Commit()
		cancel()
		if err != nil {
			return nil, s.wrap("share account for "+a.Server, err)
		}
		if up.Succeeded {
			out := *a
			out.ID = id
			return &out, nil
		}
	}
	return nil, fmt.Errorf("share account for %s: changed by other nodes during five attempts", a.Server)
}

// Accounts lists every account the cluster holds, sorted by server path.
func (s *Store) Accounts(ctx context.Context) ([]*storage.Account, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.abs(kAccount), clientv3.WithPrefix())
	if err != nil {
		return nil, s.wrap("list accounts", err)
	}
	var out []*storage.Account
	var errs []error
	for _, kv := range resp.Kvs {
		a, err := s.openAccount(s.rel(kv.Key), kv.Value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, a)
	}
	return out, errors.Join(errs...)
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of an account's public
// key, base64url without padding: the second half of every key
// authorization (RFC 8555 §8.1).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	b, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwk thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AccountThumbprint is the thumbprint of the cluster's account at server.
// With it a node answers any http-01 challenge of any order the cluster
// made — statelessly, with nothing shared per challenge: behind a load
// balancer the CA's validation may reach a node that did not start the
// order (see Responder).
func (s *Store) AccountThumbprint(ctx context.Context, server string) (string, error) {
	a, err := s.Account(ctx, server)
	if err != nil {
		return "", err
	}
	return Thumbprint(a.Key.Public())
}

// Responder answers http-01 challenges without knowing them in advance: the
// key authorization of token is "<token>.<thumbprint>" (RFC 8555 §8.3), so a
// node needs only the shared account's thumbprint. It is what a standalone
// listener or a webroot writer of any node serves at
// /.well-known/acme-challenge/<token>.
type Responder struct {
	// Thumbprint is the account key's (AccountThumbprint).
	Thumbprint string
}

// KeyAuthorization returns the body to serve for token; ok is false for a
// token that is not base64url of a plausible length (answer 404, touch no
// path).
func (r Responder) KeyAuthorization(token string) (string, bool) {
	// RFC 8555 §8.1: base64url of at least 128 bits (22 characters); bounded.
	if r.Thumbprint == "" || !b64url.IsToken(token, 22, 256) {
		return "", false
	}
	return token + "." + r.Thumbprint, true
}
