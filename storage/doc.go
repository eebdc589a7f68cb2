// Package storage reads and writes certbot's configuration tree
// (/etc/letsencrypt by default) so that acmectl and certbot can take turns on
// the same machine: accounts under accounts/<server>/<id>/, certificate
// lineages under archive/<name>/ and live/<name>/, and renewal/<name>.conf in
// the configobj dialect certbot 2.x–5.x reads and writes.
//
// It is not an ACME client and does not import one: keys arrive as
// crypto.Signer or PEM and certificates as PEM bytes. It does not decide when a
// certificate is due; it only reports what is on disk.
//
// # Writes
//
// Every file is written atomically: a temporary file in the same directory,
// mode set before any data, fsync, rename over the target, fsync of the
// directory. A new lineage version first writes all four
// archive/<name>/{cert,chain,fullchain,privkey}N.pem files, then swaps each
// live/<name>/*.pem symlink by renaming a temporary relative symlink over it.
// A reader that sees the live links point at different versions (a writer died
// between two swaps) uses the newest linked version whose four archive files
// are complete, and Repair (or the next save) finishes the swap. A version
// written but never linked is ignored until the next save, which writes the
// version after it.
//
// # Locks
//
// Two kinds of lock protect a tree, both fcntl record locks (open file
// description locks on Linux, so they also exclude other goroutines and other
// Trees in the same process):
//
//   - <config>/.certbot.lock, the lock certbot takes for its whole run
//     (certbot/_internal/lock.py, lockf). Every write method holds it while
//     it writes, so acmectl never writes while certbot runs, and certbot
//     refuses to start ("Another instance of Certbot is already running")
//     while acmectl writes. LockTree holds it for longer (a whole command).
//   - <config>/.acmectl/locks/<name>.lock, one per lineage, held by
//     LockLineage for a whole renewal so that one acmectl run can renew
//     lineages in parallel while a second acmectl run cannot renew the same
//     lineage at the same time. Write methods take it as well.
//
// A lock that is busy is retried until Options.LockTimeout (or ctx) expires;
// the error then wraps ErrLocked and names the holder's pid when the kernel or
// the lock file tells it.
//
// LockDir takes the same .certbot.lock on a work or logs directory, as
// certbot does on all three.
//
// Lock files are opened with O_NOFOLLOW: a lock path (or .acmectl,
// .acmectl/locks) that is a symbolic link or not a regular file is refused
// with ErrLockFileUnsafe naming it, where certbot's lock.py follows the link.
// An existing lock file is never truncated unless it holds only a pid.
//
// What the locks do not guarantee: they are advisory, so a process that does
// not take them (an editor, rm, a certbot older than 0.15) is not stopped.
// fcntl locks are unreliable on some network file systems (old NFS). The
// .certbot.lock is released between two write methods unless LockTree is
// held, so certbot may renew a lineage between acmectl's check and its save;
// the result is an extra version, never a torn one. Locks held by one Tree
// are re-entrant for that Tree: they do not exclude two goroutines sharing one
// Tree from each other (use one goroutine per lineage). A crashed holder's
// locks are released by the kernel, so there is no staleness rule to tune.
//
// # Listing
//
// WalkLineages (and ListLineages, which collects it) reads each renewal conf
// and each current certificate once. What a listing needs of them is kept in
// <config>/.acmectl/listing.cache keyed by the size, mtime and inode of the
// conf, the live and archive directories and the cert file, so a listing over
// an unchanged tree costs four stat calls per lineage and parses nothing. The cache is a
// stream of checksummed records in name order, read and rewritten a window
// at a time: memory stays flat in the number of lineages.
//
// # ARI retry times
//
// When to ask a CA for a certificate's renewal window next (the Retry-After
// of its ARI answer) is kept for the lineages a renew run did not renew in
// <config>/.acmectl/ari-retry, one line per lineage with the serial of the
// certificate it holds for, written once per run (SetARIRetryAfters); a
// single lineage's time goes into its conf ([acme_renewal_info]
// ari_retry_after, SetARIRetryAfter). Listings and LoadLineage give the
// later of the two. certbot reads neither.
package storage
