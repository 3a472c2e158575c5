#!/usr/bin/env bash
# Regenerates the synthetic EK PKI used by tests/unit/test_ekcert.c and
# test_policy.c: cases no real vector covers (revocation, expiry, names that
# differ only in spaces, swtpm look-alikes, conflicting SANs). The output is
# committed; run this only to change the cases. Everything is valid until
# 2099 so the fixtures do not age.
#
#   root.pem        self-signed test root (ECC P-256)
#   int.pem         intermediate, subject with TWO spaces: "Synthetic EK  CA"
#   int.crl         CRL of int.pem revoking ek-revoked.pem
#   ek-rsa.pem      RSA-2048 EK, SAN id:54455354 / Synthetic TPM / id:00010002,
#                   TPM spec 2.0 level 0 revision 164   (+ ek-rsa.key)
#   ek-ecc.pem      ECC P-256 EK, same SAN                (+ ek-ecc.key)
#   ek-spaces.pem   issuer written with ONE space ("Synthetic EK CA"), signed
#                   by int.pem's key: must chain to int.pem
#   ek-revoked.pem  revoked by int.crl
#   ek-expired.pem  notAfter 2020-01-01
#   ek-notyet.pem   notBefore 2098-01-01
#   ek-swtpm-id.pem     manufacturer id:00001014 (swtpm's), model "Synthetic TPM"
#   ek-swtpm-model.pem  manufacturer id:54455354, model "swtpm"
#   ek-dup-san.pem  two SAN directoryNames with different manufacturers
#   swtpm-root.pem, swtpm-localca.pem, ek-swtpm.pem
#                   a chain like swtpm_setup's: CN=swtpm-localca issuing an EK
#                   with id:00001014 / swtpm
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ecc_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

cat >"$work/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ek]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = 2.23.133.8.1
subjectAltName = critical, dirName:tcg_san
subjectDirectoryAttributes = ASN1:SEQUENCE:sda
authorityKeyIdentifier = keyid:always

[ek_swtpm_id]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectAltName = critical, dirName:tcg_san_swtpm_id

[ek_swtpm_model]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectAltName = critical, dirName:tcg_san_swtpm_model

[ek_swtpm]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectAltName = critical, dirName:tcg_san_swtpm

[ek_dup_san]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectAltName = critical, dirName:tcg_san, dirName:tcg_san_swtpm_id

# OpenSSL drops everything up to the first '.' of a name in a dirName
# section (it allows "1.CN=" repeats), hence the "x." before each OID.
[tcg_san]
x.2.23.133.2.1 = id:54455354
x.2.23.133.2.2 = Synthetic TPM
x.2.23.133.2.3 = id:00010002

[tcg_san_swtpm_id]
x.2.23.133.2.1 = id:00001014
x.2.23.133.2.2 = Synthetic TPM
x.2.23.133.2.3 = id:00010002

[tcg_san_swtpm_model]
x.2.23.133.2.1 = id:54455354
x.2.23.133.2.2 = swtpm
x.2.23.133.2.3 = id:00010002

[tcg_san_swtpm]
x.2.23.133.2.1 = id:00001014
x.2.23.133.2.2 = swtpm
x.2.23.133.2.3 = id:20191023

# SubjectDirectoryAttributes: one Attribute tcg-at-tpmSpecification
# { family "2.0", level 0, revision 164 }.
[sda]
attr = SEQUENCE:spec_attr
[spec_attr]
type = OID:2.23.133.2.16
values = SET:spec_set
[spec_set]
spec = SEQUENCE:spec
[spec]
family = UTF8:2.0
level = INT:0
revision = INT:164
EOF

# openssl ca wants a database; one per issuing CA.
ca_config() { # dir
	mkdir -p "$1"
	: >"$1/index.txt"
	echo 1000 >"$1/serial"
	cat >"$1/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
database = $1/index.txt
serial = $1/serial
new_certs_dir = $1
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
crlnumber = $1/serial
default_crl_days = 36500
[any]
commonName = optional
organizationName = optional
EOF
}

self_signed() { # key subject out
	openssl req -new -x509 -key "$1" -subj "$2" -days 27000 -sha256 \
		-extensions ca -config "$work/ext.cnf" -out "$3"
}

issue() { # cadir cacert cakey subject_key subject extensions out [start] [end]
	openssl req -new -key "$4" -subj "$5" -out "$work/req.pem" -config "$work/ext.cnf" 2>/dev/null
	openssl ca -batch -notext -preserveDN -config "$1/ca.cnf" -cert "$2" -keyfile "$3" \
		-extfile "$work/ext.cnf" -extensions "$6" -in "$work/req.pem" -out "$7" \
		-startdate "${8:-20200101000000Z}" -enddate "${9:-20991231235959Z}" 2>/dev/null
}

ecc_key "$work/root.key"
ecc_key int.key.tmp && mv int.key.tmp "$work/int.key"
self_signed "$work/root.key" "/O=attestd synthetic/CN=Synthetic TPM Root CA" root.pem
ca_config "$work/rootdb"
issue "$work/rootdb" root.pem "$work/root.key" "$work/int.key" \
	"/O=attestd synthetic/CN=Synthetic EK  CA" ca int.pem

ca_config "$work/intdb"
rsa_key ek-rsa.key
ecc_key ek-ecc.key
for k in revoked expired notyet spaces swtpm-id swtpm-model dup-san swtpm; do ecc_key "$work/$k.key"; done
issue "$work/intdb" int.pem "$work/int.key" ek-rsa.key "/CN=synthetic rsa" ek ek-rsa.pem
issue "$work/intdb" int.pem "$work/int.key" ek-ecc.key "/CN=synthetic ecc" ek ek-ecc.pem
issue "$work/intdb" int.pem "$work/int.key" "$work/revoked.key" "/CN=synthetic revoked" ek ek-revoked.pem
issue "$work/intdb" int.pem "$work/int.key" "$work/expired.key" "/CN=synthetic expired" ek ek-expired.pem \
	20100101000000Z 20200101000000Z
issue "$work/intdb" int.pem "$work/int.key" "$work/notyet.key" "/CN=synthetic not yet" ek ek-notyet.pem \
	20980101000000Z 20991231235959Z
issue "$work/intdb" int.pem "$work/int.key" "$work/swtpm-id.key" "/CN=synthetic swtpm id" \
	ek_swtpm_id ek-swtpm-id.pem
issue "$work/intdb" int.pem "$work/int.key" "$work/swtpm-model.key" "/CN=synthetic swtpm model" \
	ek_swtpm_model ek-swtpm-model.pem
issue "$work/intdb" int.pem "$work/int.key" "$work/dup-san.key" "/CN=synthetic dup san" \
	ek_dup_san ek-dup-san.pem
openssl ca -config "$work/intdb/ca.cnf" -cert int.pem -keyfile "$work/int.key" \
	-revoke ek-revoked.pem 2>/dev/null
openssl ca -gencrl -config "$work/intdb/ca.cnf" -cert int.pem -keyfile "$work/int.key" \
	-out int.crl 2>/dev/null

# The same CA key under a name with one space: what a leaf's issuer field
# says when the vendor wrote the intermediate's subject differently.
openssl req -new -x509 -key "$work/int.key" -subj "/O=attestd synthetic/CN=Synthetic EK CA" \
	-days 27000 -extensions ca -config "$work/ext.cnf" -out "$work/int-one-space.pem"
ca_config "$work/onespacedb"
issue "$work/onespacedb" "$work/int-one-space.pem" "$work/int.key" "$work/spaces.key" \
	"/CN=synthetic spaces" ek ek-spaces.pem

ecc_key "$work/swtpm-root.key"
ecc_key "$work/swtpm-localca.key"
self_signed "$work/swtpm-root.key" "/CN=swtpm-localca-rootca" swtpm-root.pem
ca_config "$work/swtpmrootdb"
issue "$work/swtpmrootdb" swtpm-root.pem "$work/swtpm-root.key" "$work/swtpm-localca.key" \
	"/CN=swtpm-localca" ca swtpm-localca.pem
ca_config "$work/swtpmdb"
issue "$work/swtpmdb" swtpm-localca.pem "$work/swtpm-localca.key" "$work/swtpm.key" \
	"/CN=fedora:synthetic" ek_swtpm ek-swtpm.pem

rm -f "$work/int.key"
echo "synthetic EK PKI written to $(pwd)"
