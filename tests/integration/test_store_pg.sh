#!/usr/bin/env bash
# Two attestd instances on one PostgreSQL behave as one verifier (DESIGN.md's
# scale-out): behind a round-robin balancer (nginx, the README's example)
# a machine's challenge is answered by one instance and its quote by the
# other; a replayed quote is refused by both; a token from one is honoured by the other (shared keys, also after a
# rotation); a revocation made on one is enforced by the other at once;
# with both instances appending at full speed the merged history is one hash
# chain that `attestctl audit verify` accepts; and with one instance down,
# attestation and admission go on through the balancer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
it_need_tool tpm2_createek tpm2_quote curl python3 psql nginx

# Software-TPM machines per instance in the concurrent stream, and its length.
readonly STREAM_THREADS=4 STREAM_SECONDS=2

pg_start main
it_swtpm_start phys
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"

it_step "two instances on one database, sharing one state directory (session and token keys)"
pg_attestd_pair "$IT_TMP/policy.json"
[ "$(pg_psql main -c 'SELECT version FROM attestd_schema')" = 1 ] ||
	it_fail "the schema was not created at version 1"
it_ok "schema created once, both instances up"
pg_balancer "$A_URL" "$B_URL"

# ctl INSTANCE ARGS...: attestctl with that instance's configuration.
ctl() {
	local conf=$A_CONF
	[ "$1" = b ] && conf=$B_CONF
	shift
	"$(it_build_path attestd/attestctl)" -c "$conf" "$@"
}

# post_status URL FILE: POSTs FILE's JSON; prints the status, body to FILE.out.
post_status() {
	curl -s -o "$2.out" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$2" "$1"
}

it_step "challenge on instance a, quote on instance b"
at_client --url "$RR_URL" --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" \
	--ek-chain "$EK_INTERMEDIATE_RSA" --event-log "$IT_TMP/boot.log" \
	--save-quote "$IT_TMP/quote-body.json" >"$IT_TMP/first.json"
at_expect "$IT_TMP/first.json" challenge.status 200 "challenge answered"
at_expect "$IT_TMP/first.json" quote.status 200 "quote admitted by the other instance"
sleep 0.1 # nginx writes the log line as the request finishes
grep -q "^POST /v1/attest/challenge -> $A_URL 200" "$RR_LOG" &&
	grep -q "^POST /v1/attest/quote -> $B_URL 200" "$RR_LOG" || {
	cat "$RR_LOG" >&2
	it_fail "the balancer did not split the two calls across the instances"
}
it_ok "the balancer log shows the challenge on a and the quote on b"
machine=$(at_json "$IT_TMP/first.json" quote.body.machine_id)
at_json "$IT_TMP/first.json" quote.body.token >"$IT_TMP/token"

it_step "the same quote replayed to each instance is refused"
for inst in a b; do
	url=$A_URL
	[ $inst = b ] && url=$B_URL
	status=$(post_status "$url/v1/attest/quote" "$IT_TMP/quote-body.json")
	[ "$status" = 403 ] || { cat "$IT_TMP/quote-body.json.out" >&2; it_fail "replay to $inst: $status"; }
	at_expect "$IT_TMP/quote-body.json.out" error session_replayed "replay to instance $inst refused"
done
[ "$(ctl a history --error session_replayed | wc -l)" = 2 ] ||
	it_fail "the two replays are not both in the history"
it_ok "both replays are recorded as refusals"

it_step "the token issued by b is honoured by a (shared signing keys)"
gw=$(ctl a apikeys add gateway test-gateway)
admin=$(ctl b apikeys add admin test-admin)
admission() {
	curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $gw" \
		-H "Authorization: Bearer $(cat "$IT_TMP/token")" "$1/v1/admission"
}
[ "$(admission "$A_URL")" = 204 ] || it_fail "instance a refuses b's token"
[ "$(admission "$B_URL")" = 204 ] || it_fail "instance b refuses its own token"
it_ok "GET /v1/admission: 204 on both instances (API key made through b, used on a)"

it_step "key rotation without downtime: both instances sign with the new key and keep the old"
old_kid=$(tr -d '\n' <"$IT_TMP/shared-state/token-keys/current")
ctl a keys rotate >/dev/null || it_fail "attestctl keys rotate failed"
new_kid=$(tr -d '\n' <"$IT_TMP/shared-state/token-keys/current")
[ "$new_kid" != "$old_kid" ] || it_fail "keys rotate did not change the current key"
# jwks_has URL KID...: the JWKS at URL lists every KID.
jwks_has() {
	curl -fsS "$1/.well-known/jwks.json" | python3 -c '
import json, sys
kids = [k["kid"] for k in json.load(sys.stdin)["keys"]]
sys.exit(0 if all(k in kids for k in sys.argv[1:]) else 1)' "${@:2}"
}
# Instances look for a new key every second; allow a loaded machine ten.
for url in "$A_URL" "$B_URL"; do
	for ((i = 0; i < 50; i++)); do
		jwks_has "$url" "$old_kid" "$new_kid" && break
		sleep 0.2
	done
	jwks_has "$url" "$old_kid" "$new_kid" || it_fail "$url does not publish both kids"
done
it_ok "both instances publish the old and the new kid"
[ "$(admission "$B_URL")" = 204 ] || it_fail "a token signed before the rotation is refused"
at_client --url "$A_URL" --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" \
	--ek-chain "$EK_INTERMEDIATE_RSA" --event-log "$IT_TMP/boot.log" >"$IT_TMP/rotated.json"
at_expect "$IT_TMP/rotated.json" quote.status 200 "attestation on a after the rotation"
at_json "$IT_TMP/rotated.json" quote.body.token >"$IT_TMP/token"
kid=$(cut -d. -f1 <"$IT_TMP/token" | python3 -c '
import base64, json, sys
h = sys.stdin.read().strip()
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])')
[ "$kid" = "$new_kid" ] || it_fail "a's new token is signed by $kid, not the new key $new_kid"
[ "$(admission "$B_URL")" = 204 ] || it_fail "b refuses a token signed with the new key"
it_ok "a signs with the new key, b admits that token, and the old token still passes"

it_step "a revocation made on instance a is enforced by b at once"
status=$(curl -s -o "$IT_TMP/revoke.json" -w '%{http_code}' -X PATCH -H "X-API-Key: $admin" \
	--data '{"revoked": true, "reason": "stolen"}' "$A_URL/v1/machines/$machine")
[ "$status" = 200 ] || it_fail "PATCH revoke on a answered $status"
[ "$(admission "$B_URL")" = 403 ] || it_fail "instance b still admits the revoked machine's token"
it_ok "b refuses the revoked machine's token"
at_client --url "$B_URL" --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" \
	--ek-chain "$EK_INTERMEDIATE_RSA" --event-log "$IT_TMP/boot.log" >"$IT_TMP/revoked.json"
at_expect "$IT_TMP/revoked.json" challenge.body.error machine_revoked "b refuses a new attestation"
curl -s -o /dev/null -X PATCH -H "X-API-Key: $admin" --data '{"revoked": false}' \
	"$B_URL/v1/machines/$machine"
at_client --url "$A_URL" --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" \
	--ek-chain "$EK_INTERMEDIATE_RSA" --event-log "$IT_TMP/boot.log" >"$IT_TMP/back.json"
at_expect "$IT_TMP/back.json" quote.status 200 "reinstated on b, admitted again by a"

it_step "both instances appending at full speed keep one hash chain"
loadgen=$(it_build_path tests/bench/loadgen)
"$loadgen" --url "$A_URL" --threads "$STREAM_THREADS" --seconds "$STREAM_SECONDS" \
	attest --pki "$ATTEST_TEST_PKI" >"$IT_TMP/load-a.json" &
load_a=$!
"$loadgen" --url "$B_URL" --threads "$STREAM_THREADS" --seconds "$STREAM_SECONDS" \
	attest --pki "$ATTEST_TEST_PKI" >"$IT_TMP/load-b.json" || it_fail "loadgen on b failed"
wait "$load_a" || it_fail "loadgen on a failed"
for inst in a b; do
	[ "$(at_json "$IT_TMP/load-$inst.json" failed)" = 0 ] && [ "$(at_json "$IT_TMP/load-$inst.json" ok)" -gt 0 ] ||
		it_fail "stream on $inst: $(cat "$IT_TMP/load-$inst.json")"
done
it_ok "$(at_json "$IT_TMP/load-a.json" ok) attestations on a and $(at_json "$IT_TMP/load-b.json" ok) on b"
rows=$(pg_psql main -c 'SELECT count(*) FROM attestations')
[ "$(pg_psql main -c 'SELECT max(id) FROM attestations')" = "$rows" ] ||
	it_fail "ids are not dense: $rows rows"
it_check "attestctl audit verify (through a) over the merged history" ctl a audit verify
ctl b audit verify | grep -q "audit chain OK: $rows rows" || it_fail "audit through b does not see $rows rows"
it_ok "audit through b: OK over all $rows rows"

it_step "instance a stops: admission goes on through the balancer on b"
at_stop "$A_PID"
for i in 1 2; do
	at_client --url "$RR_URL" --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" \
		--ek-chain "$EK_INTERMEDIATE_RSA" --event-log "$IT_TMP/boot.log" >"$IT_TMP/ha-$i.json"
	at_expect "$IT_TMP/ha-$i.json" quote.status 200 "attestation $i through the balancer with a down"
done
at_json "$IT_TMP/ha-2.json" quote.body.token >"$IT_TMP/token"
[ "$(admission "$RR_URL")" = 204 ] || it_fail "admission check through the balancer with a down"
it_ok "admission check through the balancer: 204"

it_step "the database refuses edits of the history; an edit behind its back is found"
it_check_not "UPDATE of a history row is refused" \
	pg_psql main -c "UPDATE attestations SET outcome = 'admitted' WHERE id = 2"
it_check_not "DELETE of a history row is refused" pg_psql main -c "DELETE FROM attestations WHERE id = 2"
pg_psql main -c "ALTER TABLE attestations DISABLE TRIGGER attestations_no_update;
	UPDATE attestations SET detail = 'nothing to see' WHERE id = 3" ||
	it_fail "could not edit as the database owner"
out=$(ctl b audit verify) && it_fail "the audit accepted an edited history: $out"
[[ "$out" == *"BROKEN at row 3"* ]] || it_fail "audit: $out"
it_ok "audit verify: $out"
