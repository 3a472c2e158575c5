/* PostgreSQL backend: connections. A pool for reads and administrative
 * writes (the writer thread has its own), reconnection when the server went
 * away, and the three ways a statement runs: at once (pg_exec), with its
 * rows streamed (pg_stream), or pipelined (pg_send + pg_pipeline_read).
 * Every failure to reach the server is ERR_UNAVAILABLE (503), and a broken
 * connection is dropped so the next use reconnects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg.h"
#include "store_pg_int.h"
#include "store_pg_sql.h"

/* The statements every attestation runs, prepared once per connection so
 * the server parses and plans them once, not on every call. */
static const struct {
	const char *name, *sql;
} pg_prepared[] = {
    {"attestd_insert", PG_ATTESTATION_INSERT}, {"attestd_seen", PG_MACHINE_SEEN},
    {"attestd_consume", PG_SESSION_CONSUME},   {"attestd_head_lock", PG_CHAIN_HEAD_LOCK},
    {"attestd_head_set", PG_CHAIN_HEAD_SET},   {"attestd_session_used", PG_SESSION_USED},
    {"attestd_machine_get", PG_MACHINE_GET},   {"attestd_apikey_role", PG_APIKEY_ROLE},
};

/* The prepared name of sql on pc, or NULL to send the text. */
static const char *prepared_name(const struct pg_conn *pc, const char *sql)
{
	if (!pc->prepared)
		return NULL;
	for (size_t i = 0; i < sizeof(pg_prepared) / sizeof(pg_prepared[0]); i++) {
		if (strcmp(pg_prepared[i].sql, sql) == 0)
			return pg_prepared[i].name;
	}
	return NULL;
}

/* Sends sql, by its prepared name when it has one. */
static int send_query(struct pg_conn *pc, const char *sql, const struct pg_params *p)
{
	const char *name = prepared_name(pc, sql);

	if (name != NULL)
		return PQsendQueryPrepared(pc->conn, name, p->n, p->values, p->lengths, p->formats,
					   1);
	return PQsendQueryParams(pc->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1);
}

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

err_t pg_connect(const char *conninfo, struct pg_conn *pc)
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

	pc->prepared = false;
	pc->conn = PQconnectdbParams(keys, values, 1);
	if (pc->conn == NULL)
		return err_fail(ERR_UNAVAILABLE, "store: out of memory connecting");
	if (PQstatus(pc->conn) != CONNECTION_OK)
		return pg_fail(pc, "connect");
	PQsetNoticeProcessor(pc->conn, notice_to_debug_log, NULL);
	return ERR_OK;
}

/* Once per connection, after the schema exists (pg_ensure runs after
 * store_pg_open migrated it). */
static err_t prepare_all(struct pg_conn *pc)
{
	for (size_t i = 0; i < sizeof(pg_prepared) / sizeof(pg_prepared[0]); i++) {
		PGresult *r = PQprepare(pc->conn, pg_prepared[i].name, pg_prepared[i].sql, 0, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok)
			return pg_fail(pc, "prepare");
	}
	pc->prepared = true;
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
		TRY(pg_connect(s->conninfo, pc));
	return pc->prepared ? ERR_OK : prepare_all(pc);
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
	if (pc->prepared && prepared_name(pc, sql) != NULL)
		r = PQexecPrepared(pc->conn, prepared_name(pc, sql), p->n, p->values, p->lengths,
				   p->formats, 1);
	else
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

	if (send_query(pc, sql, p) != 1)
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

bool pg_send(struct pg_conn *pc, const char *sql, const struct pg_params *p)
{
	static const struct pg_params none;

	return send_query(pc, sql, p != NULL ? p : &none) == 1;
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

/* Appends n bytes of src to the NUL-terminated out, within cap. */
static void append(char *out, size_t cap, const char *src, size_t n)
{
	size_t len = strlen(out);

	if (len + 1 >= cap)
		return;
	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(out + len, src, n);
	out[len + n] = '\0';
}

void store_pg_redact_uri(const char *uri, char *out, size_t cap)
{
	const char *scheme_end = strstr(uri, "://");
	const char *authority = scheme_end != NULL ? scheme_end + 3 : uri;
	const char *authority_end = authority + strcspn(authority, "/?");
	const char *at = memchr(authority, '@', (size_t)(authority_end - authority));
	const char *colon = at != NULL ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
	const char *p = uri;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (colon != NULL) { /* user:PASSWORD@host */
		append(out, cap, p, (size_t)(colon + 1 - p));
		append(out, cap, "***", 3);
		p = at;
	}
	/* password=VALUE among the parameters, as the first or a later one. */
	for (const char *q = strstr(p, "password="); q != NULL; q = strstr(q + 1, "password=")) {
		if (q == p || (q[-1] != '?' && q[-1] != '&'))
			continue;
		append(out, cap, p, (size_t)(q + 9 - p));
		append(out, cap, "***", 3);
		p = q + 9 + strcspn(q + 9, "&");
	}
	append(out, cap, p, strlen(p));
}
