/* The sqlite schema and statements, kept apart from the C that runs them. */
#ifndef ATTEST_STORE_SQLITE_SQL_H
#define ATTEST_STORE_SQLITE_SQL_H

/* WAL lets readers run beside the writer; synchronous=FULL makes every
 * COMMIT durable before it returns (the decision is acknowledged after).
 * Reads map the file (shared by all connections through the page cache)
 * rather than copying a page per row into each connection's small cache. */
#define SQL_PRAGMAS                                                                                \
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"                \
	" PRAGMA mmap_size=1073741824; PRAGMA cache_size=-16384;"

#define SQL_SCHEMA                                                                                 \
	"CREATE TABLE IF NOT EXISTS attestations ("                                                \
	" id INTEGER PRIMARY KEY, time INTEGER NOT NULL, phase TEXT NOT NULL,"                     \
	" machine_id TEXT NOT NULL, ek_issuer TEXT NOT NULL, ek_manufacturer TEXT NOT NULL,"       \
	" outcome TEXT NOT NULL, error TEXT NOT NULL, detail TEXT NOT NULL, policy TEXT NOT NULL," \
	" pcr_digest TEXT NOT NULL, reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL," \
	" host TEXT NOT NULL, token_jti TEXT NOT NULL, prev_hash BLOB NOT NULL,"                   \
	" hash BLOB NOT NULL);"                                                                    \
	"CREATE INDEX IF NOT EXISTS attestations_by_machine ON attestations(machine_id, id);"      \
	"CREATE INDEX IF NOT EXISTS attestations_by_time ON attestations(time, id);"               \
	/* The database itself refuses edits; the hash chain proves the rest. */                   \
	"CREATE TRIGGER IF NOT EXISTS attestations_no_update BEFORE UPDATE ON attestations"        \
	" BEGIN SELECT RAISE(ABORT, 'attestation history is append-only'); END;"                   \
	"CREATE TRIGGER IF NOT EXISTS attestations_no_delete BEFORE DELETE ON attestations"        \
	" BEGIN SELECT RAISE(ABORT, 'attestation history is append-only'); END;"                   \
	"CREATE TABLE IF NOT EXISTS sessions_used (id BLOB PRIMARY KEY,"                           \
	" expires_at INTEGER NOT NULL) WITHOUT ROWID;"                                             \
	"CREATE TABLE IF NOT EXISTS machines (id TEXT PRIMARY KEY,"                                \
	" enrolled_at INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER NOT NULL DEFAULT 0,"          \
	" note TEXT NOT NULL DEFAULT '', ek_issuer TEXT NOT NULL DEFAULT '',"                      \
	" ek_manufacturer TEXT NOT NULL DEFAULT '', first_seen INTEGER NOT NULL DEFAULT 0,"        \
	" last_seen INTEGER NOT NULL DEFAULT 0, last_outcome TEXT NOT NULL DEFAULT '');"           \
	"CREATE TABLE IF NOT EXISTS api_keys (hash BLOB PRIMARY KEY, role TEXT NOT NULL,"          \
	" name TEXT NOT NULL, created_at INTEGER NOT NULL);"

#define SQL_ATTESTATION_COLUMNS                                                                    \
	"id, time, phase, machine_id, ek_issuer, ek_manufacturer, outcome, error, detail,"         \
	" policy, pcr_digest, reset_count, restart_count, host, token_jti, prev_hash, hash"

#define SQL_ATTESTATION_COUNTS                                                                     \
	"SELECT machine_id, outcome, error, COUNT(*), MAX(time) FROM attestations"                 \
	" WHERE time >= ?1 AND time < ?2 GROUP BY machine_id, outcome, error"                      \
	" ORDER BY machine_id, outcome, error"

#define SQL_CHAIN_HEAD "SELECT id, hash, time FROM attestations ORDER BY id DESC LIMIT 1"

#define SQL_ATTESTATION_INSERT                                                                     \
	"INSERT INTO attestations (" SQL_ATTESTATION_COLUMNS ") VALUES"                            \
	" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"

#define SQL_SESSION_CONSUME "INSERT OR IGNORE INTO sessions_used (id, expires_at) VALUES (?1, ?2)"
#define SQL_SESSION_USED    "SELECT 1 FROM sessions_used WHERE id = ?1"
#define SQL_SESSION_PURGE   "DELETE FROM sessions_used WHERE expires_at < ?1"

#define SQL_MACHINE_COLUMNS                                                                        \
	"id, enrolled_at, revoked_at, note, ek_issuer, ek_manufacturer, first_seen, last_seen,"    \
	" last_outcome"

#define SQL_MACHINE_GET "SELECT " SQL_MACHINE_COLUMNS " FROM machines WHERE id = ?1"

#define SQL_MACHINES_LIST                                                                          \
	"SELECT " SQL_MACHINE_COLUMNS " FROM machines WHERE id > ?1 ORDER BY id LIMIT ?2"

#define SQL_MACHINE_SEEN                                                                           \
	"INSERT INTO machines (id, ek_issuer, ek_manufacturer, first_seen, last_seen, last_outcome)" \
	" VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT(id) DO UPDATE SET"                           \
	" ek_issuer = excluded.ek_issuer, ek_manufacturer = excluded.ek_manufacturer,"             \
	" first_seen = CASE WHEN first_seen = 0 THEN excluded.first_seen ELSE first_seen END,"     \
	" last_seen = excluded.last_seen, last_outcome = excluded.last_outcome"

#define SQL_MACHINE_ENROLL                                                                         \
	"INSERT INTO machines (id, note, enrolled_at) VALUES (?1, ?2, ?3)"                         \
	" ON CONFLICT(id) DO UPDATE SET enrolled_at = excluded.enrolled_at,"                       \
	" note = CASE WHEN excluded.note = '' THEN note ELSE excluded.note END"

#define SQL_MACHINE_REVOKE                                                                         \
	"UPDATE machines SET revoked_at = ?1, note = CASE WHEN ?2 = '' THEN note ELSE ?2 END"     \
	" WHERE id = ?3"

#define SQL_APIKEY_ADD  "INSERT INTO api_keys (hash, role, name, created_at) VALUES (?1, ?2, ?3, ?4)"
#define SQL_APIKEY_ROLE "SELECT role FROM api_keys WHERE hash = ?1"

#endif
