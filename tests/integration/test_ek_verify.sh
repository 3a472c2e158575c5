#!/usr/bin/env bash
# attestctl ek verify as an operator uses it: every hardware EK vector is
# trusted by the shipped default policy and every virtual one refused with
# ek_virtual_tpm, also when the virtual TPMs' CAs are made anchors; on live
# software TPMs, an EK certificate and intermediates read from NV with
# tpm2_nvread (0xFF padding included) verify against the manufacturer's
# root, and swtpm's own certificates are refused even with its CA trusted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"

it_need_tool swtpm swtpm_setup tpm2_nvread tpm2_createek tpm2_flushcontext openssl python3
it_tmpdir

CTL=$(it_build_path attestd/attestctl)
DEFAULT=$(it_source_path policy/default.json)
DATA=$(it_source_path tests/data/ekcerts)

# verdict EXIT FIRST-LINE ARGS...: attestctl ek verify ARGS exits with EXIT
# and prints FIRST-LINE first.
verdict() {
	local want_rc=$1 want=$2 out rc=0
	shift 2
	out=$("$CTL" ek verify "$@" 2>&1) || rc=$?
	if [ "$rc" != "$want_rc" ] || [ "$(head -n 1 <<<"$out")" != "$want" ]; then
		printf 'exit %s, wanted %s %s:\n%s\n' "$rc" "$want_rc" "$want" "$out" >&2
		return 1
	fi
}

# detail_has STRING ARGS...: the refusal's detail line names STRING.
detail_has() {
	local want=$1 out
	shift
	out=$("$CTL" ek verify "$@" 2>&1) || true
	grep -q "^detail: .*$want" <<<"$out" || {
		printf '%s\n' "$out" >&2
		return 1
	}
}

# make_policy OUT ANCHOR_PATHS INTERMEDIATE_PATHS [RULES]: default.json with
# extra anchors and intermediates (space-separated lists), and its
# virtual-TPM rules unless RULES=none.
make_policy() {
	python3 - "$DEFAULT" "$@" <<-'PY'
		import json, os, sys
		default, out, anchors, inters = sys.argv[1:5]
		rules = sys.argv[5] if len(sys.argv) > 5 else "default"
		base = os.path.dirname(os.path.abspath(default))
		p = json.load(open(default))
		ek = p["ek"]
		for key, extra in (("trust_anchors", anchors), ("intermediates", inters)):
		    ek[key] = [os.path.join(base, x) for x in ek.get(key, [])] + extra.split()
		if rules == "none":
		    ek["virtual_tpm"] = []
		p["name"] = "test-" + os.path.basename(out)
		json.dump(p, open(out, "w"), indent=1)
	PY
}

it_step "the default policy on the real EK certificates"
for f in "$DATA"/hardware/*; do
	it_check "trusted: $(basename "$f")" verdict 0 ok --policy "$DEFAULT" "$f"
done
for f in "$DATA"/virtual/*; do
	it_check "refused as virtual: $(basename "$f")" verdict 1 ek_virtual_tpm --policy "$DEFAULT" "$f"
done
it_check "the JSON verdict names the TPM and the chain" python3 -c '
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "ek", "verify", "--json", "--policy", sys.argv[2], sys.argv[3]],
                     capture_output=True, text=True, check=True).stdout
v = json.loads(out)
assert v["verdict"] == "ok", v
assert v["tpm"]["vendor"] == "STMicroelectronics" and v["tpm"]["model"] == "ST33HTPHAHB4", v
assert len(v["chain"]) == 3 and v["machine_id"].startswith("sha256:"), v
' "$CTL" "$DEFAULT" "$DATA/hardware/stm_st33htph_rsa2048_ek_ffpadded.der"

it_step "virtual TPMs stay refused when their CAs are anchors"
make_policy "$IT_TMP/vca.json" "$DATA/virtual-ca" "$DATA/virtual-ca"
make_policy "$IT_TMP/vca-norules.json" "$DATA/virtual-ca" "$DATA/virtual-ca" none
for f in "$DATA"/virtual/gce_*; do
	it_check "still refused: $(basename "$f")" verdict 1 ek_virtual_tpm --policy "$IT_TMP/vca.json" "$f"
	it_check "chains without the rules: $(basename "$f")" \
		verdict 0 ok --policy "$IT_TMP/vca-norules.json" "$f"
done
# The CAs sent as intermediates by the client instead: refused too.
it_check "refused with its CAs sent as intermediates" verdict 1 ek_virtual_tpm \
	--policy "$DEFAULT" "$DATA/virtual/gce_pca_tpm_rsa_enc_cert.pem" \
	"$DATA/virtual-ca/gtt_gcp_ek_ak_ca_intermediate_v3.crt" "$DATA/virtual-ca/gtt_gcp_ek_ak_ca_root.crt"

it_step "EK certificates and intermediates read from a TPM's NV"
it_swtpm_start phys
it_swtpm_start padded --ff-pad
for tpm in phys padded; do
	(
		. "$IT_TMP/$tpm/env"
		tpm2_nvread "$EK_CERT_RSA_NV" -o "$IT_TMP/$tpm-ek-rsa.nv" 2>/dev/null
		tpm2_nvread "$EK_CERT_ECC_NV" -o "$IT_TMP/$tpm-ek-ecc.nv" 2>/dev/null
		i=0
		for nv in $EK_CHAIN_NV; do
			tpm2_nvread "$nv" -o "$IT_TMP/$tpm-chain-$i.nv" 2>/dev/null
			i=$((i + 1))
		done
		echo "$SWTPM_PKI_DIR" >"$IT_TMP/pki-dir"
		for alg in rsa ecc; do
			tpm2_createek -G "$alg" -c "$IT_TMP/$tpm-ek-$alg.ctx" \
				-u "$IT_TMP/$tpm-ek-$alg.pub" >/dev/null
			tpm2_flushcontext -t
		done
	) || it_fail "tpm2_nvread or tpm2_createek on the $tpm TPM failed"
done
PKI=$(cat "$IT_TMP/pki-dir")
make_policy "$IT_TMP/pki.json" "$PKI/roots" ""
it_check "padding really is there" python3 -c '
import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d.endswith(b"\xff\xff") else 1)
' "$IT_TMP/padded-ek-rsa.nv"
for tpm in phys padded; do
	for alg in rsa ecc; do
		it_check "$tpm $alg: untrusted without the intermediate" \
			verdict 1 ek_chain_untrusted --policy "$IT_TMP/pki.json" "$IT_TMP/$tpm-ek-$alg.nv"
		it_check "$tpm $alg: trusted with the intermediates from NV" \
			verdict 0 ok --policy "$IT_TMP/pki.json" "$IT_TMP/$tpm-ek-$alg.nv" \
			"$IT_TMP/$tpm-chain-0.nv" "$IT_TMP/$tpm-chain-1.nv"
	done
done
it_step "the EK public the TPM reports (tpm2_createek -u) against the certificate"
CHAIN=("$IT_TMP/phys-chain-0.nv" "$IT_TMP/phys-chain-1.nv")
for alg in rsa ecc; do
	it_check "$alg: the TPM's EK public is the certificate's key" verdict 0 ok \
		--policy "$IT_TMP/pki.json" --ek-pub "$IT_TMP/phys-ek-$alg.pub" \
		"$IT_TMP/phys-ek-$alg.nv" "${CHAIN[@]}"
	it_check "$alg: another TPM's EK public with this certificate" verdict 1 ek_key_mismatch \
		--policy "$IT_TMP/pki.json" --ek-pub "$IT_TMP/padded-ek-$alg.pub" \
		"$IT_TMP/phys-ek-$alg.nv" "${CHAIN[@]}"
done
it_check "an ECC EK public with the RSA certificate" verdict 1 ek_key_mismatch \
	--policy "$IT_TMP/pki.json" --ek-pub "$IT_TMP/phys-ek-ecc.pub" "$IT_TMP/phys-ek-rsa.nv" \
	"${CHAIN[@]}"
it_check "a certificate is not an EK public" verdict 1 bad_request --policy "$IT_TMP/pki.json" \
	--ek-pub "$IT_TMP/phys-ek-rsa.nv" "$IT_TMP/phys-ek-rsa.nv" "${CHAIN[@]}"

it_check "the NV chain may come in any order" verdict 0 ok --policy "$IT_TMP/pki.json" \
	"$IT_TMP/phys-ek-ecc.nv" "$IT_TMP/phys-chain-1.nv" "$IT_TMP/phys-chain-0.nv"
it_check "a root sent as an intermediate is not trusted" \
	verdict 1 ek_chain_untrusted --policy "$DEFAULT" "$IT_TMP/phys-ek-rsa.nv" \
	"$IT_TMP/phys-chain-0.nv" "$PKI/roots/rsa-root.pem"

it_step "swtpm's own certificates"
it_swtpm_start stock --stock
(
	. "$IT_TMP/stock/env"
	tpm2_nvread "$EK_CERT_RSA_NV" -o "$IT_TMP/stock-ek-rsa.nv" 2>/dev/null
	echo "$EK_INTERMEDIATE_RSA $EK_ROOT_RSA" >"$IT_TMP/stock-cas"
) || it_fail "tpm2_nvread on the stock swtpm failed"
read -r STOCK_INT STOCK_ROOT <"$IT_TMP/stock-cas"
make_policy "$IT_TMP/stock.json" "$STOCK_ROOT $STOCK_INT" "$STOCK_INT"
it_check "refused by the default policy" verdict 1 ek_virtual_tpm --policy "$DEFAULT" \
	"$IT_TMP/stock-ek-rsa.nv"
it_check "refused with swtpm's CA as an anchor" verdict 1 ek_virtual_tpm \
	--policy "$IT_TMP/stock.json" "$IT_TMP/stock-ek-rsa.nv"
it_check "the detail names the rule" detail_has "rule swtpm-localca" \
	--policy "$IT_TMP/stock.json" "$IT_TMP/stock-ek-rsa.nv"

it_step "refusals of the command itself"
printf 'not a certificate' >"$IT_TMP/junk"
it_check "not X.509: ek_cert_invalid" verdict 1 ek_cert_invalid --policy "$DEFAULT" "$IT_TMP/junk"
it_check "no certificate: usage" verdict 2 \
	"usage: attestctl ek verify [--policy FILE] [--ek-pub FILE] [--json] CERT [INTERMEDIATE...]" --policy "$DEFAULT"
it_check_not "a policy that does not load" "$CTL" ek verify --policy "$IT_TMP/none.json" \
	"$DATA/hardware/ifx_slb9670_rsa2048_ek.der"
