#!/usr/bin/env bash
# attestd as a service: start-up refusals (bad config, missing key, plain
# HTTP away from loopback, occupied port), HTTPS, the auditor and admin API
# with API-key roles, CSV and pagination, introspection, metrics, and a
# graceful SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool curl openssl python3
it_tmpdir
ATTESTD=$(it_build_path attestd/attestd)

it_step "start-up refusals exit non-zero with a clear message"
refuses() { # refuses DESCRIPTION EXPECTED_TEXT CONFIG_TEXT [ATTESTD OPTION]
	printf '%s\n' "$3" >"$IT_TMP/bad.conf"
	if timeout 20 "$ATTESTD" --config "$IT_TMP/bad.conf" ${4:---check-config} >"$IT_TMP/out" 2>&1; then
		it_fail "$1: attestd started"
	fi
	grep -q "$2" "$IT_TMP/out" || { cat "$IT_TMP/out"; it_fail "$1: no '$2' in its message"; }
	it_ok "$1"
}
at_policy "$IT_TMP/policy.json"
base="state_dir = $IT_TMP/state
store = sqlite:$IT_TMP/check.db
policy = $IT_TMP/policy.json"
refuses "unknown option" "unknown option 'listn'" "listn = 127.0.0.1:1"
refuses "missing policy" "nonexistent" "$base
policy = /nonexistent/policy.json"
refuses "missing TLS key" "tls_key" "$base
listen = 127.0.0.1:8443
tls_cert = $IT_TMP/nope.crt"
refuses "plain HTTP away from loopback" "not loopback" "$base
listen = 0.0.0.0:8443"
printf '%s\n' "$base" >"$IT_TMP/good.conf"
it_check "--check-config accepts a good file" "$ATTESTD" --config "$IT_TMP/good.conf" --check-config
"$ATTESTD" --help | grep -q -- "--config FILE" || it_fail "--help does not document --config"
it_ok "--help documents the options"

it_step "HTTPS with the configured certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$IT_TMP/tls.key" -out "$IT_TMP/tls.crt" 2>/dev/null
at_start tls "$IT_TMP/policy.json" "tls_cert = $IT_TMP/tls.crt
tls_key = $IT_TMP/tls.key"
curl -fsS --cacert "$IT_TMP/tls.crt" "$AT_URL/healthz" | grep -q ok || it_fail "no HTTPS answer"
it_ok "GET /healthz over HTTPS, certificate verified"
it_check_not "plain HTTP is not served on the TLS port" curl -fsS --max-time 5 "${AT_URL/https:/http:}/healthz"
tls_pid=$AT_PID

it_step "an occupied port is a clear start-up error"
port=${AT_URL##*:}
refuses "occupied port" "address already in use" "$base
listen = 127.0.0.1:$port" --config="$IT_TMP/bad.conf"
at_stop "$tls_pid"

it_step "API keys and roles"
at_start main "$IT_TMP/policy.json"
auditor=$(at_ctl apikeys add auditor audit-team)
admin=$(at_ctl apikeys add admin ops)
gateway=$(at_ctl apikeys add gateway edge)
code() { curl -s -o "$IT_TMP/resp" -w '%{http_code}' "$@"; }
[ "$(code "$AT_URL/v1/attestations")" = 401 ] && at_expect "$IT_TMP/resp" error unauthorized \
	"history without a key: 401 unauthorized"
[ "$(code -H "X-API-Key: wrong" "$AT_URL/v1/machines")" = 401 ] || it_fail "wrong key accepted"
it_ok "an unknown key: 401"
machine=sha256:$(printf '%064x' 42)
[ "$(code -H "X-API-Key: $auditor" -H 'Content-Type: application/json' \
	--data "{\"machine_id\": \"$machine\"}" "$AT_URL/v1/machines")" = 401 ] ||
	it_fail "an auditor key enrolled a machine"
it_ok "an auditor key cannot enroll"
[ "$(code -H "X-API-Key: $admin" --data "{\"machine_id\": \"$machine\", \"note\": \"rack 7\"}" \
	"$AT_URL/v1/machines")" = 201 ] || { cat "$IT_TMP/resp"; it_fail "admin enroll failed"; }
at_expect "$IT_TMP/resp" enrolled True "POST /v1/machines enrolls (admin)"
[ "$(code -X PATCH -H "X-API-Key: $admin" --data '{"revoked": true, "reason": "lost"}' \
	"$AT_URL/v1/machines/$machine")" = 200 ] || it_fail "PATCH revoke failed"
at_expect "$IT_TMP/resp" revoked True "PATCH /v1/machines/{id} revokes (admin)"
[ "$(code -H "X-API-Key: $auditor" "$AT_URL/v1/machines/$machine")" = 200 ] &&
	at_expect "$IT_TMP/resp" note lost "GET /v1/machines/{id} (auditor) shows the revocation"
[ "$(code -H "X-API-Key: $auditor" "$AT_URL/v1/machines/sha256:nope")" = 404 ] ||
	it_fail "unknown machine not 404"
it_ok "unknown machine: 404"

it_step "history: filters, pagination, CSV"
for i in 1 2 3 4 5; do
	code -H 'Content-Type: application/json' --data '{}' "$AT_URL/v1/attest/challenge" >/dev/null
done
[ "$(code -H "X-API-Key: $auditor" "$AT_URL/v1/attestations?limit=2")" = 200 ] || it_fail "list"
at_expect "$IT_TMP/resp" attestations.1.id 2 "first page holds rows 1-2"
cursor=$(at_json "$IT_TMP/resp" next_cursor)
code -H "X-API-Key: $auditor" "$AT_URL/v1/attestations?limit=2&cursor=$cursor" >/dev/null
at_expect "$IT_TMP/resp" attestations.0.id 3 "the cursor continues after the page"
code -H "X-API-Key: $auditor" "$AT_URL/v1/attestations?outcome=admitted" >/dev/null
at_expect "$IT_TMP/resp" attestations "[]" "outcome=admitted filters the refusals out"
code -H "X-API-Key: $auditor" "$AT_URL/v1/attestations?error=bad_request&since=2020-01-01T00:00:00Z" >/dev/null
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["attestations"]))' "$IT_TMP/resp")" = 5 ] ||
	it_fail "error + since filters"
it_ok "error and since filters"
[ "$(code -H "X-API-Key: $auditor" "$AT_URL/v1/attestations?outcome=maybe")" = 400 ] ||
	it_fail "bad filter accepted"
it_ok "a bad filter: 400"
code -H "X-API-Key: $auditor" -H 'Accept: text/csv' "$AT_URL/v1/attestations" >/dev/null
head -1 "$IT_TMP/resp" | grep -q '^id,time,phase,machine_id' || it_fail "no CSV header"
[ "$(wc -l <"$IT_TMP/resp")" = 6 ] || it_fail "CSV does not have 5 rows"
it_ok "Accept: text/csv gives a CSV with a header and every row"

it_step "introspection and metrics"
[ "$(code -H "X-API-Key: $gateway" --data 'token=abc.def.ghi' "$AT_URL/v1/tokens/introspect")" = 200 ] &&
	at_expect "$IT_TMP/resp" active False "introspect: a bad token is inactive"
[ "$(code --data 'token=abc' "$AT_URL/v1/tokens/introspect")" = 401 ] ||
	it_fail "introspection without a key"
it_ok "introspection needs a key"
curl -fsS "$AT_URL/metrics" >"$IT_TMP/metrics"
grep -q 'attestd_decisions_total{endpoint="challenge",code="bad_request"} 5' "$IT_TMP/metrics" ||
	{ cat "$IT_TMP/metrics"; it_fail "metrics do not count the refusals"; }
grep -q 'attestd_request_duration_seconds_bucket{endpoint="challenge",le="+Inf"} 5' \
	"$IT_TMP/metrics" || it_fail "no latency histogram"
it_ok "/metrics counts decisions by code and has latency histograms"
[ "$(code -X DELETE "$AT_URL/healthz")" = 405 ] || it_fail "DELETE /healthz not 405"
[ "$(code "$AT_URL/v1/nothing")" = 404 ] || it_fail "unknown path not 404"
it_ok "405 and 404"

it_step "SIGTERM stops gracefully, history intact"
kill -TERM "$AT_PID"
wait "$AT_PID" || it_fail "attestd exited non-zero after SIGTERM"
grep -q "stopped" "$AT_LOG" || it_fail "no 'stopped' in the log"
it_ok "exit 0 after SIGTERM"
it_check "audit chain verifies after the stop" at_ctl audit verify
