#!/usr/bin/env bash
# The whole protocol with evidence made by tpm2-tools on a software TPM whose
# EK chains to the test manufacturer CA: admitted with RSA and ECC EKs, the
# token checks out at /v1/admission and offline against the JWKS
# (scripts/gateway/attest-token-check), the history has the rows and the
# audit chain verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool tpm2_createek tpm2_quote curl openssl python3

it_swtpm_start phys
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"
at_start main "$IT_TMP/policy.json"

it_step "RSA EK, ECC AK, with the boot event log"
at_client --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_RSA" --ek-chain "$EK_INTERMEDIATE_RSA" \
	--event-log "$IT_TMP/boot.log" >"$IT_TMP/rsa.json"
at_expect "$IT_TMP/rsa.json" challenge.status 200 "challenge answered"
at_expect "$IT_TMP/rsa.json" quote.status 200 "quote admitted"
at_json "$IT_TMP/rsa.json" quote.body.token >"$IT_TMP/token"
machine=$(at_json "$IT_TMP/rsa.json" quote.body.machine_id)
expected=$(openssl x509 -inform DER -in "$EK_CERT_RSA" -pubkey -noout |
	openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
[ "$machine" = "sha256:$expected" ] || it_fail "machine id $machine is not sha256 of the EK SPKI"
it_ok "machine id is sha256 of the EK's SubjectPublicKeyInfo"

it_step "the token at the gateway endpoint and offline"
status=$(curl -s -o /dev/null -D "$IT_TMP/headers" -w '%{http_code}' \
	-H "Authorization: Bearer $(cat "$IT_TMP/token")" "$AT_URL/v1/admission")
[ "$status" = 204 ] || it_fail "admission answered $status"
grep -qi "^X-Attest-Machine: $machine" "$IT_TMP/headers" || it_fail "no X-Attest-Machine header"
it_ok "GET /v1/admission: 204 with X-Attest-Machine"
curl -fsS "$AT_URL/.well-known/jwks.json" >"$IT_TMP/jwks.json"
"$ATTEST_SOURCE_ROOT/scripts/gateway/attest-token-check" --jwks "$IT_TMP/jwks.json" --claims \
	<"$IT_TMP/token" >"$IT_TMP/claims.json" || it_fail "the offline checker refuses the token"
at_expect "$IT_TMP/claims.json" sub "$machine" "attest-token-check verifies the ES256 token against the JWKS"
at_expect "$IT_TMP/claims.json" att.policy integration-test "token names the policy"
at_expect "$IT_TMP/claims.json" att.tpm_manufacturer id:53544D20 "token names the TPM manufacturer"

it_step "ECC EK, RSA AK"
at_client --tcti "$TPM2TOOLS_TCTI" --ek-cert "$EK_CERT_ECC" --ek-chain "$EK_INTERMEDIATE_ECC" \
	--ek-alg ecc --ak-alg rsa --event-log "$IT_TMP/boot.log" >"$IT_TMP/ecc.json"
at_expect "$IT_TMP/ecc.json" quote.status 200 "quote admitted with an ECC EK"

it_step "the history and its audit chain"
at_ctl history >"$IT_TMP/history"
[ "$(grep -c ' quote .*admitted' "$IT_TMP/history")" = 2 ] || {
	cat "$IT_TMP/history"
	it_fail "history does not show two admitted quotes"
}
it_ok "attestctl history shows both admissions"
id=$(at_json "$IT_TMP/rsa.json" quote.body.attestation_id)
key=$(at_ctl apikeys add auditor test-auditor)
curl -fsS -H "X-API-Key: $key" "$AT_URL/v1/attestations/$id" >"$IT_TMP/row.json"
at_expect "$IT_TMP/row.json" outcome admitted "GET /v1/attestations/{id} shows the row"
at_expect "$IT_TMP/row.json" host.hostname tpm2tools-host "the row keeps the host metadata"
it_check "attestctl audit verify" at_ctl audit verify
