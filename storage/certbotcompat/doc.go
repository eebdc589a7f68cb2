// Package certbotcompat holds the end-to-end tests that run the real certbot
// (Debian package certbot) against Pebble and check that package storage and
// certbot read each other's trees. It has no code of its own; it is separate
// from storage so that storage's import graph stays free of acme/.
//
// Run with -regen-certbot to rewrite the fixture trees in
// testdata/certbot/ (see testdata/certbot/regen.sh).
package certbotcompat
