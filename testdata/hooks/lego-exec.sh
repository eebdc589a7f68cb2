#!/bin/sh
# Script for lego's "exec" DNS provider (EXEC_PATH) used by acmectl's
# end-to-end tests:  lego-exec.sh present|cleanup FQDN VALUE
# It adds/deletes the TXT record with knsupdate against $ACMECTL_DNS_SERVER
# ("ip port"), zone $ACMECTL_DNS_ZONE, signed with $ACMECTL_TSIG. With
# ACMECTL_EXEC_CORRUPT=1 it publishes a wrong value (to test failure clean-up).
set -u
action=$1 fqdn=$2 value=$3
case "$action" in
present) op=add ;;
cleanup) op=delete ;;
*) echo "lego-exec.sh: unknown action $action" >&2; exit 1 ;;
esac
if [ "${ACMECTL_EXEC_CORRUPT:-}" = 1 ]; then value="wrong-$value"; fi
printf 'server %s\nzone %s\nupdate %s %s 5 TXT "%s"\nsend\n' \
	"$ACMECTL_DNS_SERVER" "$ACMECTL_DNS_ZONE" "$op" "$fqdn" "$value" | knsupdate -y "$ACMECTL_TSIG" >&2 ||
	{ echo "lego-exec.sh: knsupdate $op $fqdn failed" >&2; exit 1; }
echo "$action $fqdn" >> "${ACMECTL_HOOK_LOG:-/dev/null}"
