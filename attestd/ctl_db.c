/* attestctl db migrate (bring the configured store's schema up to date) and
 * attestctl db copy-from-sqlite (move a sqlite history to the configured
 * PostgreSQL store, then prove the chain survived the move). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "ctl.h"
#include "store.h"
#include "store_pg.h"

/* History rows read from sqlite per query while copying: memory stays flat
 * on long histories. */
#define DB_COPY_PAGE_ROWS 5000

static int db_usage(FILE *out, int status)
{
	fprintf(out, "usage: attestctl [-c CONFIG] db migrate\n"
		     "       attestctl [-c CONFIG] db copy-from-sqlite SQLITE_PATH\n"
		     "\nmigrate creates or updates the schema of the configured store (attestd\n"
		     "also does this when it starts) and prints its version.\n"
		     "\ncopy-from-sqlite copies the attestation history, machines, API keys and\n"
		     "consumed sessions of a stopped sqlite attestd into the configured\n"
		     "PostgreSQL store, which must have an empty history. Rows keep their ids\n"
		     "and hashes; the copy is one transaction, and the chain is verified after.\n");
	return status;
}

static int db_migrate(void)
{
	struct store *st = NULL;
	int status = ctl_open_store(&st), version = 0;
	err_t rc;

	if (status != CTL_EXIT_OK)
		return status;
	if (!store_is_pg(st)) {
		store_close(st);
		printf("sqlite store: schema is current (created when the store opens)\n");
		return CTL_EXIT_OK;
	}
	rc = store_pg_schema_version(st, &version);
	store_close(st);
	if (rc != ERR_OK)
		return ctl_fail(rc);
	printf("PostgreSQL store: schema at version %d\n", version);
	return CTL_EXIT_OK;
}

/* What is copied, and the first failure of a callback (which can only say
 * "stop"). */
struct db_copy {
	struct pg_import *im;
	err_t rc;
	int64_t rows, machines, apikeys, sessions;
	int64_t last_id;
	char last_machine[sizeof(((struct machine *)0)->id)];
};

static bool copy_row(const struct attestation_record *r, void *ctx)
{
	struct db_copy *c = ctx;

	c->rc = store_pg_import_record(c->im, r);
	c->rows++;
	c->last_id = r->id;
	return c->rc == ERR_OK;
}

static bool copy_machine(const struct machine *m, void *ctx)
{
	struct db_copy *c = ctx;

	c->rc = store_pg_import_machine(c->im, m);
	c->machines++;
	snprintf(c->last_machine, sizeof(c->last_machine), "%s", m->id);
	return c->rc == ERR_OK;
}

static err_t copy_history(struct store *src, struct db_copy *c)
{
	struct attestation_filter f = {.outcome = -1, .limit = DB_COPY_PAGE_ROWS};

	for (;;) {
		int64_t before = c->rows;

		f.after_id = c->last_id;
		TRY(src->ops->attestations_query(src, &f, copy_row, c));
		if (c->rc != ERR_OK)
			return c->rc;
		if (c->rows - before < DB_COPY_PAGE_ROWS)
			return ERR_OK;
	}
}

static err_t copy_machines(struct store *src, struct db_copy *c)
{
	for (;;) {
		int64_t before = c->machines;

		TRY(src->ops->machines_list(src, c->last_machine, DB_COPY_PAGE_ROWS, copy_machine,
					    c));
		if (c->rc != ERR_OK)
			return c->rc;
		if (c->machines - before < DB_COPY_PAGE_ROWS)
			return ERR_OK;
	}
}

/* API keys and consumed sessions have no listing in store.h (attestd never
 * needs one), so they are read from the sqlite file directly. */
static err_t copy_sqlite_tables(const char *path, struct db_copy *c)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	err_t rc = ERR_OK;
	int step;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT hash, role, name, created_at FROM api_keys", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = err_fail(ERR_UNAVAILABLE, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	while (rc == ERR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != STORE_HASH_LEN)
			continue; /* not a key attestd could have written */
		rc = store_pg_import_apikey(
		    c->im, sqlite3_column_blob(st, 0), (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
		c->apikeys++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != ERR_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT id, expires_at FROM sessions_used", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = err_fail(ERR_UNAVAILABLE, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	while (rc == ERR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 16)
			continue;
		rc = store_pg_import_session(c->im, sqlite3_column_blob(st, 0),
					     sqlite3_column_int64(st, 1));
		c->sessions++;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Audits the source first (a broken chain is investigated where it broke,
 * not carried over), copies, then audits the copy: it must hold as many
 * rows and verify as well. */
static int db_copy_from_sqlite(const char *path)
{
	char spec[sizeof(((struct config *)0)->store)];
	struct store *src = NULL, *dst = NULL;
	struct audit_result before, after;
	struct db_copy c = {0};
	int status;
	err_t rc;

	if (access(path, R_OK) != 0) {
		fprintf(stderr, "attestctl: cannot read %s\n", path);
		return CTL_EXIT_FAIL;
	}
	if (snprintf(spec, sizeof(spec), "sqlite:%s", path) >= (int)sizeof(spec)) {
		fprintf(stderr, "attestctl: path too long\n");
		return CTL_EXIT_USAGE;
	}
	status = ctl_open_store(&dst);
	if (status != CTL_EXIT_OK)
		return status;
	if (!store_is_pg(dst)) {
		store_close(dst);
		fprintf(stderr, "attestctl: the configured store is not PostgreSQL\n");
		return CTL_EXIT_FAIL;
	}
	rc = store_open(spec, &src);
	if (rc == ERR_OK)
		rc = src->ops->audit_verify(src, &before);
	if (rc == ERR_OK && before.first_bad_id != 0) {
		printf("source audit chain BROKEN at row %lld: %s; nothing copied\n",
		       (long long)before.first_bad_id, before.reason);
		store_close(src);
		store_close(dst);
		return CTL_EXIT_FAIL;
	}
	if (rc == ERR_OK)
		rc = store_pg_import_begin(dst, &c.im);
	if (rc == ERR_OK)
		rc = copy_history(src, &c);
	if (rc == ERR_OK)
		rc = copy_machines(src, &c);
	if (rc == ERR_OK)
		rc = copy_sqlite_tables(path, &c);
	if (rc == ERR_OK) {
		rc = store_pg_import_commit(c.im);
		c.im = NULL;
	}
	store_pg_import_abort(c.im);
	if (rc == ERR_OK)
		rc = dst->ops->audit_verify(dst, &after);
	store_close(src);
	store_close(dst);
	if (rc != ERR_OK)
		return ctl_fail(rc);
	printf("copied %lld history rows, %lld machines, %lld API keys, %lld sessions\n",
	       (long long)c.rows, (long long)c.machines, (long long)c.apikeys,
	       (long long)c.sessions);
	if (after.first_bad_id != 0 || after.rows != before.rows) {
		printf("audit chain of the copy BROKEN at row %lld: %s (%lld of %lld rows)\n",
		       (long long)after.first_bad_id, after.reason, (long long)after.rows,
		       (long long)before.rows);
		return CTL_EXIT_FAIL;
	}
	printf("audit chain OK: %lld rows\n", (long long)after.rows);
	return CTL_EXIT_OK;
}

int ctl_db_run(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return db_usage(stdout, CTL_EXIT_OK);
	if (argc == 2 && strcmp(argv[1], "migrate") == 0)
		return db_migrate();
	if (argc == 3 && strcmp(argv[1], "copy-from-sqlite") == 0)
		return db_copy_from_sqlite(argv[2]);
	return db_usage(stderr, CTL_EXIT_USAGE);
}
