/* Internals shared by the PostgreSQL backend's files: the handle, the pool
 * of connections, statement parameters and binary result columns. */
#ifndef ATTEST_STORE_PG_INT_H
#define ATTEST_STORE_PG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "commit_queue.h"
#include "store.h"

/* Connections for reads and administrative writes: enough for the HTTP
 * worker threads of one instance; a caller waits when all are in use. The
 * server's max_connections must cover (PG_POOL_SIZE + 1) per instance. */
#define PG_POOL_SIZE 16
/* Decisions committed in one transaction at most, so one batch cannot hold
 * the chain head (and every other instance's appends) for long. */
#define PG_MAX_BATCH 512
/* Consumed session ids are kept until this long after they expire (a
 * session past expiry is refused as expired before its id is looked up). */
#define PG_SESSION_GRACE_S 60
/* Seconds libpq waits for a connection: a dead server answers 503 soon. */
#define PG_CONNECT_TIMEOUT "3"
/* A silent server is declared gone after about idle + interval * count
 * seconds (25) without an answer to keepalive probes, and unacknowledged
 * data after 10 s: long enough for a busy server or a failover, short
 * enough that a load balancer's health check sees 503, not a hang. */
#define PG_KEEPALIVE_IDLE_S	"10"
#define PG_KEEPALIVE_INTERVAL_S "5"
#define PG_KEEPALIVE_COUNT	"3"
#define PG_TCP_USER_TIMEOUT_MS	"10000"
/* The most parameters one statement of ours binds (an attestation row). */
#define PG_MAX_PARAMS 17

struct pg_conn {
	PGconn *conn; /* NULL until (re)connected */
	bool busy;
	bool delivered; /* pg_stream handed a row to its caller */
	bool prepared;	/* the frequent statements are prepared on conn */
};

struct pg_store {
	struct store base;
	char *conninfo;

	/* The writer's own connection and group-commit queue (store_pg_write.c). */
	struct pg_conn writer_conn;
	struct commit_queue commits;
	int64_t last_purge;

	pthread_mutex_t pool_mu;
	pthread_cond_t pool_free;
	struct pg_conn pool[PG_POOL_SIZE];
};

/* Statement parameters: text, int64 (sent as text) or bytes (binary). */
struct pg_params {
	int n;
	const char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];
};

/* Each returns the parameter's number ($n) for SQL built at run time. */
int pg_param_text(struct pg_params *p, const char *s);
int pg_param_int(struct pg_params *p, int64_t v);
int pg_param_bytes(struct pg_params *p, const uint8_t *b, size_t len);

/* The 17 parameters of PG_ATTESTATION_INSERT, in column order. */
void pg_params_record(struct pg_params *p, const struct attestation_record *r);

/* A PostgreSQL text value must be valid in the database encoding (UTF-8),
 * or the whole statement, and with it a batch of other decisions, fails.
 * Record fields can hold other bytes: a client's host metadata or an
 * issuer name cut at its field size in the middle of a character, a
 * certificate's raw bytes. Each byte that does not start a well-formed
 * UTF-8 sequence becomes '?'; true when anything changed. */
bool pg_utf8_repair(char *s);
/* The same over every text field of a row, before it is hashed. */
bool pg_record_repair_text(struct attestation_record *r);

/* Binary result columns, checked against their expected sizes: a column
 * of the wrong length reads as 0 / "" / zero bytes. */
int64_t pg_col_int64(const PGresult *r, int row, int col);
void pg_col_text(const PGresult *r, int row, int col, char *dst, size_t cap);
void pg_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t len);

/* ERR_UNAVAILABLE with the server's message; drops the connection when it
 * is broken, so the next use reconnects. */
err_t pg_fail(struct pg_conn *pc, const char *what);

/* Connects pc to the server conninfo names (libpq URI or key=value). */
err_t pg_connect(const char *conninfo, struct pg_conn *pc) WARN_UNUSED;

/* Makes sure pc is connected to a live server, reconnecting if the server
 * went away (a restart) since it was last used. */
err_t pg_ensure(struct pg_store *s, struct pg_conn *pc) WARN_UNUSED;

/* A pooled connection for the caller's exclusive use until put back;
 * waits while all are taken. */
struct pg_conn *pg_pool_get(struct pg_store *s);
void pg_pool_put(struct pg_store *s, struct pg_conn *pc);

/* Runs fn on a pooled connection. When the connection turns out broken
 * before fn delivered anything (a server restart since its last use), fn
 * runs once more on a fresh connection. */
typedef err_t (*pg_conn_fn)(struct pg_conn *pc, void *ctx);
err_t pg_pool_run(struct pg_store *s, pg_conn_fn fn, void *ctx) WARN_UNUSED;

/* Runs one statement (binary results) and checks its status; *out to
 * PQclear. */
err_t pg_exec(struct pg_conn *pc, const char *sql, const struct pg_params *p, ExecStatusType want,
	      PGresult **out) WARN_UNUSED;

/* Runs a query and hands each row to row_cb (single-row mode, so memory
 * stays flat); row_cb returns false to stop. */
typedef bool (*pg_row_cb)(const PGresult *row, void *ctx);
err_t pg_stream(struct pg_conn *pc, const char *sql, const struct pg_params *p, pg_row_cb row_cb,
		void *ctx) WARN_UNUSED;

/* Pipelines (libpq pipeline mode): statements sent without waiting, then
 * their results read up to the sync point. Each statement's result goes to
 * on_result (in the order sent; NULL: only checked); any failed statement
 * fails the whole pipeline, whose transaction the caller then abandons. */
bool pg_send(struct pg_conn *pc, const char *sql, const struct pg_params *p);
typedef bool (*pg_pipeline_cb)(PGresult *r, size_t index, void *ctx);
err_t pg_pipeline_read(struct pg_conn *pc, const char *what, pg_pipeline_cb on_result,
		       void *ctx) WARN_UNUSED;

/* The write side (store_pg_write.c). */
/* The commit_queue's write function: one batch, one transaction. */
err_t store_pg_write_batch(void *backend, struct commit_item *batch, size_t n);
err_t store_pg_commit_decision(struct store *base, const uint8_t *session_id,
			       int64_t session_expires_at, struct attestation_record *rec);

/* The read side (store_pg_query.c). */
err_t store_pg_session_used(struct store *base, const uint8_t *session_id, bool *used);
err_t store_pg_machine_get(struct store *base, const char *id, struct machine *out);
err_t store_pg_apikey_role(struct store *base, const uint8_t hash[STORE_HASH_LEN], char role[16]);
err_t store_pg_machines_list(struct store *base, const char *after_id, size_t limit,
			     store_machine_cb cb, void *ctx);
err_t store_pg_attestations_query(struct store *base, const struct attestation_filter *f,
				  store_attestation_cb cb, void *ctx);
err_t store_pg_attestation_get(struct store *base, int64_t id, struct attestation_record *out);
err_t store_pg_attestation_counts(struct store *base, int64_t since, int64_t until,
				  store_count_cb cb, void *ctx);
err_t store_pg_audit_verify(struct store *base, struct audit_result *out);

#endif
