#!/usr/bin/env bash
# PostgreSQL going away in the middle of a stream of attestations, with two
# attestd instances on it: while it is down both answer 503 `unavailable`
# and issue no token; no decision a client saw acknowledged is lost (every
# token has its admitted row); and both instances resume by themselves when
# the server is back, continuing the one hash chain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
it_need_tool curl python3 psql

# Machines attesting at once per instance: decisions are queued for the
# group commit when the server goes.
readonly MACHINES=4
# Acknowledged attestations per instance before the server is stopped, how
# long it stays down, and how long the stream runs in all.
readonly ACKS_BEFORE_STOP=15 DOWN_S=3 LOAD_SECONDS=14 ACK_WAIT_POLLS=300

stop_loadgen() {
	kill "$1" 2>/dev/null || true
}

# acks INSTANCE: attestations acknowledged to that instance's clients so far.
acks() {
	if [ -f "$IT_TMP/acks-$1" ]; then wc -l <"$IT_TMP/acks-$1"; else echo 0; fi
}

it_tmpdir
pg_start main
at_policy "$IT_TMP/policy.json"
pg_attestd_pair "$IT_TMP/policy.json"
loadgen=$(it_build_path tests/bench/loadgen)

it_step "a stream of attestations from $MACHINES machines on each instance"
for inst in a b; do
	url=$A_URL
	[ $inst = b ] && url=$B_URL
	"$loadgen" --url "$url" --threads "$MACHINES" --seconds "$LOAD_SECONDS" \
		attest --pki "$ATTEST_TEST_PKI" --ack-log "$IT_TMP/acks-$inst" >"$IT_TMP/load-$inst.json" &
	eval "load_$inst=\$!"
	it_on_exit stop_loadgen "$!"
done
for ((i = 0; i < ACK_WAIT_POLLS; i++)); do
	[ "$(acks a)" -ge "$ACKS_BEFORE_STOP" ] && [ "$(acks b)" -ge "$ACKS_BEFORE_STOP" ] && break
	sleep 0.1
done
[ "$(acks a)" -ge "$ACKS_BEFORE_STOP" ] && [ "$(acks b)" -ge "$ACKS_BEFORE_STOP" ] ||
	it_fail "the stream did not get going: $(acks a) and $(acks b) acknowledged"
it_ok "$(acks a) + $(acks b) attestations acknowledged; stopping PostgreSQL (as if it crashed)"
pg_stop main immediate

it_step "while PostgreSQL is down: 503 unavailable, and no token issued"
# An answer already on the wire when the server went may still arrive;
# after that, nothing more is acknowledged until the server is back.
sleep 1
before=$(($(acks a) + $(acks b)))
for url in "$A_URL" "$B_URL"; do
	status=$(curl -s -o "$IT_TMP/health.json" -w '%{http_code}' "$url/healthz")
	[ "$status" = 503 ] || it_fail "$url/healthz answered $status with the database down"
	at_expect "$IT_TMP/health.json" error unavailable "healthz on $url: 503 unavailable"
done
sleep "$DOWN_S"
after=$(($(acks a) + $(acks b)))
[ "$after" = "$before" ] || it_fail "$((after - before)) attestations acknowledged with the database down"
it_ok "no attestation acknowledged in ${DOWN_S}s with the database down"

it_step "PostgreSQL is back: both instances resume by themselves"
pg_restart main
wait "$load_a" || it_fail "loadgen on a failed"
wait "$load_b" || it_fail "loadgen on b failed"
final=$(($(acks a) + $(acks b)))
[ "$final" -gt "$after" ] || it_fail "no attestation acknowledged after the server came back"
it_ok "$((final - after)) attestations acknowledged after the restart"
for inst in a b; do
	failed=$(at_json "$IT_TMP/load-$inst.json" failed)
	[ "$failed" -gt 0 ] || it_fail "instance $inst never failed: the outage did not land mid-stream"
done
it_ok "clients saw the outage as failures ($(at_json "$IT_TMP/load-a.json" failed) on a, $(at_json "$IT_TMP/load-b.json" failed) on b)"
for url in "$A_URL" "$B_URL"; do
	curl -fsS "$url/healthz" >/dev/null || it_fail "$url/healthz still failing"
done
kill -0 "$A_PID" && kill -0 "$B_PID" || it_fail "an instance exited during the outage"
it_ok "healthz OK on both instances, neither restarted"

it_step "every token a client received has its admitted row"
cat "$IT_TMP/acks-a" "$IT_TMP/acks-b" >"$IT_TMP/acks"
AT_CONF=$A_CONF at_check_acks "$IT_TMP/acks"
it_ok "no acknowledged decision lost, no token without a row"
AT_CONF=$A_CONF it_check "the hash chain verifies across the outage" at_ctl audit verify
