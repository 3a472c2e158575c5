#!/usr/bin/env bash
# Proves attestd's quote verification on quotes a real TPM made: tpm2_quote
# on swtpm with ECDSA, RSASSA and RSAPSS AKs verifies; every tampered
# variant is refused with its own code; and the attacks real verifiers fell
# for, done with the TPM itself (a TIME attestation, a magic-less structure
# signed through TPM2_Hash + TPM2_Sign, a quote of another bank, a quote by
# an unrestricted key), are refused too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"

it_need_tool swtpm tpm2_createek tpm2_createak tpm2_quote tpm2_pcrextend tpm2_gettime \
	tpm2_hash tpm2_sign tpm2_createprimary tpm2_create tpm2_load tpm2_flushcontext \
	openssl python3
check_quote=$(it_build_path tests/integration/tool_checkquote)

it_swtpm_start tpm --stock
# shellcheck disable=SC1091
. "$IT_TMP/tpm/env"
cd "$IT_TMP"

readonly SELECTION=sha256:0,1,2,3,4,5,6,7

# swtpm has no resource manager and three object slots: free them all.
flush() {
	tpm2_flushcontext -t && tpm2_flushcontext -l && tpm2_flushcontext -s
}

# pcrs_json VALUES OUT [INDEX...]: the `pcrs` field from tpm2_quote -F values
# output (sha256 values of PCR 0.. in order), for the given PCR indices.
pcrs_json() {
	python3 - "$@" <<-'PY'
		import json, sys
		raw = open(sys.argv[1], "rb").read()
		indices = [int(i) for i in sys.argv[3:]] or range(len(raw) // 32)
		values = {str(i): raw[32 * i:32 * i + 32].hex() for i in indices if 32 * i < len(raw)}
		json.dump({"sha256": values}, open(sys.argv[2], "w"))
	PY
}

# edit_json IN OUT PYTHON-STATEMENT: rewrites the pcrs JSON (as `p`).
edit_json() {
	python3 - "$1" "$2" "$3" <<-'PY'
		import json, sys
		p = json.load(open(sys.argv[1]))
		exec(sys.argv[3])
		json.dump(p, open(sys.argv[2], "w"))
	PY
}

# flip_byte IN OUT OFFSET
flip_byte() {
	python3 - "$@" <<-'PY'
		import sys
		data = bytearray(open(sys.argv[1], "rb").read())
		data[int(sys.argv[3])] ^= 1
		open(sys.argv[2], "wb").write(data)
	PY
}

# expect CODE[:DETAIL] WHAT AK QUOTE SIG PCRS NONCE SELECTION: tool_checkquote
# answers CODE, and its detail contains DETAIL when given (several checks
# share quote_invalid: the detail says which one refused).
expect() {
	local code=${1%%:*} detail= what=$2 got
	[[ $1 == *:* ]] && detail=${1#*:}
	shift 2
	got=$("$check_quote" "$@" 2>"$IT_TMP/check.err" | head -n 1) || true
	if [ "$got" != "$code" ] || { [ -n "$detail" ] && ! grep -qF -- "$detail" "$IT_TMP/check.err"; }; then
		cat "$IT_TMP/check.err" >&2
		it_fail "$what: expected $code${detail:+ ($detail)}, got '$got'"
	fi
	it_ok "$what: $code${detail:+ ($detail)}"
}

it_step "PCRs with content, an EK and three AKs"
tpm2_pcrextend "0:sha256=$(printf firmware | sha256sum | cut -c1-64)"
tpm2_pcrextend "7:sha256=$(printf secureboot | sha256sum | cut -c1-64)"
tpm2_createek -G rsa -c ek.ctx >/dev/null
flush
for ak in ecc:ecdsa rsa:rsassa rsa:rsapss; do
	tpm2_createak -C ek.ctx -c "ak_${ak#*:}.ctx" -G "${ak%%:*}" -g sha256 -s "${ak#*:}" \
		-u "ak_${ak#*:}.pub" >/dev/null
	flush
done

for scheme in ecdsa rsassa rsapss; do
	it_step "tpm2_quote $SELECTION with the $scheme AK"
	nonce=$(openssl rand -hex 32)
	tpm2_quote -c "ak_$scheme.ctx" -l "$SELECTION" -q "$nonce" -g sha256 --scheme "$scheme" \
		-m q.msg -s q.sig -o q.values -F values >/dev/null
	flush
	pcrs_json q.values pcrs.json
	args=("ak_$scheme.pub" q.msg q.sig pcrs.json)
	expect ok "the genuine quote verifies ($scheme)" "${args[@]}" "$nonce" "$SELECTION"

	expect nonce_mismatch "another nonce ($scheme)" "${args[@]}" "$(openssl rand -hex 32)" "$SELECTION"
	flip_byte q.sig bad.sig $(($(stat -c %s q.sig) - 1))
	expect "quote_invalid:does not verify" "a signature byte changed ($scheme)" \
		"ak_$scheme.pub" q.msg bad.sig pcrs.json "$nonce" "$SELECTION"
	flip_byte q.msg bad.msg 80 # inside clockInfo
	expect "quote_invalid:does not verify" "a quoted byte changed ($scheme)" \
		"ak_$scheme.pub" bad.msg q.sig pcrs.json "$nonce" "$SELECTION"
	edit_json pcrs.json bad.json 'p["sha256"]["7"] = "00" * 32'
	expect pcr_digest_mismatch "PCR 7 not the quoted value ($scheme)" \
		"ak_$scheme.pub" q.msg q.sig bad.json "$nonce" "$SELECTION"
	edit_json pcrs.json bad.json 'p["sha256"]["8"] = "00" * 32'
	expect bad_request "a PCR outside the signed selection ($scheme)" \
		"ak_$scheme.pub" q.msg q.sig bad.json "$nonce" "$SELECTION"
	edit_json pcrs.json bad.json 'del p["sha256"]["0"]'
	expect bad_request "a selected PCR missing ($scheme)" \
		"ak_$scheme.pub" q.msg q.sig bad.json "$nonce" "$SELECTION"
	expect pcr_selection_mismatch "the verifier asked for sha256:0,1,2 ($scheme)" \
		"${args[@]}" "$nonce" sha256:0,1,2
	other=ecdsa
	[ "$scheme" = ecdsa ] && other=rsassa
	expect quote_invalid "checked against another AK ($scheme)" \
		"ak_$other.pub" q.msg q.sig pcrs.json "$nonce" "$SELECTION"
done

it_step "attacks made with the TPM itself"
nonce=$(openssl rand -hex 32)
tpm2_quote -c ak_ecdsa.ctx -l "$SELECTION" -q "$nonce" -g sha256 --scheme ecdsa \
	-m q.msg -s q.sig -o q.values -F values >/dev/null
flush
pcrs_json q.values pcrs.json

# CVE-2024-29039: a genuine quote, but of the sha1 bank, not the one asked for.
tpm2_quote -c ak_ecdsa.ctx -l sha1:0,1,2,3,4,5,6,7 -q "$nonce" -g sha256 --scheme ecdsa \
	-m sha1.msg -s sha1.sig >/dev/null
flush
expect pcr_selection_mismatch "a genuine quote of another bank" \
	ak_ecdsa.pub sha1.msg sha1.sig pcrs.json "$nonce" "$SELECTION"

# A signed TPMS_ATTEST of type TIME is no quote.
tpm2_gettime -c ak_ecdsa.ctx -q "$nonce" --attestation time.msg -o time.sig >/dev/null
flush
expect "quote_invalid:type 0x8019" "a TIME attestation signed by the AK" \
	ak_ecdsa.pub time.msg time.sig pcrs.json "$nonce" "$SELECTION"

# CVE-2024-29038: the quote with its magic changed, so TPM2_Hash issues a
# ticket and the restricted AK signs it with TPM2_Sign. Genuine signature,
# forged structure.
flip_byte q.msg forged.msg 0
tpm2_hash -C e -g sha256 -t ticket.bin -o digest.bin forged.msg >/dev/null
tpm2_sign -c ak_ecdsa.ctx -g sha256 -d -t ticket.bin -o forged.sig digest.bin
flush
expect "quote_invalid:magic" "a structure without TPM_GENERATED_VALUE, signed by the AK" \
	ak_ecdsa.pub forged.msg forged.sig pcrs.json "$nonce" "$SELECTION"

# safeboot #36: a signing key that is not restricted quotes as well.
tpm2_createprimary -C o -c primary.ctx >/dev/null
flush
tpm2_create -C primary.ctx -G ecc256:ecdsa-sha256 -g sha256 \
	-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" \
	-u loose.pub -r loose.priv >/dev/null
flush
tpm2_load -C primary.ctx -u loose.pub -r loose.priv -c loose.ctx >/dev/null
tpm2_quote -c loose.ctx -l "$SELECTION" -q "$nonce" -g sha256 -m loose.msg -s loose.sig \
	-o loose.values -F values >/dev/null
flush
pcrs_json loose.values loose.json
expect "ak_invalid:restricted clear" "a quote by a key that is not restricted" \
	loose.pub loose.msg loose.sig loose.json "$nonce" "$SELECTION"
