/* The durable store behind attestd and attestctl: append-only, hash-chained
 * attestation history, consumed sessions, machines (enrollment, revocation)
 * and API keys. A function table, so another backend (PostgreSQL) can be
 * added without touching the handlers; sqlite3 is the one built in. */
#ifndef ATTEST_STORE_H
#define ATTEST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_HASH_LEN 32

/* One row of the history. Strings are NUL-terminated and cut to size. */
struct attestation_record {
	int64_t id;	/* assigned by the store */
	int64_t time;	/* Unix seconds */
	char phase[16]; /* "challenge" or "quote" */
	char machine_id[80];
	char ek_issuer[256];
	char ek_manufacturer[136]; /* EKCERT_TCG_STR_MAX + 1, rounded */
	bool admitted;
	char error[40]; /* wire code of the refusal, "" when admitted */
	char detail[ERR_DETAIL_MAX];
	char policy[128];
	char pcr_digest[132]; /* hex */
	int64_t reset_count;  /* -1 when unknown */
	int64_t restart_count;
	char host[4200]; /* client-reported JSON, recorded, never trusted */
	char token_jti[64];
	uint8_t prev_hash[STORE_HASH_LEN];
	uint8_t hash[STORE_HASH_LEN];
};

struct machine {
	char id[80];
	bool enrolled;
	int64_t enrolled_at; /* 0 when not enrolled */
	int64_t revoked_at;  /* 0 when not revoked */
	char note[256];	     /* operator's label or revocation reason */
	char ek_issuer[256];
	char ek_manufacturer[136];
	int64_t first_seen; /* 0 when never attested */
	int64_t last_seen;
	char last_outcome[16]; /* "admitted", "refused" or "" */
};

struct attestation_filter {
	const char *machine_id; /* NULL: any */
	int outcome;		/* -1 any, 0 refused, 1 admitted */
	const char *error;	/* NULL: any */
	int64_t since;		/* inclusive, 0: unbounded */
	int64_t until;		/* exclusive, 0: unbounded */
	int64_t after_id;	/* cursor: rows with id > after_id, ascending */
	size_t limit;
};

struct audit_result {
	int64_t rows;
	int64_t first_bad_id; /* 0 when the chain is intact */
	char reason[128];
};

/* A group of history rows: one machine, one outcome, one error code. */
struct attestation_count {
	const char *machine_id;
	bool admitted;
	const char *error;
	int64_t count;
	int64_t last_time;
};

/* Callbacks return false to stop the iteration. */
typedef bool (*store_attestation_cb)(const struct attestation_record *r, void *ctx);
typedef bool (*store_machine_cb)(const struct machine *m, void *ctx);
typedef bool (*store_count_cb)(const struct attestation_count *c, void *ctx);

struct store;

struct store_ops {
	/* Appends rec durably (rec->id, prev_hash and hash are set). With a
	 * session id, consumes that session in the same transaction; if it was
	 * consumed before, the row is recorded as a session_replayed refusal
	 * instead and ERR_SESSION_REPLAYED returned. Also updates the machine's
	 * first/last seen. ERR_UNAVAILABLE when nothing could be written. */
	err_t (*commit_decision)(struct store *s, const uint8_t *session_id,
				 int64_t session_expires_at, struct attestation_record *rec);
	/* Read-only pre-check, so a replay is refused before expensive work. */
	err_t (*session_used)(struct store *s, const uint8_t *session_id, bool *used);
	err_t (*machine_get)(struct store *s, const char *id, struct machine *out);
	/* Enrolls (creating the machine row if needed); note may be "". */
	err_t (*machine_enroll)(struct store *s, const char *id, const char *note, int64_t now);
	/* Revokes (now != 0) or reinstates (now == 0); ERR_NOT_FOUND if unknown. */
	err_t (*machine_set_revoked)(struct store *s, const char *id, int64_t now,
				     const char *reason);
	err_t (*machines_list)(struct store *s, const char *after_id, size_t limit,
			       store_machine_cb cb, void *ctx);
	err_t (*attestations_query)(struct store *s, const struct attestation_filter *f,
				    store_attestation_cb cb, void *ctx);
	err_t (*attestation_get)(struct store *s, int64_t id, struct attestation_record *out);
	/* Rows with since <= time < until, grouped by machine, outcome and
	 * error (the database aggregates: a month can hold millions of rows). */
	err_t (*attestation_counts)(struct store *s, int64_t since, int64_t until,
				    store_count_cb cb, void *ctx);
	err_t (*apikey_add)(struct store *s, const uint8_t hash[STORE_HASH_LEN], const char *role,
			    const char *name, int64_t now);
	/* ERR_UNAUTHORIZED when no key has this hash. */
	err_t (*apikey_role)(struct store *s, const uint8_t hash[STORE_HASH_LEN], char role[16]);
	err_t (*audit_verify)(struct store *s, struct audit_result *out);
	void (*close)(struct store *s);
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

/* Opens the store named by spec ("sqlite:PATH"), creating its schema. */
err_t store_open(const char *spec, struct store **out) WARN_UNUSED;

static inline void store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

/* The hash-chain link of a row: SHA-256 over prev_hash and every recorded
 * field, each length-prefixed (see store.c). Shared by all backends and by
 * `attestctl audit verify`. */
err_t store_row_hash(const struct attestation_record *r, uint8_t out[STORE_HASH_LEN]) WARN_UNUSED;

/* "sha256:" and 64 lower-case hex digits: DESIGN.md's machine id. */
bool store_machine_id_valid(const char *id);

/* "admitted" / "refused" */
const char *store_outcome_str(bool admitted);

#endif
