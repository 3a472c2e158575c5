/* Internals shared by the sqlite backend's files: the handle, the pool of
 * read connections and small column helpers. */
#ifndef ATTEST_STORE_SQLITE_INT_H
#define ATTEST_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "commit_queue.h"
#include "store.h"

/* Read connections: enough for the HTTP worker threads of a small server;
 * a caller waits when all are in use. */
#define SQLITE_READERS 16
/* sqlite waits this long for a lock held by another process (attestctl). */
#define SQLITE_BUSY_MS 5000
/* Decisions committed in one transaction at most, so one batch cannot hold
 * the write lock for long. */
#define SQLITE_MAX_BATCH 512
/* Consumed session ids are kept until this long after they expire (a
 * session past expiry is refused as expired before its id is looked up). */
#define SQLITE_SESSION_GRACE_S 60

struct reader {
	sqlite3 *db;
	sqlite3_stmt *machine_get;
	sqlite3_stmt *session_used;
	sqlite3_stmt *apikey_role;
	bool busy;
};

struct sqlite_store {
	struct store base;
	sqlite3 *wdb;
	sqlite3_stmt *w_head, *w_consume, *w_insert, *w_seen, *w_purge;
	struct commit_queue commits; /* group commit through one writer thread */
	int64_t last_purge;

	pthread_mutex_t rmu;
	pthread_cond_t rfree;
	struct reader readers[SQLITE_READERS];
};

err_t store_sqlite_fail(sqlite3 *db, const char *what);
void store_sqlite_copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap);
void store_sqlite_copy_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t len);
bool store_sqlite_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* A read connection for the caller's exclusive use until it is put back;
 * waits while all are taken. */
struct reader *store_sqlite_reader_get(struct sqlite_store *s);
void store_sqlite_reader_put(struct sqlite_store *s, struct reader *r);

/* The read side of store_ops (store_sqlite_query.c). */
err_t store_sqlite_session_used(struct store *base, const uint8_t *session_id, bool *used);
err_t store_sqlite_machine_get(struct store *base, const char *id, struct machine *out);
err_t store_sqlite_apikey_role(struct store *base, const uint8_t hash[STORE_HASH_LEN],
			       char role[16]);
err_t store_sqlite_machines_list(struct store *base, const char *after_id, size_t limit,
				 store_machine_cb cb, void *ctx);
err_t store_sqlite_attestations_query(struct store *base, const struct attestation_filter *f,
				      store_attestation_cb cb, void *ctx);
err_t store_sqlite_attestation_get(struct store *base, int64_t id, struct attestation_record *out);
err_t store_sqlite_attestation_counts(struct store *base, int64_t since, int64_t until,
				      store_count_cb cb, void *ctx);
err_t store_sqlite_audit_verify(struct store *base, struct audit_result *out);

#endif
