#!/usr/bin/env bash
# End to end: a VM (qemu TCG, OVMF, swtpm) boots the Debian kernel with an
# initramfs built by mkinitramfs from the shipped hook and boot script; in
# the initramfs attest-client attests to an attestd on the host over HTTPS.
#
#   test_boot_attest.sh admitted          physical-TPM swtpm, lab policy
#       (virtual-platform rules off): admitted, token accepted by attestd
#   test_boot_attest.sh virtual_platform  same VM, default policy: refused
#       as virtual_platform, on_refusal = halt stops the boot
#   test_boot_attest.sh virtual_tpm       stock swtpm, default policy:
#       refused as ek_virtual_tpm, on_refusal = quarantine goes on; this
#       one attests at stage = bottom, after the root file system is mounted
#   test_boot_attest.sh dracut_virtual_platform   as virtual_platform, with
#       an initramfs that dracut builds with scripts/dracut/95attest
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/attestd_lib.sh"
. "$(dirname "$0")/e2e_lib.sh"

scenario=${1:-}
case $scenario in
admitted | virtual_platform | virtual_tpm | dracut_virtual_platform) ;;
*) it_fail "usage: $0 admitted|virtual_platform|virtual_tpm|dracut_virtual_platform" ;;
esac
IT_NAME=boot_attest_$scenario

it_need_tool qemu-system-x86_64 swtpm openssl curl mkinitramfs
{ [ -r "$E2E_OVMF_CODE" ] && [ -r "$E2E_OVMF_VARS" ]; } || it_fail "OVMF is missing (ovmf, scripts/install-deps)"
it_tmpdir
e2e_kernel
e2e_tls

# Debian's OVMF has no Secure Boot keys and qemu's firmware says it is
# QEMU: a lab policy must switch off Secure Boot and every virtual-platform
# rule (policy/boot.h) to admit this VM.
lab_policy='p["name"] = "e2e-lab"
p["boot"] = {"secure_boot": False, "virtual_platform": {r: False for r in [
    "firmware_version", "empty_firmware_version", "no_crtm", "firmware_strings",
    "boot_option", "device_path", "ovmf_firmware_volume"]}}'

case $scenario in
admitted)
	at_policy "$IT_TMP/policy.json" "$lab_policy"
	tpm=() on_refusal=halt stage=premount
	;;
virtual_platform | dracut_virtual_platform)
	at_policy "$IT_TMP/policy.json"
	tpm=() on_refusal=halt stage=premount
	;;
virtual_tpm)
	at_policy "$IT_TMP/policy.json"
	tpm=(--stock) on_refusal=quarantine stage=bottom
	;;
esac

at_start verifier "$IT_TMP/policy.json" "tls_cert = $E2E_TLS_CERT
tls_key = $E2E_TLS_KEY"
port=${AT_URL##*:}

# /etc/attest-client of the VM: the verifier as the guest sees the host.
conf=$IT_TMP/etc-attest-client
mkdir -p "$conf"
install -m 644 "$E2E_TLS_CERT" "$conf/verifier-ca.pem"
cat >"$conf/attest-client.conf" <<-EOF
	url = https://10.0.2.2:$port
	ca_bundle = /etc/attest-client/verifier-ca.pem
	retries = 2
EOF
cat >"$conf/boot.conf" <<-EOF
	on_refusal = $on_refusal
	on_error = quarantine
	stage = $stage
EOF

if [ "$scenario" = dracut_virtual_platform ]; then
	it_step "build the initramfs with dracut and the shipped module"
	e2e_dracut "$IT_TMP/initrd.img" "$conf" "$stage"
	it_ok "initramfs for kernel $E2E_KVER"
else
	it_step "build the initramfs with mkinitramfs and the shipped hook"
	e2e_initramfs "$IT_TMP/initrd.img" "$conf" "$stage"
	lsinitramfs "$IT_TMP/initrd.img" >"$IT_TMP/initrd.list" || it_fail "lsinitramfs failed"
	grep -qx "scripts/init-$stage/attest" "$IT_TMP/initrd.list" ||
		it_fail "the hook did not put the boot script in init-$stage"
	it_ok "initramfs for kernel $E2E_KVER, attesting at init-$stage"
fi

e2e_swtpm_for_qemu vm "${tpm[@]}"
ek_cert_ecc=$(. "$IT_TMP/vm/env" && echo "$EK_CERT_ECC")

case $scenario in
admitted)
	it_step "boot with the lab policy: the VM is admitted"
	# The kernel hands these to init as environment; the boot script must
	# not let them steer attest-boot or attest-client (a TCTI that is no
	# TPM, a run directory the system never sees).
	E2E_KERNEL_ARGS="ATTEST_TCTI=device:/dev/null ATTEST_RUN_DIR=/elsewhere" \
		e2e_boot vm "$IT_TMP/initrd.img"
	e2e_expect result admitted "attest-boot reports the machine admitted"
	e2e_expect exit 0 "attest-client exited 0"
	e2e_expect quarantine no "no quarantine"
	token=$(e2e_console_value token)
	{ [ -n "$token" ] && [ "$token" != none ]; } || it_fail "no token in /run/attest/token"
	it_ok "the token is in /run/attest/token"
	headers=$(curl -sS --cacert "$E2E_TLS_CERT" -o /dev/null -D - \
		-H "Authorization: Bearer $token" "$AT_URL/v1/admission") ||
		it_fail "admission request failed"
	echo "$headers" | head -n 1 | grep -q ' 204' ||
		it_fail "attestd does not admit the token: $(echo "$headers" | head -n 1)"
	it_ok "attestd admits the token (GET /v1/admission: 204)"
	# The client prefers the ECC P-256 EK; the machine is that key.
	machine=sha256:$(openssl x509 -inform DER -in "$ek_cert_ecc" -pubkey -noout |
		openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
	echo "$headers" | tr -d '\r' | grep -qi "^X-Attest-Machine: $machine\$" ||
		it_fail "the token is not for the VM's TPM ($machine): $headers"
	it_ok "the token names the VM's TPM ($machine)"
	;;
virtual_platform | dracut_virtual_platform)
	it_step "boot with the default policy: refused, the boot halts"
	if [ "$scenario" = dracut_virtual_platform ]; then
		# dracut brings the network up only as ip= says; a root device to
		# wait for, so the initramfs reaches pre-mount.
		E2E_KERNEL_ARGS=ip=dhcp e2e_boot vm "$IT_TMP/initrd.img" --root --halt-on "BOOT HALTED"
	else
		e2e_boot vm "$IT_TMP/initrd.img" --halt-on "BOOT HALTED"
	fi
	e2e_expect result refused "attest-boot reports a refusal"
	e2e_expect exit 1 "attest-client exited 1"
	e2e_expect code virtual_platform "the refusal is virtual_platform"
	grep -qx "attest-boot: BOOT HALTED (refused: virtual_platform). This machine is not admitted." \
		"$(e2e_console)" ||
		it_fail "no halt message on the console"
	it_ok "the console says the boot is halted"
	! grep -q '^attest-e2e:' "$(e2e_console)" ||
		it_fail "the boot went on after the halt"
	it_ok "the boot did not go on within ${E2E_HALT_WATCH_S}s of the halt"
	;;
virtual_tpm)
	it_step "boot with a stock swtpm: refused after the root mount, the boot goes on in quarantine"
	e2e_boot vm "$IT_TMP/initrd.img" --root
	# The kernel's line saying the root file system is mounted comes before
	# attest-boot's first.
	awk '/EXT4-fs \(vda\): mounted/ { m = NR } /^attest-boot: attesting/ { a = NR }
		END { exit !(m && a && m < a) }' "$(e2e_console)" ||
		it_fail "the attestation did not run after the root file system was mounted"
	it_ok "attested at init-bottom, with the root file system mounted"
	e2e_expect result refused "attest-boot reports a refusal"
	e2e_expect code ek_virtual_tpm "the refusal is ek_virtual_tpm"
	e2e_expect quarantine yes "/run/attest/quarantine is there for the system"
	e2e_expect token none "no token was stored"
	grep -qx "attest-boot: QUARANTINE (refused: ek_virtual_tpm): the boot goes on without admission." \
		"$(e2e_console)" ||
		it_fail "no quarantine message on the console"
	it_ok "the console says the boot goes on in quarantine"
	;;
esac

# The verifier recorded the same verdict.
case $scenario in
admitted) outcome=(--outcome admitted) ;;
*virtual_platform) outcome=(--outcome refused --error virtual_platform) ;;
virtual_tpm) outcome=(--outcome refused --error ek_virtual_tpm) ;;
esac
[ "$(at_ctl history "${outcome[@]}" --json | wc -l)" -eq 1 ] ||
	it_fail "attestd's history does not hold exactly one ${outcome[*]}"
it_ok "attestd's history records it (${outcome[*]})"
