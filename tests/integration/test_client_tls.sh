#!/usr/bin/env bash
# attest-client over TLS to an attestd serving HTTPS: admitted when the
# configured CA bundle vouches for the server under the name in the URL;
# exit 3 at once (no retries: another try meets the same certificate) when
# the bundle is another CA's, when no bundle is given and the system store
# does not know the CA, and when the certificate names another host.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"
# shellcheck source=tests/integration/attestd_lib.sh
. "$(dirname -- "$0")/attestd_lib.sh"
it_need_tool openssl curl python3

CLIENT=$(it_build_path attest-client/attest-client)
it_swtpm_start phys
# shellcheck source=/dev/null
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"

it_step "a test CA, a server certificate for localhost, and an unrelated CA"
pki=$IT_TMP/tls
mkdir -p "$pki"
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=attest-client test $1" -keyout "$pki/$1.key" -out "$pki/$1.pem" 2>/dev/null
}
make_ca ca && make_ca other-ca || it_fail "cannot make the test CAs"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null &&
	openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 2 -out "$pki/server.pem" \
		-extfile <(printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n') \
		2>/dev/null || it_fail "cannot issue the server certificate"
it_ok "CA, other CA, server certificate for DNS:localhost only"

it_step "attestd with TLS"
dir=$IT_TMP/tls-attestd
mkdir -p "$dir"
port=$(it_free_port)
cat >"$dir/attestd.conf" <<CONF
listen = 127.0.0.1:$port
tls_cert = $pki/server.pem
tls_key = $pki/server.key
state_dir = $dir/state
store = sqlite:$dir/attestd.db
policy = $IT_TMP/policy.json
CONF
"$(it_build_path attestd/attestd)" --config "$dir/attestd.conf" >"$dir/log" 2>&1 &
pid=$!
it_on_exit at_stop "$pid"
for ((i = 0; i < 100; i++)); do
	curl -fsS --cacert "$pki/ca.pem" "https://localhost:$port/healthz" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
curl -fsS --cacert "$pki/ca.pem" "https://localhost:$port/healthz" >/dev/null 2>&1 || {
	tail -20 "$dir/log" >&2
	it_fail "attestd with TLS did not come up"
}
it_ok "https://localhost:$port/healthz answers"

# tls_case WANT-STATUS DESCRIPTION ARGS...
tls_case() {
	local want=$1 what=$2 status=0
	shift 2
	"$CLIENT" --event-log "$IT_TMP/boot.log" --token-file "$IT_TMP/token" --retries 3 \
		--retry-delay 20 "$@" >/dev/null 2>"$IT_TMP/err" || status=$?
	[ "$status" = "$want" ] || { cat "$IT_TMP/err" >&2; it_fail "$what: exit $status, not $want"; }
	if [ "$want" != 0 ] && grep -q "trying again" "$IT_TMP/err"; then
		it_fail "$what: retried a certificate failure"
	fi
	it_ok "$what: exit $want"
}

it_step "the client verifies the server"
tls_case 0 "CA bundle that issued the server certificate" \
	--url "https://localhost:$port" --ca-bundle "$pki/ca.pem"
tls_case 3 "another CA's bundle, no retries" \
	--url "https://localhost:$port" --ca-bundle "$pki/other-ca.pem"
tls_case 3 "no bundle: the system store does not know the test CA" \
	--url "https://localhost:$port"
tls_case 3 "the certificate names localhost, the URL 127.0.0.1" \
	--url "https://127.0.0.1:$port" --ca-bundle "$pki/ca.pem"
echo "PASS: attest-client TLS verification"
