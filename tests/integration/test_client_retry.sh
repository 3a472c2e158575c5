#!/usr/bin/env bash
# What attest-client does with each kind of answer, against a scripted
# stand-in verifier that counts the requests: network failures (timeouts),
# 503 and 429 are retried within the bound; a 4xx is the verifier's refusal
# (exit 1, CODE: detail on stderr) and is never retried; a 5xx, a malformed
# 200 and an oversized answer are the verifier failing (exit 3) at once.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"
it_need_tool python3

CLIENT=$(it_build_path attest-client/attest-client)
it_swtpm_start phys
# shellcheck source=/dev/null
. "$IT_TMP/phys/env"

# fake_verifier ANSWER...: serves POSTs with the answers in turn (the last
# one repeats): STATUS, STATUS:CODE (a JSON error), "garbage", "huge" (a
# 1 MiB 200) or "slow" (answers after 3 s). Sets $FAKE_URL; requests are
# counted in $IT_TMP/requests.
fake_verifier() {
	: >"$IT_TMP/requests"
	python3 - "$IT_TMP/requests" "$IT_TMP/port" "$@" <<'PY' &
import http.server, json, sys, time
count_file, port_file, answers = sys.argv[1], sys.argv[2], sys.argv[3:]
seen = []

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen.append(self.path)
        with open(count_file, "a") as f:
            f.write(self.path + "\n")
        answer = answers[min(len(seen), len(answers)) - 1]
        body, status = b"", 200
        if answer == "garbage":
            body = b'{"credential_blob": 5}'
        elif answer == "huge":
            body = b"x" * (1 << 20)
        elif answer == "slow":
            time.sleep(3)
            status = 503
        elif ":" in answer:
            status, code = answer.split(":")
            body = json.dumps({"error": code, "detail": "from the stand-in"}).encode()
        else:
            status = answer
        try:
            self.send_response(int(status))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (its timeout)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(port_file, "w").write(str(server.server_address[1]))
server.serve_forever()
PY
	FAKE_PID=$!
	for ((i = 0; i < 50; i++)); do
		[ -s "$IT_TMP/port" ] && break
		sleep 0.1
	done
	[ -s "$IT_TMP/port" ] || it_fail "the stand-in verifier did not start"
	FAKE_URL=http://127.0.0.1:$(cat "$IT_TMP/port")
	rm -f "$IT_TMP/port"
}

FAKE_PID=""
stop_fake_verifier() {
	[ -n "$FAKE_PID" ] || return 0
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=""
}
it_on_exit stop_fake_verifier

# run_case WANT-STATUS WANT-REQUESTS DESCRIPTION CLIENT-ARGS... -- ANSWERS...
run_case() {
	local want=$1 requests=$2 what=$3 args=() status=0 got
	shift 3
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	fake_verifier "$@"
	"$CLIENT" --url "$FAKE_URL" --token-file "$IT_TMP/token" --retry-delay 20 \
		--retry-max-delay 40 "${args[@]}" >/dev/null 2>"$IT_TMP/err" || status=$?
	stop_fake_verifier
	got=$(wc -l <"$IT_TMP/requests")
	if [ "$status" != "$want" ] || [ "$got" != "$requests" ]; then
		cat "$IT_TMP/err" >&2
		it_fail "$what: exit $status after $got requests, expected exit $want after $requests"
	fi
	[ -z "$(tpm2_getcap handles-transient)" ] || it_fail "$what: objects left loaded"
	it_ok "$what: exit $want after $requests request(s)"
}

stderr_has() {
	grep -qF -- "$1" "$IT_TMP/err" || it_fail "stderr lacks '$1': $(cat "$IT_TMP/err")"
}

it_step "retried: 503 (store down, nothing decided), 429, timeouts"
run_case 3 3 "503 every time, --retries 2" --retries 2 -- 503:unavailable
stderr_has "verifier unreachable after 3 attempts"
run_case 1 3 "429, 503, then a refusal" --retries 5 -- 429:rate_limited 503:unavailable 403:ek_revoked
stderr_has "refused by the verifier: ek_revoked: from the stand-in"
run_case 3 2 "no answer within --timeout 1, --retries 1" --timeout 1 --retries 1 -- slow

it_step "never retried"
run_case 1 1 "403 ek_virtual_tpm" --retries 5 -- 403:ek_virtual_tpm
stderr_has "refused by the verifier: ek_virtual_tpm: from the stand-in"
run_case 1 1 "a 4xx without a JSON body" --retries 5 -- 404
stderr_has "refused by the verifier: http_404"
run_case 3 1 "500 internal" --retries 5 -- 500:internal
stderr_has "verifier failed: HTTP 500 internal"
run_case 3 1 "a 200 that is no challenge" --retries 5 -- garbage
stderr_has "credential_blob"
run_case 3 1 "an answer over the size cap" --retries 5 -- huge
stderr_has "larger than"
echo "PASS: attest-client retries and answers"
