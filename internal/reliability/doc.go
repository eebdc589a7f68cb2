// Package reliability holds the acmectl reliability suite: tests that drive
// the built acmectl binary (and Debian's certbot) against Pebble through a
// fault-injecting proxy, kill it with SIGKILL at random points, run it
// concurrently on one tree, point it at a hostile CA, and feed it malformed
// command lines and config files — and after each, check that the certbot tree
// on disk is whole: every live link resolves, every key matches its
// certificate, and no account, key or version is lost.
//
// It has no API; it is test code only. The figures it produces are in
// docs/reliability.md. `make test` runs the quick counts; `make soak` runs the
// same tests with RELIABILITY_KILLS=1000.
package reliability
