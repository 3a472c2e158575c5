# Helpers for the end-to-end boot tests; source after
# tests/integration/lib.sh and attestd_lib.sh:
#
#   e2e_kernel                          # $E2E_KERNEL, $E2E_KVER
#   e2e_tls                             # $E2E_TLS_CERT/_KEY for 10.0.2.2
#   e2e_swtpm_for_qemu vm [--stock]     # $E2E_TPM_SOCK, $IT_TMP/vm/env
#   e2e_initramfs img CONF_DIR [STAGE]  # mkinitramfs with the shipped hook
#   e2e_dracut img CONF_DIR [STAGE]     # dracut with the shipped module
#   e2e_boot vm img [--halt-on TEXT] [--root]   # $E2E_SERIAL; qemu stopped at exit
#
# The VM is qemu (TCG) with OVMF, a swtpm as its TPM and user networking,
# in which 10.0.2.2 is the host's loopback; it boots the installed Debian
# kernel with an initramfs that mkinitramfs builds from the shipped
# scripts/initramfs-tools hook and boot script.

# OVMF (UEFI) as Debian ships it: no Secure Boot keys enrolled.
readonly E2E_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
readonly E2E_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
# Longest one boot may take, firmware to power-off, under TCG on a loaded
# 2-core machine (one boot takes 30-60 s there).
readonly E2E_BOOT_TIMEOUT_S=300
# How long a halted boot is watched for going on anyway.
readonly E2E_HALT_WATCH_S=10

# The newest kernel in /boot whose modules are installed.
e2e_kernel() {
	local k v
	E2E_KERNEL='' E2E_KVER=''
	for k in /boot/vmlinuz-*; do
		[ -e "$k" ] || continue
		v=${k#/boot/vmlinuz-}
		[ -d "/lib/modules/$v" ] || continue
		if [ -z "$E2E_KVER" ] || dpkg --compare-versions "$v" gt "$E2E_KVER"; then
			E2E_KERNEL=$k E2E_KVER=$v
		fi
	done
	[ -n "$E2E_KERNEL" ] ||
		it_fail "no kernel in /boot with modules in /lib/modules (linux-image-amd64, scripts/install-deps)"
	[ -r "$E2E_KERNEL" ] || it_fail "$E2E_KERNEL is not readable"
}

# A self-signed certificate for attestd, valid for the address the guest
# uses (10.0.2.2) and the one the host uses (127.0.0.1); it is also the
# guest's CA bundle, so the guest checks the verifier as in production.
e2e_tls() {
	it_tmpdir
	E2E_TLS_CERT=$IT_TMP/tls.crt E2E_TLS_KEY=$IT_TMP/tls.key
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=attestd-e2e -addext "subjectAltName=IP:10.0.2.2,IP:127.0.0.1" \
		-keyout "$E2E_TLS_KEY" -out "$E2E_TLS_CERT" 2>/dev/null ||
		it_fail "cannot make the TLS certificate"
}

# e2e_swtpm_for_qemu NAME [--stock]: a provisioned swtpm (swtpm-fixture:
# test-PKI EK certificates, or --stock swtpm-localca ones) served to qemu on
# a unix control socket, $E2E_TPM_SOCK. The fixture's own TCP swtpm is
# stopped first: one process at a time may own the state. No
# startup-clear here: the guest's firmware starts the TPM, as on hardware.
e2e_swtpm_for_qemu() {
	local name=$1 state pid i
	shift
	it_swtpm_start "$name" "$@"
	state=$IT_TMP/$name
	pid=$(. "$state/env" && echo "$SWTPM_PID")
	kill -TERM "$pid" 2>/dev/null || it_fail "cannot stop the fixture's swtpm $pid"
	for ((i = 0; i < 50; i++)); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ] || it_fail "the fixture's swtpm $pid did not exit"
	E2E_TPM_SOCK=$state/qemu-tpm.sock
	# swtpm-fixture stop (at exit) finds and stops this one by its pid file
	# and state directory; it exits by itself when qemu closes the socket.
	swtpm socket --tpm2 --tpmstate "dir=$state/tpm" \
		--ctrl "type=unixio,path=$E2E_TPM_SOCK" \
		--pid "file=$state/swtpm.pid" --log "file=$state/swtpm-qemu.log" \
		--daemon || it_fail "swtpm for qemu did not start"
}

# e2e_initramfs OUT CONF_DIR [STAGE]: runs mkinitramfs with a private
# configuration holding the shipped hook (scripts/initramfs-tools/hooks/attest)
# and boot script (scripts/initramfs-tools/scripts/init-premount/attest)
# exactly as an administrator installs them, plus tests/e2e/initramfs-report,
# which prints the outcome and powers off, at the same STAGE as boot.conf's
# (premount, or bottom: after the root file system is mounted). CONF_DIR
# becomes /etc/attest-client.
e2e_initramfs() {
	local out=$1 conf=$2 stage=${3:-premount} mk=$IT_TMP/initramfs-tools
	it_need_tool mkinitramfs
	rm -rf "$mk"
	mkdir -p "$mk/hooks" "$mk/scripts/init-premount" "$mk/scripts/init-$stage" "$mk/conf.d"
	# Only what the VM needs, as modules: its network card (qemu's e1000)
	# and, to mount a root file system, virtio disks and ext4.
	printf 'MODULES=list\nBUSYBOX=y\nCOMPRESS=gzip\n' >"$mk/initramfs.conf"
	printf '%s\n' e1000 virtio_pci virtio_blk ext4 >"$mk/modules"
	install -m 755 "$(it_source_path scripts/initramfs-tools/hooks/attest)" "$mk/hooks/attest"
	install -m 755 "$(it_source_path scripts/initramfs-tools/scripts/init-premount/attest)" \
		"$mk/scripts/init-premount/attest"
	install -m 755 "$(it_source_path tests/e2e/initramfs-report)" \
		"$mk/scripts/init-$stage/initramfs-report"
	ATTEST_CLIENT_BIN=$(it_build_path attest-client/attest-client) \
		ATTEST_BOOT_BIN=$(it_source_path scripts/attest-boot) \
		ATTEST_CONF_DIR=$conf \
		mkinitramfs -d "$mk" -o "$out" "$E2E_KVER" >"$IT_TMP/mkinitramfs.log" 2>&1 || {
		cat "$IT_TMP/mkinitramfs.log" >&2
		it_fail "mkinitramfs failed"
	}
}

# e2e_dracut OUT CONF_DIR [STAGE]: the same with dracut and the shipped
# module scripts/dracut/95attest, installed as an administrator installs it
# into a private copy of /usr/lib/dracut (so the machine's dracut is left
# alone), and tests/e2e/dracut-report for the report. The image is what
# dracut builds by default around systemd, cut down to the modules a VM
# with a local root needs. The kernel command line must give ip=.
e2e_dracut() {
	local out=$1 conf=$2 stage=${3:-premount} base=$IT_TMP/dracut
	it_need_tool dracut
	rm -rf "$base" "$IT_TMP/dracut.conf.d"
	cp -a /usr/lib/dracut "$base" || it_fail "cannot copy /usr/lib/dracut"
	mkdir -p "$base/modules.d/95attest" "$base/modules.d/99attest-e2e-report" "$IT_TMP/dracut.conf.d"
	install -m 755 "$(it_source_path scripts/dracut/95attest/module-setup.sh)" \
		"$(it_source_path scripts/dracut/95attest/attest-hook.sh)" "$base/modules.d/95attest/"
	install -m 755 "$(it_source_path tests/e2e/dracut-report/module-setup.sh)" \
		"$base/modules.d/99attest-e2e-report/"
	dracutbasedir=$base \
		ATTEST_CLIENT_BIN=$(it_build_path attest-client/attest-client) \
		ATTEST_BOOT_BIN=$(it_source_path scripts/attest-boot) \
		ATTEST_CONF_DIR=$conf \
		ATTEST_E2E_REPORT=$(it_source_path tests/e2e/initramfs-report) ATTEST_E2E_STAGE=$stage \
		dracut --no-hostonly --conf /dev/null --confdir "$IT_TMP/dracut.conf.d" \
		--modules "systemd dracut-systemd network rootfs-block attest attest-e2e-report" \
		--add-drivers "e1000 virtio_pci virtio_blk ext4" --force "$out" "$E2E_KVER" \
		>"$IT_TMP/dracut.log" 2>&1 || {
		tail -40 "$IT_TMP/dracut.log" >&2
		it_fail "dracut failed"
	}
}

# e2e_boot NAME IMAGE [--halt-on TEXT] [--root]: boots the VM; the serial
# console goes to $E2E_SERIAL. Returns when the VM powers off, or, with
# --halt-on, once TEXT has been on the console for E2E_HALT_WATCH_S seconds
# (the VM is then stopped); fails on the time limit. --root gives the VM an
# empty ext4 root file system, which the initramfs mounts (read-only).
# $E2E_KERNEL_ARGS, if set, is added to the kernel command line.
e2e_boot() {
	local name=$1 image=$2 halt_on='' dir pid i waited='' root=()
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--halt-on) halt_on=$2 && shift ;;
		--root) root=(-drive "if=virtio,format=raw,file=$IT_TMP/$name/root.img") ;;
		*) it_fail "e2e_boot: unknown option $1" ;;
		esac
		shift
	done
	dir=$IT_TMP/$name
	mkdir -p "$dir"
	E2E_SERIAL=$dir/serial.log
	install -m 644 "$E2E_OVMF_VARS" "$dir/ovmf-vars.fd"
	if [ ${#root[@]} -gt 0 ]; then
		truncate -s 16M "$dir/root.img" || it_fail "cannot make the root disk"
		mkfs.ext4 -q -F "$dir/root.img" || it_fail "cannot make the root file system"
	fi
	# -cpu max: RDRAND seeds the guest's RNG at once; without it the
	# client's first getrandom() waits ~15 s for jitter entropy under TCG.
	qemu-system-x86_64 -machine q35 -cpu max -m 512 -smp 1 \
		-display none -monitor none -no-reboot -serial "file:$E2E_SERIAL" \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$E2E_OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$dir/ovmf-vars.fd" \
		-chardev "socket,id=chrtpm,path=$E2E_TPM_SOCK" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		-netdev user,id=net0 -device e1000,netdev=net0 \
		"${root[@]}" -kernel "$E2E_KERNEL" -initrd "$image" \
		-append "console=ttyS0 panic=-1${root[*]:+ root=/dev/vda rootfstype=ext4 ro}${E2E_KERNEL_ARGS:+ $E2E_KERNEL_ARGS}" \
		</dev/null >"$dir/qemu.log" 2>&1 &
	pid=$!
	it_on_exit e2e_console_at_exit "$E2E_SERIAL"
	it_on_exit e2e_stop_qemu "$pid"
	for ((i = 0; i < E2E_BOOT_TIMEOUT_S * 2; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || { cat "$dir/qemu.log" >&2; it_fail "qemu failed"; }
			return 0
		fi
		if [ -n "$halt_on" ] && grep -qF -- "$halt_on" "$(e2e_console)"; then
			waited=${waited:-$i}
			if ((i - waited >= E2E_HALT_WATCH_S * 2)); then
				e2e_stop_qemu "$pid"
				return 0
			fi
		fi
		sleep 0.5
	done
	tail -40 "$E2E_SERIAL" >&2
	it_fail "the VM did not finish within ${E2E_BOOT_TIMEOUT_S}s"
}

# At exit: the console's end when the test failed ($rc is the status that
# lib.sh's cleanup runner is handling), and a copy of the whole console in
# $E2E_KEEP_CONSOLE when that names a directory.
e2e_console_at_exit() {
	[ -f "$1" ] || return 0
	if [ -n "${E2E_KEEP_CONSOLE:-}" ] && [ -d "$E2E_KEEP_CONSOLE" ]; then
		cp "$1" "$E2E_KEEP_CONSOLE/$IT_NAME.console.log"
	fi
	[ "${rc:-0}" = 0 ] && return 0
	echo "--- end of the VM's console ($1)" >&2
	tr -d '\r' <"$1" | tail -n 40 >&2
}

e2e_stop_qemu() {
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Writes the console so far as lines of text to $E2E_CONSOLE, and names
# it: no carriage returns or colour codes, and without the "[ 12.345]
# unit[pid]: " that systemd's journal puts before a unit's lines when it
# copies them to the console (dracut). A file, not a pipe: `cmd | grep -q`
# fails under pipefail when grep stops reading early.
e2e_console() {
	E2E_CONSOLE=${E2E_SERIAL%.log}.txt
	tr -d '\r' <"$E2E_SERIAL" 2>/dev/null | sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g;
		s/^\[ *[0-9]+\.[0-9]+\] [A-Za-z0-9_.@-]+\[[0-9]+\]: //' >"$E2E_CONSOLE"
	echo "$E2E_CONSOLE"
}

# e2e_console_value KEY: the value of the last "attest-boot: ... KEY=V" or
# "attest-e2e: KEY=V" word on the console.
e2e_console_value() {
	{ grep -E '^attest-(boot|e2e): ' "$(e2e_console)" || true; } |
		{ grep -oE "(^| )$1=[^ ]*" || true; } | tail -n 1 | sed 's/^ *[^=]*=//'
}

# e2e_expect KEY VALUE DESCRIPTION
e2e_expect() {
	local got
	got=$(e2e_console_value "$1")
	if [ "$got" != "$2" ]; then
		grep -E '^(attest|[0-9T:-]+Z attest-client)' "$(e2e_console)" >&2 || true
		it_fail "$3: console says $1='$got', expected '$2' (console: $E2E_SERIAL)"
	fi
	it_ok "$3"
}
