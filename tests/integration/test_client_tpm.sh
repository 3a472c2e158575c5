#!/usr/bin/env bash
# attest-client's TPM side on fixture swtpms, checked with tpm2-tools and
# openssl and without a verifier (--dry-run prints the evidence): the EK
# certificate read from NV is the fixture's DER (also when NV pads it), the
# EK and AK publics are byte-identical to what tpm2-tools writes, the client
# uses the persistent EK/AK and the saved context tpm2-tools leaves, takes
# online certificates from files, exits with the TPM code when the TPM is
# gone, and leaves no object or session loaded.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"
it_need_tool tpm2_createek tpm2_createak tpm2_evictcontrol tpm2_print tpm2_getcap \
	tpm2_flushcontext openssl python3

CLIENT=$(it_build_path attest-client/attest-client)
it_tmpdir
it_swtpm_start phys &
p1=$!
it_swtpm_start padded --ff-pad &
p2=$!
for name in phys padded; do
	it_on_exit "$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" stop "$IT_TMP/$name"
done
wait "$p1" && wait "$p2" || it_fail "a fixture did not start"

# field JSON PATH: one value of the dry-run JSON ("challenge.ek_cert").
field() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))
PY
}

# b64_is_file JSON PATH FILE: the base64 field decodes to FILE's bytes.
b64_is_file() {
	field "$1" "$2" | base64 -d | cmp -s - "$3"
}

no_objects_or_sessions() {
	[ -z "$(tpm2_getcap handles-transient)" ] && [ -z "$(tpm2_getcap handles-loaded-session)" ]
}

ak_is_restricted_signing_key() {
	local printed
	field "$1" challenge.ak_pub | base64 -d >"$1.ak.pub"
	printed=$(tpm2_print -t TPM2B_PUBLIC "$1.ak.pub") || return 1
	[[ $printed == *"value: fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign"$'\n'* ]]
}

chain_holds() {
	local json=$1 i want
	shift
	for want in "$@"; do
		for i in 0 1 2 3; do
			field "$json" "challenge.ek_chain.$i" 2>/dev/null | base64 -d |
				cmp -s - <(openssl x509 -in "$want" -outform DER) && continue 2
		done
		return 1
	done
}

(
	# shellcheck source=/dev/null
	. "$IT_TMP/phys/env"
	dir=$IT_TMP/check-phys
	mkdir -p "$dir"

	it_step "dry run on the physical fixture: EK choice, certificates, publics"
	it_check "attest-client --dry-run exits 0" \
		sh -c '"$1" --dry-run --event-log /nonexistent >"$2"' _ "$CLIENT" "$dir/auto.json"
	it_check "auto picks the certified ECC P-256 EK: ek_cert is \$EK_CERT_ECC's DER" \
		b64_is_file "$dir/auto.json" challenge.ek_cert "$EK_CERT_ECC"
	it_check "ek_chain carries both NV intermediates (0x1c00100, 0x1c00101)" \
		chain_holds "$dir/auto.json" "$EK_INTERMEDIATE_RSA" "$EK_INTERMEDIATE_ECC"
	tpm2_createek -G ecc -c "$dir/ek.ctx" -u "$dir/ek-ecc.pub" >/dev/null
	tpm2_flushcontext -t
	it_check "ek_pub is byte-identical to tpm2_createek -G ecc -u" \
		b64_is_file "$dir/auto.json" challenge.ek_pub "$dir/ek-ecc.pub"
	it_check "ak_pub unmarshals (tpm2_print) as a restricted signing key" \
		ak_is_restricted_signing_key "$dir/auto.json"
	[ -z "$(field "$dir/auto.json" quote.event_log 2>/dev/null)" ] ||
		it_fail "an event log was sent though the file does not exist"
	it_ok "no event log file: no event_log field"
	it_check "no transient object or session left loaded" no_objects_or_sessions

	"$CLIENT" --dry-run --ek-alg rsa --ak-alg rsa --event-log "$IT_TMP/phys/env" \
		>"$dir/rsa.json" || it_fail "--ek-alg rsa --ak-alg rsa dry run failed"
	it_check "--ek-alg rsa: ek_cert is \$EK_CERT_RSA's DER" \
		b64_is_file "$dir/rsa.json" challenge.ek_cert "$EK_CERT_RSA"
	it_check "--event-log FILE: event_log is that file" \
		b64_is_file "$dir/rsa.json" quote.event_log "$IT_TMP/phys/env"
	it_check "--ak-alg rsa: the AK is a restricted signing key" \
		ak_is_restricted_signing_key "$dir/rsa.json"
	it_check "--ak-alg rsa: an RSA AK" \
		sh -c 'tpm2_print -t TPM2B_PUBLIC "$1.ak.pub" | grep "value: rsa" >/dev/null' _ "$dir/rsa.json"
	it_check "no transient object or session left loaded" no_objects_or_sessions

	it_step "the TPM state tpm2-tools leaves: persistent EK and AK, saved AK context"
	tpm2_createek -G rsa -c 0x81010001 -u "$dir/ek-rsa.pub" >/dev/null
	tpm2_createak -C 0x81010001 -G ecc -g sha256 -s ecdsa -c "$dir/ak.ctx" \
		-u "$dir/ak.pub" >/dev/null
	tpm2_evictcontrol -c "$dir/ak.ctx" 0x81010003 >/dev/null
	# tpm2-tools leaves its objects loaded; swtpm has no resource manager.
	tpm2_flushcontext -t
	tpm2_flushcontext -s
	tpm2_createak -C 0x81010001 -G rsa -g sha256 -s rsassa -c "$dir/ak2.ctx" \
		-u "$dir/ak2.pub" >/dev/null
	tpm2_flushcontext -t
	tpm2_flushcontext -s
	"$CLIENT" --dry-run --ak-handle 0x81010003 >"$dir/persist.json" ||
		it_fail "--ak-handle 0x81010003 dry run failed"
	it_check "auto prefers the certified EK that is already persistent (RSA at 0x81010001)" \
		b64_is_file "$dir/persist.json" challenge.ek_cert "$EK_CERT_RSA"
	it_check "ek_pub is tpm2_createek's persistent EK, byte for byte" \
		b64_is_file "$dir/persist.json" challenge.ek_pub "$dir/ek-rsa.pub"
	it_check "--ak-handle: ak_pub is tpm2_createak's AK, byte for byte" \
		b64_is_file "$dir/persist.json" challenge.ak_pub "$dir/ak.pub"
	"$CLIENT" --dry-run --ak-context "$dir/ak2.ctx" >"$dir/ctx.json" ||
		it_fail "--ak-context dry run failed"
	it_check "--ak-context: ak_pub is the AK tpm2_createak -c saved" \
		b64_is_file "$dir/ctx.json" challenge.ak_pub "$dir/ak2.pub"
	it_check "persistent EK and AK are still there (used, never evicted)" \
		sh -c 'tpm2_getcap handles-persistent | grep -q 0x81010001 &&
			tpm2_getcap handles-persistent | grep -q 0x81010003'
	it_check "no transient object or session left loaded" no_objects_or_sessions
	if "$CLIENT" --dry-run --ak-handle 0x81010001 >/dev/null 2>"$dir/notak.err"; then
		it_fail "the EK was accepted as an AK"
	fi
	grep -q "not a restricted signing key" "$dir/notak.err" ||
		it_fail "no clear refusal of a non-AK handle: $(cat "$dir/notak.err")"
	it_ok "--ak-handle naming a key that is no AK is refused locally"
	it_check "no transient object or session left loaded" no_objects_or_sessions

	it_step "certificates served online (Intel PTT, AMD fTPM): --ek-cert and --ek-chain files"
	openssl x509 -inform DER -in "$EK_CERT_ECC" -out "$dir/ek-ecc.pem"
	"$CLIENT" --dry-run --ek-cert "$dir/ek-ecc.pem" --ek-chain "$EK_INTERMEDIATE_ECC" \
		>"$dir/files.json" || it_fail "--ek-cert dry run failed"
	it_check "ek_cert is the PEM file's DER" \
		b64_is_file "$dir/files.json" challenge.ek_cert "$EK_CERT_ECC"
	it_check "ek_chain holds the --ek-chain file" \
		chain_holds "$dir/files.json" "$EK_INTERMEDIATE_ECC"
	it_check "the EK is the one the file certifies (ECC)" \
		b64_is_file "$dir/files.json" challenge.ek_pub "$dir/ek-ecc.pub"
	status=0
	"$CLIENT" --dry-run --ek-cert "$dir/ek-ecc.pem" --ek-alg rsa >/dev/null 2>&1 || status=$?
	[ "$status" = 2 ] || it_fail "--ek-alg rsa with an ECC --ek-cert exited $status, not 2"
	it_ok "--ek-alg contradicting --ek-cert is a usage error (2)"
) || exit 1

(
	# shellcheck source=/dev/null
	. "$IT_TMP/padded/env"
	it_step "NV padded with 0xFF to a 512-byte multiple (as some STMicro parts ship)"
	"$CLIENT" --dry-run --ek-alg rsa >"$IT_TMP/padded.json" || it_fail "padded dry run failed"
	it_check "ek_cert is the certificate without its padding" \
		b64_is_file "$IT_TMP/padded.json" challenge.ek_cert "$EK_CERT_RSA"

	it_step "the TPM is gone"
	it_swtpm_stop padded
	status=0
	"$CLIENT" --dry-run >/dev/null 2>"$IT_TMP/gone.err" || status=$?
	[ "$status" = 4 ] || it_fail "exit status $status without a TPM, expected 4"
	grep -q "TPM" "$IT_TMP/gone.err" || it_fail "no TPM error message: $(cat "$IT_TMP/gone.err")"
	it_ok "no TPM: exit 4 and the reason on stderr"
) || exit 1

it_step "usage errors"
status=0
"$CLIENT" --no-such-option >/dev/null 2>&1 || status=$?
[ "$status" = 2 ] || it_fail "an unknown option exited $status, not 2"
status=0
"$CLIENT" --url http://192.0.2.1:8443 --tcti "swtpm:host=127.0.0.1,port=1" >/dev/null 2>&1 || status=$?
[ "$status" = 2 ] || it_fail "plain http to a remote host exited $status, not 2"
it_ok "unknown option and plain http to a non-loopback host: exit 2, before the TPM"
"$CLIENT" --help | grep -q "3  verifier unreachable" || it_fail "--help does not document the exit codes"
it_ok "--help documents the exit codes"
echo "PASS: attest-client TPM side"
