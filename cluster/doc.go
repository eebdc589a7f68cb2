// Package cluster lets several servers behind one name share their
// certificates through etcd v3: one node renews a lineage, every node installs
// it, none issues a second certificate.
//
// It owns the cluster's shared state under one key prefix (the account, each
// lineage's metadata, its two newest versions, its renewal settings without
// node paths, the order in flight), the coordination that makes exactly one
// node work on a lineage (a Session's lease and one lock per lineage, taken
// without waiting), the fencing of every write, the encryption of private
// keys with a cluster key that never leaves the nodes, and each node's
// replica: its certbot tree (/etc/letsencrypt), written with package
// storage's crash-safe writer so nginx, Apache and certbot keep reading it.
//
// It is not an ACME client and does not decide when a certificate is due:
// the engine asks the CA and calls in here to lock, record, commit and sync.
// It must never import acme, challenge, cmd, manager, installer or scm; of
// this module it imports only storage.
//
// # Connecting
//
// A store URL names the members and the prefix: etcd://host:2379[,host…]/prefix,
// or etcds:// for TLS, with options ca=, cert=, key= (client certificate),
// user=, password-file=, cluster-key= and node= (ParseURL). Passwords never
// come from the URL: a file, or ACMECTL_ETCD_PASSWORD(_FILE) (Config.LoadEnv).
// Credentials are held in Secret, which prints as "[redacted]" every way.
// Every request is bounded (Config.RequestTimeout); etcd that does not answer
// gives an error wrapping ErrUnavailable and changes nothing locally.
//
// # Ownership and fencing
//
// A run opens one Session: an etcd lease with a 30-s TTL that it renews every
// 10 s. Its Context is cancelled when a renewal does not come back before
// the lease could expire on the server (counted from when the renewal was
// sent, so never later than etcd's own expiry): work in progress stops.
// Session.TryLock puts P/lock/<lineage> bound to the lease if absent; a
// lineage another node holds is reported with ErrHeld and skipped, never
// waited for. Under the lock the Hold reads the lineage's metadata and its
// ModRevision. Every write (Commit, SaveInFlight, UpdateMeta, …) is one
// transaction that succeeds only if the lock key still has the create
// revision this Hold made and the metadata still has the revision read under
// the lock: a node whose lease expired — paused, partitioned, slow — can never
// overwrite what the next holder wrote, even if it does not know yet that it
// lost the lease (ErrFenced). A write whose answer was lost is read back
// (each carries a random commit id) rather than assumed failed.
//
// # Orders in flight
//
// Before finalizing an order the holder records it (Hold.SaveInFlight: order
// URL, CA, account, CSR, the new key sealed). A node that takes the lineage
// over finds it in Hold.InFlight and finishes that order; Commit deletes it.
// This is the information of a single node's local in-flight record, so one
// resume logic serves both.
//
// # Encryption
//
// Private keys (account, certificate, in-flight) are sealed with AES-256-GCM
// under the cluster key (LoadKey: a 0600 file on every node, never in etcd),
// with the etcd key and field they are stored under as associated data: a
// sealed value moved to another record does not open (ErrTampered). A
// version's key is also bound to the certificate and chain beside it, and
// the shared settings are sealed as well — every node runs the hooks they
// name, so write access to etcd alone cannot inject one. The cluster record
// P/cluster holds the key's ID, so a node with another key is refused at
// Open with both IDs named. What the cluster key does not protect: the
// metadata is plain (someone who can write to etcd can make a lineage look
// due, or roll a lineage back to an older genuine version); etcd's own
// authentication and TLS guard that.
//
// # Replicas
//
// Sync writes the cluster's current version of each lineage into a node's
// tree (a new archive version and live links, or a new lineage), with
// autorenew = False and the MarkerParam in its renewal conf so a leftover
// certbot timer never renews it, and reports what changed so the engine can
// run deploy hooks and reload servers. Watch keeps doing so as etcd changes.
// Join imports a node's lineages (refusing conflicts), Leave hands them back.
//
// # Key layout
//
//	P/cluster                   format version, cluster key ID (JSON)
//	P/account/<server-path>     the CA account every node uses, key sealed (JSON)
//	P/meta/<lineage>            Meta in a compact binary form: what renew decides on
//	P/conf/<lineage>            renewal settings (certbot's conf text, no node paths), sealed
//	P/cert/<lineage>/<N>        version N (10 digits): cert, chain, key sealed (JSON); N and N-1 kept
//	P/inflight/<lineage>        the order being finalized, key sealed (JSON)
//	P/lock/<lineage>            the holder's node record, bound to its session's lease
//	P/node/<lease>              a running session's node record, bound to its lease
//
// A lineage's name is the last part of its keys (never a field of a record).
package cluster
