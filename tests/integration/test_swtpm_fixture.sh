#!/usr/bin/env bash
# Proves with tpm2-tools and openssl, independently of attestd's own code, that
# scripts/swtpm-fixture serves what every other integration test relies on: a
# "physical" TPM whose EK certificates are in NV, chain to the test
# manufacturer roots through intermediates also in NV, name the configured
# manufacturer and certify the keys `tpm2_createek` derives; a "stock" swtpm
# whose certificates come from swtpm-localca; and a stop that leaves nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"

it_need_tool swtpm swtpm_setup tpm2_nvread tpm2_nvreadpublic tpm2_createek \
	tpm2_flushcontext tpm2_getcap openssl python3

# nv_cert INDEX OUT: the DER certificate in INDEX without NV padding (some
# TPMs pad with 0xFF); its length comes from the outer SEQUENCE header.
nv_cert() {
	local raw=$2.nv header hl len
	tpm2_nvread "$1" -o "$raw" 2>/dev/null || it_fail "tpm2_nvread $1 failed"
	header=$(openssl asn1parse -inform DER -in "$raw" 2>/dev/null | head -n 1)
	[[ $header =~ hl=\ *([0-9]+)\ +l=\ *([0-9]+)\ +cons:\ +SEQUENCE ]] ||
		it_fail "NV $1 does not start with a DER SEQUENCE: $header"
	hl=${BASH_REMATCH[1]} len=${BASH_REMATCH[2]}
	head -c $((hl + len)) "$raw" >"$2"
	# Whatever follows the certificate must be 0xFF padding.
	tail -c +$((hl + len + 1)) "$raw" | tr -d '\377' | cmp -s - /dev/null ||
		it_fail "NV $1 has bytes other than 0xFF after the certificate"
}

# pubkey_of_createek ALG OUT: the EK public key (PEM) from the default template.
pubkey_of_createek() {
	tpm2_createek -G "$1" -c "$2.ctx" -u "$2" -f pem >/dev/null ||
		it_fail "tpm2_createek -G $1 failed"
	tpm2_flushcontext -t || it_fail "tpm2_flushcontext failed"
}

same_key() {
	openssl x509 -inform DER -in "$1" -noout -pubkey | cmp -s - "$2"
}

san_is() {
	local san
	san=$(openssl x509 -inform DER -in "$1" -noout -ext subjectAltName)
	[[ $san == *"Subject Alternative Name: critical"* ]] || return 1
	[[ $san == *"DirName:/2.23.133.2.1=$2/2.23.133.2.2=$3/2.23.133.2.3=$4" ]]
}

# cert_text_has CERT-DER STRING...: openssl's text form shows every STRING.
cert_text_has() {
	local text want
	text=$(openssl x509 -inform DER -in "$1" -noout -text)
	shift
	for want in "$@"; do
		[[ $text == *"$want"* ]] || return 1
	done
}

issuer_is() {
	[ "$(openssl x509 -inform DER -in "$1" -noout -issuer)" = "issuer=$2" ]
}

# verify_chain CERT-DER ROOT-PEM [INTERMEDIATE-PEM]
verify_chain() {
	local args=(-CAfile "$2")
	[ -n "${3:-}" ] && args+=(-untrusted "$3")
	openssl x509 -inform DER -in "$1" | openssl verify "${args[@]}"
}

no_transient_objects() {
	[ -z "$(tpm2_getcap handles-transient)" ]
}

nv_attributes_like_real_ek_cert() {
	local attrs
	attrs=$(tpm2_nvreadpublic "$1" | sed -n '/^ *attributes:/{n;s/^ *friendly: //p}')
	[[ $attrs == *ppwrite* && $attrs == *platformcreate* && $attrs == *no_da* && $attrs == *ownerread* ]]
}

nv_padded_to_512() {
	local size
	size=$(tpm2_nvreadpublic "$1" | sed -n 's/^ *size: *//p')
	[ $((size % 512)) -eq 0 ] && [ "$size" -gt "$(stat -c %s "$2")" ]
}

# check_physical NAME MANUFACTURER MODEL VERSION [ff-padded]
check_physical() {
	local name=$1 mfr=$2 model=$3 version=$4 padded=${5:-} dir=$IT_TMP/check-$1
	mkdir -p "$dir"
	(
		# shellcheck source=/dev/null
		. "$IT_TMP/$name/env"
		it_step "physical fixture '$name' on $TPM2TOOLS_TCTI (SAN $mfr / $model / $version)"
		it_check "no object left loaded in the TPM's 3 transient slots" no_transient_objects
		nv_cert 0x1c00002 "$dir/ek-rsa.der"
		nv_cert 0x1c0000a "$dir/ek-ecc.der"
		nv_cert 0x1c00100 "$dir/intermediate-rsa.der"
		nv_cert 0x1c00101 "$dir/intermediate-ecc.der"
		it_ok "EK certificates read from NV 0x1c00002 and 0x1c0000a, intermediates from 0x1c00100, 0x1c00101"
		openssl x509 -inform DER -in "$dir/intermediate-rsa.der" -out "$dir/intermediate-rsa.pem"
		openssl x509 -inform DER -in "$dir/intermediate-ecc.der" -out "$dir/intermediate-ecc.pem"
		it_check "NV 0x1c00002 defined like a vendor's EK index (ppwrite, platformcreate, no_da, ownerread)" \
			nv_attributes_like_real_ek_cert 0x1c00002
		if [ -n "$padded" ]; then
			it_check "NV 0x1c00002 is 0xFF-padded to a 512-byte multiple" nv_padded_to_512 0x1c00002 "$EK_CERT_RSA"
			it_check "NV 0x1c0000a is 0xFF-padded to a 512-byte multiple" nv_padded_to_512 0x1c0000a "$EK_CERT_ECC"
		fi
		it_check "NV 0x1c00002 holds \$EK_CERT_RSA" cmp "$dir/ek-rsa.der" "$EK_CERT_RSA"
		it_check "NV 0x1c0000a holds \$EK_CERT_ECC" cmp "$dir/ek-ecc.der" "$EK_CERT_ECC"
		it_check "RSA EK certificate verifies: NV intermediate -> attestd test RSA root" \
			verify_chain "$dir/ek-rsa.der" "$ATTEST_TEST_PKI/roots/rsa-root.pem" "$dir/intermediate-rsa.pem"
		it_check "ECC EK certificate verifies: NV intermediate -> attestd test ECC root" \
			verify_chain "$dir/ek-ecc.der" "$ATTEST_TEST_PKI/roots/ecc-root.pem" "$dir/intermediate-ecc.pem"
		it_check_not "without the intermediate the RSA EK certificate does not verify" \
			verify_chain "$dir/ek-rsa.der" "$ATTEST_TEST_PKI/roots/rsa-root.pem"
		it_check "RSA EK certificate: critical SAN says $mfr / $model / $version" \
			san_is "$dir/ek-rsa.der" "$mfr" "$model" "$version"
		it_check "ECC EK certificate: critical SAN says $mfr / $model / $version" \
			san_is "$dir/ek-ecc.der" "$mfr" "$model" "$version"
		it_check "RSA EK certificate: RSA-2048, keyEncipherment, EKU 2.23.133.8.1 (tcg-kp-EKCertificate)" \
			cert_text_has "$dir/ek-rsa.der" "Public-Key: (2048 bit)" "Key Encipherment" 2.23.133.8.1
		it_check "ECC EK certificate: NIST P-256, keyAgreement, EKU 2.23.133.8.1 (tcg-kp-EKCertificate)" \
			cert_text_has "$dir/ek-ecc.der" "NIST CURVE: P-256" "Key Agreement" 2.23.133.8.1
		pubkey_of_createek rsa "$dir/createek-rsa.pem"
		pubkey_of_createek ecc "$dir/createek-ecc.pem"
		it_check "RSA EK certificate key equals tpm2_createek -G rsa" same_key "$dir/ek-rsa.der" "$dir/createek-rsa.pem"
		it_check "ECC EK certificate key equals tpm2_createek -G ecc" same_key "$dir/ek-ecc.der" "$dir/createek-ecc.pem"
	) || exit 1
}

check_stock() {
	local name=$1 dir=$IT_TMP/check-$1
	mkdir -p "$dir"
	(
		# shellcheck source=/dev/null
		. "$IT_TMP/$name/env"
		it_step "stock fixture '$name' on $TPM2TOOLS_TCTI"
		nv_cert 0x1c00002 "$dir/ek-rsa.der"
		nv_cert 0x1c00016 "$dir/ek-ecc.der"
		it_ok "EK certificates read from NV 0x1c00002 and 0x1c00016"
		it_check "RSA EK certificate issuer is CN = swtpm-localca" issuer_is "$dir/ek-rsa.der" "CN = swtpm-localca"
		it_check "ECC EK certificate issuer is CN = swtpm-localca" issuer_is "$dir/ek-ecc.der" "CN = swtpm-localca"
		it_check "ECC EK is NIST P-384 (swtpm's choice)" cert_text_has "$dir/ek-ecc.der" "NIST CURVE: P-384"
		it_check_not "no P-256 EK certificate at 0x1c0000a" tpm2_nvreadpublic 0x1c0000a
		it_check "SAN says the virtual TPM: id:00001014 / swtpm / id:20191023" \
			san_is "$dir/ek-rsa.der" id:00001014 swtpm id:20191023
		it_check "stock chain verifies only against its own local CA (\$EK_ROOT_RSA)" \
			verify_chain "$dir/ek-rsa.der" "$EK_ROOT_RSA" "$EK_INTERMEDIATE_RSA"
		it_check_not "stock EK does not verify against the test manufacturer root" \
			verify_chain "$dir/ek-rsa.der" "$ATTEST_TEST_PKI/roots/rsa-root.pem" "$IT_TMP/check-phys/intermediate-rsa.pem"
		pubkey_of_createek rsa "$dir/createek-rsa.pem"
		it_check "stock RSA EK certificate key equals tpm2_createek -G rsa" same_key "$dir/ek-rsa.der" "$dir/createek-rsa.pem"
	) || exit 1
}

# check_stopped NAME PID PORT
check_stopped() {
	local name=$1 pid=$2 port=$3 stat=""
	it_swtpm_stop "$name"
	# An exited daemon may stay a zombie until init reaps it: it holds nothing.
	[ -r "/proc/$pid/stat" ] && stat=$(cut -d ' ' -f 3 "/proc/$pid/stat")
	[ -z "$stat" ] || [ "$stat" = Z ] || it_fail "swtpm $pid of '$name' still runs after stop"
	[ ! -e "$IT_TMP/$name" ] || it_fail "state dir of '$name' still exists after stop"
	! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
		it_fail "port $port of '$name' still accepts connections after stop"
	it_ok "stop '$name': swtpm $pid gone, port $port closed, state dir removed"
}

it_tmpdir
it_step "starting three fixtures at once (physical, physical with other SAN and 0xFF-padded NV, stock)"
it_swtpm_start phys &
p1=$!
it_swtpm_start ifx --manufacturer id:49465800 --model "SLB9672" --version id:000F0010 --ff-pad &
p2=$!
it_swtpm_start stock --stock &
p3=$!
# Cleanups registered in the subshells do not reach this shell: register here.
for name in phys ifx stock; do
	it_on_exit "$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" stop "$IT_TMP/$name"
done
for pid in $p1 $p2 $p3; do
	wait "$pid" || it_fail "a fixture did not start"
done
ports=$(cat "$IT_TMP"/{phys,ifx,stock}/env | sed -n 's/^export SWTPM_PORT=//p' | sort -u | wc -l)
[ "$ports" -eq 3 ] || it_fail "fixtures share a port"
it_ok "three fixtures started on three different ports"

check_physical phys id:53544D20 ST33HTPHAHD4 id:00010102
check_physical ifx id:49465800 SLB9672 id:000F0010 ff-padded
check_stock stock

it_step "a start that fails after swtpm runs leaves no process and no state behind"
# A PKI that looks complete but whose RSA intermediate key is garbage: the
# failure comes when the EK certificate is issued, with swtpm already up.
cp -r "$ATTEST_TEST_PKI" "$IT_TMP/bad-pki"
echo garbage >"$IT_TMP/bad-pki/private/rsa-intermediate.key"
if "$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" start "$IT_TMP/broken" --pki "$IT_TMP/bad-pki" \
	2>"$IT_TMP/broken.log"; then
	it_fail "start with a broken PKI succeeded"
fi
grep -q "issuing the rsa EK certificate failed" "$IT_TMP/broken.log" ||
	it_fail "start failed elsewhere than intended: $(cat "$IT_TMP/broken.log")"
[ ! -e "$IT_TMP/broken" ] || it_fail "failed start left $IT_TMP/broken"
! pgrep -f "dir=$IT_TMP/broken/tpm" >/dev/null || it_fail "failed start left a swtpm running"
it_ok "failed start stopped its swtpm and removed its state dir"

it_step "stop"
for name in phys ifx stock; do
	(
		# shellcheck source=/dev/null
		. "$IT_TMP/$name/env"
		check_stopped "$name" "$SWTPM_PID" "$SWTPM_PORT"
	) || exit 1
done
echo "PASS: swtpm fixtures"
