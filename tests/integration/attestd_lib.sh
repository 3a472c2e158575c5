# Helpers to run a real attestd in an integration test; source after lib.sh.
#
#   at_policy "$IT_TMP/policy.json" 'p["enrollment_required"] = True'
#   at_start main "$IT_TMP/policy.json"     # $AT_URL, $AT_CONF, $AT_LOG, $AT_PID
#   at_client --ek-cert ... > out.json      # tests/integration/tpm2tools_client.py
#   at_json out.json quote.status           # a value from a JSON file
#
# attestd listens on a free loopback port with plain HTTP and its own state
# directory and sqlite store under $IT_TMP/NAME; it is stopped at exit.

# at_policy OUT [PYTHON]: the shipped default policy (every virtual-TPM and
# virtual-platform rule, the real vendors' trust store) plus the test
# manufacturer's CAs as anchors; PYTHON may edit the dict `p` first.
at_policy() {
	local out=$1 edits=${2:-}
	"$ATTEST_SOURCE_ROOT/scripts/make-test-pki" "$ATTEST_TEST_PKI" >/dev/null ||
		it_fail "make-test-pki failed"
	python3 - "$ATTEST_SOURCE_ROOT/policy/default.json" "$out" "$ATTEST_TEST_PKI" "$edits" <<'PY' ||
import json, os, sys
src, out, pki, edits = sys.argv[1:]
p = json.load(open(src))
base = os.path.dirname(os.path.abspath(src))
absolute = lambda paths: [x if os.path.isabs(x) else os.path.join(base, x) for x in paths]
p["name"] = "integration-test"
p["ek"]["trust_anchors"] = absolute(p["ek"]["trust_anchors"]) + [os.path.join(pki, "roots")]
p["ek"]["intermediates"] = absolute(p["ek"].get("intermediates", [])) + [os.path.join(pki, "intermediates")]
p["ek"]["crls"] = absolute(p["ek"].get("crls", []))
exec(edits)
json.dump(p, open(out, "w"), indent=1)
PY
		it_fail "at_policy: cannot write $out"
}

# at_start NAME POLICY [EXTRA CONFIG LINES]: starts attestd and waits until
# /healthz answers.
at_start() {
	local name=$1 policy=$2 extra=${3:-} dir port i
	it_tmpdir
	dir=$IT_TMP/$name
	mkdir -p "$dir"
	port=$(it_free_port)
	AT_CONF=$dir/attestd.conf
	AT_LOG=$dir/attestd.log
	AT_URL=http://127.0.0.1:$port
	cat >"$AT_CONF" <<-CONF
		listen = 127.0.0.1:$port
		state_dir = $dir/state
		store = sqlite:$dir/attestd.db
		policy = $policy
		threads = 4
		log_level = debug
		$extra
	CONF
	"$(it_build_path attestd/attestd)" --config "$AT_CONF" >>"$AT_LOG" 2>&1 &
	AT_PID=$!
	it_on_exit at_stop "$AT_PID"
	it_on_exit at_log_on_failure "$AT_LOG"
	# With a TLS certificate configured, wait over HTTPS, trusting it.
	local cert=
	cert=$(sed -n 's/^[[:space:]]*tls_cert = //p' "$AT_CONF")
	if [ -n "$cert" ]; then
		AT_URL=https://127.0.0.1:$port
	fi
	for ((i = 0; i < 100; i++)); do
		curl -fsS ${cert:+--cacert "$cert"} "$AT_URL/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$AT_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$AT_LOG" >&2
	it_fail "attestd $name did not come up"
}

# At exit: shows the daemon's log when the test failed ($rc is the exit
# status that lib.sh's cleanup runner is handling).
at_log_on_failure() {
	[ "${rc:-0}" = 0 ] && return 0
	echo "--- tail of $1" >&2
	tail -25 "$1" >&2
}

# Stops an attestd gracefully (SIGTERM), then for good.
at_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# at_client ARGS...: one protocol run with tpm2-tools (tpm2tools_client.py).
at_client() {
	python3 "$ATTEST_SOURCE_ROOT/tests/integration/tpm2tools_client.py" --url "$AT_URL" "$@"
}

# at_json FILE PATH: prints the value at a dotted PATH ("quote.body.error").
at_json() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print("" if v is None else v if not isinstance(v, (dict, list)) else json.dumps(v))
PY
}

# at_expect FILE PATH VALUE DESCRIPTION: checks one value of a result.
at_expect() {
	local got
	got=$(at_json "$1" "$2")
	[ "$got" = "$3" ] || { cat "$1" >&2; echo >&2; it_fail "$4: $2 is '$got', expected '$3'"; }
	it_ok "$4"
}

# at_attest NAME: attest-client against $AT_URL with the TPM of
# $TPM2TOOLS_TCTI and the boot log $IT_TMP/boot.log; the token goes to
# $IT_TMP/NAME.token; prints the machine id that /v1/admission reports
# (sending $GATEWAY_KEY as X-API-Key when set).
at_attest() {
	"$(it_build_path attest-client/attest-client)" --url "$AT_URL" --tcti "$TPM2TOOLS_TCTI" \
		--event-log "$IT_TMP/boot.log" -o "$IT_TMP/$1.token" 2>"$IT_TMP/$1.log" ||
		{ cat "$IT_TMP/$1.log" >&2; it_fail "attest-client was not admitted by $AT_URL"; }
	curl -s -D - -o /dev/null -H "Authorization: Bearer $(cat "$IT_TMP/$1.token")" \
		${GATEWAY_KEY:+-H "X-API-Key: $GATEWAY_KEY"} "$AT_URL/v1/admission" |
		sed -n 's/^X-Attest-Machine: \([^[:space:]]*\).*/\1/ip'
}

# at_check_acks ACK_LOG: every attestation a client saw acknowledged
# ("ID TOKEN" lines, loadgen --ack-log) is an admitted row of $AT_CONF's
# store with its token's jti and machine: no acknowledged decision lost, no
# token without its row.
at_check_acks() {
	at_ctl history --outcome admitted --json >"$IT_TMP/acks-history.jsonl" ||
		it_fail "attestctl history failed"
	python3 - "$1" "$IT_TMP/acks-history.jsonl" <<'PY' || it_fail "acknowledged decisions are missing"
import base64, json, sys
acks, history = sys.argv[1:]
rows = {}
for line in open(history):
    r = json.loads(line)
    rows[r["id"]] = r
missing = []
n = 0
for line in open(acks):
    ident, token = line.split()
    n += 1
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    row = rows.get(int(ident))
    if row is None or row["token_jti"] != claims["jti"] or row["machine_id"] != claims["sub"]:
        missing.append((ident, row))
for ident, row in missing[:5]:
    print(f"acknowledged attestation {ident}: row {row}", file=sys.stderr)
if missing:
    sys.exit(f"{len(missing)} of {n} acknowledged decisions have no admitted row with their jti")
print(f"all {n} acknowledged decisions are among {len(rows)} admitted rows")
PY
}

# at_ctl ARGS...: attestctl against this attestd's store.
at_ctl() {
	"$(it_build_path attestd/attestctl)" -c "$AT_CONF" "$@"
}
