# A real nginx gateway (scripts/nginx/attest-gateway.conf) in front of a
# small protected service, for the integration tests and the demo; source
# after lib.sh and attestd_lib.sh.

readonly SERVICE_HELLO="hello from the protected service"

# gw_nginx_start NAME ATTESTD_HOST:PORT GATEWAY_KEY: one nginx (own prefix,
# pid file, logs and temp dirs under $IT_TMP/NAME) serving the gateway
# template filled in as the README says, and the protected service, which
# answers with the identity headers it received. Sets $GW_URL.
gw_nginx_start() {
	local name=$1 attestd=$2 key=$3 dir gw_port svc_port i
	dir=$IT_TMP/$name
	mkdir -p "$dir"
	gw_port=$(it_free_port)
	svc_port=$(it_free_port)
	[[ $key =~ ^[A-Za-z0-9_-]*$ ]] || it_fail "API key '$key' is not base64url"
	sed -e "s|@LISTEN@|127.0.0.1:$gw_port|" -e "s|@ATTESTD@|$attestd|" \
		-e "s|@SERVICE@|http://127.0.0.1:$svc_port|" -e "s|@GATEWAY_API_KEY@|$key|" \
		"$(it_source_path scripts/nginx/attest-gateway.conf)" >"$dir/attest-gateway.conf"
	! grep -n '@[A-Z_]*@' "$dir/attest-gateway.conf" || it_fail "placeholders left in the template"
	it_nginx_start "$dir" "access_log $dir/access.log;
			include $dir/attest-gateway.conf;
			server {
				listen 127.0.0.1:$svc_port;
				default_type text/plain;
				return 200 \"$SERVICE_HELLO\\nmachine=[\$http_x_attest_machine]\\nauthorization=[\$http_authorization]\\n\";
			}"
	it_on_exit at_log_on_failure "$dir/error.log"
	GW_URL=http://127.0.0.1:$gw_port/
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL")" != 000 ] && return 0
		sleep 0.1
	done
	tail -20 "$dir/error.log" >&2
	it_fail "nginx $name did not come up"
}

