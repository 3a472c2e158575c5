/* sqlite3 backend, read side: point reads, history queries and the audit
 * of the hash chain, each on a pooled read connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "store_sqlite_sql.h"

/* Column order of SQL_ATTESTATION_COLUMNS. */
static void read_record(sqlite3_stmt *st, struct attestation_record *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	store_sqlite_copy_text(st, 2, r->phase, sizeof(r->phase));
	store_sqlite_copy_text(st, 3, r->machine_id, sizeof(r->machine_id));
	store_sqlite_copy_text(st, 4, r->ek_issuer, sizeof(r->ek_issuer));
	store_sqlite_copy_text(st, 5, r->ek_manufacturer, sizeof(r->ek_manufacturer));
	r->admitted = strcmp((const char *)sqlite3_column_text(st, 6), "admitted") == 0;
	store_sqlite_copy_text(st, 7, r->error, sizeof(r->error));
	store_sqlite_copy_text(st, 8, r->detail, sizeof(r->detail));
	store_sqlite_copy_text(st, 9, r->policy, sizeof(r->policy));
	store_sqlite_copy_text(st, 10, r->pcr_digest, sizeof(r->pcr_digest));
	r->reset_count = sqlite3_column_int64(st, 11);
	r->restart_count = sqlite3_column_int64(st, 12);
	store_sqlite_copy_text(st, 13, r->host, sizeof(r->host));
	store_sqlite_copy_text(st, 14, r->token_jti, sizeof(r->token_jti));
	store_sqlite_copy_blob(st, 15, r->prev_hash, STORE_HASH_LEN);
	store_sqlite_copy_blob(st, 16, r->hash, STORE_HASH_LEN);
}

static void read_machine(sqlite3_stmt *st, struct machine *m)
{
	store_sqlite_copy_text(st, 0, m->id, sizeof(m->id));
	m->enrolled_at = sqlite3_column_int64(st, 1);
	m->enrolled = m->enrolled_at != 0;
	m->revoked_at = sqlite3_column_int64(st, 2);
	store_sqlite_copy_text(st, 3, m->note, sizeof(m->note));
	store_sqlite_copy_text(st, 4, m->ek_issuer, sizeof(m->ek_issuer));
	store_sqlite_copy_text(st, 5, m->ek_manufacturer, sizeof(m->ek_manufacturer));
	m->first_seen = sqlite3_column_int64(st, 6);
	m->last_seen = sqlite3_column_int64(st, 7);
	store_sqlite_copy_text(st, 8, m->last_outcome, sizeof(m->last_outcome));
}

err_t store_sqlite_session_used(struct store *base, const uint8_t *session_id, bool *used)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = r->session_used;
	int step;

	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, session_id, 16, SQLITE_STATIC);
	step = sqlite3_step(st);
	*used = step == SQLITE_ROW;
	err_t rc = step == SQLITE_ROW || step == SQLITE_DONE ? ERR_OK
							     : store_sqlite_fail(r->db, "session");
	sqlite3_reset(st);
	store_sqlite_reader_put(s, r);
	return rc;
}

err_t store_sqlite_machine_get(struct store *base, const char *id, struct machine *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = r->machine_get;
	err_t rc;

	sqlite3_reset(st);
	(void)store_sqlite_bind_text(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		read_machine(st, out);
		rc = ERR_OK;
		break;
	case SQLITE_DONE:
		rc = err_fail(ERR_NOT_FOUND, "no machine %s", id);
		break;
	default:
		rc = store_sqlite_fail(r->db, "machine");
	}
	sqlite3_reset(st);
	store_sqlite_reader_put(s, r);
	return rc;
}

err_t store_sqlite_apikey_role(struct store *base, const uint8_t hash[STORE_HASH_LEN],
			       char role[16])
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = r->apikey_role;
	err_t rc;

	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		store_sqlite_copy_text(st, 0, role, 16);
		rc = ERR_OK;
		break;
	case SQLITE_DONE:
		rc = err_fail(ERR_UNAUTHORIZED, "unknown API key");
		break;
	default:
		rc = store_sqlite_fail(r->db, "api key");
	}
	sqlite3_reset(st);
	store_sqlite_reader_put(s, r);
	return rc;
}

err_t store_sqlite_machines_list(struct store *base, const char *after_id, size_t limit,
				 store_machine_cb cb, void *ctx)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	int step;

	if (sqlite3_prepare_v2(r->db, SQL_MACHINES_LIST, -1, &st, NULL) != SQLITE_OK) {
		rc = store_sqlite_fail(r->db, "prepare");
		goto out;
	}
	(void)store_sqlite_bind_text(st, 1, after_id != NULL ? after_id : "");
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct machine m;

		read_machine(st, &m);
		if (!cb(&m, ctx))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlite_fail(r->db, "list machines");
out:
	sqlite3_finalize(st);
	store_sqlite_reader_put(s, r);
	return rc;
}

err_t store_sqlite_attestations_query(struct store *base, const struct attestation_filter *f,
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
	 * the machine or time index; values are always bound, never spliced.
	 * Times are non-decreasing along ids (store_sqlite.c), so a time range
	 * is walked in (time, id) order, which is id order, from the later of
	 * `since` and the cursor row's time. */
	bool by_time = f->machine_id == NULL && (f->since != 0 || f->until != 0);

	n = snprintf(sql, sizeof(sql),
		     "SELECT " SQL_ATTESTATION_COLUMNS
		     " FROM attestations WHERE id > ?1%s%s%s%s%s%s ORDER BY %s LIMIT ?7",
		     f->machine_id != NULL ? " AND machine_id = ?2" : "",
		     f->outcome >= 0 ? " AND outcome = ?3" : "",
		     f->error != NULL ? " AND error = ?4" : "",
		     f->since != 0 ? " AND time >= ?5" : "", f->until != 0 ? " AND time < ?6" : "",
		     by_time && f->after_id > 0
			 ? " AND time >= (SELECT time FROM attestations WHERE id = ?1)"
			 : "",
		     by_time ? "time, id" : "id");
	if (n < 0 || (size_t)n >= sizeof(sql))
		return err_fail(ERR_INTERNAL, "query too long");
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	r = store_sqlite_reader_get(s);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = store_sqlite_fail(r->db, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, f->after_id);
	if (f->machine_id != NULL)
		(void)store_sqlite_bind_text(st, 2, f->machine_id);
	if (f->outcome >= 0)
		(void)store_sqlite_bind_text(st, 3, store_outcome_str(f->outcome == 1));
	if (f->error != NULL)
		(void)store_sqlite_bind_text(st, 4, f->error);
	sqlite3_bind_int64(st, 5, f->since);
	sqlite3_bind_int64(st, 6, f->until);
	sqlite3_bind_int64(st, 7, (int64_t)f->limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		read_record(st, rec);
		if (!cb(rec, ctx))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlite_fail(r->db, "query history");
out:
	sqlite3_finalize(st);
	store_sqlite_reader_put(s, r);
	free(rec);
	return rc;
}

static bool copy_first(const struct attestation_record *r, void *ctx)
{
	memcpy(ctx, r, sizeof(*r));
	return false;
}

err_t store_sqlite_attestation_get(struct store *base, int64_t id, struct attestation_record *out)
{
	struct attestation_filter f = {.outcome = -1, .after_id = id - 1, .limit = 1};

	out->id = 0;
	TRY(store_sqlite_attestations_query(base, &f, copy_first, out));
	if (out->id != id)
		return err_fail(ERR_NOT_FOUND, "no attestation %lld", (long long)id);
	return ERR_OK;
}

err_t store_sqlite_attestation_counts(struct store *base, int64_t since, int64_t until,
				      store_count_cb cb, void *ctx)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct reader *r = store_sqlite_reader_get(s);
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	int step;

	if (sqlite3_prepare_v2(r->db, SQL_ATTESTATION_COUNTS, -1, &st, NULL) != SQLITE_OK) {
		rc = store_sqlite_fail(r->db, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct attestation_count c = {
		    .machine_id = (const char *)sqlite3_column_text(st, 0),
		    .admitted = strcmp((const char *)sqlite3_column_text(st, 1), "admitted") == 0,
		    .error = (const char *)sqlite3_column_text(st, 2),
		    .count = sqlite3_column_int64(st, 3),
		    .last_time = sqlite3_column_int64(st, 4),
		};

		if (!cb(&c, ctx))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlite_fail(r->db, "count history");
out:
	sqlite3_finalize(st);
	store_sqlite_reader_put(s, r);
	return rc;
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

err_t store_sqlite_audit_verify(struct store *base, struct audit_result *out)
{
	struct audit_walk w = {.res = out, .rc = ERR_OK};
	struct attestation_filter f = {.outcome = -1, .limit = 10000};

	memset(out, 0, sizeof(*out));
	memset(w.prev, 0, sizeof(w.prev));
	/* Walk in pages so memory stays flat on long histories; a gap in ids
	 * is fine (the prev_hash link still has to match). */
	for (;;) {
		int64_t before = out->rows;

		TRY(store_sqlite_attestations_query(base, &f, audit_row, &w));
		if (w.rc != ERR_OK)
			return w.rc;
		if (out->first_bad_id != 0 || out->rows - before < (int64_t)f.limit)
			break;
		f.after_id = w.last_id;
	}
	return ERR_OK;
}
