#!/bin/sh
# Regenerates the certbot-made fixture trees in testdata/certbot/ by running
# the real certbot (Debian package certbot) against a Pebble started by the
# test, then copying accounts/, archive/, live/ and renewal/ of its
# --config-dir here. Keys in these trees are throwaway Pebble test keys.
#
#   testdata/certbot/regen.sh
#
# tree-2.1.tar.gz  certbot 2.1 (Debian 12): an EAB account; a.example (standalone,
#            RSA 2048, 3 versions); webroot-map ([[webroot_map]], ECDSA
#            P-384, --reuse-key, --deploy-hook, 2 versions); a.example-0001
#            (--duplicate, name collision).
set -eu
cd "$(dirname "$0")/../.."
certbot --version
go test -count=1 -run '^TestCertbotWritesStorageReadsE2E$' ./storage/certbotcompat/ -args -regen-certbot
