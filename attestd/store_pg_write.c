/* PostgreSQL backend, write side: the group-commit queue (commit_queue.c)
 * hands each batch of decisions to write_batch, which commits them in one
 * transaction; each caller is answered only after COMMIT returned, so
 * nothing acknowledged is lost.
 *
 * One chain across instances: each transaction first locks the one-row
 * chain_head table (SELECT ... FOR UPDATE), appends its rows after that
 * head, and moves the head in the same transaction. Appends from all
 * instances are thereby serialized into a single chain, which
 * `attestctl audit verify` checks as is. We chose this over a chain per
 * instance with a merge step because an auditor then verifies exactly one
 * list of rows, no merge rule has to be trusted, and ids stay dense. The
 * cost is that instances take turns holding the head; group commit keeps
 * that to one short transaction per batch (two round trips, pipelined).
 *
 * Single-use sessions: the session id is inserted into sessions_used in
 * the same transaction (ON CONFLICT DO NOTHING); a second use, from any
 * instance, inserts nothing and is recorded as a session_replayed refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_pg_int.h"
#include "store_pg_sql.h"

static void mark_replayed(struct attestation_record *r)
{
	r->admitted = false;
	snprintf(r->error, sizeof(r->error), "%s", err_code_str(ERR_SESSION_REPLAYED));
	snprintf(r->detail, sizeof(r->detail), "session was already used");
	r->token_jti[0] = '\0';
}

struct phase1 {
	struct commit_item *next_session; /* whose session insert comes next */
	int64_t head_id, head_time;
	uint8_t head_hash[STORE_HASH_LEN];
};

/* Results of phase 1: BEGIN, the locked chain head, then one session
 * insert per decision that has a session, in batch order. */
static bool phase1_result(PGresult *r, size_t index, void *ctx)
{
	struct phase1 *ph = ctx;
	struct commit_item *p;

	if (index == 0)
		return true;
	if (index == 1) {
		if (PQntuples(r) != 1)
			return false;
		ph->head_id = pg_col_int64(r, 0, 0);
		pg_col_bytes(r, 0, 1, ph->head_hash, STORE_HASH_LEN);
		ph->head_time = pg_col_int64(r, 0, 2);
		return true;
	}
	for (p = ph->next_session; p != NULL && p->session_id == NULL; p = p->next)
		;
	if (p == NULL)
		return false; /* more results than statements sent */
	/* Nothing inserted: the session was consumed before. */
	if (strcmp(PQcmdTuples(r), "0") == 0)
		p->result = ERR_SESSION_REPLAYED;
	ph->next_session = p->next;
	return true;
}

static err_t send_row(struct pg_conn *c, const struct attestation_record *r)
{
	struct pg_params p = {0};

	pg_params_record(&p, r);
	if (!pg_send(c, PG_ATTESTATION_INSERT, &p))
		return err_fail(ERR_UNAVAILABLE, "store: sending a history row failed");
	if (r->machine_id[0] == '\0')
		return ERR_OK;
	struct pg_params m = {0};
	pg_param_text(&m, r->machine_id);
	pg_param_text(&m, r->ek_issuer);
	pg_param_text(&m, r->ek_manufacturer);
	pg_param_int(&m, r->time);
	pg_param_text(&m, store_outcome_str(r->admitted));
	return pg_send(c, PG_MACHINE_SEEN, &m)
		   ? ERR_OK
		   : err_fail(ERR_UNAVAILABLE, "store: sending a machine update failed");
}

/* Phase 1 locks the chain head and consumes the sessions; phase 2 appends
 * the rows (now that the head and the replays are known), moves the head
 * and commits. Each phase is sent whole before its results are read: they
 * are a few dozen bytes per statement, PG_MAX_BATCH bounds them, and libpq
 * reads what arrives while it waits to send, so neither side stalls.
 * *may_retry stays true while a failure certainly changed nothing, neither
 * in the database nor in the callers' records. */
static err_t write_batch(struct pg_store *s, struct commit_item *batch, bool *may_retry)
{
	struct pg_conn *pc = &s->writer_conn;
	struct phase1 ph = {.next_session = batch};
	struct pg_params p = {0};
	int64_t now = time(NULL);
	bool purge = now - s->last_purge >= PG_SESSION_GRACE_S;
	err_t rc = ERR_OK;

	*may_retry = true;
	for (struct commit_item *q = batch; q != NULL; q = q->next)
		q->result = ERR_OK;
	if (PQenterPipelineMode(pc->conn) != 1)
		return pg_fail(pc, "pipeline mode");
	if (!pg_send(pc, "BEGIN", NULL) || !pg_send(pc, PG_CHAIN_HEAD_LOCK, NULL))
		rc = pg_fail(pc, "begin");
	for (struct commit_item *q = batch; rc == ERR_OK && q != NULL; q = q->next) {
		struct pg_params sp = {0};

		if (q->session_id == NULL)
			continue;
		pg_param_bytes(&sp, q->session_id, 16);
		pg_param_int(&sp, q->session_expires_at);
		if (!pg_send(pc, PG_SESSION_CONSUME, &sp))
			rc = pg_fail(pc, "consume session");
	}
	if (rc == ERR_OK && PQpipelineSync(pc->conn) != 1)
		rc = pg_fail(pc, "sync");
	if (rc == ERR_OK)
		rc = pg_pipeline_read(pc, "lock the chain head", phase1_result, &ph);
	if (rc == ERR_OK)
		*may_retry = false; /* the records are written to from here on */
	for (struct commit_item *q = batch; rc == ERR_OK && q != NULL; q = q->next) {
		struct attestation_record *r = q->rec;

		if (q->result == ERR_SESSION_REPLAYED)
			mark_replayed(r);
		/* Before hashing, so the chain covers exactly what is stored. */
		if (pg_record_repair_text(r))
			log_warn("store: bytes that are not UTF-8 recorded as '?' (%s)",
				 r->machine_id);
		r->id = ph.head_id + 1;
		memcpy(r->prev_hash, ph.head_hash, STORE_HASH_LEN);
		/* Times never go down along the chain, as in the sqlite store:
		 * a decision started earlier can commit later, and instances'
		 * clocks differ a little. So time order is id order, and a
		 * time range is walked by the time index (store_pg_query.c). */
		if (r->time < ph.head_time)
			r->time = ph.head_time;
		rc = store_row_hash(r, r->hash);
		if (rc == ERR_OK)
			rc = send_row(pc, r);
		ph.head_id = r->id;
		ph.head_time = r->time;
		memcpy(ph.head_hash, r->hash, STORE_HASH_LEN);
	}
	if (rc == ERR_OK) {
		pg_param_int(&p, ph.head_id);
		pg_param_bytes(&p, ph.head_hash, STORE_HASH_LEN);
		pg_param_int(&p, ph.head_time);
		if (!pg_send(pc, PG_CHAIN_HEAD_SET, &p))
			rc = pg_fail(pc, "move chain head");
	}
	if (rc == ERR_OK && purge) {
		struct pg_params pp = {0};

		pg_param_int(&pp, now - PG_SESSION_GRACE_S);
		if (!pg_send(pc, PG_SESSION_PURGE, &pp))
			rc = pg_fail(pc, "purge sessions");
	}
	if (rc == ERR_OK && (!pg_send(pc, "COMMIT", NULL) || PQpipelineSync(pc->conn) != 1))
		rc = pg_fail(pc, "commit");
	if (rc == ERR_OK)
		rc = pg_pipeline_read(pc, "append decisions", NULL, NULL);
	if (rc == ERR_OK && PQexitPipelineMode(pc->conn) != 1)
		rc = pg_fail(pc, "pipeline mode");
	if (rc != ERR_OK) {
		/* Whatever state the connection is in, dropping it makes the
		 * server roll the transaction back and the next batch start
		 * clean on a new connection. */
		PQfinish(pc->conn);
		pc->conn = NULL;
		return rc;
	}
	if (purge)
		s->last_purge = now;
	return ERR_OK;
}

/* A batch that failed before its sessions were known changed nothing; it
 * is tried once more on a fresh connection, which is what a server restart
 * between two batches needs. A later failure is not retried: COMMIT may
 * have happened, and the callers get 503 (never a token without a row). */
err_t store_pg_write_batch(void *backend, struct commit_item *batch, size_t n)
{
	struct pg_store *s = backend;
	bool may_retry = true;
	err_t rc = ERR_UNAVAILABLE;

	(void)n; /* the batch is a list; commit_queue caps its length */
	for (int attempt = 0; attempt < 2 && may_retry; attempt++) {
		rc = pg_ensure(s, &s->writer_conn);
		if (rc == ERR_OK)
			rc = write_batch(s, batch, &may_retry);
		if (rc == ERR_OK)
			break;
	}
	return rc;
}

err_t store_pg_commit_decision(struct store *base, const uint8_t *session_id,
			       int64_t session_expires_at, struct attestation_record *rec)
{
	struct pg_store *s = (struct pg_store *)base;

	return commit_queue_submit(&s->commits, session_id, session_expires_at, rec);
}
