// Package clustere2e holds the end-to-end tests of acmectl clusters (issue
// 18): several acmectl processes — the built binary, as an operator runs it —
// share their certificates through a real etcd (Debian's etcd-server,
// started by the tests on loopback) and renew at a real Pebble, behind a
// round-robin http-01 load balancer. Nothing but its tests is here; the
// harness (harness_test.go) is reused by internal/bench's cluster cases
// through the same steps on the command line.
package clustere2e
