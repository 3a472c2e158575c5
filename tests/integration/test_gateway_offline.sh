#!/usr/bin/env bash
# The offline gateway recipe (scripts/gateway/README.md): attest-token-check
# accepts an attested machine's token against attestd's JWKS and refuses
# forged, re-signed, alg none/HS256, another verifier's, wrong-audience,
# wrong-issuer and expired tokens, with attestd's codes; it follows a key
# rotation through its JWKS cache without refetching for every unknown kid;
# and, as documented, it cannot see a revocation that /v1/admission sees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool curl openssl python3 tpm2_pcrextend
CHECK=$(it_source_path scripts/gateway/attest-token-check)

# check_ok DESCRIPTION TOKEN [OPTIONS...]: the checker accepts TOKEN (given
# on stdin); its output is left in $IT_TMP/out.
check_ok() {
	local what=$1 token=$2
	shift 2
	"$CHECK" "$@" <<<"$token" >"$IT_TMP/out" 2>"$IT_TMP/err" ||
		{ cat "$IT_TMP/err" >&2; it_fail "$what: refused"; }
	it_ok "$what"
}

# check_refused "CODE: WHY" DESCRIPTION TOKEN [OPTIONS...]: the checker
# exits 1 naming attestd's error CODE and the reason WHY (so a refusal for
# some other reason does not count).
check_refused() {
	local reason=$1 what=$2 token=$3 rc=0
	shift 3
	"$CHECK" "$@" <<<"$token" >"$IT_TMP/out" 2>"$IT_TMP/err" || rc=$?
	[ "$rc" = 1 ] && grep -qF "attest-token-check: $reason" "$IT_TMP/err" ||
		{ cat "$IT_TMP/err" >&2; it_fail "$what: exit $rc, expected 1 with $reason"; }
	it_ok "$what ($reason)"
}

# jose MODE ARGS...: tokens and keys an attacker (or this test) can make.
#   jose jwk KEY.pem KID                  a JWKS with KEY's public key
#   jose es256 KEY.pem HEADER CLAIMS      HEADER and CLAIMS are JSON texts, kept
#                                         byte for byte (repeated members too)
#   jose hs256 SECRET_FILE HEADER CLAIMS  HMAC keyed with a file's bytes
#   jose b64enc TEXT / jose b64dec B64URL
jose() {
	python3 - "$@" <<-'PY'
		import base64, hashlib, hmac, json, subprocess, sys
		b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
		def der_ints(der):  # SEQUENCE { INTEGER r, INTEGER s }, short lengths
		    out, i = [], 2
		    while i < len(der):
		        n = der[i + 1]
		        out.append(int.from_bytes(der[i + 2:i + 2 + n], "big").to_bytes(32, "big"))
		        i += 2 + n
		    return b"".join(out)
		mode, key = sys.argv[1], sys.argv[2]
		if mode == "b64enc":
		    sys.exit(print(b64(key.encode())))
		if mode == "b64dec":
		    sys.exit(print(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()))
		if mode == "jwk":
		    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
		                          capture_output=True, check=True).stdout
		    x, y = spki[-64:-32], spki[-32:]
		    jwk = {"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": sys.argv[3]}
		    sys.exit(print(json.dumps({"keys": [jwk]})))
		signed = (b64(sys.argv[3].encode()) + "." + b64(sys.argv[4].encode())).encode()
		if mode == "hs256":
		    sig = hmac.new(open(key, "rb").read(), signed, hashlib.sha256).digest()
		else:
		    sig = der_ints(subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signed,
		                                  capture_output=True, check=True).stdout)
		print(signed.decode() + "." + b64(sig))
	PY
}

# part N TOKEN: the token's Nth dot-separated part (1 header, 2 claims, 3 sig).
part() {
	cut -d. -f"$1" <<<"$2"
}

b64url_encode() {
	jose b64enc "$1"
}

b64url_decode() {
	jose b64dec "$1"
}

it_swtpm_start phys
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"
at_policy "$IT_TMP/short.json" 'p["token_ttl"] = 1'

it_step "an attested machine's token, checked against the JWKS file"
at_start short "$IT_TMP/short.json"
at_attest short >/dev/null
curl -fsS "$AT_URL/.well-known/jwks.json" >"$IT_TMP/short-jwks.json"
short_url=$AT_URL
at_start main "$IT_TMP/policy.json"
machine=$(at_attest main)
token=$(cat "$IT_TMP/main.token")
curl -fsS "$AT_URL/.well-known/jwks.json" >"$IT_TMP/jwks.json"
[[ $machine == sha256:* ]] || it_fail "attestd did not admit the token online ($machine)"
check_ok "valid token accepted" "$token" --jwks "$IT_TMP/jwks.json"
[ "$(cat "$IT_TMP/out")" = "$machine" ] || it_fail "printed '$(cat "$IT_TMP/out")', not $machine"
it_ok "prints the machine id attestd's /v1/admission names"
"$CHECK" --jwks "$IT_TMP/jwks.json" "$token" >/dev/null || it_fail "token as an argument refused"
it_ok "the token may also come as an argument"
check_ok "--claims" "$token" --jwks "$IT_TMP/jwks.json" --claims
at_expect "$IT_TMP/out" att.policy integration-test "--claims shows the attestation facts"

it_step "forged and foreign tokens are refused"
b64url_decode "$(part 1 "$token")" >"$IT_TMP/header.json"
kid=$(at_json "$IT_TMP/header.json" kid)
claims=$(b64url_decode "$(part 2 "$token")")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$IT_TMP/attacker.pem" \
	2>/dev/null || it_fail "openssl cannot make a P-256 key"
other_claims=${claims/$machine/sha256:$(printf '%064d' 0)}
jwks=(--jwks "$IT_TMP/jwks.json")
check_refused "token_invalid: bad signature" "claims altered under attestd's signature" \
	"$(part 1 "$token").$(b64url_encode "$other_claims").$(part 3 "$token")" "${jwks[@]}"
check_refused "token_invalid: bad signature" "re-signed with another key under attestd's kid" \
	"$(jose es256 "$IT_TMP/attacker.pem" "{\"alg\":\"ES256\",\"kid\":\"$kid\"}" "$other_claims")" \
	"${jwks[@]}"
check_refused "token_invalid: algorithm is not ES256" "alg none" \
	"$(b64url_encode "{\"alg\":\"none\",\"kid\":\"$kid\"}").$(b64url_encode "$claims")." "${jwks[@]}"
check_refused "token_invalid: algorithm is not ES256" "HS256 keyed with the published JWKS" \
	"$(jose hs256 "$IT_TMP/jwks.json" "{\"alg\":\"HS256\",\"kid\":\"$kid\"}" "$claims")" "${jwks[@]}"
check_refused "token_invalid: unknown key id" "another verifier's token" \
	"$(cat "$IT_TMP/short.token")" "${jwks[@]}"
check_refused "token_invalid: wrong issuer or audience" "wrong audience" \
	"$token" "${jwks[@]}" --audience other-gateway
check_refused "token_invalid: wrong issuer or audience" "wrong issuer" \
	"$token" "${jwks[@]}" --issuer other-attestd
check_refused "token_invalid: malformed signature" "signature cut short" \
	"${token%??????}" "${jwks[@]}"
check_refused "token_invalid: malformed token" "garbage" "not-a-token" "${jwks[@]}"

it_step "expiry, as attestd judges it"
sleep 2 # the short-lived token's TTL is 1 s
short=$(cat "$IT_TMP/short.token")
check_refused "token_expired: token expired" "token past its exp" \
	"$short" --jwks "$IT_TMP/short-jwks.json"
status=$(curl -s -o "$IT_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $short" \
	"$short_url/v1/admission")
[ "$status" = 403 ] && grep -q '"token_expired"' "$IT_TMP/body" ||
	it_fail "attestd answers $status $(cat "$IT_TMP/body") for the expired token"
it_ok "attestd's /v1/admission agrees: 403 token_expired"
check_ok "--leeway 60 allows for a slow clock" "$short" --jwks "$IT_TMP/short-jwks.json" --leeway 60

it_step "the claim rules, on tokens signed by a key the JWKS lists"
jose jwk "$IT_TMP/attacker.pem" test-key >"$IT_TMP/test-jwks.json"
test_jwks=(--jwks "$IT_TMP/test-jwks.json")
now=$(date +%s)
# test_token HEADER CLAIMS_TIMES [AUD]: a token signed by test-key.
test_token() {
	jose es256 "$IT_TMP/attacker.pem" "$1" \
		"{\"iss\":\"attestd\",\"aud\":${3:-\"attest-gateway\"},\"sub\":\"sha256:00\",\"jti\":\"j\"$2}"
}
hdr='{"alg":"ES256","typ":"JWT","kid":"test-key"}'
times=",\"iat\":$now,\"nbf\":$now,\"exp\":$((now + 300))"
check_ok "a well-formed token" "$(test_token "$hdr" "$times")" "${test_jwks[@]}"
check_ok "aud as a list that holds the audience" \
	"$(test_token "$hdr" "$times" '["x","attest-gateway"]')" "${test_jwks[@]}"
check_refused "token_invalid: wrong issuer or audience" "aud as a list without the audience" \
	"$(test_token "$hdr" "$times" '["x"]')" "${test_jwks[@]}"
check_refused "token_expired: token not yet valid" "nbf in the future" \
	"$(test_token "$hdr" ",\"iat\":$now,\"nbf\":$((now + 120)),\"exp\":$((now + 300))")" \
	"${test_jwks[@]}"
check_refused "token_invalid: claim exp" "exp that is not a number" \
	"$(test_token "$hdr" ",\"iat\":$now,\"nbf\":$now,\"exp\":true")" "${test_jwks[@]}"
check_refused "token_invalid: claim exp" "no exp" \
	"$(test_token "$hdr" ",\"iat\":$now,\"nbf\":$now")" "${test_jwks[@]}"
check_refused "token_invalid: header: not JSON (repeated member)" "a header with alg twice" \
	"$(test_token '{"alg":"none","alg":"ES256","kid":"test-key"}' "$times")" "${test_jwks[@]}"
check_refused "token_invalid: unsupported token header" "a crit header" \
	"$(test_token '{"alg":"ES256","kid":"test-key","crit":["exp"]}' "$times")" "${test_jwks[@]}"

it_step "key rotation, through the JWKS cache"
cache=$IT_TMP/jwks-cache.json
check_ok "first check fetches the JWKS into the cache" "$token" \
	--jwks "$AT_URL/.well-known/jwks.json" --cache "$cache"
at_ctl keys rotate >/dev/null || it_fail "attestctl keys rotate failed"
for ((i = 0; i < 50; i++)); do
	[ "$(curl -fsS "$AT_URL/.well-known/jwks.json" | grep -o '"kid"' | wc -l)" = 2 ] && break
	sleep 0.1
done
at_attest rotated >/dev/null
rotated=$(cat "$IT_TMP/rotated.token")
[ "$(part 1 "$rotated")" != "$(part 1 "$token")" ] || it_fail "the new token has the old kid"
cp "$cache" "$IT_TMP/cache-before"
check_refused "token_invalid: unknown key id" "a new kid soon after the last fetch: not fetched" \
	"$rotated" \
	--jwks "$AT_URL/.well-known/jwks.json" --cache "$cache"
cmp -s "$cache" "$IT_TMP/cache-before" || it_fail "the cache was refetched for an unknown kid"
touch -d '2 minutes ago' "$cache"
check_ok "the new kid once the cache is a minute old: refetched, accepted" "$rotated" \
	--jwks "$AT_URL/.well-known/jwks.json" --cache "$cache"
check_ok "the retired key's token still verifies" "$token" --jwks "$AT_URL/.well-known/jwks.json" \
	--cache "$cache"

it_step "what offline checking cannot see: a revocation after issuance"
at_ctl machines revoke "$machine" >/dev/null || it_fail "attestctl machines revoke failed"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $rotated" \
	"$AT_URL/v1/admission")
[ "$status" = 403 ] || it_fail "/v1/admission answers $status for a revoked machine"
it_ok "online: /v1/admission refuses the revoked machine's token (403)"
check_ok "offline: the same token still passes until its exp (documented)" "$rotated" \
	--jwks "$IT_TMP/jwks-cache.json"

it_step "no keys, no decision"
rc=0
"$CHECK" --jwks "$IT_TMP/nonexistent.json" <<<"$token" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || it_fail "a missing JWKS file: exit $rc, expected 2"
it_ok "a missing JWKS file: exit 2"
at_stop "$AT_PID"
rc=0
"$CHECK" --jwks "$AT_URL/.well-known/jwks.json" <<<"$token" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || it_fail "an unreachable JWKS URL: exit $rc, expected 2"
it_ok "an unreachable JWKS URL: exit 2"
rc=0
"$CHECK" <<<"$token" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || it_fail "no --jwks: exit $rc, expected 2"
it_ok "no --jwks: exit 2 (usage)"
