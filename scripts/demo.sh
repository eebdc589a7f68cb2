#!/usr/bin/env bash
# make demo: build acmectl and the pinned Pebble test CA, start Pebble and
# pebble-challtestsrv on free loopback ports, then run what an operator runs:
#   acmectl certonly --standalone ...   (into ./demo/)
#   acmectl certificates
#   acmectl renew --force-renewal
# Everything is stopped on exit. Needs only Go; works as root or not (no
# privileged port is used: Pebble is told to validate on a free port).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
GO=${GO:-go}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/acmectl-demo.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ -f "$tmp/pebble.log" ]; then
    echo "--- pebble log (last 30 lines) ---" >&2
    tail -n 30 "$tmp/pebble.log" >&2 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# port_free PORT: nothing accepts TCP connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
used=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( (RANDOM << 1 | RANDOM & 1) % 30000 + 20000 ))
    if port_free "$p" && [[ "$used" != *" $p "* ]]; then used="$used$p "; echo "$p"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}
wait_port() {
  for _ in $(seq 1 200); do
    if ! port_free "$1"; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 after 20 s" >&2; return 1
}

say "Building acmectl (make build)"
make -s build GO="$GO"
acmectl="$root/dist/acmectl"
"$acmectl" --version

say "Building the pinned Pebble test CA"
"$GO" build -o "$tmp/" github.com/letsencrypt/pebble/v2/cmd/pebble github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv
mod=$("$GO" list -m -f '{{.Dir}}' github.com/letsencrypt/pebble/v2)

acme_port=$(free_port); mgmt_port=$(free_port); http_port=$(free_port); tls_port=$(free_port)
dns_port=$(free_port); cs_mgmt_port=$(free_port)

"$tmp/pebble-challtestsrv" -management "127.0.0.1:$cs_mgmt_port" -dnsserver "127.0.0.1:$dns_port" \
  -http01 "" -https01 "" -tlsalpn01 "" -doh "" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
  >"$tmp/challtestsrv.log" 2>&1 &
pids+=($!)

cat >"$tmp/pebble-config.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$mgmt_port",
    "certificate": "$mod/test/certs/localhost/cert.pem",
    "privateKey": "$mod/test/certs/localhost/key.pem",
    "httpPort": $http_port,
    "tlsPort": $tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON
(cd "$mod" && PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 exec "$tmp/pebble" \
  -config "$tmp/pebble-config.json" -dnsserver "127.0.0.1:$dns_port" -strict) >"$tmp/pebble.log" 2>&1 &
pids+=($!)
wait_port "$cs_mgmt_port"
wait_port "$acme_port"
server="https://127.0.0.1:$acme_port/dir"
echo "Pebble directory: $server (validating http-01 on 127.0.0.1:$http_port)"

demo="$root/demo"
rm -rf "$demo"
mkdir -p "$demo"
common=(--config-dir "$demo/config" --work-dir "$demo/work" --logs-dir "$demo/logs"
        --ca-bundle "$mod/test/certs/pebble.minica.pem" --server "$server")
export XDG_CONFIG_HOME="$tmp/xdg" ACMECTL_SYSTEM_CLI_INI=""

say "acmectl certonly --standalone"
"$acmectl" certonly --standalone --non-interactive --agree-tos --email demo@example.com \
  --domain demo.example.com --domain www.demo.example.com --cert-name demo \
  --http-01-port "$http_port" --http-01-address 127.0.0.1 "${common[@]}"

say "acmectl certificates"
"$acmectl" certificates "${common[@]}"

say "acmectl renew --force-renewal"
"$acmectl" renew --force-renewal --no-random-sleep-on-renew "${common[@]}"

say "Result"
ls -l "$demo/config/live/demo/"
echo "The certificate tree is in ./demo/config (certbot's layout); Pebble is stopped on exit."
