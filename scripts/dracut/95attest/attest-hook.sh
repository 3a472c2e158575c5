#!/bin/sh
# dracut hook, pre-mount (or pre-pivot with stage = bottom; module-setup.sh
# installs it at one of them): waits for the network rd.neednet=1 brings up,
# then runs attest-boot, which halts the boot here on a refusal or returns
# to let it go on. dracut's init sources this file: no exit, no exec, and
# its variables carry the attest_ prefix.

# attest-client sends the firmware event log from securityfs.
grep -q ' /sys/kernel/security securityfs ' /proc/mounts ||
	mount -t securityfs securityfs /sys/kernel/security

# dracut brings interfaces up from its initqueue; a default route says one
# is usable. Without one after a minute, attest-boot still runs and reports
# the verifier unreachable (its on_error action).
attest_wait=0
while [ "$attest_wait" -lt 60 ] && [ -z "$(ip route show default 2>/dev/null)" ]; do
	sleep 1
	attest_wait=$((attest_wait + 1))
done
unset attest_wait

# The kernel gives init the name=value words of its command line that it
# does not know as environment: none of them may steer the attestation.
unset ATTEST_BOOT_CONF ATTEST_RUN_DIR ATTEST_TCTI

/usr/sbin/attest-boot
