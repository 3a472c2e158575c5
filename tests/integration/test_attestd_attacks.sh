#!/usr/bin/env bash
# The attacks of the attestation API, each refused with its own code and
# recorded in the history: a virtual TPM, mismatched keys, a fake AK, an AK
# from another TPM, wrong secret or nonce, forged quote, replays (also across
# a restart), expired sessions, tampered PCRs and event logs, malformed
# bodies, revoked and unenrolled machines, forged and expired tokens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool tpm2_createek tpm2_quote curl python3

it_swtpm_start phys
it_swtpm_start other
it_swtpm_start stock --stock
. "$IT_TMP/other/env"
OTHER_TCTI=$TPM2TOOLS_TCTI
. "$IT_TMP/stock/env"
STOCK_TCTI=$TPM2TOOLS_TCTI
STOCK_CERT=$EK_CERT_RSA
STOCK_CA=$EK_INTERMEDIATE_RSA
STOCK_ROOT=$EK_ROOT_RSA
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
GOOD=(--tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" --ek-chain "$EK_INTERMEDIATE_RSA"
	--event-log "$IT_TMP/boot.log")

# The stock swtpm's own CA is trusted here on purpose: the virtual-TPM rules
# must refuse it anyway.
at_policy "$IT_TMP/policy.json" "p['ek']['trust_anchors'] += ['$STOCK_ROOT', '$STOCK_CA']"
at_start main "$IT_TMP/policy.json"

# attack NAME PHASE EXPECTED_STATUS EXPECTED_CODE CLIENT_ARGS...
attack() {
	local name=$1 phase=$2 status=$3 code=$4
	shift 4
	at_client "$@" >"$IT_TMP/$name.json"
	at_expect "$IT_TMP/$name.json" "$phase.status" "$status" "$name: HTTP $status"
	at_expect "$IT_TMP/$name.json" "$phase.body.error" "$code" "$name: refused as $code"
}

it_step "challenge attacks"
attack stock-swtpm challenge 403 ek_virtual_tpm --tcti "$STOCK_TCTI" --ek-cert "$STOCK_CERT" \
	--ek-chain "$STOCK_CA"
attack ek-pub-of-other-tpm challenge 403 ek_key_mismatch "${GOOD[@]}" --ek-pub-tcti "$OTHER_TCTI"
attack unrestricted-ak challenge 403 ak_invalid "${GOOD[@]}" --tamper ak-unrestricted

it_step "quote attacks"
attack ak-of-other-tpm quote 403 credential_mismatch "${GOOD[@]}" --ak-tcti "$OTHER_TCTI"
[ -n "$(at_json "$IT_TMP/ak-of-other-tpm.json" activation_failed)" ] ||
	it_fail "the other TPM activated a credential made for this EK"
it_ok "a TPM without the EK cannot activate the credential"
attack wrong-secret quote 403 credential_mismatch "${GOOD[@]}" --tamper wrong-secret
attack wrong-nonce quote 403 nonce_mismatch "${GOOD[@]}" --tamper wrong-nonce
attack forged-quote-magic quote 403 quote_invalid "${GOOD[@]}" --tamper quote-magic
attack other-pcr-selection quote 403 pcr_selection_mismatch "${GOOD[@]}" --tamper pcr-selection
attack pcr-outside-selection quote 400 bad_request "${GOOD[@]}" --tamper extra-pcr
attack tampered-pcr quote 403 pcr_digest_mismatch "${GOOD[@]}" --tamper pcr-value
attack tampered-event-log quote 403 eventlog_replay_mismatch "${GOOD[@]}" --tamper event-log
attack bad-base64 quote 400 bad_request "${GOOD[@]}" --tamper bad-base64
attack unknown-field quote 400 bad_request "${GOOD[@]}" --tamper unknown-field

it_step "replayed sessions"
at_client "${GOOD[@]}" --replay --save-quote "$IT_TMP/quote-body.json" >"$IT_TMP/replay.json"
at_expect "$IT_TMP/replay.json" quote.status 200 "first use of the session admitted"
at_expect "$IT_TMP/replay.json" replay.body.error session_replayed "second use refused"
at_stop "$AT_PID"
at_start main "$IT_TMP/policy.json"
curl -s -o "$IT_TMP/after-restart.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "@$IT_TMP/quote-body.json" "$AT_URL/v1/attest/quote" >"$IT_TMP/status"
[ "$(cat "$IT_TMP/status")" = 403 ] || it_fail "replay after restart answered $(cat "$IT_TMP/status")"
at_expect "$IT_TMP/after-restart.json" error session_replayed "replay after a restart refused"

it_step "malformed bodies"
post() { curl -s -o "$IT_TMP/body.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
[ "$(post --data-binary '{"ek_cert": "AAAA"' "$AT_URL/v1/attest/challenge")" = 400 ] &&
	at_expect "$IT_TMP/body.json" error bad_request "truncated JSON: 400 bad_request"
[ "$(post --data-binary '[1,2]' "$AT_URL/v1/attest/challenge")" = 400 ] &&
	at_expect "$IT_TMP/body.json" error bad_request "JSON that is not an object: 400"
head -c 5000000 /dev/zero | tr '\0' 'a' >"$IT_TMP/big"
[ "$(post --data-binary "@$IT_TMP/big" "$AT_URL/v1/attest/challenge")" = 413 ] &&
	at_expect "$IT_TMP/body.json" error body_too_large "body over 4 MiB: 413 body_too_large"
[ "$(post --data-binary '{"ek_cert": "not a cert", "ek_pub": "", "ak_pub": ""}' \
	"$AT_URL/v1/attest/challenge")" = 400 ] || it_fail "bad base64 in the challenge accepted"
it_ok "non-base64 ek_cert: 400"

it_step "expired session"
at_stop "$AT_PID"
at_policy "$IT_TMP/short-session.json" "p['session_ttl'] = 1"
at_start main "$IT_TMP/short-session.json"
attack expired-session quote 403 session_expired "${GOOD[@]}" --wait 2.2

it_step "tokens: forged, expired"
at_stop "$AT_PID"
at_policy "$IT_TMP/short-token.json" "p['token_ttl'] = 2"
at_start main "$IT_TMP/short-token.json"
at_client "${GOOD[@]}" >"$IT_TMP/short-token.json"
at_expect "$IT_TMP/short-token.json" quote.status 200 "admitted with a 2 s token"
token=$(at_json "$IT_TMP/short-token.json" quote.body.token)
forged=${token%.*}.$(printf 'A%.0s' $(seq 86))
admission() { curl -s -o "$IT_TMP/adm.json" -w '%{http_code}' -H "Authorization: Bearer $1" "$AT_URL/v1/admission"; }
[ "$(admission "$forged")" = 401 ] && at_expect "$IT_TMP/adm.json" error token_invalid \
	"forged signature: 401 token_invalid"
[ "$(admission "")" = 401 ] || it_fail "empty token not 401"
sleep 2.2
[ "$(admission "$token")" = 403 ] && at_expect "$IT_TMP/adm.json" error token_expired \
	"expired token: 403 token_expired"

it_step "revocation and enrollment"
at_stop "$AT_PID"
at_start main "$IT_TMP/policy.json"
at_client "${GOOD[@]}" >"$IT_TMP/before-revoke.json"
at_expect "$IT_TMP/before-revoke.json" quote.status 200 "admitted before revocation"
token=$(at_json "$IT_TMP/before-revoke.json" quote.body.token)
machine=$(at_json "$IT_TMP/before-revoke.json" quote.body.machine_id)
at_ctl machines revoke "$machine" --reason "test" >/dev/null
[ "$(admission "$token")" = 403 ] && at_expect "$IT_TMP/adm.json" error machine_revoked \
	"token of a machine revoked afterwards: 403 machine_revoked"
attack revoked-machine challenge 403 machine_revoked "${GOOD[@]}"
at_ctl machines reinstate "$machine" >/dev/null
at_stop "$AT_PID"
at_policy "$IT_TMP/enroll.json" "p['enrollment_required'] = True"
at_start main "$IT_TMP/enroll.json"
attack unenrolled challenge 403 not_enrolled "${GOOD[@]}"
at_ctl machines enroll "$machine" >/dev/null
at_client "${GOOD[@]}" >"$IT_TMP/enrolled.json"
at_expect "$IT_TMP/enrolled.json" quote.status 200 "admitted once enrolled"

it_step "every refusal is in the history"
at_ctl history --outcome refused >"$IT_TMP/refused"
for code in ek_virtual_tpm ek_key_mismatch ak_invalid credential_mismatch nonce_mismatch \
	quote_invalid pcr_selection_mismatch pcr_digest_mismatch eventlog_replay_mismatch \
	bad_request body_too_large session_replayed session_expired machine_revoked not_enrolled; do
	grep -q " $code" "$IT_TMP/refused" || { cat "$IT_TMP/refused"; it_fail "no $code row"; }
done
it_ok "each refusal was recorded with its code"
it_check "attestctl audit verify" at_ctl audit verify
