/* PostgreSQL backend: connections (a pool for reads and administrative
 * writes, one for the writer thread), reconnection after a server restart,
 * schema migrations, and the small administrative writes. Decisions go
 * through store_pg_write.c; reads are in store_pg_query.c.
 *
 * Every failure to reach the server is ERR_UNAVAILABLE, which the handlers
 * answer with 503: nothing is admitted that was not recorded. A broken
 * connection is dropped and the next call reconnects, so the service comes
 * back by itself when the server does. */
#include "store_pg.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg_int.h"
#include "store_pg_sql.h"

/* The schema migrations, in order; the database records how many ran. */
static const char *const pg_migrations[] = {
    PG_MIGRATION_1,
};
#define PG_SCHEMA_LATEST ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* ---- parameters and result columns ---- */

static int param_add(struct pg_params *p, const char *v, int len, int format)
{
	/* Every statement's parameter count is fixed by its SQL text, at most
	 * PG_MAX_PARAMS: overflowing is a programming error. */
	if (p->n >= PG_MAX_PARAMS)
		abort();
	p->values[p->n] = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = format;
	return ++p->n;
}

int pg_param_text(struct pg_params *p, const char *s)
{
	return param_add(p, s, 0, 0);
}

int pg_param_int(struct pg_params *p, int64_t v)
{
	if (p->n >= PG_MAX_PARAMS)
		abort();
	snprintf(p->ints[p->n], sizeof(p->ints[p->n]), "%" PRId64, v);
	return param_add(p, p->ints[p->n], 0, 0);
}

int pg_param_bytes(struct pg_params *p, const uint8_t *b, size_t len)
{
	return param_add(p, (const char *)b, (int)len, 1);
}

void pg_params_record(struct pg_params *p, const struct attestation_record *r)
{
	pg_param_int(p, r->id);
	pg_param_int(p, r->time);
	pg_param_text(p, r->phase);
	pg_param_text(p, r->machine_id);
	pg_param_text(p, r->ek_issuer);
	pg_param_text(p, r->ek_manufacturer);
	pg_param_text(p, store_outcome_str(r->admitted));
	pg_param_text(p, r->error);
	pg_param_text(p, r->detail);
	pg_param_text(p, r->policy);
	pg_param_text(p, r->pcr_digest);
	pg_param_int(p, r->reset_count);
	pg_param_int(p, r->restart_count);
	pg_param_text(p, r->host);
	pg_param_text(p, r->token_jti);
	pg_param_bytes(p, r->prev_hash, STORE_HASH_LEN);
	pg_param_bytes(p, r->hash, STORE_HASH_LEN);
}

/* Length of the well-formed UTF-8 sequence at s (1 to 4 bytes), or 0.
 * Stops at the terminating NUL: a byte is read only after the one before
 * it was a continuation byte. */
static size_t utf8_sequence_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0; /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0; /* overlong, or beyond U+10FFFF */
		return 4;
	}
	return 0;
}

bool pg_utf8_repair(char *s)
{
	bool changed = false;

	for (unsigned char *p = (unsigned char *)s; *p != '\0';) {
		size_t n = utf8_sequence_len(p);

		if (n == 0) {
			*p++ = '?';
			changed = true;
		} else {
			p += n;
		}
	}
	return changed;
}

bool pg_record_repair_text(struct attestation_record *r)
{
	char *fields[] = {r->phase, r->machine_id, r->ek_issuer, r->ek_manufacturer,
			  r->error, r->detail,	   r->policy,	 r->pcr_digest,
			  r->host,  r->token_jti};
	bool changed = false;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		changed |= pg_utf8_repair(fields[i]);
	return changed;
}

int64_t pg_col_int64(const PGresult *r, int row, int col)
{
	const uint8_t *v = (const uint8_t *)PQgetvalue(r, row, col);
	uint64_t x = 0;

	/* Binary int8: eight bytes, big-endian. */
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | v[i];
	return (int64_t)x;
}

void pg_col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, PQgetvalue(r, row, col), n);
	dst[n] = '\0';
}

void pg_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t len)
{
	memset(dst, 0, len);
	if (!PQgetisnull(r, row, col) && (size_t)PQgetlength(r, row, col) == len)
		memcpy(dst, PQgetvalue(r, row, col), len);
}

/* ---- connections ---- */

/* ERR_UNAVAILABLE naming what failed and the server's reason; drops the
 * connection when it is broken. */
static err_t fail_with(struct pg_conn *pc, const char *what, const char *reason)
{
	char msg[ERR_DETAIL_MAX];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", reason);
	/* libpq's messages span lines ("...\n\tThis probably means..."); a
	 * log line and an error detail are one line. */
	for (char *c = msg; *c != '\0'; c++) {
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	}
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	if (pc->conn != NULL && PQstatus(pc->conn) != CONNECTION_OK) {
		PQfinish(pc->conn);
		pc->conn = NULL;
	}
	return err_fail(ERR_UNAVAILABLE, "store: %s: %s", what, msg);
}

err_t pg_fail(struct pg_conn *pc, const char *what)
{
	return fail_with(pc, what, pc->conn != NULL ? PQerrorMessage(pc->conn) : "");
}

/* The server's notices ("relation already exists, skipping" from the
 * idempotent schema set-up) are not operator news; libpq would print them
 * to stderr. */
static void notice_to_debug_log(void *arg, const char *message)
{
	(void)arg;
	log_debug("store: PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

static err_t pg_connect(const char *conninfo, struct pg_conn *pc)
{
	/* conninfo comes last and is expanded in place, so what the operator
	 * wrote overrides these defaults. The keepalive and send timeouts
	 * bound how long a statement waits on a server that vanished without
	 * closing the connection (a network partition, a dead host): the
	 * callers then get 503 instead of hanging. */
	static const char *const keys[] = {"connect_timeout",
					   "keepalives_idle",
					   "keepalives_interval",
					   "keepalives_count",
					   "tcp_user_timeout",
					   "application_name",
					   "dbname",
					   NULL};
	const char *values[] = {PG_CONNECT_TIMEOUT,
				PG_KEEPALIVE_IDLE_S,
				PG_KEEPALIVE_INTERVAL_S,
				PG_KEEPALIVE_COUNT,
				PG_TCP_USER_TIMEOUT_MS,
				"attestd",
				conninfo,
				NULL};

	pc->conn = PQconnectdbParams(keys, values, 1);
	if (pc->conn == NULL)
		return err_fail(ERR_UNAVAILABLE, "store: out of memory connecting");
	if (PQstatus(pc->conn) != CONNECTION_OK)
		return pg_fail(pc, "connect");
	PQsetNoticeProcessor(pc->conn, notice_to_debug_log, NULL);
	return ERR_OK;
}

err_t pg_ensure(struct pg_store *s, struct pg_conn *pc)
{
	/* A restarted server has closed our socket: reading what is pending
	 * notices that without a round trip, and we reconnect now instead of
	 * failing the caller's statement. */
	if (pc->conn != NULL &&
	    (PQconsumeInput(pc->conn) != 1 || PQstatus(pc->conn) != CONNECTION_OK)) {
		log_warn("store: connection to PostgreSQL lost; reconnecting");
		PQfinish(pc->conn);
		pc->conn = NULL;
	}
	if (pc->conn == NULL)
		return pg_connect(s->conninfo, pc);
	return ERR_OK;
}

struct pg_conn *pg_pool_get(struct pg_store *s)
{
	pthread_mutex_lock(&s->pool_mu);
	for (;;) {
		for (size_t i = 0; i < PG_POOL_SIZE; i++) {
			if (!s->pool[i].busy) {
				s->pool[i].busy = true;
				pthread_mutex_unlock(&s->pool_mu);
				return &s->pool[i];
			}
		}
		pthread_cond_wait(&s->pool_free, &s->pool_mu);
	}
}

void pg_pool_put(struct pg_store *s, struct pg_conn *pc)
{
	pthread_mutex_lock(&s->pool_mu);
	pc->busy = false;
	pthread_cond_signal(&s->pool_free);
	pthread_mutex_unlock(&s->pool_mu);
}

err_t pg_pool_run(struct pg_store *s, pg_conn_fn fn, void *ctx)
{
	struct pg_conn *pc = pg_pool_get(s);
	err_t rc = ERR_UNAVAILABLE;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = pc->conn != NULL;

		pc->delivered = false;
		rc = pg_ensure(s, pc);
		if (rc != ERR_OK)
			break;
		rc = fn(pc, ctx);
		if (rc != ERR_UNAVAILABLE || pc->conn != NULL || !reused || pc->delivered)
			break;
	}
	pg_pool_put(s, pc);
	return rc;
}

err_t pg_exec(struct pg_conn *pc, const char *sql, const struct pg_params *p, ExecStatusType want,
	      PGresult **out)
{
	static const struct pg_params none;
	PGresult *r;

	if (p == NULL)
		p = &none;
	*out = NULL;
	r = PQexecParams(pc->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1);
	if (PQresultStatus(r) != want) {
		PQclear(r);
		return pg_fail(pc, "statement");
	}
	*out = r;
	return ERR_OK;
}

err_t pg_stream(struct pg_conn *pc, const char *sql, const struct pg_params *p, pg_row_cb row_cb,
		void *ctx)
{
	bool more = true, failed = false;
	PGresult *r;

	if (PQsendQueryParams(pc->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1) != 1)
		return pg_fail(pc, "query");
	if (PQsetSingleRowMode(pc->conn) != 1) {
		/* The query is on its way with its results unread: this
		 * connection is of no further use. */
		PQfinish(pc->conn);
		pc->conn = NULL;
		return err_fail(ERR_UNAVAILABLE, "store: cannot stream a query's rows");
	}
	/* Read every result to the end even after the callback stopped, so
	 * the connection is ready for its next user. */
	while ((r = PQgetResult(pc->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE && more) {
			pc->delivered = true;
			more = row_cb(r, ctx);
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK)
			failed = true;
		PQclear(r);
	}
	return failed ? pg_fail(pc, "query") : ERR_OK;
}

bool pg_send(PGconn *c, const char *sql, const struct pg_params *p)
{
	static const struct pg_params none;

	if (p == NULL)
		p = &none;
	return PQsendQueryParams(c, sql, p->n, NULL, p->values, p->lengths, p->formats, 1) == 1;
}

err_t pg_pipeline_read(struct pg_conn *pc, const char *what, pg_pipeline_cb on_result, void *ctx)
{
	char reason[ERR_DETAIL_MAX] = "";
	size_t index = 0;
	int nulls = 0;
	bool ok = true;

	for (;;) {
		PGresult *r = PQgetResult(pc->conn);
		ExecStatusType st;

		/* One NULL ends each statement's results; two in a row mean
		 * the connection has nothing more to give (it broke). */
		if (r == NULL) {
			if (++nulls > 1 || PQstatus(pc->conn) != CONNECTION_OK)
				return pg_fail(pc, what);
			continue;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		/* In a pipeline the server's reason is in the failed result,
		 * not on the connection; the statements after it are only
		 * "aborted". */
		if (st == PGRES_FATAL_ERROR && reason[0] == '\0')
			snprintf(reason, sizeof(reason), "%s", PQresultErrorMessage(r));
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			ok = false;
		else if (ok && on_result != NULL)
			ok = on_result(r, index, ctx);
		index++;
		PQclear(r);
	}
	if (ok)
		return ERR_OK;
	return reason[0] != '\0' ? fail_with(pc, what, reason) : pg_fail(pc, what);
}

/* ---- schema ---- */

static err_t exec_simple(struct pg_conn *pc, const char *sql, const char *what)
{
	PGresult *r = PQexec(pc->conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok ? ERR_OK : pg_fail(pc, what);
}

static err_t read_version(struct pg_conn *pc, int *out)
{
	PGresult *r;

	TRY(pg_exec(pc, PG_SCHEMA_VERSION, NULL, PGRES_TUPLES_OK, &r));
	/* Binary int4: four bytes, big-endian. */
	if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 4) {
		PQclear(r);
		return err_fail(ERR_INTERNAL, "store: attestd_schema does not hold one version");
	}
	uint32_t be;
	memcpy(&be, PQgetvalue(r, 0, 0), 4);
	*out = (int)ntohl(be);
	PQclear(r);
	return ERR_OK;
}

static err_t refuse_newer(int version)
{
	return err_fail(ERR_INTERNAL,
			"store: database schema version %d is newer than this attestd (%d)",
			version, PG_SCHEMA_LATEST);
}

/* Brings the schema to PG_SCHEMA_LATEST in one transaction: a failed
 * migration leaves the database as it was. A database newer than this
 * program is refused rather than written with old assumptions. A current
 * schema is only read, so attestd can run as a role that may not create
 * tables (the owner runs `attestctl db migrate`; see the README). */
static err_t migrate(struct pg_conn *pc)
{
	struct pg_params p = {0};
	PGresult *r = NULL;
	int version = 0;
	err_t rc;

	/* Fails when the table does not exist yet: then migrate. */
	if (read_version(pc, &version) == ERR_OK) {
		if (version > PG_SCHEMA_LATEST)
			return refuse_newer(version);
		if (version == PG_SCHEMA_LATEST)
			return ERR_OK;
	}
	TRY(exec_simple(pc, "BEGIN", "begin"));
	rc = exec_simple(pc, PG_MIGRATION_LOCK, "migration lock");
	if (rc == ERR_OK)
		rc = exec_simple(pc, PG_SCHEMA_META, "schema version table");
	if (rc == ERR_OK)
		rc = read_version(pc, &version);
	if (rc == ERR_OK && version > PG_SCHEMA_LATEST)
		rc = refuse_newer(version);
	for (int v = version; rc == ERR_OK && v < PG_SCHEMA_LATEST; v++) {
		log_info("store: migrating the PostgreSQL schema to version %d", v + 1);
		rc = exec_simple(pc, pg_migrations[v], "migration");
	}
	if (rc == ERR_OK && version < PG_SCHEMA_LATEST) {
		pg_param_int(&p, PG_SCHEMA_LATEST);
		rc = pg_exec(pc, PG_SCHEMA_SET_VERSION, &p, PGRES_COMMAND_OK, &r);
		PQclear(r);
	}
	if (rc == ERR_OK)
		rc = exec_simple(pc, "COMMIT", "commit");
	if (rc != ERR_OK && pc->conn != NULL)
		(void)exec_simple(pc, "ROLLBACK", "rollback");
	return rc;
}

static err_t version_on(struct pg_conn *pc, void *ctx)
{
	return read_version(pc, ctx);
}

err_t store_pg_schema_version(struct store *base, int *out)
{
	return pg_pool_run((struct pg_store *)base, version_on, out);
}

/* ---- administrative writes ---- */

struct admin_stmt {
	const char *sql;
	const struct pg_params *params;
};

static err_t admin_on(struct pg_conn *pc, void *ctx)
{
	const struct admin_stmt *a = ctx;
	PGresult *r = NULL;
	err_t rc = pg_exec(pc, a->sql, a->params, PGRES_COMMAND_OK, &r);

	if (rc == ERR_OK && strcmp(PQcmdTuples(r), "0") == 0)
		rc = err_fail(ERR_NOT_FOUND, "no such row");
	PQclear(r);
	return rc;
}

/* One autocommitted statement on a pooled connection; ERR_NOT_FOUND when
 * it changed no row. */
static err_t admin_write(struct pg_store *s, const char *sql, const struct pg_params *p)
{
	struct admin_stmt a = {sql, p};

	return pg_pool_run(s, admin_on, &a);
}

static err_t pg_machine_enroll(struct store *base, const char *id, const char *note, int64_t now)
{
	struct pg_params p = {0};

	pg_param_text(&p, id);
	pg_param_text(&p, note);
	pg_param_int(&p, now);
	return admin_write((struct pg_store *)base, PG_MACHINE_ENROLL, &p);
}

static err_t pg_machine_set_revoked(struct store *base, const char *id, int64_t now,
				    const char *reason)
{
	struct pg_params p = {0};
	err_t rc;

	pg_param_int(&p, now);
	pg_param_text(&p, reason != NULL ? reason : "");
	pg_param_text(&p, id);
	rc = admin_write((struct pg_store *)base, PG_MACHINE_REVOKE, &p);
	return rc == ERR_NOT_FOUND ? err_fail(rc, "no machine %s", id) : rc;
}

static err_t pg_apikey_add(struct store *base, const uint8_t hash[STORE_HASH_LEN], const char *role,
			   const char *name, int64_t now)
{
	struct pg_params p = {0};

	pg_param_bytes(&p, hash, STORE_HASH_LEN);
	pg_param_text(&p, role);
	pg_param_text(&p, name);
	pg_param_int(&p, now);
	return admin_write((struct pg_store *)base, PG_APIKEY_ADD, &p);
}

/* ---- open and close ---- */

static void pg_close(struct store *base)
{
	struct pg_store *s = (struct pg_store *)base;

	store_pg_writer_stop(s);
	PQfinish(s->writer_conn.conn);
	for (size_t i = 0; i < PG_POOL_SIZE; i++)
		PQfinish(s->pool[i].conn);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_cond_destroy(&s->pool_free);
	free(s->conninfo);
	free(s);
}

static const struct store_ops pg_ops = {
    .commit_decision = store_pg_commit_decision,
    .session_used = store_pg_session_used,
    .machine_get = store_pg_machine_get,
    .machine_enroll = pg_machine_enroll,
    .machine_set_revoked = pg_machine_set_revoked,
    .machines_list = store_pg_machines_list,
    .attestations_query = store_pg_attestations_query,
    .attestation_get = store_pg_attestation_get,
    .attestation_counts = store_pg_attestation_counts,
    .apikey_add = pg_apikey_add,
    .apikey_role = store_pg_apikey_role,
    .audit_verify = store_pg_audit_verify,
    .close = pg_close,
};

bool store_is_pg(const struct store *s)
{
	return s != NULL && s->ops == &pg_ops;
}

err_t store_pg_open(const char *conninfo, struct store **out)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	err_t rc;

	if (s == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	s->base.ops = &pg_ops;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_cond_init(&s->pool_free, NULL);
	s->conninfo = strdup(conninfo);
	rc = s->conninfo != NULL ? ERR_OK : err_fail(ERR_INTERNAL, "out of memory");
	/* The pool connects lazily; the writer's connection is made now, so a
	 * wrong address or password stops the start with a clear message. */
	if (rc == ERR_OK)
		rc = pg_connect(conninfo, &s->writer_conn);
	if (rc == ERR_OK)
		rc = migrate(&s->writer_conn);
	if (rc == ERR_OK)
		rc = store_pg_writer_start(s);
	if (rc != ERR_OK) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ERR_OK;
}
