#!/usr/bin/env bash
# attest-client against a real attestd: a fixture swtpm with RSA and with
# ECC EKs gets a token that the gateway endpoint accepts; the TPM state
# tpm2-tools leaves works too; the stock swtpm exits with the refused code
# and ek_virtual_tpm; a refusal at the quote step names its code; with
# attestd down it exits with the unreachable code after the bounded retries;
# with the TPM gone, the TPM code. Prints the time one attestation takes.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"
# shellcheck source=tests/integration/attestd_lib.sh
. "$(dirname -- "$0")/attestd_lib.sh"
it_need_tool tpm2_createek tpm2_createak tpm2_evictcontrol tpm2_flushcontext tpm2_getcap \
	curl openssl python3

CLIENT=$(it_build_path attest-client/attest-client)
it_tmpdir
it_swtpm_start phys &
p1=$!
it_swtpm_start stock --stock &
p2=$!
for name in phys stock; do
	it_on_exit "$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" stop "$IT_TMP/$name"
done
wait "$p1" && wait "$p2" || it_fail "a fixture did not start"
(
	# shellcheck source=/dev/null
	. "$IT_TMP/phys/env"
	"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
	# A log of another boot, never extended: it cannot replay to the PCRs.
	"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/other-boot.log" --virtual --no-extend
) || it_fail "fake-boot failed"
at_policy "$IT_TMP/policy.json"
at_start main "$IT_TMP/policy.json"

# client ENV-NAME ARGS...: attest-client on fixture ENV-NAME; its exit
# status in $status, stderr in $IT_TMP/err.
client() {
	local fixture=$1
	shift
	status=0
	(
		# shellcheck source=/dev/null
		. "$IT_TMP/$fixture/env"
		exec "$CLIENT" --url "$AT_URL" --event-log "$IT_TMP/boot.log" "$@"
	) 2>"$IT_TMP/err" || status=$?
}

expect_status() {
	[ "$status" = "$1" ] || {
		cat "$IT_TMP/err" >&2
		it_fail "$2: exit status $status, expected $1"
	}
	it_ok "$2"
}

no_objects_or_sessions() {
	(
		# shellcheck source=/dev/null
		. "$IT_TMP/$1/env"
		[ -z "$(tpm2_getcap handles-transient)" ] &&
			[ -z "$(tpm2_getcap handles-loaded-session)" ]
	)
}

machine_of() {
	echo "sha256:$(openssl x509 -inform DER -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
}

# admitted_at_gateway TOKEN-FILE MACHINE-ID
admitted_at_gateway() {
	local code
	code=$(curl -s -o /dev/null -D "$IT_TMP/headers" -w '%{http_code}' \
		-H "Authorization: Bearer $(cat "$1")" "$AT_URL/v1/admission")
	[ "$code" = 204 ] && grep -qi "^X-Attest-Machine: $2" "$IT_TMP/headers"
}

. "$IT_TMP/phys/env" # the certificate paths; each run sources its own TCTI

it_step "ECC EK (auto), ECC AK, with the event log: admitted"
TIMEFORMAT='%R %U %S'
{ time client phys --token-file "$IT_TMP/ecc.token" --print-token >"$IT_TMP/ecc.out"; } \
	2>"$IT_TMP/time"
expect_status 0 "exit 0 (admitted)"
read -r real user sys <"$IT_TMP/time"
echo "timing: one full attestation (ECC EK + ECC AK, swtpm, local attestd):" \
	"${real}s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')s client CPU"
[ "$(stat -c %a "$IT_TMP/ecc.token")" = 600 ] || it_fail "token file mode is not 0600"
it_ok "token written with mode 0600"
cmp -s <(printf '%s\n' "$(cat "$IT_TMP/ecc.token")") "$IT_TMP/ecc.out" ||
	it_fail "--print-token printed something else than the token file holds"
it_ok "--print-token prints the token of the file"
it_check "the gateway admits the token for the ECC EK's machine id" \
	admitted_at_gateway "$IT_TMP/ecc.token" "$(machine_of "$EK_CERT_ECC")"
it_check "no transient object or session left loaded" no_objects_or_sessions phys

it_step "RSA EK, RSA AK: admitted"
client phys --ek-alg rsa --ak-alg rsa --token-file "$IT_TMP/rsa.token"
expect_status 0 "exit 0 (admitted)"
it_check "the gateway admits the token for the RSA EK's machine id" \
	admitted_at_gateway "$IT_TMP/rsa.token" "$(machine_of "$EK_CERT_RSA")"
it_check "no transient object or session left loaded" no_objects_or_sessions phys

it_step "the TPM state tpm2-tools leaves: persistent EK 0x81010001 and AK 0x81010003"
(
	# shellcheck source=/dev/null
	. "$IT_TMP/phys/env"
	tpm2_createek -G rsa -c 0x81010001 >/dev/null
	tpm2_createak -C 0x81010001 -G ecc -g sha256 -s ecdsa -c "$IT_TMP/ak.ctx" >/dev/null
	tpm2_evictcontrol -c "$IT_TMP/ak.ctx" 0x81010003 >/dev/null
	tpm2_flushcontext -t
	tpm2_flushcontext -s
) || it_fail "tpm2-tools could not persist an EK and AK"
client phys --ak-handle 0x81010003 --token-file "$IT_TMP/persist.token"
expect_status 0 "exit 0 (admitted) with tpm2-tools' persistent EK and AK"
it_check "no transient object or session left loaded" no_objects_or_sessions phys

it_step "refusals: the stock swtpm, an event log that does not replay"
client stock --token-file "$IT_TMP/stock.token"
expect_status 1 "stock swtpm: exit 1 (refused)"
grep -q "refused by the verifier: ek_virtual_tpm: " "$IT_TMP/err" ||
	it_fail "no 'ek_virtual_tpm: detail' on stderr: $(cat "$IT_TMP/err")"
it_ok "stderr names the refusal: ek_virtual_tpm and its detail"
[ ! -e "$IT_TMP/stock.token" ] || it_fail "a refused run wrote a token file"
it_ok "no token file after a refusal"
it_check "no transient object or session left on the stock TPM" no_objects_or_sessions stock
client phys --event-log "$IT_TMP/other-boot.log" --token-file "$IT_TMP/other.token"
expect_status 1 "a log of another boot: exit 1 (refused at the quote)"
grep -q "refused by the verifier: eventlog_replay_mismatch: " "$IT_TMP/err" ||
	it_fail "no eventlog_replay_mismatch on stderr: $(cat "$IT_TMP/err")"
it_ok "stderr names the refusal: eventlog_replay_mismatch"
it_check "no transient object or session left loaded" no_objects_or_sessions phys

it_step "attestd down: bounded retries, then the unreachable code"
at_stop "$AT_PID"
client phys --retries 2 --retry-delay 50 --retry-max-delay 100 --token-file "$IT_TMP/down.token"
expect_status 3 "exit 3 (unreachable)"
[ "$(grep -c "trying again" "$IT_TMP/err")" = 2 ] || {
	cat "$IT_TMP/err" >&2
	it_fail "not exactly 2 retries"
}
grep -q "verifier unreachable after 3 attempts" "$IT_TMP/err" ||
	it_fail "no final 'unreachable after 3 attempts': $(cat "$IT_TMP/err")"
it_ok "--retries 2: three attempts, then exit 3"
it_check "no transient object or session left loaded" no_objects_or_sessions phys

it_step "the TPM is gone"
it_swtpm_stop phys
client phys --retries 0 --token-file "$IT_TMP/gone.token"
expect_status 4 "exit 4 (TPM error)"
echo "PASS: attest-client against attestd"
