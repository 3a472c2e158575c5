/* PostgreSQL backend: open and close, schema migrations, and the small
 * administrative writes. Connections are in store_pg_conn.c, decisions go
 * through store_pg_write.c, reads are in store_pg_query.c.
 *
 * Every failure to reach the server is ERR_UNAVAILABLE, which the handlers
 * answer with 503: nothing is admitted that was not recorded. A broken
 * connection is dropped and the next call reconnects, so the service comes
 * back by itself when the server does. */
#include "store_pg.h"

#include <arpa/inet.h>
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

	commit_queue_stop(&s->commits); /* writes what is queued first */
	PQfinish(s->writer_conn.conn);
	for (size_t i = 0; i < PG_POOL_SIZE; i++)
		PQfinish(s->pool[i].conn);
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
		rc = commit_queue_start(&s->commits, PG_MAX_BATCH, store_pg_write_batch, s);
	if (rc != ERR_OK) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return ERR_OK;
}
