#!/usr/bin/env bash
# attest-client flushes every transient object and session on every path.
# The fixture swtpm has no resource manager and 3 object slots, so anything
# a run leaves loaded stays there for the next one to see (and a few such
# runs would exhaust the TPM): 100 consecutive attestations against attestd,
# then runs that fail at each stage after the keys are loaded, must all
# leave `tpm2_getcap handles-transient` and `handles-loaded-session` empty.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"
# shellcheck source=tests/integration/attestd_lib.sh
. "$(dirname -- "$0")/attestd_lib.sh"
it_need_tool tpm2_getcap tpm2_flushcontext python3

readonly RUNS=100
CLIENT=$(it_build_path attest-client/attest-client)
it_swtpm_start phys
# shellcheck source=/dev/null
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"
at_start main "$IT_TMP/policy.json"

loaded() {
	echo "$(tpm2_getcap handles-transient)$(tpm2_getcap handles-loaded-session)"
}

nothing_loaded() {
	local left
	left=$(loaded)
	[ -z "$left" ] || it_fail "$1 left handles loaded: $left"
}

it_step "$RUNS consecutive attestations"
start=$(date +%s.%N)
for ((i = 1; i <= RUNS; i++)); do
	# Alternate the algorithms so every EK and AK path is repeated.
	if ((i % 2)); then algs=(--ek-alg ecc --ak-alg ecc); else algs=(--ek-alg rsa --ak-alg ecc); fi
	"$CLIENT" --url "$AT_URL" --event-log "$IT_TMP/boot.log" --token-file "$IT_TMP/token" \
		"${algs[@]}" 2>"$IT_TMP/err" ||
		{ cat "$IT_TMP/err" >&2; it_fail "attestation $i of $RUNS failed"; }
done
end=$(date +%s.%N)
nothing_loaded "$RUNS attestations"
it_ok "$RUNS attestations admitted; no transient object or session left loaded"
echo "timing: $RUNS attestations in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s" \
	"(alternating ECC and RSA EKs, ECC AK, ASan build)"

it_step "runs that fail after the EK and AK are loaded"
# expect STATUS DESCRIPTION ARGS...
expect() {
	local want=$1 what=$2 status=0
	shift 2
	"$CLIENT" --event-log "$IT_TMP/boot.log" --token-file "$IT_TMP/token" "$@" \
		>/dev/null 2>"$IT_TMP/err" || status=$?
	[ "$status" = "$want" ] || { cat "$IT_TMP/err" >&2; it_fail "$what: exit $status, not $want"; }
	nothing_loaded "$what"
	it_ok "$what: exit $want, nothing left loaded"
}
dead=$(it_free_port)
for ((i = 1; i <= 4; i++)); do
	expect 3 "verifier unreachable ($i)" --url "http://127.0.0.1:$dead" --retries 0
done
for ((i = 1; i <= 4; i++)); do
	expect 4 "AK handle that does not exist ($i)" --url "$AT_URL" --ak-handle 0x81000099
done
# A key that is no AK at a persistent handle: refused after a transient
# RSA EK was made. tpm2-tools' own leftovers are flushed first.
tpm2_createek -G ecc -c 0x81010002 >/dev/null
tpm2_flushcontext -t
tpm2_flushcontext -s
for ((i = 1; i <= 4; i++)); do
	expect 2 "a persistent key that is not an AK ($i)" --url "$AT_URL" --ek-alg rsa \
		--ak-handle 0x81010002
done

it_step "SIGTERM while waiting to retry (systemd stopping the unit)"
"$CLIENT" --url "http://127.0.0.1:$dead" --retries 50 --retry-delay 10000 \
	--token-file "$IT_TMP/token" 2>"$IT_TMP/err" &
pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q "trying again" "$IT_TMP/err" && break
	sleep 0.1
done
grep -q "trying again" "$IT_TMP/err" || it_fail "the client never paused to retry"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 3 ] || { cat "$IT_TMP/err" >&2; it_fail "exit $status after SIGTERM, not 3"; }
grep -q "stopped by a signal" "$IT_TMP/err" || it_fail "no word of the signal: $(cat "$IT_TMP/err")"
nothing_loaded "a client stopped by SIGTERM"
it_ok "SIGTERM: the pause ends, exit 3, nothing left loaded"

expect 0 "and a last attestation still works" --url "$AT_URL"
echo "PASS: attest-client leaves no TPM handles"
