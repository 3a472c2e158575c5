#!/bin/bash
# dracut module "attest": attest-client in the initramfs. attest-hook.sh
# runs attest-boot once the network is up, before the root file system is
# mounted (pre-mount) or, with `stage = bottom` in boot.conf, just before
# the switch to it (pre-pivot); attest-boot halts the boot on a refusal or
# lets it go on in quarantine, as boot.conf says.
#
# Never included on its own (a module that can halt the boot is chosen on
# purpose): add_dracutmodules+=" attest " in /etc/dracut.conf.d/attest.conf.
# The environment can name other files, as for the initramfs-tools hook:
# ATTEST_CLIENT_BIN, ATTEST_BOOT_BIN, ATTEST_CONF_DIR.

# attest_find VAR DEFAULT...: $VAR if set, else the first executable DEFAULT.
attest_find() {
	local var=$1 candidate
	shift
	if [[ -n ${!var:-} ]]; then
		echo "${!var}"
		return 0
	fi
	for candidate in "$@"; do
		[[ -x $candidate ]] && echo "$candidate" && return 0
	done
	return 1
}

attest_client_bin() {
	attest_find ATTEST_CLIENT_BIN /usr/local/bin/attest-client /usr/bin/attest-client
}

attest_boot_bin() {
	attest_find ATTEST_BOOT_BIN /usr/local/sbin/attest-boot /usr/sbin/attest-boot
}

# called by dracut
check() {
	attest_client_bin >/dev/null || return 1
	attest_boot_bin >/dev/null || return 1
	return 255
}

# called by dracut
depends() {
	echo network
	return 0
}

# called by dracut: the network must come up even when the root file
# system is local.
cmdline() {
	echo "rd.neednet=1"
}

# called by dracut
install() {
	local client boot conf_dir stage files src target
	client=$(attest_client_bin) || { dfatal "attest: attest-client not found"; return 1; }
	boot=$(attest_boot_bin) || { dfatal "attest: attest-boot not found"; return 1; }
	conf_dir=${ATTEST_CONF_DIR:-/etc/attest-client}
	# A typo in boot.conf fails the build of the image, not the boot.
	stage=$(ATTEST_BOOT_CONF="$conf_dir/boot.conf" "$boot" --check) || {
		dfatal "attest: $conf_dir/boot.conf is not valid"
		return 1
	}
	files=$(ATTEST_CONF_DIR=$conf_dir "$boot" --image-files) || {
		dfatal "attest: the configuration in $conf_dir is not complete"
		return 1
	}

	inst_binary "$client" /usr/bin/attest-client || return 1
	inst_script "$boot" /usr/sbin/attest-boot || return 1
	# What attest-boot and attest-hook.sh run.
	inst_multiple cat cp cut date grep head ip mkdir mount mv rm sed sleep tr || return 1
	# The TSS loads its TCTI modules with dlopen(), which ldd does not show.
	inst_libdir_file "libtss2-tcti-device.so*"
	while IFS=$'\t' read -r src target; do
		[[ -n $src ]] && { inst_simple "$src" "$target" || return 1; }
	done <<<"$files"

	cmdline >"${initdir}/etc/cmdline.d/95attest.conf"
	case $stage in
	premount) inst_hook pre-mount 90 "$moddir/attest-hook.sh" ;;
	bottom) inst_hook pre-pivot 90 "$moddir/attest-hook.sh" ;;
	esac
	dracut_need_initqueue
}
