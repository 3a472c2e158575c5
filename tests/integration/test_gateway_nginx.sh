#!/usr/bin/env bash
# A real nginx with scripts/nginx/attest-gateway.conf in front of a service:
# no token or a bad one -> 401, an attested machine's token -> the service,
# which learns the machine id from the gateway (not from the client) and
# never sees the token; the same token after `attestctl machines revoke` ->
# 403; attestd down -> 500. With admission_requires_key the gateway's key
# opens attestd, and a client cannot bring its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool nginx curl openssl python3 tpm2_pcrextend
nginx -V 2>&1 | grep -q -- '--with-http_auth_request_module' ||
	it_fail "this nginx has no auth_request module (install nginx-light)"

. "$(dirname "$0")/gateway_lib.sh"

# gw_expect STATUS DESCRIPTION URL TOKEN [CURL ARGS...]: GET URL with the
# token as a bearer token (none when TOKEN is ""); the body is left in
# $IT_TMP/body, the headers in $IT_TMP/headers.
gw_expect() {
	local want=$1 what=$2 url=$3 token=$4 got
	shift 4
	got=$(curl -s -o "$IT_TMP/body" -D "$IT_TMP/headers" -w '%{http_code}' \
		${token:+-H "Authorization: Bearer $token"} "$@" "$url")
	[ "$got" = "$want" ] || { cat "$IT_TMP/body" >&2; it_fail "$what: HTTP $got, expected $want"; }
	it_ok "$what"
}

# gw_expect_served MACHINE DESCRIPTION: the last answer is the service's,
# which saw the gateway's machine id and no token.
gw_expect_served() {
	grep -qx "$SERVICE_HELLO" "$IT_TMP/body" &&
		grep -qx "machine=\[$1\]" "$IT_TMP/body" &&
		grep -qx 'authorization=\[\]' "$IT_TMP/body" ||
		{ cat "$IT_TMP/body" >&2; it_fail "$2"; }
	it_ok "$2"
}

it_swtpm_start phys
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"

it_step "a gateway in front of attestd's open /v1/admission"
at_start open "$IT_TMP/policy.json"
GATEWAY_KEY=
machine=$(at_attest open)
[[ $machine == sha256:* ]] || it_fail "attestd did not name the machine ($machine)"
token=$(cat "$IT_TMP/open.token")
gw_nginx_start gw-open "${AT_URL#http://}" ""
open_gw=$GW_URL

gw_expect 401 "no token: 401" "$open_gw" ""
grep -qi '^WWW-Authenticate: Bearer' "$IT_TMP/headers" ||
	it_fail "the 401 does not carry attestd's WWW-Authenticate: Bearer"
it_ok "the 401 asks for a bearer token"
gw_expect 401 "a garbage token: 401" "$open_gw" "not.a-token.at-all"
gw_expect 401 "a token with its claims altered: 401" "$open_gw" \
	"$(echo "$token" | cut -d. -f1).eyJzdWIiOiJzaGEyNTY6MDAifQ.$(echo "$token" | cut -d. -f3)"
gw_expect 200 "the attested machine's token: the service answers" "$open_gw" "$token"
gw_expect_served "$machine" "the service sees X-Attest-Machine from attestd and no token"
gw_expect 200 "a client's own X-Attest-Machine header" "$open_gw" "$token" \
	-H "X-Attest-Machine: sha256:0000000000000000000000000000000000000000000000000000000000000000"
gw_expect_served "$machine" "the service still sees the machine attestd vouched for"

it_step "revocation takes effect at the gateway at once"
at_ctl machines revoke "$machine" >/dev/null || it_fail "attestctl machines revoke failed"
gw_expect 403 "the same token after revocation: 403" "$open_gw" "$token"
gw_expect 403 "attestd says why" "$AT_URL/v1/admission" "$token"
grep -q '"machine_revoked"' "$IT_TMP/body" ||
	{ cat "$IT_TMP/body" >&2; it_fail "not machine_revoked"; }

it_step "attestd down: the gateway fails closed"
at_stop "$AT_PID"
gw_expect 500 "attestd unreachable: 500, not the service" "$open_gw" "$token"

it_step "attestd with admission_requires_key: the gateway brings its key"
at_start keyed "$IT_TMP/policy.json" "admission_requires_key = true"
GATEWAY_KEY=$(at_ctl apikeys add gateway nginx-test) || it_fail "attestctl apikeys add failed"
machine=$(at_attest keyed)
token=$(cat "$IT_TMP/keyed.token")
gw_expect 401 "without the key attestd refuses the check itself" "$AT_URL/v1/admission" "$token"
grep -q '"unauthorized"' "$IT_TMP/body" || { cat "$IT_TMP/body" >&2; it_fail "not unauthorized"; }
gw_nginx_start gw-keyed "${AT_URL#http://}" "$GATEWAY_KEY"
gw_expect 200 "a gateway with the key: the service answers" "$GW_URL" "$token"
gw_expect_served "$machine" "the service sees the machine behind the keyed gateway"
gw_expect 401 "a gateway with the key, no token: 401" "$GW_URL" ""
gw_nginx_start gw-keyless "${AT_URL#http://}" ""
gw_expect 401 "a gateway without the key: 401" "$GW_URL" "$token"
gw_expect 401 "a client's own X-API-Key is not forwarded to attestd: 401" "$GW_URL" "$token" \
	-H "X-API-Key: $GATEWAY_KEY"
