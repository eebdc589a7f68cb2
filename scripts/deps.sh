#!/usr/bin/env bash
# scripts/deps.sh: the Debian packages `make test` drives for real, in one place.
# `make test` and .ci/run call it before anything is compiled.
#
#   all installed  → says nothing, exit 0
#   root           → installs the missing ones (apt-get update only when the package
#                    lists cannot provide them), then stops the services that the
#                    installation started (the tests start their own on free ports)
#   not root       → one line naming the command to run, exit 1
#
# DEPS_PACKAGES="a b c" replaces the list (the script's own test uses it).
set -euo pipefail

# Package            what the suite does with it
PACKAGES=(
  certbot                # compatibility tests: certbot-made trees, certbot renewing ours
  python3-certbot-nginx  # certbot --nginx, compared with acmectl's nginx installer
  python3-certbot-apache # certbot --apache, compared with acmectl's Apache installer
  nginx                  # webroot served as an operator would; the nginx installer suite
  apache2                # the Apache installer suite
  knot                   # authoritative DNS server for dns-01 (RFC 2136)
  knot-dnsutils          # knsupdate, kdig
  etcd-server            # the cluster suite's etcd
  etcd-client            # etcdctl
  systemd                # systemd-analyze verify for `acmectl schedule`
  curl                   # hook scripts in the tests talk to challtestsrv
  groff-base             # the generated man page is checked with groff
  shellcheck             # the repository's shell scripts are linted
  zsh                    # the completion scripts are run in each shell
  fish                   # the completion scripts are run in each shell
  # certbot's DNS plugins: certbot's own parser with them is internal/argparse's oracle
  python3-certbot-dns-cloudflare
  python3-certbot-dns-digitalocean
  python3-certbot-dns-dnsimple
  python3-certbot-dns-gehirn
  python3-certbot-dns-google
  python3-certbot-dns-linode
  python3-certbot-dns-ovh
  python3-certbot-dns-rfc2136
  python3-certbot-dns-route53
  python3-certbot-dns-sakuracloud
)
# Services that packages of the list start when they are installed.
declare -A SERVICE=([nginx]=nginx [apache2]=apache2 [knot]=knot [etcd-server]=etcd)

if [ -n "${DEPS_PACKAGES:-}" ]; then
  read -r -a PACKAGES <<<"$DEPS_PACKAGES"
fi

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

if ! command -v dpkg-query >/dev/null; then
  echo "deps: no dpkg-query: this is not a Debian system; install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

here=$(dirname "$0")
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: make test needs Debian packages that are not installed: ${missing[*]}; run: sudo $here/deps.sh (it runs apt-get install -y --no-install-recommends ${missing[*]} and stops the services they start)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# candidate PKG: the package lists offer a version of PKG.
candidate() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  [ -n "$c" ] && [ "$c" != "(none)" ]
}
updated=0
for p in "${missing[@]}"; do
  if ! candidate "$p"; then
    echo "deps: apt-get update (no candidate for $p)"
    apt-get update -qq
    updated=1
    break
  fi
done
echo "deps: apt-get install ${missing[*]}"
install=(apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
if ! "${install[@]}" "${missing[@]}"; then
  # Stale lists name versions the mirror no longer has: refresh once and retry.
  [ "$updated" -eq 1 ] && exit 1
  echo "deps: apt-get install failed; apt-get update and retry"
  apt-get update -qq
  "${install[@]}" "${missing[@]}"
fi

for p in "${missing[@]}"; do
  svc=${SERVICE[$p]:-}
  [ -n "$svc" ] || continue
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
  elif command -v service >/dev/null; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
  echo "deps: stopped $svc (started by its package; the tests start their own)"
done
