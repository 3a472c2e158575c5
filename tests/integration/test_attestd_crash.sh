#!/usr/bin/env bash
# kill -9 of attestd during a stream of attestations loses no decision that a
# client saw acknowledged, and the hash chain still verifies (DESIGN.md:
# "Decisions are durable before the answer leaves"). Software TPMs
# (tests/bench/loadgen) keep several attestations in flight at the moment of
# the kill; every attestation_id that came back with a 200 must then be an
# admitted row carrying that token's jti, after a restart on the same store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"

# Machines attesting at once: enough that decisions are queued for the
# group commit and answers are on the wire when the kill lands.
readonly MACHINES=6
# Acknowledged attestations to see before the kill (the stream is flowing),
# and how long the stream then runs before it is cut.
readonly ACKS_BEFORE_KILL=20 STREAM_AFTER_ACKS_S=1
readonly LOAD_SECONDS=8 ACK_WAIT_POLLS=300

# At exit: a loadgen still running after a failure is stopped.
stop_loadgen() {
	kill "$1" 2>/dev/null || true
}

it_need_tool python3 curl
loadgen=$(it_build_path tests/bench/loadgen)
it_tmpdir
at_policy "$IT_TMP/policy.json"
at_start crash "$IT_TMP/policy.json"

it_step "a stream of attestations from $MACHINES machines; attestd killed with SIGKILL mid-stream"
"$loadgen" --url "$AT_URL" --threads "$MACHINES" --seconds "$LOAD_SECONDS" \
	attest --pki "$ATTEST_TEST_PKI" --ack-log "$IT_TMP/acks" >"$IT_TMP/load.json" &
load_pid=$!
it_on_exit stop_loadgen "$load_pid"
for ((i = 0; i < ACK_WAIT_POLLS; i++)); do
	[ -s "$IT_TMP/acks" ] && [ "$(wc -l <"$IT_TMP/acks")" -ge "$ACKS_BEFORE_KILL" ] && break
	kill -0 "$load_pid" 2>/dev/null || break
	sleep 0.1
done
[ "$(wc -l <"$IT_TMP/acks" 2>/dev/null || echo 0)" -ge "$ACKS_BEFORE_KILL" ] ||
	it_fail "fewer than $ACKS_BEFORE_KILL attestations acknowledged before the kill"
sleep "$STREAM_AFTER_ACKS_S"
kill -KILL "$AT_PID"
wait "$AT_PID" 2>/dev/null || true
wait "$load_pid" || it_fail "loadgen failed"
acked=$(wc -l <"$IT_TMP/acks")
it_ok "$acked attestations acknowledged before and around the kill"
# The kill must have cut the stream, or nothing was tested.
failed=$(at_json "$IT_TMP/load.json" failed)
[ "$failed" -gt 0 ] || it_fail "the client saw no failure: the kill did not land mid-stream"
it_ok "the client saw $failed attestations fail after the kill"

it_step "restart on the same store"
at_start crash "$IT_TMP/policy.json"

it_step "every acknowledged attestation is an admitted row with its token's jti and machine"
at_check_acks "$IT_TMP/acks"
it_ok "no acknowledged decision was lost"

it_check "the hash chain verifies after the crash" at_ctl audit verify

it_step "attestations continue the chain after the restart"
"$loadgen" --url "$AT_URL" --threads 2 --seconds 1 attest --pki "$ATTEST_TEST_PKI" \
	>"$IT_TMP/after.json" || it_fail "loadgen failed after the restart"
[ "$(at_json "$IT_TMP/after.json" failed)" = 0 ] && [ "$(at_json "$IT_TMP/after.json" ok)" -gt 0 ] ||
	it_fail "attestations after the restart: $(cat "$IT_TMP/after.json")"
it_ok "$(at_json "$IT_TMP/after.json" ok) attestations admitted after the restart"
it_check "the hash chain verifies across the crash and the new rows" at_ctl audit verify
