/* PostgreSQL backend: copying an existing history in (attestctl db
 * copy-from-sqlite). Rows keep their ids, prev_hash and hash, so the chain
 * the auditors already trust is the one that continues; everything is one
 * transaction on a connection of its own, holding the chain head, so no
 * instance can append in the middle and a failed copy leaves nothing. The
 * inserts are pipelined (a sync every PG_IMPORT_SYNC_EVERY statements):
 * one round trip per row would make a million-row history take minutes. */
#include "store_pg.h"

#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "store_pg_sql.h"

/* Statements sent before their results are read: enough to keep the
 * server busy, few enough that an error is reported soon after the row. */
#define PG_IMPORT_SYNC_EVERY 1000

struct pg_import {
	struct pg_conn pc;
	size_t unsynced; /* statements sent since the last sync */
	int64_t last_id, last_time;
	uint8_t last_hash[STORE_HASH_LEN];
};

static err_t run(struct pg_import *im, const char *sql, const struct pg_params *p,
		 ExecStatusType want, PGresult **out)
{
	PGresult *r = NULL;
	err_t rc = pg_exec(&im->pc, sql, p, want, &r);

	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return rc;
}

static err_t sync_and_check(struct pg_import *im)
{
	im->unsynced = 0;
	if (PQpipelineSync(im->pc.conn) != 1)
		return pg_fail(&im->pc, "copy");
	return pg_pipeline_read(&im->pc, "copy", NULL, NULL);
}

/* Sends one statement of the copy; every PG_IMPORT_SYNC_EVERY, waits for
 * the server to have run them. */
static err_t queue(struct pg_import *im, const char *sql, const struct pg_params *p)
{
	if (!pg_send(&im->pc, sql, p))
		return pg_fail(&im->pc, "copy");
	if (++im->unsynced < PG_IMPORT_SYNC_EVERY)
		return ERR_OK;
	return sync_and_check(im);
}

void store_pg_import_abort(struct pg_import *im)
{
	if (im == NULL)
		return;
	/* Closing without COMMIT rolls the transaction back. */
	PQfinish(im->pc.conn);
	free(im);
}

err_t store_pg_import_begin(struct store *base, struct pg_import **out)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_import *im;
	PGresult *r = NULL;
	err_t rc;

	if (!store_is_pg(base))
		return err_fail(ERR_BAD_REQUEST, "the configured store is not PostgreSQL");
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = pg_ensure(s, &im->pc);
	if (rc == ERR_OK)
		rc = run(im, "BEGIN", NULL, PGRES_COMMAND_OK, NULL);
	if (rc == ERR_OK)
		rc = run(im, PG_CHAIN_HEAD_LOCK, NULL, PGRES_TUPLES_OK, NULL);
	if (rc == ERR_OK)
		rc = run(im, PG_HISTORY_EMPTY, NULL, PGRES_TUPLES_OK, &r);
	/* Binary bool: one byte. Copying onto rows already there would make
	 * two chains in one table. */
	if (rc == ERR_OK &&
	    (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 1 || PQgetvalue(r, 0, 0)[0] != 1))
		rc = err_fail(ERR_BAD_REQUEST,
			      "the PostgreSQL history is not empty; copy only into a new database");
	PQclear(r);
	if (rc == ERR_OK && PQenterPipelineMode(im->pc.conn) != 1)
		rc = pg_fail(&im->pc, "pipeline mode");
	if (rc != ERR_OK) {
		store_pg_import_abort(im);
		return rc;
	}
	*out = im;
	return ERR_OK;
}

err_t store_pg_import_record(struct pg_import *im, const struct attestation_record *r)
{
	struct pg_params p = {0};
	struct attestation_record *check = malloc(sizeof(*check));
	bool text_ok;

	if (check == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	/* Repairing the text would change what the row's hash covers. */
	memcpy(check, r, sizeof(*check));
	text_ok = !pg_record_repair_text(check);
	free(check);
	if (!text_ok)
		return err_fail(ERR_BAD_REQUEST,
				"history row %lld holds text that is not UTF-8, which PostgreSQL "
				"cannot store unchanged",
				(long long)r->id);
	pg_params_record(&p, r);
	TRY(queue(im, PG_ATTESTATION_INSERT, &p));
	im->last_id = r->id;
	im->last_time = r->time;
	memcpy(im->last_hash, r->hash, STORE_HASH_LEN);
	return ERR_OK;
}

err_t store_pg_import_machine(struct pg_import *im, const struct machine *m)
{
	struct pg_params p = {0};

	pg_param_text(&p, m->id);
	pg_param_int(&p, m->enrolled_at);
	pg_param_int(&p, m->revoked_at);
	pg_param_text(&p, m->note);
	pg_param_text(&p, m->ek_issuer);
	pg_param_text(&p, m->ek_manufacturer);
	pg_param_int(&p, m->first_seen);
	pg_param_int(&p, m->last_seen);
	pg_param_text(&p, m->last_outcome);
	return queue(im, PG_MACHINE_IMPORT, &p);
}

err_t store_pg_import_apikey(struct pg_import *im, const uint8_t hash[STORE_HASH_LEN],
			     const char *role, const char *name, int64_t created_at)
{
	struct pg_params p = {0};

	pg_param_bytes(&p, hash, STORE_HASH_LEN);
	pg_param_text(&p, role);
	pg_param_text(&p, name);
	pg_param_int(&p, created_at);
	return queue(im, PG_APIKEY_ADD, &p);
}

err_t store_pg_import_session(struct pg_import *im, const uint8_t id[16], int64_t expires_at)
{
	struct pg_params p = {0};

	pg_param_bytes(&p, id, 16);
	pg_param_int(&p, expires_at);
	return queue(im, PG_SESSION_CONSUME, &p);
}

err_t store_pg_import_commit(struct pg_import *im)
{
	struct pg_params p = {0};
	err_t rc = ERR_OK;

	/* New appends continue after the last copied row. */
	if (im->last_id != 0) {
		pg_param_int(&p, im->last_id);
		pg_param_bytes(&p, im->last_hash, STORE_HASH_LEN);
		pg_param_int(&p, im->last_time);
		if (!pg_send(&im->pc, PG_CHAIN_HEAD_SET, &p))
			rc = pg_fail(&im->pc, "copy");
	}
	if (rc == ERR_OK && !pg_send(&im->pc, "COMMIT", NULL))
		rc = pg_fail(&im->pc, "commit");
	if (rc == ERR_OK)
		rc = sync_and_check(im);
	store_pg_import_abort(im);
	return rc;
}
