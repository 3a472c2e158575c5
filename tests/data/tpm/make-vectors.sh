#!/usr/bin/env bash
# Regenerates the TPM vectors in this directory from a fresh swtpm with
# tpm2-tools (see README.md for what each file is). The files are committed;
# the tests never run this script. Usage: tests/data/tpm/make-vectors.sh
set -euo pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap '"$root/scripts/swtpm-fixture" stop "$work/tpm" || true; rm -rf -- "$work"' EXIT

"$root/scripts/swtpm-fixture" start "$work/tpm" --stock >/dev/null
# shellcheck disable=SC1091
. "$work/tpm/env"
cd "$work"

nonce=$(cat "$here/nonce.hex")
flush() { tpm2_flushcontext -t && tpm2_flushcontext -s; }

# Non-zero PCRs in both banks, so digests over them mean something.
tpm2_pcrextend "0:sha256=$(printf boot0 | sha256sum | cut -c1-64),sha1=$(printf boot0 | sha1sum | cut -c1-40)"
tpm2_pcrextend "7:sha256=$(printf secureboot | sha256sum | cut -c1-64)"

# EKs of the four supported templates.
for alg in rsa:ek_rsa2048 ecc:ek_ecc_p256 ecc384:ek_ecc_p384 rsa3072:ek_rsa3072; do
	tpm2_createek -G "${alg%%:*}" -c "${alg#*:}.ctx" -u "$here/${alg#*:}.pub" >/dev/null
	tpm2_readpublic -c "${alg#*:}.ctx" -n "$here/${alg#*:}.name" >/dev/null
	flush
done

# AKs under the RSA EK, and a quote of sha256:0-7 from each.
tpm2_createek -G rsa -c ek.ctx >/dev/null
flush
for ak in ecc:ecdsa:ak_ecc rsa:rsassa:ak_rsa rsa:rsapss:ak_rsapss; do
	IFS=: read -r alg scheme name <<<"$ak"
	tpm2_createak -C ek.ctx -c "$name.ctx" -G "$alg" -g sha256 -s "$scheme" \
		-u "$here/$name.pub" -n "$here/$name.name" >/dev/null
	flush
	quote=quote_${name#ak_}
	tpm2_quote -c "$name.ctx" -l sha256:0,1,2,3,4,5,6,7 -q "$nonce" -g sha256 --scheme "$scheme" \
		-m "$here/$quote.attest" -s "$here/$quote.sig" -o "$quote.values" -F values >/dev/null
	flush
done
# The PCRs did not change between the quotes: one file of values for all.
cmp quote_ecc.values quote_rsa.values
python3 - quote_ecc.values "$here/pcrs.json" <<-'PY'
	import json, sys
	raw = open(sys.argv[1], "rb").read()
	vals = {str(i): raw[32 * i:32 * i + 32].hex().upper() for i in range(8)}
	json.dump({"sha256": vals}, open(sys.argv[2], "w"), indent=1)
PY

# Signed by the ECC AK but not quotes of sha256:0-7: two banks in one quote,
# a TPMS_ATTEST of type TIME, and a CVE-2024-29038 forgery: the quote with its
# magic changed, signed through TPM2_Hash + TPM2_Sign as a restricted key
# allows for data that does not start with TPM_GENERATED_VALUE.
tpm2_quote -c ak_ecc.ctx -l sha1:0+sha256:0 -q "$nonce" -g sha256 \
	-m "$here/quote_twobanks.attest" -s "$here/quote_twobanks.sig" >/dev/null
flush
tpm2_gettime -c ak_ecc.ctx -q "$nonce" --attestation "$here/time_ecc.attest" \
	-o "$here/time_ecc.sig" >/dev/null
flush
{ printf '\x00\x54\x43\x47'; tail -c +5 "$here/quote_ecc.attest"; } >"$here/forged_ecc.attest"
tpm2_hash -C e -g sha256 -t ticket.bin -o digest.bin "$here/forged_ecc.attest" >/dev/null
tpm2_sign -c ak_ecc.ctx -g sha256 -d -t ticket.bin -o "$here/forged_ecc.sig" digest.bin
flush

# A signing key that is not restricted quotes just as well: the AK rule must
# be what refuses it.
tpm2_createprimary -C o -c primary.ctx >/dev/null
flush
tpm2_create -C primary.ctx -G ecc256:ecdsa-sha256 -g sha256 \
	-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" \
	-u "$here/unrestricted_ecc.pub" -r unrestricted.priv >/dev/null
flush
tpm2_load -C primary.ctx -u "$here/unrestricted_ecc.pub" -r unrestricted.priv -c unrestricted.ctx >/dev/null
tpm2_quote -c unrestricted.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$nonce" -g sha256 \
	-m "$here/quote_unrestricted.attest" -s "$here/quote_unrestricted.sig" >/dev/null
flush
echo "vectors written to $here"
