#!/usr/bin/env bash
# Moving an existing deployment from sqlite to PostgreSQL: attestctl db
# migrate creates the schema; attestctl db copy-from-sqlite copies history,
# machines, API keys and consumed sessions in one transaction and verifies
# the chain; attestd on PostgreSQL then continues that same chain, with the
# same API keys and revocations. A broken source chain and a second copy
# onto a non-empty history are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
it_need_tool curl python3 psql sqlite3

it_tmpdir
loadgen=$(it_build_path tests/bench/loadgen)
at_policy "$IT_TMP/policy.json"

it_step "a sqlite deployment with history, a revoked machine, an API key"
at_start sq "$IT_TMP/policy.json"
SQ_CONF=$AT_CONF
"$loadgen" --url "$AT_URL" --threads 2 --seconds 1 attest --pki "$ATTEST_TEST_PKI" \
	>"$IT_TMP/load.json" || it_fail "loadgen failed"
[ "$(at_json "$IT_TMP/load.json" ok)" -gt 0 ] || it_fail "no attestation on sqlite"
at_ctl machines enroll "sha256:$(printf '%064d' 7)" --note "rack 7" >/dev/null || it_fail "enroll"
at_ctl machines revoke "sha256:$(printf '%064d' 7)" --reason "stolen" >/dev/null || it_fail "revoke"
key=$(at_ctl apikeys add auditor test-auditor)
at_ctl history --json >"$IT_TMP/history-sqlite.jsonl"
at_stop "$AT_PID"
rows=$(wc -l <"$IT_TMP/history-sqlite.jsonl")
it_ok "$rows history rows on sqlite"

it_step "attestctl db migrate, then db copy-from-sqlite into PostgreSQL"
pg_start main
cat >"$IT_TMP/pg.conf" <<CONF
store = $PG_URL
state_dir = $IT_TMP/sq/state
policy = $IT_TMP/policy.json
CONF
ctl() {
	"$(it_build_path attestd/attestctl)" -c "$IT_TMP/pg.conf" "$@"
}
for run in first again; do
	out=$(ctl db migrate) || it_fail "db migrate ($run) failed: $out"
	[ "$out" = "PostgreSQL store: schema at version 1" ] || it_fail "db migrate ($run): $out"
done
it_ok "db migrate: schema at version 1 (and again: idempotent)"
ctl db copy-from-sqlite "$IT_TMP/sq/attestd.db" >"$IT_TMP/copy.out" || {
	cat "$IT_TMP/copy.out" >&2
	it_fail "copy-from-sqlite failed"
}
grep -q "audit chain OK: $rows rows" "$IT_TMP/copy.out" || it_fail "copy: $(cat "$IT_TMP/copy.out")"
it_ok "$(head -1 "$IT_TMP/copy.out"); chain verified"
ctl history --json >"$IT_TMP/history-pg.jsonl"
cmp -s "$IT_TMP/history-sqlite.jsonl" "$IT_TMP/history-pg.jsonl" ||
	it_fail "the copied history differs from the source"
it_ok "attestctl history is identical on both stores"
month=$(date -u +%Y-%m)
AT_CONF=$SQ_CONF at_ctl report --month "$month" --format csv >"$IT_TMP/report-sqlite.csv" ||
	it_fail "report on sqlite failed"
ctl report --month "$month" --format csv >"$IT_TMP/report-pg.csv" || it_fail "report on PostgreSQL failed"
diff "$IT_TMP/report-sqlite.csv" "$IT_TMP/report-pg.csv" >&2 ||
	it_fail "the monthly report differs between the stores"
it_ok "attestctl report (counts, audit) is identical on both stores"
ctl machines show "sha256:$(printf '%064d' 7)" | grep -q "stolen" ||
	it_fail "the revocation reason was not copied"
it_ok "machines copied with their revocation"

it_check_not "a second copy onto the non-empty history is refused" \
	ctl db copy-from-sqlite "$IT_TMP/sq/attestd.db"

it_step "attestd on PostgreSQL continues the copied chain"
at_start onpg "$IT_TMP/policy.json" "store = $PG_URL
state_dir = $IT_TMP/sq/state"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$AT_URL/v1/attestations?limit=1")" = 200 ] ||
	it_fail "the copied API key is not accepted"
it_ok "the API key made on sqlite works on PostgreSQL"
"$loadgen" --url "$AT_URL" --threads 2 --seconds 1 attest --pki "$ATTEST_TEST_PKI" \
	>"$IT_TMP/load2.json" || it_fail "loadgen failed"
[ "$(at_json "$IT_TMP/load2.json" failed)" = 0 ] || it_fail "attestations failed after the copy"
ctl audit verify | grep -q "audit chain OK" || it_fail "audit after new rows: $(ctl audit verify)"
[ "$(pg_psql main -c "SELECT min(id) FROM attestations WHERE id > $rows")" = $((rows + 1)) ] ||
	it_fail "new rows do not follow the copied ones"
it_ok "new rows follow row $rows and the whole chain verifies"

it_step "a sqlite history with an edited row is not copied"
cp "$IT_TMP/sq/attestd.db" "$IT_TMP/edited.db"
sqlite3 "$IT_TMP/edited.db" "DROP TRIGGER attestations_no_update;
	UPDATE attestations SET detail = 'nothing to see' WHERE id = 2" || it_fail "cannot edit the copy"
pg_psql main -c "CREATE DATABASE second" || it_fail "createdb"
sed "s|/attestd\$|/second|" "$IT_TMP/pg.conf" >"$IT_TMP/second.conf"
out=$("$(it_build_path attestd/attestctl)" -c "$IT_TMP/second.conf" db copy-from-sqlite \
	"$IT_TMP/edited.db") && it_fail "an edited source was copied: $out"
[[ "$out" == *"source audit chain BROKEN at row 2"* ]] || it_fail "copy of an edited source: $out"
it_ok "refused: $out"

it_step "a copy that fails half-way leaves nothing behind"
second() {
	"$(it_build_path attestd/attestctl)" -c "$IT_TMP/second.conf" "$@"
}
# The machine enrolled on sqlite, enrolled again on the target: its row
# collides when the machines are copied, after all history rows were sent.
second machines enroll "sha256:$(printf '%064d' 7)" >/dev/null || it_fail "enroll on the target"
out=$(second db copy-from-sqlite "$IT_TMP/sq/attestd.db" 2>&1) && it_fail "a colliding copy succeeded: $out"
[[ "$out" == *"duplicate key"* ]] || it_fail "copy with a colliding machine: $out"
[ "$(pg_psql main -d second -c 'SELECT count(*) FROM attestations')" = 0 ] ||
	it_fail "rows of the failed copy were left behind"
second audit verify | grep -q "audit chain OK: 0 rows" || it_fail "target after the failed copy"
it_ok "refused ($out); the target still has an empty, intact history"
