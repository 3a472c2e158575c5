# Shared helpers for the integration test scripts; source it first:
#
#   . "$(dirname "$0")/lib.sh"
#   it_need_tool tpm2_nvread openssl
#   it_tmpdir                       # $IT_TMP, removed at exit
#   it_swtpm_start phys             # $IT_TMP/phys/env, stopped at exit
#   ( . "$IT_TMP/phys/env"; tpm2_nvread "$EK_CERT_RSA_NV" ... )
#
# A test never skips: a missing tool or build output is a failure. Every
# resource a helper creates is released by the EXIT trap, in reverse order,
# also when the test fails or is interrupted. Sourcing turns on
# `set -euo pipefail`.
set -euo pipefail

# Where meson's test_env points; the defaults let a script run by hand.
: "${ATTEST_SOURCE_ROOT:=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${ATTEST_BUILD_ROOT:=$ATTEST_SOURCE_ROOT/build}"
export ATTEST_SOURCE_ROOT ATTEST_BUILD_ROOT

# The test manufacturer PKI (scripts/make-test-pki) is shared by every test
# of a build: creating it costs seconds of RSA key generation, and
# make-test-pki keeps an existing one and is safe to race.
: "${ATTEST_TEST_PKI:=$ATTEST_BUILD_ROOT/test-pki}"
export ATTEST_TEST_PKI

IT_NAME=$(basename -- "$0" .sh)
IT_CLEANUPS=()

# ------------------------------------------------------------- messages

it_fail() {
	echo "FAIL [$IT_NAME]: $*" >&2
	exit 1
}

# Says what the test is about to check, so a log reads as a list of claims.
it_step() {
	echo "--- $*"
}

it_ok() {
	echo "ok: $*"
}

# it_check DESCRIPTION COMMAND...: runs COMMAND, prints ok or fails with
# its output.
it_check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		it_ok "$what"
	else
		printf '%s\n' "$out" >&2
		it_fail "$what"
	fi
}

# it_check_not DESCRIPTION COMMAND...: the claim is that COMMAND fails
# (a refusal); prints ok, or fails when COMMAND succeeds.
it_check_not() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		it_fail "$what (the command succeeded: $*)"
	fi
	it_ok "$what"
}

it_need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			it_fail "required tool '$t' is missing (run scripts/install-deps)"
	done
}

# --------------------------------------------------------------- cleanup

_it_run_cleanups() {
	local rc=$? i
	trap - EXIT
	for ((i = ${#IT_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${IT_CLEANUPS[i]}" || echo "cleanup failed: ${IT_CLEANUPS[i]}" >&2
	done
	exit $rc
}
trap _it_run_cleanups EXIT
# An interrupted test still cleans up, through the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM

# it_on_exit COMMAND...: runs COMMAND at exit, before those registered earlier.
it_on_exit() {
	local cmd
	printf -v cmd '%q ' "$@"
	IT_CLEANUPS+=("$cmd")
}

# Creates $IT_TMP (once per test), removed at exit.
it_tmpdir() {
	[ -n "${IT_TMP:-}" ] && return 0
	IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/attestd-$IT_NAME.XXXXXX")
	it_on_exit rm -rf -- "$IT_TMP"
}

# ---------------------------------------------------------- build paths

it_source_path() {
	[ -e "$ATTEST_SOURCE_ROOT/$1" ] || it_fail "missing source file $ATTEST_SOURCE_ROOT/$1"
	echo "$ATTEST_SOURCE_ROOT/$1"
}

# it_build_path REL: a build output, e.g. `it_build_path attestd/attestd`.
it_build_path() {
	[ -e "$ATTEST_BUILD_ROOT/$1" ] ||
		it_fail "missing build output $ATTEST_BUILD_ROOT/$1 (run ninja)"
	echo "$ATTEST_BUILD_ROOT/$1"
}

# -------------------------------------------------------------- network

# Prints a TCP port that is free on 127.0.0.1 now. Another process can take
# it before the caller binds; a server that fails to bind should be retried
# with a new port.
it_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' ||
		it_fail "cannot find a free TCP port"
}

# --------------------------------------------------------------- swtpm

# it_swtpm_start NAME [swtpm-fixture start options]: starts a software TPM
# with state in $IT_TMP/NAME (env file $IT_TMP/NAME/env) and stops it at
# exit. Uses the shared test PKI unless --pki is given.
it_swtpm_start() {
	local name=$1
	shift
	it_tmpdir
	local state=$IT_TMP/$name args=("$@")
	[[ " $* " == *" --pki "* ]] || args+=(--pki "$ATTEST_TEST_PKI")
	it_on_exit "$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" stop "$state"
	"$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" start "$state" "${args[@]}" ||
		it_fail "swtpm-fixture start $name $* failed"
}

it_swtpm_stop() {
	"$ATTEST_SOURCE_ROOT/scripts/swtpm-fixture" stop "$IT_TMP/$1" ||
		it_fail "swtpm-fixture stop $1 failed"
}

# ---------------------------------------------------------------- nginx

# it_nginx_start DIR HTTP_DIRECTIVES: one nginx with its own prefix, pid
# file, logs and temp dirs in DIR, serving HTTP_DIRECTIVES (the inside of
# its http block); checked with nginx -t first, stopped at exit. The caller
# waits for its own listener to answer.
it_nginx_start() {
	local dir=$1 http=$2 pid
	it_need_tool nginx
	mkdir -p "$dir/temp"
	cat >"$dir/nginx.conf" <<-CONF
		daemon off;
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log info;
		events { worker_connections 64; }
		http {
			client_body_temp_path $dir/temp/body;
			proxy_temp_path $dir/temp/proxy;
			fastcgi_temp_path $dir/temp/fastcgi;
			uwsgi_temp_path $dir/temp/uwsgi;
			scgi_temp_path $dir/temp/scgi;
			$http
		}
	CONF
	it_check "nginx accepts the configuration in $dir" \
		nginx -t -q -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
	nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" &
	pid=$!
	it_on_exit kill -TERM "$pid"
}
