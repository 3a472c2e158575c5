/* The PostgreSQL schema, its migrations and statements, kept apart from the
 * C that runs them. Same tables and meaning as store_sqlite_sql.h, plus the
 * one-row chain_head that serializes appends across attestd instances. */
#ifndef ATTEST_STORE_PG_SQL_H
#define ATTEST_STORE_PG_SQL_H

/* SQL is laid out by hand: one clause per line, comments between. */
/* clang-format off */

/* Held for the migration transaction, so instances starting together do
 * not race on CREATE TABLE; the number is arbitrary but fixed ("attestd"
 * in ASCII, truncated to 64 bits). */
#define PG_MIGRATION_LOCK "SELECT pg_advisory_xact_lock(7021792174367844)"

#define PG_SCHEMA_META                                                                             \
	"CREATE TABLE IF NOT EXISTS attestd_schema (version INTEGER NOT NULL);"                    \
	"INSERT INTO attestd_schema (version) SELECT 0"                                            \
	" WHERE NOT EXISTS (SELECT 1 FROM attestd_schema)"

#define PG_SCHEMA_VERSION     "SELECT version FROM attestd_schema"
#define PG_SCHEMA_SET_VERSION "UPDATE attestd_schema SET version = $1"

/* Migration 1: the tables of store_sqlite_sql.h. Ids compare byte-wise
 * (COLLATE "C") so paging by id is the same on every server locale. */
#define PG_MIGRATION_1                                                                             \
	"CREATE TABLE attestations ("                                                              \
	" id BIGINT PRIMARY KEY, time BIGINT NOT NULL, phase TEXT NOT NULL,"                       \
	" machine_id TEXT COLLATE \"C\" NOT NULL, ek_issuer TEXT NOT NULL,"                        \
	" ek_manufacturer TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,"              \
	" detail TEXT NOT NULL, policy TEXT NOT NULL, pcr_digest TEXT NOT NULL,"                   \
	" reset_count BIGINT NOT NULL, restart_count BIGINT NOT NULL, host TEXT NOT NULL,"         \
	" token_jti TEXT NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL);"                \
	"CREATE INDEX attestations_by_machine ON attestations (machine_id, id);"                   \
	"CREATE INDEX attestations_by_time ON attestations (time, id);"                            \
	/* The database itself refuses edits; the hash chain proves the rest. */                   \
	"CREATE FUNCTION attestd_append_only() RETURNS trigger LANGUAGE plpgsql AS"                \
	" $$BEGIN RAISE EXCEPTION 'attestation history is append-only'; END$$;"                    \
	"CREATE TRIGGER attestations_no_update BEFORE UPDATE ON attestations"                      \
	" FOR EACH ROW EXECUTE FUNCTION attestd_append_only();"                                    \
	"CREATE TRIGGER attestations_no_delete BEFORE DELETE ON attestations"                      \
	" FOR EACH ROW EXECUTE FUNCTION attestd_append_only();"                                    \
	"CREATE TRIGGER attestations_no_truncate BEFORE TRUNCATE ON attestations"                  \
	" FOR EACH STATEMENT EXECUTE FUNCTION attestd_append_only();"                              \
	/* The last row's id, hash and time. Every append transaction locks     \
	 * this row first (FOR UPDATE), so appends from all instances form one    \
	 * chain, and times never go down along it (store_pg_write.c). */         \
	"CREATE TABLE chain_head (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),"     \
	" id BIGINT NOT NULL, hash BYTEA NOT NULL, time BIGINT NOT NULL);"                         \
	"INSERT INTO chain_head (id, hash, time)"                                                  \
	" VALUES (0, decode(repeat('00', 32), 'hex'), 0);"                                         \
	"CREATE TABLE sessions_used (id BYTEA PRIMARY KEY, expires_at BIGINT NOT NULL);"           \
	"CREATE INDEX sessions_used_by_expiry ON sessions_used (expires_at);"                      \
	"CREATE TABLE machines (id TEXT COLLATE \"C\" PRIMARY KEY,"                                \
	" enrolled_at BIGINT NOT NULL DEFAULT 0, revoked_at BIGINT NOT NULL DEFAULT 0,"            \
	" note TEXT NOT NULL DEFAULT '', ek_issuer TEXT NOT NULL DEFAULT '',"                      \
	" ek_manufacturer TEXT NOT NULL DEFAULT '', first_seen BIGINT NOT NULL DEFAULT 0,"         \
	" last_seen BIGINT NOT NULL DEFAULT 0, last_outcome TEXT NOT NULL DEFAULT '');"            \
	"CREATE TABLE api_keys (hash BYTEA PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL,"   \
	" created_at BIGINT NOT NULL)"

#define PG_ATTESTATION_COLUMNS                                                                     \
	"id, time, phase, machine_id, ek_issuer, ek_manufacturer, outcome, error, detail,"         \
	" policy, pcr_digest, reset_count, restart_count, host, token_jti, prev_hash, hash"

#define PG_ATTESTATION_INSERT                                                                      \
	"INSERT INTO attestations (" PG_ATTESTATION_COLUMNS ") VALUES"                             \
	" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"

#define PG_ATTESTATION_COUNTS                                                                      \
	"SELECT machine_id, outcome, error, COUNT(*), MAX(time) FROM attestations"                 \
	" WHERE time >= $1 AND time < $2 GROUP BY machine_id, outcome, error"                      \
	" ORDER BY machine_id, outcome COLLATE \"C\", error COLLATE \"C\""

#define PG_CHAIN_HEAD_LOCK "SELECT id, hash, time FROM chain_head FOR UPDATE"
#define PG_CHAIN_HEAD_SET  "UPDATE chain_head SET id = $1, hash = $2, time = $3"
#define PG_HISTORY_EMPTY   "SELECT NOT EXISTS (SELECT 1 FROM attestations)"

#define PG_SESSION_CONSUME                                                                         \
	"INSERT INTO sessions_used (id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
#define PG_SESSION_USED	 "SELECT 1 FROM sessions_used WHERE id = $1"
#define PG_SESSION_PURGE "DELETE FROM sessions_used WHERE expires_at < $1"

#define PG_MACHINE_COLUMNS                                                                         \
	"id, enrolled_at, revoked_at, note, ek_issuer, ek_manufacturer, first_seen, last_seen,"    \
	" last_outcome"

#define PG_MACHINE_GET "SELECT " PG_MACHINE_COLUMNS " FROM machines WHERE id = $1"

#define PG_MACHINES_LIST                                                                           \
	"SELECT " PG_MACHINE_COLUMNS " FROM machines WHERE id > $1 ORDER BY id LIMIT $2"

#define PG_MACHINE_SEEN                                                                            \
	"INSERT INTO machines (id, ek_issuer, ek_manufacturer, first_seen, last_seen, last_outcome)" \
	" VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (id) DO UPDATE SET"                          \
	" ek_issuer = excluded.ek_issuer, ek_manufacturer = excluded.ek_manufacturer,"             \
	" first_seen = CASE WHEN machines.first_seen = 0 THEN excluded.first_seen"                 \
	" ELSE machines.first_seen END,"                                                           \
	" last_seen = excluded.last_seen, last_outcome = excluded.last_outcome"

#define PG_MACHINE_ENROLL                                                                          \
	"INSERT INTO machines (id, note, enrolled_at) VALUES ($1, $2, $3)"                         \
	" ON CONFLICT (id) DO UPDATE SET enrolled_at = excluded.enrolled_at,"                      \
	" note = CASE WHEN excluded.note = '' THEN machines.note ELSE excluded.note END"

#define PG_MACHINE_REVOKE                                                                          \
	"UPDATE machines SET revoked_at = $1,"                                                     \
	" note = CASE WHEN $2::text = '' THEN note ELSE $2::text END WHERE id = $3"

/* A machine copied whole (attestctl db copy-from-sqlite). */
#define PG_MACHINE_IMPORT                                                                          \
	"INSERT INTO machines (" PG_MACHINE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"

#define PG_APIKEY_ADD  "INSERT INTO api_keys (hash, role, name, created_at) VALUES ($1, $2, $3, $4)"
#define PG_APIKEY_ROLE "SELECT role FROM api_keys WHERE hash = $1"

/* clang-format on */

#endif
