/* PostgreSQL backend, read side: point reads and history queries, each on
 * a pooled connection, with rows streamed to the caller's callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "store_pg_sql.h"

/* Column order of PG_ATTESTATION_COLUMNS. */
static void read_record(const PGresult *res, struct attestation_record *r)
{
	char outcome[16];

	r->id = pg_col_int64(res, 0, 0);
	r->time = pg_col_int64(res, 0, 1);
	pg_col_text(res, 0, 2, r->phase, sizeof(r->phase));
	pg_col_text(res, 0, 3, r->machine_id, sizeof(r->machine_id));
	pg_col_text(res, 0, 4, r->ek_issuer, sizeof(r->ek_issuer));
	pg_col_text(res, 0, 5, r->ek_manufacturer, sizeof(r->ek_manufacturer));
	pg_col_text(res, 0, 6, outcome, sizeof(outcome));
	r->admitted = strcmp(outcome, "admitted") == 0;
	pg_col_text(res, 0, 7, r->error, sizeof(r->error));
	pg_col_text(res, 0, 8, r->detail, sizeof(r->detail));
	pg_col_text(res, 0, 9, r->policy, sizeof(r->policy));
	pg_col_text(res, 0, 10, r->pcr_digest, sizeof(r->pcr_digest));
	r->reset_count = pg_col_int64(res, 0, 11);
	r->restart_count = pg_col_int64(res, 0, 12);
	pg_col_text(res, 0, 13, r->host, sizeof(r->host));
	pg_col_text(res, 0, 14, r->token_jti, sizeof(r->token_jti));
	pg_col_bytes(res, 0, 15, r->prev_hash, STORE_HASH_LEN);
	pg_col_bytes(res, 0, 16, r->hash, STORE_HASH_LEN);
}

/* Column order of PG_MACHINE_COLUMNS. */
static void read_machine(const PGresult *res, struct machine *m)
{
	pg_col_text(res, 0, 0, m->id, sizeof(m->id));
	m->enrolled_at = pg_col_int64(res, 0, 1);
	m->enrolled = m->enrolled_at != 0;
	m->revoked_at = pg_col_int64(res, 0, 2);
	pg_col_text(res, 0, 3, m->note, sizeof(m->note));
	pg_col_text(res, 0, 4, m->ek_issuer, sizeof(m->ek_issuer));
	pg_col_text(res, 0, 5, m->ek_manufacturer, sizeof(m->ek_manufacturer));
	m->first_seen = pg_col_int64(res, 0, 6);
	m->last_seen = pg_col_int64(res, 0, 7);
	pg_col_text(res, 0, 8, m->last_outcome, sizeof(m->last_outcome));
}

/* A statement, its parameters and what to do with each row. */
struct read {
	const char *sql;
	struct pg_params params;
	pg_row_cb row_cb;
	void *ctx;
	size_t rows;
};

static bool count_and_forward(const PGresult *row, void *ctx)
{
	struct read *rd = ctx;

	rd->rows++;
	return rd->row_cb(row, rd->ctx);
}

static err_t read_on(struct pg_conn *pc, void *ctx)
{
	struct read *rd = ctx;

	rd->rows = 0;
	return pg_stream(pc, rd->sql, &rd->params, count_and_forward, rd);
}

static err_t run_read(struct store *base, struct read *rd)
{
	return pg_pool_run((struct pg_store *)base, read_on, rd);
}

static bool ignore_row(const PGresult *row, void *ctx)
{
	(void)row;
	(void)ctx;
	return true;
}

err_t store_pg_session_used(struct store *base, const uint8_t *session_id, bool *used)
{
	struct read rd = {.sql = PG_SESSION_USED, .row_cb = ignore_row};

	pg_param_bytes(&rd.params, session_id, 16);
	TRY(run_read(base, &rd));
	*used = rd.rows > 0;
	return ERR_OK;
}

static bool machine_row(const PGresult *row, void *ctx)
{
	read_machine(row, ctx);
	return false;
}

err_t store_pg_machine_get(struct store *base, const char *id, struct machine *out)
{
	struct read rd = {.sql = PG_MACHINE_GET, .row_cb = machine_row, .ctx = out};

	pg_param_text(&rd.params, id);
	TRY(run_read(base, &rd));
	return rd.rows > 0 ? ERR_OK : err_fail(ERR_NOT_FOUND, "no machine %s", id);
}

static bool role_row(const PGresult *row, void *ctx)
{
	pg_col_text(row, 0, 0, ctx, 16);
	return false;
}

err_t store_pg_apikey_role(struct store *base, const uint8_t hash[STORE_HASH_LEN], char role[16])
{
	struct read rd = {.sql = PG_APIKEY_ROLE, .row_cb = role_row, .ctx = role};

	pg_param_bytes(&rd.params, hash, STORE_HASH_LEN);
	TRY(run_read(base, &rd));
	return rd.rows > 0 ? ERR_OK : err_fail(ERR_UNAUTHORIZED, "unknown API key");
}

struct machine_walk {
	store_machine_cb cb;
	void *ctx;
};

static bool machine_list_row(const PGresult *row, void *ctx)
{
	struct machine_walk *w = ctx;
	struct machine m;

	read_machine(row, &m);
	return w->cb(&m, w->ctx);
}

/* LIMIT is a bigint; larger counts mean "all" and are clamped. */
static int64_t sql_limit(size_t limit)
{
	return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

err_t store_pg_machines_list(struct store *base, const char *after_id, size_t limit,
			     store_machine_cb cb, void *ctx)
{
	struct machine_walk w = {cb, ctx};
	struct read rd = {.sql = PG_MACHINES_LIST, .row_cb = machine_list_row, .ctx = &w};

	pg_param_text(&rd.params, after_id != NULL ? after_id : "");
	pg_param_int(&rd.params, sql_limit(limit));
	return run_read(base, &rd);
}

struct record_walk {
	store_attestation_cb cb;
	void *ctx;
	struct attestation_record *rec;
};

static bool record_row(const PGresult *row, void *ctx)
{
	struct record_walk *w = ctx;

	read_record(row, w->rec);
	return w->cb(w->rec, w->ctx);
}

err_t store_pg_attestations_query(struct store *base, const struct attestation_filter *f,
				  store_attestation_cb cb, void *ctx)
{
	struct record_walk w = {cb, ctx, NULL};
	struct read rd = {.row_cb = record_row, .ctx = &w};
	struct pg_params *p = &rd.params;
	char sql[1024], cond[6][80] = {{0}};
	int n, id_param, limit_param;
	err_t rc;

	/* Only the conditions that are set go into the SQL (numbered in the
	 * order bound), so the planner can use the machine or time index;
	 * values are always bound, never spliced. Times are non-decreasing
	 * along ids (store_pg_write.c), so a time range is walked in (time,
	 * id) order, which is id order, from the later of `since` and the
	 * cursor row's time: the time index then serves the ORDER BY. */
	bool by_time = f->machine_id == NULL && (f->since != 0 || f->until != 0);

	id_param = pg_param_int(p, f->after_id);
	if (f->machine_id != NULL)
		snprintf(cond[0], sizeof(cond[0]), " AND machine_id = $%d",
			 pg_param_text(p, f->machine_id));
	if (f->outcome >= 0)
		snprintf(cond[1], sizeof(cond[1]), " AND outcome = $%d",
			 pg_param_text(p, store_outcome_str(f->outcome == 1)));
	if (f->error != NULL)
		snprintf(cond[2], sizeof(cond[2]), " AND error = $%d", pg_param_text(p, f->error));
	if (f->since != 0)
		snprintf(cond[3], sizeof(cond[3]), " AND time >= $%d", pg_param_int(p, f->since));
	if (f->until != 0)
		snprintf(cond[4], sizeof(cond[4]), " AND time < $%d", pg_param_int(p, f->until));
	if (by_time && f->after_id > 0)
		snprintf(cond[5], sizeof(cond[5]),
			 " AND time >= (SELECT time FROM attestations WHERE id = $%d)", id_param);
	limit_param = pg_param_int(p, sql_limit(f->limit));
	n = snprintf(sql, sizeof(sql),
		     "SELECT " PG_ATTESTATION_COLUMNS
		     " FROM attestations WHERE id > $%d%s%s%s%s%s%s ORDER BY %s LIMIT $%d",
		     id_param, cond[0], cond[1], cond[2], cond[3], cond[4], cond[5],
		     by_time ? "time, id" : "id", limit_param);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return err_fail(ERR_INTERNAL, "query too long");
	rd.sql = sql;
	w.rec = malloc(sizeof(*w.rec));
	if (w.rec == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = run_read(base, &rd);
	free(w.rec);
	return rc;
}

static bool copy_first(const struct attestation_record *r, void *ctx)
{
	memcpy(ctx, r, sizeof(*r));
	return false;
}

err_t store_pg_attestation_get(struct store *base, int64_t id, struct attestation_record *out)
{
	struct attestation_filter f = {.outcome = -1, .after_id = id - 1, .limit = 1};

	out->id = 0;
	TRY(store_pg_attestations_query(base, &f, copy_first, out));
	if (out->id != id)
		return err_fail(ERR_NOT_FOUND, "no attestation %lld", (long long)id);
	return ERR_OK;
}

struct count_walk {
	store_count_cb cb;
	void *ctx;
};

static bool count_row(const PGresult *row, void *ctx)
{
	struct count_walk *w = ctx;
	char outcome[16];

	pg_col_text(row, 0, 1, outcome, sizeof(outcome));
	/* Text columns in binary format are the raw bytes, and libpq ends
	 * every value with a NUL, so they can be handed on as strings. */
	struct attestation_count c = {
	    .machine_id = PQgetvalue(row, 0, 0),
	    .admitted = strcmp(outcome, "admitted") == 0,
	    .error = PQgetvalue(row, 0, 2),
	    .count = pg_col_int64(row, 0, 3),
	    .last_time = pg_col_int64(row, 0, 4),
	};

	return w->cb(&c, w->ctx);
}

err_t store_pg_attestation_counts(struct store *base, int64_t since, int64_t until,
				  store_count_cb cb, void *ctx)
{
	struct count_walk w = {cb, ctx};
	struct read rd = {.sql = PG_ATTESTATION_COUNTS, .row_cb = count_row, .ctx = &w};

	pg_param_int(&rd.params, since);
	pg_param_int(&rd.params, until);
	return run_read(base, &rd);
}

struct head_check {
	uint8_t hash[STORE_HASH_LEN];
	int64_t id;
};

static bool head_row(const PGresult *row, void *ctx)
{
	struct head_check *h = ctx;

	h->id = pg_col_int64(row, 0, 0);
	pg_col_bytes(row, 0, 1, h->hash, STORE_HASH_LEN);
	return false;
}

struct audit_walk {
	struct audit_result *res;
	struct attestation_record *rec;
	uint8_t prev[STORE_HASH_LEN];
	err_t rc;
};

/* One row of the chain: linked to the row before it, and its contents
 * still hash to what was recorded. */
static bool audit_row(const PGresult *row, void *ctx)
{
	struct audit_walk *w = ctx;
	uint8_t expect[STORE_HASH_LEN];
	const char *why;

	read_record(row, w->rec);
	w->res->rows++;
	if (memcmp(w->rec->prev_hash, w->prev, STORE_HASH_LEN) != 0) {
		why = "prev_hash does not match the row before it";
	} else if ((w->rc = store_row_hash(w->rec, expect)) != ERR_OK) {
		return false;
	} else if (memcmp(expect, w->rec->hash, STORE_HASH_LEN) != 0) {
		why = "row contents do not match its hash (edited)";
	} else {
		memcpy(w->prev, w->rec->hash, STORE_HASH_LEN);
		return true;
	}
	w->res->first_bad_id = w->rec->id;
	snprintf(w->res->reason, sizeof(w->res->reason), "%s", why);
	return false;
}

/* The history up to the chain head, in id order, in one streamed query
 * (memory stays flat however long the history is). A gap in ids is fine;
 * the prev_hash link still has to match. The head is read first: rows
 * other instances append meanwhile are past it and not walked, and the
 * last row walked must carry the head's hash, or rows were removed from
 * the end of the chain. */
err_t store_pg_audit_verify(struct store *base, struct audit_result *out)
{
	struct head_check head = {{0}, 0};
	struct read rh = {
	    .sql = "SELECT id, hash FROM chain_head", .row_cb = head_row, .ctx = &head};
	struct audit_walk w = {.res = out, .rc = ERR_OK};
	struct read rd = {.sql = "SELECT " PG_ATTESTATION_COLUMNS
				 " FROM attestations WHERE id <= $1 ORDER BY id",
			  .row_cb = audit_row,
			  .ctx = &w};
	err_t rc;

	memset(out, 0, sizeof(*out));
	memset(w.prev, 0, sizeof(w.prev));
	TRY(run_read(base, &rh));
	if (rh.rows != 1)
		return err_fail(ERR_INTERNAL, "store: chain_head does not hold one row");
	pg_param_int(&rd.params, head.id);
	w.rec = malloc(sizeof(*w.rec));
	if (w.rec == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = run_read(base, &rd);
	free(w.rec);
	if (rc == ERR_OK && w.rc != ERR_OK)
		rc = w.rc;
	if (rc != ERR_OK || out->first_bad_id != 0)
		return rc;
	if (memcmp(w.prev, head.hash, STORE_HASH_LEN) != 0) {
		out->first_bad_id = head.id;
		snprintf(out->reason, sizeof(out->reason),
			 "the history ends before the chain head (rows removed at the end)");
	}
	return ERR_OK;
}
