#!/bin/bash
# Test-only dracut module "attest-e2e-report" (tests/e2e): installs
# tests/e2e/initramfs-report as a hook just after 95attest's, at the same
# stage ($ATTEST_E2E_STAGE: premount or bottom).

check() {
	return 255
}

depends() {
	echo attest
}

install() {
	local report=${ATTEST_E2E_REPORT:?ATTEST_E2E_REPORT names tests/e2e/initramfs-report}
	inst_multiple tr cat
	case ${ATTEST_E2E_STAGE:-premount} in
	premount) inst_hook pre-mount 95 "$report" ;;
	bottom) inst_hook pre-pivot 95 "$report" ;;
	esac
}
