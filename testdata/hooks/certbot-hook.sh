#!/bin/sh
# certbot-style manual hook used by acmectl's end-to-end tests.
#   certbot-hook.sh http-01|dns-01 auth|cleanup
# It checks every CERTBOT_* variable certbot's manual plugin sets, then
#   http-01: writes/removes $ACMECTL_WEBROOT/.well-known/acme-challenge/$CERTBOT_TOKEN
#   dns-01:  adds/deletes the TXT record with knsupdate against $ACMECTL_DNS_SERVER
#            ("ip port"), signed with $ACMECTL_TSIG ("hmac-sha256:name:secret").
# Expected values come from the test: ACMECTL_EXPECT_ALL_DOMAINS (comma list, any order).
# Each run appends "phase domain remaining" to $ACMECTL_HOOK_LOG.
# Any failed check prints to stderr and exits 1.
set -u
type=$1
phase=$2

fail() { echo "certbot-hook ($type $phase ${CERTBOT_DOMAIN:-?}): $*" >&2; exit 1; }

[ -n "${CERTBOT_DOMAIN:-}" ] || fail "CERTBOT_DOMAIN is empty"
[ "${CERTBOT_IDENTIFIER:-}" = "$CERTBOT_DOMAIN" ] || fail "CERTBOT_IDENTIFIER='${CERTBOT_IDENTIFIER:-}' != CERTBOT_DOMAIN"
sorted() { echo "$1" | tr ',' '\n' | sort | tr '\n' ','; }
# The order of the names is the CA's order of authorizations: compare as multisets.
[ "$(sorted "${CERTBOT_ALL_DOMAINS:-}")" = "$(sorted "$ACMECTL_EXPECT_ALL_DOMAINS")" ] ||
	fail "CERTBOT_ALL_DOMAINS='${CERTBOT_ALL_DOMAINS:-}', want the names of '$ACMECTL_EXPECT_ALL_DOMAINS'"
[ "${CERTBOT_ALL_IDENTIFIERS:-}" = "$CERTBOT_ALL_DOMAINS" ] || fail "CERTBOT_ALL_IDENTIFIERS differs from CERTBOT_ALL_DOMAINS"
case ",$CERTBOT_ALL_DOMAINS," in
*",$CERTBOT_DOMAIN,"*) ;;
*) fail "CERTBOT_DOMAIN is not in CERTBOT_ALL_DOMAINS" ;;
esac
total=$(echo "$CERTBOT_ALL_DOMAINS" | tr ',' '\n' | wc -l)
case "${CERTBOT_REMAINING_CHALLENGES:-x}" in
'' | *[!0-9]*) fail "CERTBOT_REMAINING_CHALLENGES='${CERTBOT_REMAINING_CHALLENGES:-}' is not a number" ;;
esac
[ "$CERTBOT_REMAINING_CHALLENGES" -lt "$total" ] || fail "CERTBOT_REMAINING_CHALLENGES=$CERTBOT_REMAINING_CHALLENGES with $total domains"
[ -n "${CERTBOT_VALIDATION:-}" ] || fail "CERTBOT_VALIDATION is empty"

case "$type" in
http-01)
	case "${CERTBOT_TOKEN:-}" in
	'' | *[!A-Za-z0-9_-]*) fail "CERTBOT_TOKEN='${CERTBOT_TOKEN:-}' is not base64url" ;;
	esac
	case "$CERTBOT_VALIDATION" in
	"$CERTBOT_TOKEN".?*) ;;
	*) fail "CERTBOT_VALIDATION is not a key authorization for CERTBOT_TOKEN" ;;
	esac
	;;
dns-01)
	[ -z "${CERTBOT_TOKEN+set}" ] || fail "CERTBOT_TOKEN is set for dns-01"
	case "$CERTBOT_VALIDATION" in
	*[!A-Za-z0-9_-]*) fail "CERTBOT_VALIDATION='$CERTBOT_VALIDATION' is not base64url" ;;
	esac
	[ ${#CERTBOT_VALIDATION} -eq 43 ] || fail "CERTBOT_VALIDATION has ${#CERTBOT_VALIDATION} characters, want 43 (SHA-256)"
	;;
*) fail "unknown challenge type" ;;
esac

case "$phase" in
auth)
	[ -z "${CERTBOT_AUTH_OUTPUT+set}" ] || fail "CERTBOT_AUTH_OUTPUT is set for the auth hook"
	;;
cleanup)
	[ "${CERTBOT_AUTH_OUTPUT:-}" = "auth-ok $CERTBOT_DOMAIN" ] || fail "CERTBOT_AUTH_OUTPUT='${CERTBOT_AUTH_OUTPUT:-}', want 'auth-ok $CERTBOT_DOMAIN'"
	;;
*) fail "unknown phase" ;;
esac

if [ "$type" = http-01 ]; then
	dir="$ACMECTL_WEBROOT/.well-known/acme-challenge"
	if [ "$phase" = auth ]; then
		mkdir -p "$dir" && printf '%s' "$CERTBOT_VALIDATION" > "$dir/$CERTBOT_TOKEN" || fail "cannot write $dir/$CERTBOT_TOKEN"
	else
		rm -f "$dir/$CERTBOT_TOKEN" || fail "cannot remove $dir/$CERTBOT_TOKEN"
	fi
else
	if [ "$phase" = auth ]; then op=add; else op=delete; fi
	printf 'server %s\nzone %s\nupdate %s _acme-challenge.%s. 5 TXT "%s"\nsend\n' \
		"$ACMECTL_DNS_SERVER" "$ACMECTL_DNS_ZONE" "$op" "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" |
		knsupdate -y "$ACMECTL_TSIG" >&2 || fail "knsupdate $op failed"
fi

echo "$phase $CERTBOT_DOMAIN $CERTBOT_REMAINING_CHALLENGES" >> "$ACMECTL_HOOK_LOG"
[ "$phase" = auth ] && echo "auth-ok $CERTBOT_DOMAIN"
exit 0
