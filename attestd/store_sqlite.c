/* sqlite3 backend. Decisions go through one writer thread that commits
 * every queued decision in one transaction (group commit: one fsync for many
 * decisions), and answers each caller only after COMMIT returned, so nothing
 * acknowledged is lost on a crash (WAL, synchronous=FULL). Reads use a small
 * pool of connections, which WAL lets run beside the writer. */
#include "store_sqlite.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store_sqlite_sql.h"

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

struct pending {
	const uint8_t *session_id;
	int64_t session_expires_at;
	struct attestation_record *rec;
	err_t result;
	bool done;
	struct pending *next;
};

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
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct pending *queue_head, *queue_tail;
	bool stopping;
	int64_t last_purge;

	pthread_mutex_t rmu;
	pthread_cond_t rfree;
	struct reader readers[SQLITE_READERS];
};

static err_t db_fail(sqlite3 *db, const char *what)
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
		return db_fail(db, "prepare");
	return ERR_OK;
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static void copy_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t len)
{
	const void *b = sqlite3_column_blob(st, col);

	memset(dst, 0, len);
	if (b != NULL && (size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(dst, b, len);
}

/* Column order of SQL_ATTESTATION_COLUMNS. */
static void read_record(sqlite3_stmt *st, struct attestation_record *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	copy_text(st, 2, r->phase, sizeof(r->phase));
	copy_text(st, 3, r->machine_id, sizeof(r->machine_id));
	copy_text(st, 4, r->ek_issuer, sizeof(r->ek_issuer));
	copy_text(st, 5, r->ek_manufacturer, sizeof(r->ek_manufacturer));
	r->admitted = strcmp((const char *)sqlite3_column_text(st, 6), "admitted") == 0;
	copy_text(st, 7, r->error, sizeof(r->error));
	copy_text(st, 8, r->detail, sizeof(r->detail));
	copy_text(st, 9, r->policy, sizeof(r->policy));
	copy_text(st, 10, r->pcr_digest, sizeof(r->pcr_digest));
	r->reset_count = sqlite3_column_int64(st, 11);
	r->restart_count = sqlite3_column_int64(st, 12);
	copy_text(st, 13, r->host, sizeof(r->host));
	copy_text(st, 14, r->token_jti, sizeof(r->token_jti));
	copy_blob(st, 15, r->prev_hash, STORE_HASH_LEN);
	copy_blob(st, 16, r->hash, STORE_HASH_LEN);
}

static void read_machine(sqlite3_stmt *st, struct machine *m)
{
	copy_text(st, 0, m->id, sizeof(m->id));
	m->enrolled_at = sqlite3_column_int64(st, 1);
	m->enrolled = m->enrolled_at != 0;
	m->revoked_at = sqlite3_column_int64(st, 2);
	copy_text(st, 3, m->note, sizeof(m->note));
	copy_text(st, 4, m->ek_issuer, sizeof(m->ek_issuer));
	copy_text(st, 5, m->ek_manufacturer, sizeof(m->ek_manufacturer));
	m->first_seen = sqlite3_column_int64(st, 6);
	m->last_seen = sqlite3_column_int64(st, 7);
	copy_text(st, 8, m->last_outcome, sizeof(m->last_outcome));
}

/* ---- writer: group commit ---- */

static void mark_replayed(struct attestation_record *r)
{
	r->admitted = false;
	snprintf(r->error, sizeof(r->error), "%s", err_code_str(ERR_SESSION_REPLAYED));
	snprintf(r->detail, sizeof(r->detail), "session was already used");
	r->token_jti[0] = '\0';
}

static bool bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

static err_t write_one(struct sqlite_store *s, struct pending *p, int64_t *head_id,
		       uint8_t head_hash[STORE_HASH_LEN])
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
			return db_fail(s->wdb, "consume session");
		if (sqlite3_changes(s->wdb) == 0) {
			mark_replayed(r);
			p->result = ERR_SESSION_REPLAYED;
		}
	}
	r->id = *head_id + 1;
	memcpy(r->prev_hash, head_hash, STORE_HASH_LEN);
	TRY(store_row_hash(r, r->hash));

	st = s->w_insert;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->time);
	if (!bind_text(st, 3, r->phase) || !bind_text(st, 4, r->machine_id) ||
	    !bind_text(st, 5, r->ek_issuer) || !bind_text(st, 6, r->ek_manufacturer) ||
	    !bind_text(st, 7, store_outcome_str(r->admitted)) || !bind_text(st, 8, r->error) ||
	    !bind_text(st, 9, r->detail) || !bind_text(st, 10, r->policy) ||
	    !bind_text(st, 11, r->pcr_digest) || !bind_text(st, 14, r->host) ||
	    !bind_text(st, 15, r->token_jti))
		return db_fail(s->wdb, "bind");
	sqlite3_bind_int64(st, 12, r->reset_count);
	sqlite3_bind_int64(st, 13, r->restart_count);
	sqlite3_bind_blob(st, 16, r->prev_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 17, r->hash, STORE_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s->wdb, "append history row");
	*head_id = r->id;
	memcpy(head_hash, r->hash, STORE_HASH_LEN);

	if (r->machine_id[0] != '\0') {
		st = s->w_seen;
		sqlite3_reset(st);
		if (!bind_text(st, 1, r->machine_id) || !bind_text(st, 2, r->ek_issuer) ||
		    !bind_text(st, 3, r->ek_manufacturer) ||
		    !bind_text(st, 5, store_outcome_str(r->admitted)))
			return db_fail(s->wdb, "bind");
		sqlite3_bind_int64(st, 4, r->time);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(s->wdb, "update machine");
	}
	return ERR_OK;
}

static err_t write_batch(struct sqlite_store *s, struct pending *batch)
{
	int64_t head_id = 0;
	uint8_t head_hash[STORE_HASH_LEN] = {0};
	int64_t now = time(NULL);
	err_t rc = ERR_OK;

	if (sqlite3_exec(s->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s->wdb, "begin");
	/* Read the chain head inside the write transaction: another process
	 * cannot append between this read and our COMMIT. */
	switch (sqlite3_step(s->w_head)) {
	case SQLITE_ROW:
		head_id = sqlite3_column_int64(s->w_head, 0);
		copy_blob(s->w_head, 1, head_hash, STORE_HASH_LEN);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(s->wdb, "read chain head");
	}
	/* Not left mid-result: an active statement keeps its read snapshot
	 * open past COMMIT. */
	sqlite3_reset(s->w_head);
	for (struct pending *p = batch; rc == ERR_OK && p != NULL; p = p->next)
		rc = write_one(s, p, &head_id, head_hash);
	if (rc == ERR_OK && now - s->last_purge >= SQLITE_SESSION_GRACE_S) {
		sqlite3_reset(s->w_purge);
		sqlite3_bind_int64(s->w_purge, 1, now - SQLITE_SESSION_GRACE_S);
		if (sqlite3_step(s->w_purge) != SQLITE_DONE)
			rc = db_fail(s->wdb, "purge sessions");
	}
	if (rc == ERR_OK && sqlite3_exec(s->wdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(s->wdb, "commit");
	if (rc != ERR_OK) {
		(void)sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	s->last_purge = now - s->last_purge >= SQLITE_SESSION_GRACE_S ? now : s->last_purge;
	return ERR_OK;
}

static void *writer_main(void *arg)
{
	struct sqlite_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct pending *batch, *last;
		size_t n = 1;
		err_t rc;

		while (s->queue_head == NULL && !s->stopping)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->queue_head == NULL)
			break;
		batch = last = s->queue_head;
		while (last->next != NULL && n < SQLITE_MAX_BATCH) {
			last = last->next;
			n++;
		}
		s->queue_head = last->next;
		if (s->queue_head == NULL)
			s->queue_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);

		rc = write_batch(s, batch);
		if (rc != ERR_OK)
			log_error("%s (%zu decisions not recorded)", err_detail(), n);

		pthread_mutex_lock(&s->mu);
		for (struct pending *p = batch; p != NULL; p = p->next) {
			if (rc != ERR_OK)
				p->result = rc;
			p->done = true;
		}
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static err_t sq_commit_decision(struct store *base, const uint8_t *session_id,
				int64_t session_expires_at, struct attestation_record *rec)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct pending p = {session_id, session_expires_at, rec, ERR_OK, false, NULL};

	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return err_fail(ERR_UNAVAILABLE, "store is closing");
	}
	if (s->queue_tail != NULL)
		s->queue_tail->next = &p;
	else
		s->queue_head = &p;
	s->queue_tail = &p;
	pthread_cond_signal(&s->work);
	while (!p.done)
		pthread_cond_wait(&s->done, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (p.result == ERR_UNAVAILABLE)
		return err_fail(ERR_UNAVAILABLE, "the decision could not be recorded");
	if (p.result == ERR_SESSION_REPLAYED)
		return err_fail(ERR_SESSION_REPLAYED, "session was already used");
	return p.result;
}

/* ---- readers ---- */

static struct reader *reader_get(struct sqlite_store *s)
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

static void reader_put(struct sqlite_store *s, struct reader *r)
{
	pthread_mutex_lock(&s->rmu);
	r->busy = false;
	pthread_cond_signal(&s->rfree);
	pthread_mutex_unlock(&s->rmu);
}

static err_t sq_session_used(struct store *base, const uint8_t *session_id, bool *used)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = reader_get(s);
	sqlite3_stmt *st = r->session_used;
	int step;

	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, session_id, 16, SQLITE_STATIC);
	step = sqlite3_step(st);
	*used = step == SQLITE_ROW;
	err_t rc = step == SQLITE_ROW || step == SQLITE_DONE ? ERR_OK : db_fail(r->db, "session");
	sqlite3_reset(st);
	reader_put(s, r);
	return rc;
}

static err_t sq_machine_get(struct store *base, const char *id, struct machine *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = reader_get(s);
	sqlite3_stmt *st = r->machine_get;
	err_t rc;

	sqlite3_reset(st);
	(void)bind_text(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		read_machine(st, out);
		rc = ERR_OK;
		break;
	case SQLITE_DONE:
		rc = err_fail(ERR_NOT_FOUND, "no machine %s", id);
		break;
	default:
		rc = db_fail(r->db, "machine");
	}
	sqlite3_reset(st);
	reader_put(s, r);
	return rc;
}

static err_t sq_apikey_role(struct store *base, const uint8_t hash[STORE_HASH_LEN], char role[16])
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = reader_get(s);
	sqlite3_stmt *st = r->apikey_role;
	err_t rc;

	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		copy_text(st, 0, role, 16);
		rc = ERR_OK;
		break;
	case SQLITE_DONE:
		rc = err_fail(ERR_UNAUTHORIZED, "unknown API key");
		break;
	default:
		rc = db_fail(r->db, "api key");
	}
	sqlite3_reset(st);
	reader_put(s, r);
	return rc;
}

/* Runs one statement with text/int64 binds on a pooled connection; for the
 * rare administrative writes. binds: 't' text, 'i' int64, 'b' 32-byte blob. */
static err_t exec_bound(struct sqlite_store *s, const char *sql, const char *types, ...)
{
	struct reader *r = reader_get(s);
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	va_list ap;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, "prepare");
		goto out;
	}
	va_start(ap, types);
	for (int i = 0; types[i] != '\0'; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_blob(st, i + 1, va_arg(ap, const uint8_t *), STORE_HASH_LEN,
					  SQLITE_TRANSIENT);
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(r->db, "write");
	else if (sqlite3_changes(r->db) == 0)
		rc = err_fail(ERR_NOT_FOUND, "no such row");
out:
	sqlite3_finalize(st);
	reader_put(s, r);
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

static err_t sq_apikey_add(struct store *base, const uint8_t hash[STORE_HASH_LEN],
			   const char *role, const char *name, int64_t now)
{
	return exec_bound((struct sqlite_store *)base, SQL_APIKEY_ADD, "btti", hash, role, name,
			  now);
}

static err_t sq_machines_list(struct store *base, const char *after_id, size_t limit,
			      store_machine_cb cb, void *ctx)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = reader_get(s);
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	int step;

	if (sqlite3_prepare_v2(r->db, SQL_MACHINES_LIST, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, "prepare");
		goto out;
	}
	(void)bind_text(st, 1, after_id != NULL ? after_id : "");
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct machine m;

		read_machine(st, &m);
		if (!cb(&m, ctx))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(r->db, "list machines");
out:
	sqlite3_finalize(st);
	reader_put(s, r);
	return rc;
}

static err_t sq_attestations_query(struct store *base, const struct attestation_filter *f,
				   store_attestation_cb cb, void *ctx)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r;
	sqlite3_stmt *st = NULL;
	char sql[1024];
	struct attestation_record *rec;
	err_t rc = ERR_OK;
	int step, n = 0;

	/* Only the conditions that are set go into the SQL, so sqlite can use
	 * the machine or time index; values are always bound, never spliced. */
	n = snprintf(sql, sizeof(sql), "SELECT " SQL_ATTESTATION_COLUMNS
		     " FROM attestations WHERE id > ?1%s%s%s%s%s ORDER BY id LIMIT ?7",
		     f->machine_id != NULL ? " AND machine_id = ?2" : "",
		     f->outcome >= 0 ? " AND outcome = ?3" : "",
		     f->error != NULL ? " AND error = ?4" : "", f->since != 0 ? " AND time >= ?5" : "",
		     f->until != 0 ? " AND time < ?6" : "");
	if (n < 0 || (size_t)n >= sizeof(sql))
		return err_fail(ERR_INTERNAL, "query too long");
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	r = reader_get(s);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, f->after_id);
	if (f->machine_id != NULL)
		(void)bind_text(st, 2, f->machine_id);
	if (f->outcome >= 0)
		(void)bind_text(st, 3, store_outcome_str(f->outcome == 1));
	if (f->error != NULL)
		(void)bind_text(st, 4, f->error);
	sqlite3_bind_int64(st, 5, f->since);
	sqlite3_bind_int64(st, 6, f->until);
	sqlite3_bind_int64(st, 7, (int64_t)f->limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		read_record(st, rec);
		if (!cb(rec, ctx))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(r->db, "query history");
out:
	sqlite3_finalize(st);
	reader_put(s, r);
	free(rec);
	return rc;
}

static bool copy_first(const struct attestation_record *r, void *ctx)
{
	memcpy(ctx, r, sizeof(*r));
	return false;
}

static err_t sq_attestation_get(struct store *base, int64_t id, struct attestation_record *out)
{
	struct attestation_filter f = {.outcome = -1, .after_id = id - 1, .limit = 1};

	out->id = 0;
	TRY(sq_attestations_query(base, &f, copy_first, out));
	if (out->id != id)
		return err_fail(ERR_NOT_FOUND, "no attestation %lld", (long long)id);
	return ERR_OK;
}

struct audit_walk {
	struct audit_result *res;
	uint8_t prev[STORE_HASH_LEN];
	int64_t last_id;
	err_t rc;
};

static bool audit_row(const struct attestation_record *r, void *ctx)
{
	struct audit_walk *w = ctx;
	uint8_t expect[STORE_HASH_LEN];

	w->res->rows++;
	w->last_id = r->id;
	if (memcmp(r->prev_hash, w->prev, STORE_HASH_LEN) != 0) {
		snprintf(w->res->reason, sizeof(w->res->reason),
			 "prev_hash does not match the row before it");
	} else if ((w->rc = store_row_hash(r, expect)) != ERR_OK) {
		return false;
	} else if (memcmp(expect, r->hash, STORE_HASH_LEN) != 0) {
		snprintf(w->res->reason, sizeof(w->res->reason),
			 "row contents do not match its hash (edited)");
	} else {
		memcpy(w->prev, r->hash, STORE_HASH_LEN);
		return true;
	}
	w->res->first_bad_id = r->id;
	return false;
}

static err_t sq_audit_verify(struct store *base, struct audit_result *out)
{
	struct audit_walk w = {.res = out, .rc = ERR_OK};
	struct attestation_filter f = {.outcome = -1, .limit = 10000};

	memset(out, 0, sizeof(*out));
	memset(w.prev, 0, sizeof(w.prev));
	/* Walk in pages so memory stays flat on long histories; a gap in ids
	 * is fine (the prev_hash link still has to match). */
	for (;;) {
		int64_t before = out->rows;

		TRY(sq_attestations_query(base, &f, audit_row, &w));
		if (w.rc != ERR_OK)
			return w.rc;
		if (out->first_bad_id != 0 || out->rows - before < (int64_t)f.limit)
			break;
		f.after_id = w.last_id;
	}
	return ERR_OK;
}

static void sq_close(struct store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;

	if (s->writer_started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = true; /* the writer drains the queue before it exits */
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
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
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->rfree);
	free(s);
}

static const struct store_ops sqlite_ops = {
	.commit_decision = sq_commit_decision,
	.session_used = sq_session_used,
	.machine_get = sq_machine_get,
	.machine_enroll = sq_machine_enroll,
	.machine_set_revoked = sq_machine_set_revoked,
	.machines_list = sq_machines_list,
	.attestations_query = sq_attestations_query,
	.attestation_get = sq_attestation_get,
	.apikey_add = sq_apikey_add,
	.apikey_role = sq_apikey_role,
	.audit_verify = sq_audit_verify,
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
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	pthread_mutex_init(&s->rmu, NULL);
	pthread_cond_init(&s->rfree, NULL);
	rc = open_connections(s, path);
	if (rc == ERR_OK) {
		s->writer_started = pthread_create(&s->writer, NULL, writer_main, s) == 0;
		if (!s->writer_started)
			rc = err_fail(ERR_INTERNAL, "cannot start the store writer");
	}
	if (rc != ERR_OK) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ERR_OK;
}
