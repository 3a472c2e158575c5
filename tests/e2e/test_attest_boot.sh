#!/usr/bin/env bash
# scripts/attest-boot's decisions without a VM: a stand-in attest-client
# answers with each exit status the real one has, and the test checks what
# the boot would do (go on, quarantine, halt) and what /run/attest says;
# then that the initramfs-tools hook refuses to build an image from a bad
# configuration. The boots in test_boot_attest.sh show the same script with
# the real client; this covers the answers a VM cannot easily give.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/e2e_lib.sh"

it_tmpdir
boot=$(it_source_path scripts/attest-boot)
export ATTEST_RUN_DIR=$IT_TMP/run ATTEST_BOOT_CONF=$IT_TMP/boot.conf

# The stand-in: exits $FAKE_EXIT after printing $FAKE_STDERR, and writes a
# token only when it admits, as attest-client does.
mkdir -p "$IT_TMP/bin"
cat >"$IT_TMP/bin/attest-client" <<'EOF'
#!/bin/sh
[ "$1" = --token-file ] || { echo "unexpected arguments: $*" >&2; exit 2; }
[ -n "${FAKE_STDERR:-}" ] && echo "$FAKE_STDERR" >&2
[ "$FAKE_EXIT" = 0 ] && echo token-from-fake >"$2"
exit "$FAKE_EXIT"
EOF
chmod +x "$IT_TMP/bin/attest-client"
export PATH=$IT_TMP/bin:$PATH

refusal() {
	echo "2026-11-23T10:00:00Z attest-client[error] refused by the verifier: $1: $2"
}

# status_is KEY VALUE DESCRIPTION: a line of /run/attest/status.
status_is() {
	grep -qx "$1=$2" "$ATTEST_RUN_DIR/status" ||
		it_fail "$3: status has $(grep "^$1=" "$ATTEST_RUN_DIR/status"), expected $1=$2"
}

# run_boot CONF EXIT STDERR: one boot whose attest-boot must return;
# leaves its console in $IT_TMP/console.
run_boot() {
	printf '%b' "$1" >"$ATTEST_BOOT_CONF"
	rm -rf "$ATTEST_RUN_DIR"
	mkdir -p "$ATTEST_RUN_DIR"
	# A token from an earlier run must not survive a new verdict.
	echo stale-token >"$ATTEST_RUN_DIR/token"
	FAKE_EXIT=$2 FAKE_STDERR=$3 "$boot" >"$IT_TMP/console" 2>&1 ||
		it_fail "attest-boot returned $? (conf: $1, client exit $2)"
}

# expect_halt CONF EXIT STDERR DESCRIPTION: attest-boot must not return; it
# is stopped once its banner is out and it has stayed for a second.
expect_halt() {
	local pid i
	printf '%b' "$1" >"$ATTEST_BOOT_CONF"
	rm -rf "$ATTEST_RUN_DIR"
	# Its own session, so the banner loop's sleep goes with it.
	FAKE_EXIT=$2 FAKE_STDERR=$3 setsid "$boot" >"$IT_TMP/console" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		grep -q 'BOOT HALTED' "$IT_TMP/console" && break
		sleep 0.1
	done
	sleep 1
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$IT_TMP/console" >&2
		it_fail "$4: attest-boot returned"
	fi
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	grep -q 'BOOT HALTED' "$IT_TMP/console" || it_fail "$4: no halt banner"
	it_ok "$4"
}

it_step "boot.conf is checked strictly (--check, what the hooks run)"
printf '' >"$ATTEST_BOOT_CONF"
[ "$("$boot" --check)" = premount ] || it_fail "the default stage is not premount"
it_ok "an empty boot.conf means stage premount"
printf '# comment\n\n  stage = bottom   # after the mount\non_refusal=quarantine\nmessage = call the NOC = x1234\n' \
	>"$ATTEST_BOOT_CONF"
[ "$("$boot" --check)" = bottom ] || it_fail "stage = bottom is not read"
it_ok "comments, blank lines and spacing are read; stage = bottom"
ATTEST_BOOT_CONF=$IT_TMP/none "$boot" --check >/dev/null || it_fail "a missing boot.conf is refused"
it_ok "a missing boot.conf means the defaults"
for bad in 'on_refusal = continue' 'on_error = ignore' 'stage = late' 'onrefusal = halt' 'halt'; do
	printf '%s\n' "$bad" >"$ATTEST_BOOT_CONF"
	if "$boot" --check >"$IT_TMP/out" 2>&1; then
		it_fail "'$bad' was accepted"
	fi
	grep -q "boot.conf:1: " "$IT_TMP/out" || it_fail "'$bad': the message does not name the line"
done
it_ok "unknown keys, values and lines are refused, naming file and line"

it_step "admitted: the boot goes on with the token"
run_boot '' 0 ''
status_is result admitted "admitted"
status_is exit 0 "admitted"
[ "$(cat "$ATTEST_RUN_DIR/token")" = token-from-fake ] || it_fail "the token is not in run/token"
[ ! -e "$ATTEST_RUN_DIR/quarantine" ] || it_fail "quarantine after an admission"
grep -qx 'attest-boot: result=admitted exit=0 code=-' "$IT_TMP/console" || it_fail "no result line"
it_ok "admitted: token stored, no quarantine, one result line on the console"

it_step "refused, on_refusal = quarantine: the boot goes on, marked"
run_boot 'on_refusal = quarantine\n' 1 "$(refusal virtual_platform 'rule firmware_strings: OVMF')"
status_is result refused "refused"
status_is code virtual_platform "refused"
[ -f "$ATTEST_RUN_DIR/quarantine" ] || it_fail "no quarantine marker"
grep -qx 'result=refused' "$ATTEST_RUN_DIR/quarantine" || it_fail "the marker does not say why"
[ ! -e "$ATTEST_RUN_DIR/token" ] || it_fail "an earlier token survived a refusal"
grep -q 'QUARANTINE (refused: virtual_platform)' "$IT_TMP/console" || it_fail "no quarantine banner"
grep -q 'verifier: virtual_platform: rule firmware_strings: OVMF' "$IT_TMP/console" ||
	it_fail "the banner does not give the verifier's reason"
it_ok "quarantine marker with the status, earlier token gone, banner with the reason"

# shellcheck disable=SC2016 # the $( ) is the hostile text, not to expand
run_boot 'on_refusal = quarantine\n' 1 "$(refusal 'Ev1l;$(reboot)' 'x')"
status_is code v1lreboot "a hostile code"
it_ok "a refusal code is cut down to [a-z0-9_] before it is written anywhere"

it_step "no verdict: each failure is an error, with on_error's action"
for answer in "2 configuration" "3 unreachable" "4 tpm" "139 client_failed"; do
	run_boot '' "${answer% *}" 'something failed'
	status_is result error "exit ${answer% *}"
	status_is code "${answer#* }" "exit ${answer% *}"
	[ -f "$ATTEST_RUN_DIR/quarantine" ] || it_fail "exit ${answer% *}: no quarantine (the default on_error)"
done
it_ok "exit 2/3/4/other: configuration/unreachable/tpm/client_failed, quarantined by default"
run_boot 'on_refusal = quarantine\n' 1 'AddressSanitizer: heap-buffer-overflow'
status_is result error "exit 1 without the verifier's answer"
status_is code client_failed "exit 1 without the verifier's answer"
it_ok "exit 1 without a refusal line (a crash) is an error, not a verdict"

it_step "halt: the boot stops with a console message"
expect_halt '' 1 "$(refusal ek_virtual_tpm 'rule swtpm-localca')" \
	"refused with the default on_refusal: halted"
grep -q 'BOOT HALTED (refused: ek_virtual_tpm)' "$IT_TMP/console" || it_fail "the banner does not say why"
status_is code ek_virtual_tpm "halted"
[ ! -e "$ATTEST_RUN_DIR/quarantine" ] || it_fail "a halted boot was also quarantined"
expect_halt 'on_error = halt\nmessage = call the NOC, x1234\n' 3 '' "unreachable with on_error = halt: halted"
grep -q 'call the NOC, x1234' "$IT_TMP/console" || it_fail "the banner lacks the configured message"
it_ok "the banner carries the configured message"
expect_halt 'on_refusal = qurantine\n' 0 '' "a boot.conf broken since the image was built: halted"
status_is code configuration "a broken boot.conf"

it_step "the initramfs-tools hook refuses a bad configuration"
e2e_kernel
hook_check() {
	local what=$1 expect=$2 mk=$IT_TMP/mk
	rm -rf "$mk" && mkdir -p "$mk/hooks" "$mk/scripts/init-premount"
	printf 'MODULES=list\nBUSYBOX=y\nCOMPRESS=gzip\n' >"$mk/initramfs.conf"
	install -m 755 "$(it_source_path scripts/initramfs-tools/hooks/attest)" "$mk/hooks/attest"
	install -m 755 "$(it_source_path scripts/initramfs-tools/scripts/init-premount/attest)" \
		"$mk/scripts/init-premount/attest"
	if ATTEST_CLIENT_BIN=$IT_TMP/bin/attest-client ATTEST_BOOT_BIN=$boot ATTEST_CONF_DIR=$IT_TMP/conf \
		mkinitramfs -d "$mk" -o "$IT_TMP/img" "$E2E_KVER" >"$IT_TMP/out" 2>&1; then
		it_fail "$what: mkinitramfs succeeded"
	fi
	grep -qF -- "$expect" "$IT_TMP/out" || { cat "$IT_TMP/out" >&2; it_fail "$what: no '$expect'"; }
	it_ok "$what: the image is not built"
}
mkdir -p "$IT_TMP/conf"
printf 'url = https://verifier.example\n' >"$IT_TMP/conf/attest-client.conf"
printf 'on_refusal = hlat\n' >"$IT_TMP/conf/boot.conf"
hook_check "a typo in boot.conf" "boot.conf:1: on_refusal must be halt or quarantine"
printf 'on_refusal = halt\n' >"$IT_TMP/conf/boot.conf"
printf 'url = https://verifier.example\nca_bundle = %s/missing.pem\n' "$IT_TMP" >"$IT_TMP/conf/attest-client.conf"
hook_check "a CA bundle that does not exist" "ca_bundle = $IT_TMP/missing.pem: no such file"
rm "$IT_TMP/conf/attest-client.conf"
hook_check "no attest-client.conf" "attest-client.conf is missing"
