# A throwaway PostgreSQL server for a test; source after lib.sh.
#
#   pg_start main            # $PG_URL (postgresql://...), stopped at exit
#   at_start a "$policy" "store = $PG_URL"
#   pg_stop main; pg_restart main   # the server goes away and comes back
#   pg_psql main -c 'SELECT count(*) FROM attestations'
#
# initdb + pg_ctl in a temporary directory: no system service is touched.
# initdb refuses to run as root, so as root the server runs as the
# `postgres` user that the postgresql package creates. It listens on a free
# port on 127.0.0.1 (and a unix socket in its own directory), trusts local
# connections, and is killed and removed at exit.

# The newest installed server's programs (Debian keeps them off $PATH).
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] ||
		it_fail "PostgreSQL server programs are missing (run scripts/install-deps)"
	echo "$d"
}

# Runs a server program as the user that owns the data directory.
_pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start NAME: a fresh cluster with a database "attestd"; sets $PG_URL.
pg_start() {
	local name=$1 bin dir port
	it_need_tool python3
	bin=$(pg_bindir)
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || it_fail "user 'postgres' is missing (install postgresql)"
	fi
	# Not under $IT_TMP: the server's user must be able to reach it.
	dir=$(mktemp -d "${TMPDIR:-/tmp}/attestd-pg-$name.XXXXXX")
	it_on_exit rm -rf -- "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	port=$(it_free_port)
	echo "$port" >"$dir/port"
	_pg_as_owner "$bin/initdb" -D "$dir/data" -U attestd --auth=trust -E UTF8 --locale=C \
		--no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; it_fail "initdb failed"; }
	_pg_as_owner mkdir "$dir/sock"
	it_on_exit _pg_kill "$bin" "$dir"
	eval "PG_DIR_$name=\$dir"
	pg_restart "$name"
	_pg_as_owner "$bin/createdb" -h "$dir/sock" -p "$port" -U attestd attestd ||
		it_fail "createdb failed"
	PG_URL=postgresql://attestd@127.0.0.1:$port/attestd
	export PG_URL
}

_pg_dir() {
	local var=PG_DIR_$1
	[ -n "${!var:-}" ] || it_fail "no PostgreSQL server named $1"
	echo "${!var}"
}

# pg_restart NAME: starts the server (again) on its port and waits for it.
pg_restart() {
	local dir bin port
	dir=$(_pg_dir "$1")
	bin=$(pg_bindir)
	port=$(cat "$dir/port")
	_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=200" \
		start >/dev/null || { tail -20 "$dir/server.log" >&2; it_fail "PostgreSQL did not start"; }
}

# pg_stop NAME [MODE]: stops the server; MODE is pg_ctl's (fast by default:
# clients are cut off; immediate: as if the server crashed).
pg_stop() {
	local dir
	dir=$(_pg_dir "$1")
	_pg_as_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m "${2:-fast}" -w stop >/dev/null ||
		it_fail "PostgreSQL did not stop"
}

# pg_psql NAME ARGS...: psql on the test database, unaligned, no headers.
pg_psql() {
	local dir
	dir=$(_pg_dir "$1")
	shift
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$(cat "$dir/port")" -U attestd \
		-d attestd "$@"
}

# At exit: the server goes down at once, whatever state the test left.
_pg_kill() {
	local bin=$1 dir=$2
	[ -f "$dir/data/postmaster.pid" ] || return 0
	_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# pg_round_robin URL_A URL_B: a minimal HTTP load balancer on a free port
# that sends request 1, 3, 5... to URL_A and 2, 4, 6... to URL_B, as a
# round-robin balancer in front of two attestd instances does; sets $RR_URL.
# Each request is logged to $RR_LOG as "METHOD PATH -> BACKEND STATUS".
pg_round_robin() {
	local port i
	it_tmpdir
	port=$(it_free_port)
	RR_URL=http://127.0.0.1:$port
	RR_LOG=$IT_TMP/round-robin.log
	: >"$RR_LOG"
	python3 - "$port" "$RR_LOG" "$1" "$2" <<'PY' &
import http.server, itertools, sys, threading, urllib.error, urllib.request
port, log, backends = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
turn = itertools.cycle(backends)
lock = threading.Lock()

class Proxy(http.server.BaseHTTPRequestHandler):
    def forward(self):
        with lock:
            backend = next(turn)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        req = urllib.request.Request(backend + self.path, data=body or None, headers=headers,
                                     method=self.command)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, data, rh = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, data, rh = e.code, e.read(), e.headers
        with lock, open(log, "a") as f:
            f.write(f"{self.command} {self.path} -> {backend} {status}\n")
        self.send_response(status)
        for k, v in rh.items():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = forward

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
PY
	it_on_exit kill $!
	for ((i = 0; i < 100; i++)); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" \
			2>/dev/null && return 0
		sleep 0.1
	done
	it_fail "the round-robin proxy did not come up"
}

# pg_attestd_pair POLICY [EXTRA CONFIG LINES]: two attestd instances, "a"
# and "b", on $PG_URL and one shared state directory (session key, token
# signing keys), as a scale-out deployment shares them; sets A_URL A_CONF
# A_PID and B_URL B_CONF B_PID. a starts first and creates the keys.
pg_attestd_pair() {
	local config="store = $PG_URL
state_dir = $IT_TMP/shared-state
${2:-}"
	at_start a "$1" "$config"
	A_URL=$AT_URL A_CONF=$AT_CONF A_PID=$AT_PID
	at_start b "$1" "$config"
	B_URL=$AT_URL B_CONF=$AT_CONF B_PID=$AT_PID
}
