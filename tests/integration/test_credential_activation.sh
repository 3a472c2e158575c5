#!/usr/bin/env bash
# Proves attestd's MakeCredential against a real TPM: for EKs of every
# supported template (L-1 RSA-2048, L-2 P-256, H-3 P-384, H-6 RSA-3072)
# tpm2_activatecredential on swtpm recovers the secret from the credential
# tool_makecredential made, the AK Names agree with tpm2-tools', and a
# credential made for another AK, or altered, does not open.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"

it_need_tool swtpm tpm2_createek tpm2_createak tpm2_startauthsession tpm2_policysecret \
	tpm2_policyor tpm2_activatecredential tpm2_flushcontext cmp xxd python3
make_credential=$(it_build_path tests/integration/tool_makecredential)

it_swtpm_start tpm --stock
# shellcheck disable=SC1091
. "$IT_TMP/tpm/env"
cd "$IT_TMP"

# TCG EK Credential Profile 2.x: the H templates' PolicyB is
# PolicyOR(PolicyA, PolicyC); PolicyA is PolicySecret(TPM_RH_ENDORSEMENT).
# The SHA-384 branches, to satisfy PolicyB_SHA384 of the H-3 and H-6 EKs.
printf '%s' 8bbf2266537c171cb56e403c4dc1d4b64f432611dc386e6f532050c3278c930e143e8bb1133824ccb431053871c6db53 |
	xxd -r -p >policy_a_sha384
printf '%s' d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b455e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165 |
	xxd -r -p >policy_c_sha384

# swtpm has no resource manager and three object slots: free them all.
flush() {
	tpm2_flushcontext -t && tpm2_flushcontext -l && tpm2_flushcontext -s
}

# flip_last_bit_of_id_object IN OUT: the file tpm2_makecredential -o writes
# is magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET; alter the last
# byte of the encrypted identity.
flip_last_bit_of_id_object() {
	python3 - "$1" "$2" <<-'PY'
		import sys
		data = bytearray(open(sys.argv[1], "rb").read())
		end = 8 + 2 + int.from_bytes(data[8:10], "big")
		data[end - 1] ^= 1
		open(sys.argv[2], "wb").write(data)
	PY
}

# activate EK_CTX CRED OUT HASH: tpm2_activatecredential with the AK, in a
# policy session that satisfies the EK's policy (admin role).
activate() {
	local ek=$1 cred=$2 out=$3 hash=$4 rc=0
	tpm2_startauthsession --policy-session -g "$hash" -S session.ctx >/dev/null
	tpm2_policysecret -S session.ctx -c e >/dev/null
	if [ "$hash" = sha384 ]; then
		tpm2_policyor -S session.ctx -l sha384:policy_a_sha384,policy_c_sha384 >/dev/null
	fi
	tpm2_activatecredential -c ak.ctx -C "$ek" -i "$cred" -o "$out" \
		-P session:session.ctx >/dev/null 2>&1 || rc=$?
	tpm2_flushcontext session.ctx >/dev/null 2>&1 || true
	flush
	return $rc
}

it_step "AKs from tpm2_createak under the RSA EK; attestd computes their Names as tpm2-tools does"
tpm2_createek -G rsa -c parent_ek.ctx -u parent_ek.pub >/dev/null
flush
for ak in ecc:ecdsa rsa:rsassa; do
	alg=${ak%%:*}
	tpm2_createak -C parent_ek.ctx -c "ak_$alg.ctx" -G "$alg" -g sha256 -s "${ak#*:}" \
		-u "ak_$alg.pub" -n "ak_$alg.name" >/dev/null
	flush
done
head -c 32 /dev/urandom >secret
for alg in ecc rsa; do
	it_check "tool_makecredential accepts the $alg AK" \
		"$make_credential" parent_ek.pub "ak_$alg.pub" secret cred "name_$alg"
	it_check "the $alg AK's Name equals tpm2_createak -n" cmp "ak_$alg.name" "name_$alg"
done

# template EK-ALG AK SESSION-HASH
for case in "L-1 RSA-2048:rsa:ecc:sha256" "L-2 P-256:ecc:rsa:sha256" \
	"H-3 P-384:ecc384:ecc:sha384" "H-6 RSA-3072:rsa3072:rsa:sha384"; do
	IFS=: read -r template ek_alg ak_alg hash <<<"$case"
	it_step "EK $template (tpm2_createek -G $ek_alg), $ak_alg AK"
	tpm2_createek -G "$ek_alg" -c ek.ctx -u ek.pub >/dev/null
	flush
	cp "ak_$ak_alg.ctx" ak.ctx
	head -c 32 /dev/urandom >secret
	"$make_credential" ek.pub "ak_$ak_alg.pub" secret cred ||
		it_fail "tool_makecredential refused the $template EK"
	rm -f recovered
	it_check "tpm2_activatecredential recovers the secret ($template)" \
		activate ek.ctx cred recovered "$hash"
	it_check "the recovered secret is the one sent ($template)" cmp secret recovered

	# Made for the other AK: this TPM must not open it with this one.
	other=ecc
	[ "$ak_alg" = ecc ] && other=rsa
	"$make_credential" ek.pub "ak_$other.pub" secret cred_other
	it_check_not "a credential for another AK's Name does not activate ($template)" \
		activate ek.ctx cred_other recovered "$hash"

	# One bit of the protected credential flipped: the integrity HMAC fails.
	flip_last_bit_of_id_object cred cred_altered
	it_check_not "an altered credential does not activate ($template)" \
		activate ek.ctx cred_altered recovered "$hash"
done

it_step "keys the rules refuse"
out=$("$make_credential" ak_ecc.pub ak_rsa.pub secret cred 2>/dev/null || true)
[ "$out" = ek_invalid ] || it_fail "an AK used as EK: expected ek_invalid, got '$out'"
it_ok "an AK given as the EK is ek_invalid"
out=$("$make_credential" parent_ek.pub parent_ek.pub secret cred 2>/dev/null || true)
[ "$out" = ak_invalid ] || it_fail "an EK used as AK: expected ak_invalid, got '$out'"
it_ok "an EK given as the AK is ak_invalid"
