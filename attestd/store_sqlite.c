/* sqlite3 backend: connections, schema and the write side. Decisions go
 * through one writer thread that commits every queued decision in one
 * transaction (group commit: one fsync for many decisions), and answers each
 * caller only after COMMIT returned, so nothing acknowledged is lost on a
 * crash (WAL, synchronous=FULL). Reads (store_sqlite_query.c) use a small
 * pool of connections, which WAL lets run beside the writer. */
#include "store_sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_sqlite_int.h"
#include "store_sqlite_sql.h"

err_t store_sqlite_fail(sqlite3 *db, const char *what)
{
	return err_fail(ERR_UNAVAILABLE, "store: %s: %s", what, sqlite3_errmsg(db));
}

static err_t db_open(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err_t rc = err_fail(ERR_UNAVAILABLE, "store: cannot open %s: %s", path,
				    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, SQLITE_BUSY_MS);
	if (sqlite3_exec(db, SQL_PRAGMAS, NULL, NULL, &msg) != SQLITE_OK) {
		err_t rc = err_fail(ERR_UNAVAILABLE, "store: %s: %s", path, msg);
		sqlite3_free(msg);
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return ERR_OK;
}

static err_t prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
		return store_sqlite_fail(db, "prepare");
	return ERR_OK;
}

void store_sqlite_copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

void store_sqlite_copy_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t len)
{
	const void *b = sqlite3_column_blob(st, col);

	memset(dst, 0, len);
	if (b != NULL && (size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(dst, b, len);
}

bool store_sqlite_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

struct reader *store_sqlite_reader_get(struct sqlite_store *s)
{
	pthread_mutex_lock(&s->rmu);
	for (;;) {
		for (size_t i = 0; i < SQLITE_READERS; i++) {
			if (!s->readers[i].busy) {
				s->readers[i].busy = true;
				pthread_mutex_unlock(&s->rmu);
				return &s->readers[i];
			}
		}
		pthread_cond_wait(&s->rfree, &s->rmu);
	}
}

void store_sqlite_reader_put(struct sqlite_store *s, struct reader *r)
{
	pthread_mutex_lock(&s->rmu);
	r->busy = false;
	pthread_cond_signal(&s->rfree);
	pthread_mutex_unlock(&s->rmu);
}

/* ---- writer: group commit ---- */

static void mark_replayed(struct attestation_record *r)
{
	r->admitted = false;
	snprintf(r->error, sizeof(r->error), "%s", err_code_str(ERR_SESSION_REPLAYED));
	snprintf(r->detail, sizeof(r->detail), "session was already used");
	r->token_jti[0] = '\0';
}

/* The last row of the history, which the next one links to. */
struct chain_head {
	int64_t id;
	int64_t time;
	uint8_t hash[STORE_HASH_LEN];
};

static err_t write_one(struct sqlite_store *s, struct commit_item *p, struct chain_head *head)
{
	struct attestation_record *r = p->rec;
	sqlite3_stmt *st;

	p->result = ERR_OK;
	if (p->session_id != NULL) {
		st = s->w_consume;
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, p->session_id, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, p->session_expires_at);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_sqlite_fail(s->wdb, "consume session");
		if (sqlite3_changes(s->wdb) == 0) {
			mark_replayed(r);
			p->result = ERR_SESSION_REPLAYED;
		}
	}
	r->id = head->id + 1;
	memcpy(r->prev_hash, head->hash, STORE_HASH_LEN);
	/* Times never go down along the chain (a decision started earlier can
	 * commit later), so time order is id order and a time-range query can
	 * walk the time index (store_sqlite_query.c). */
	if (r->time < head->time)
		r->time = head->time;
	TRY(store_row_hash(r, r->hash));

	st = s->w_insert;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->time);
	if (!store_sqlite_bind_text(st, 3, r->phase) ||
	    !store_sqlite_bind_text(st, 4, r->machine_id) ||
	    !store_sqlite_bind_text(st, 5, r->ek_issuer) ||
	    !store_sqlite_bind_text(st, 6, r->ek_manufacturer) ||
	    !store_sqlite_bind_text(st, 7, store_outcome_str(r->admitted)) ||
	    !store_sqlite_bind_text(st, 8, r->error) || !store_sqlite_bind_text(st, 9, r->detail) ||
	    !store_sqlite_bind_text(st, 10, r->policy) ||
	    !store_sqlite_bind_text(st, 11, r->pcr_digest) ||
	    !store_sqlite_bind_text(st, 14, r->host) ||
	    !store_sqlite_bind_text(st, 15, r->token_jti))
		return store_sqlite_fail(s->wdb, "bind");
	sqlite3_bind_int64(st, 12, r->reset_count);
	sqlite3_bind_int64(st, 13, r->restart_count);
	sqlite3_bind_blob(st, 16, r->prev_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 17, r->hash, STORE_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_sqlite_fail(s->wdb, "append history row");
	head->id = r->id;
	head->time = r->time;
	memcpy(head->hash, r->hash, STORE_HASH_LEN);

	if (r->machine_id[0] != '\0') {
		st = s->w_seen;
		sqlite3_reset(st);
		if (!store_sqlite_bind_text(st, 1, r->machine_id) ||
		    !store_sqlite_bind_text(st, 2, r->ek_issuer) ||
		    !store_sqlite_bind_text(st, 3, r->ek_manufacturer) ||
		    !store_sqlite_bind_text(st, 5, store_outcome_str(r->admitted)))
			return store_sqlite_fail(s->wdb, "bind");
		sqlite3_bind_int64(st, 4, r->time);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_sqlite_fail(s->wdb, "update machine");
	}
	return ERR_OK;
}

static err_t write_batch(void *backend, struct commit_item *batch, size_t n)
{
	struct sqlite_store *s = backend;
	struct chain_head head = {0};
	int64_t now = time(NULL);
	err_t rc = ERR_OK;

	(void)n; /* the batch is walked through its links */
	if (sqlite3_exec(s->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlite_fail(s->wdb, "begin");
	/* Read the chain head inside the write transaction: another process
	 * cannot append between this read and our COMMIT. */
	switch (sqlite3_step(s->w_head)) {
	case SQLITE_ROW:
		head.id = sqlite3_column_int64(s->w_head, 0);
		store_sqlite_copy_blob(s->w_head, 1, head.hash, STORE_HASH_LEN);
		head.time = sqlite3_column_int64(s->w_head, 2);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = store_sqlite_fail(s->wdb, "read chain head");
	}
	/* Not left mid-result: an active statement keeps its read snapshot
	 * open past COMMIT. */
	sqlite3_reset(s->w_head);
	for (struct commit_item *p = batch; rc == ERR_OK && p != NULL; p = p->next)
		rc = write_one(s, p, &head);
	if (rc == ERR_OK && now - s->last_purge >= SQLITE_SESSION_GRACE_S) {
		sqlite3_reset(s->w_purge);
		sqlite3_bind_int64(s->w_purge, 1, now - SQLITE_SESSION_GRACE_S);
		if (sqlite3_step(s->w_purge) != SQLITE_DONE)
			rc = store_sqlite_fail(s->wdb, "purge sessions");
	}
	if (rc == ERR_OK && sqlite3_exec(s->wdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = store_sqlite_fail(s->wdb, "commit");
	if (rc != ERR_OK) {
		(void)sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	s->last_purge = now - s->last_purge >= SQLITE_SESSION_GRACE_S ? now : s->last_purge;
	return ERR_OK;
}

static err_t sq_commit_decision(struct store *base, const uint8_t *session_id,
				int64_t session_expires_at, struct attestation_record *rec)
{
	struct sqlite_store *s = (struct sqlite_store *)base;

	return commit_queue_submit(&s->commits, session_id, session_expires_at, rec);
}

/* ---- administrative writes, on a pooled connection ---- */

/* Runs one statement with text/int64 binds on a pooled connection; for the
 * rare administrative writes. binds: 't' text, 'i' int64, 'b' 32-byte blob. */
static err_t exec_bound(struct sqlite_store *s, const char *sql, const char *types, ...)
{
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	va_list ap;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = store_sqlite_fail(r->db, "prepare");
		goto out;
	}
	va_start(ap, types);
	for (int i = 0; types[i] != '\0'; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
					  SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_blob(st, i + 1, va_arg(ap, const uint8_t *), STORE_HASH_LEN,
					  SQLITE_TRANSIENT);
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_sqlite_fail(r->db, "write");
	else if (sqlite3_changes(r->db) == 0)
		rc = err_fail(ERR_NOT_FOUND, "no such row");
out:
	sqlite3_finalize(st);
	store_sqlite_reader_put(s, r);
	return rc;
}

static err_t sq_machine_enroll(struct store *base, const char *id, const char *note, int64_t now)
{
	return exec_bound((struct sqlite_store *)base, SQL_MACHINE_ENROLL, "tti", id, note, now);
}

static err_t sq_machine_set_revoked(struct store *base, const char *id, int64_t now,
				    const char *reason)
{
	err_t rc = exec_bound((struct sqlite_store *)base, SQL_MACHINE_REVOKE, "itt", now,
			      reason != NULL ? reason : "", id);

	return rc == ERR_NOT_FOUND ? err_fail(rc, "no machine %s", id) : rc;
}

static err_t sq_apikey_add(struct store *base, const uint8_t hash[STORE_HASH_LEN], const char *role,
			   const char *name, int64_t now)
{
	return exec_bound((struct sqlite_store *)base, SQL_APIKEY_ADD, "btti", hash, role, name,
			  now);
}

static void sq_close(struct store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;

	commit_queue_stop(&s->commits); /* writes what is queued first */
	sqlite3_finalize(s->w_head);
	sqlite3_finalize(s->w_consume);
	sqlite3_finalize(s->w_insert);
	sqlite3_finalize(s->w_seen);
	sqlite3_finalize(s->w_purge);
	sqlite3_close(s->wdb);
	for (size_t i = 0; i < SQLITE_READERS; i++) {
		sqlite3_finalize(s->readers[i].machine_get);
		sqlite3_finalize(s->readers[i].session_used);
		sqlite3_finalize(s->readers[i].apikey_role);
		sqlite3_close(s->readers[i].db);
	}
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->rfree);
	free(s);
}

static const struct store_ops sqlite_ops = {
    .commit_decision = sq_commit_decision,
    .session_used = store_sqlite_session_used,
    .machine_get = store_sqlite_machine_get,
    .machine_enroll = sq_machine_enroll,
    .machine_set_revoked = sq_machine_set_revoked,
    .machines_list = store_sqlite_machines_list,
    .attestations_query = store_sqlite_attestations_query,
    .attestation_get = store_sqlite_attestation_get,
    .attestation_counts = store_sqlite_attestation_counts,
    .apikey_add = sq_apikey_add,
    .apikey_role = store_sqlite_apikey_role,
    .audit_verify = store_sqlite_audit_verify,
    .close = sq_close,
};

static err_t open_connections(struct sqlite_store *s, const char *path)
{
	char *msg = NULL;

	TRY(db_open(path, &s->wdb));
	if (sqlite3_exec(s->wdb, SQL_SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
		err_t rc = err_fail(ERR_UNAVAILABLE, "store: schema: %s", msg);

		sqlite3_free(msg);
		return rc;
	}
	TRY(prepare(s->wdb, SQL_CHAIN_HEAD, &s->w_head));
	TRY(prepare(s->wdb, SQL_SESSION_CONSUME, &s->w_consume));
	TRY(prepare(s->wdb, SQL_ATTESTATION_INSERT, &s->w_insert));
	TRY(prepare(s->wdb, SQL_MACHINE_SEEN, &s->w_seen));
	TRY(prepare(s->wdb, SQL_SESSION_PURGE, &s->w_purge));
	for (size_t i = 0; i < SQLITE_READERS; i++) {
		struct reader *r = &s->readers[i];

		TRY(db_open(path, &r->db));
		TRY(prepare(r->db, SQL_MACHINE_GET, &r->machine_get));
		TRY(prepare(r->db, SQL_SESSION_USED, &r->session_used));
		TRY(prepare(r->db, SQL_APIKEY_ROLE, &r->apikey_role));
	}
	return ERR_OK;
}

err_t store_sqlite_open(const char *path, struct store **out)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	err_t rc;

	if (s == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->rmu, NULL);
	pthread_cond_init(&s->rfree, NULL);
	rc = open_connections(s, path);
	if (rc == ERR_OK)
		rc = commit_queue_start(&s->commits, SQLITE_MAX_BATCH, write_batch, s);
	if (rc != ERR_OK) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ERR_OK;
}
