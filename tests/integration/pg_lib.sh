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

# pg_balancer URL_A URL_B: nginx as the round-robin load balancer of a
# two-instance deployment (the README's example: both instances in one
# upstream, a request that cannot reach one goes to the other), on a free
# port; sets $RR_URL. With equal weights and one worker nginx alternates,
# so request 1, 3, 5... go to URL_A and 2, 4, 6... to URL_B; each is logged
# to $RR_LOG as "METHOD PATH -> BACKEND STATUS".
pg_balancer() {
	local dir port i
	it_need_tool nginx
	it_tmpdir
	dir=$IT_TMP/balancer
	mkdir -p "$dir"
	port=$(it_free_port)
	RR_URL=http://127.0.0.1:$port
	RR_LOG=$dir/access.log
	it_nginx_start "$dir" "log_format backend '\$request_method \$uri -> http://\$upstream_addr \$status';
			access_log $RR_LOG backend;
			upstream attestd {
				server ${1#http://} max_fails=1 fail_timeout=5s;
				server ${2#http://} max_fails=1 fail_timeout=5s;
				keepalive 16;
			}
			server {
				listen 127.0.0.1:$port;
				client_max_body_size 4m;
				location / {
					proxy_pass http://attestd;
					proxy_http_version 1.1;
					proxy_set_header Connection \"\";
					proxy_next_upstream error timeout;
				}
			}"
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$RR_URL/healthz")" = 200 ] && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || it_fail "the nginx balancer did not come up"
	# The probes took turns too: probe until one has gone to URL_B, so the
	# next request goes to URL_A, and start the log afresh.
	for ((i = 0; i < 20; i++)); do
		sleep 0.1 # nginx writes the log line as the request finishes
		tail -n 1 "$RR_LOG" | grep -q -- "-> $2 " && break
		curl -s -o /dev/null "$RR_URL/healthz"
	done
	[ "$i" -lt 20 ] || it_fail "the balancer never sent a request to $2"
	: >"$RR_LOG"
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
