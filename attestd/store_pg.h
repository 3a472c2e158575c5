/* The PostgreSQL backend of store.h (libpq), for several attestd instances
 * sharing one database: group commit per instance, one hash chain for all
 * (store_pg_write.c explains how), reconnects after a server restart. */
#ifndef ATTEST_STORE_PG_H
#define ATTEST_STORE_PG_H

#include "store.h"

/* conninfo: a libpq URI ("postgresql://user@host/db") or key=value string.
 * Connects and brings the schema up to date (migrations run under an
 * advisory lock, so instances starting together do not race). */
err_t store_pg_open(const char *conninfo, struct store **out) WARN_UNUSED;

/* The URI with any password replaced by "***" (in user:PASSWORD@ and in a
 * password= parameter), for logs; cut to cap. */
void store_pg_redact_uri(const char *uri, char *out, size_t cap);

/* True when s was opened by store_pg_open. */
bool store_is_pg(const struct store *s);

/* The schema version the database is at (after store_pg_open migrated it). */
err_t store_pg_schema_version(struct store *s, int *out) WARN_UNUSED;

/* Copying a history into an empty PostgreSQL store (attestctl db
 * copy-from-sqlite): rows keep their ids and hashes, so the chain still
 * verifies; everything lands in one transaction, or nothing does. */
struct pg_import;
err_t store_pg_import_begin(struct store *s, struct pg_import **out) WARN_UNUSED;
err_t store_pg_import_record(struct pg_import *im, const struct attestation_record *r) WARN_UNUSED;
err_t store_pg_import_machine(struct pg_import *im, const struct machine *m) WARN_UNUSED;
err_t store_pg_import_apikey(struct pg_import *im, const uint8_t hash[STORE_HASH_LEN],
			     const char *role, const char *name, int64_t created_at) WARN_UNUSED;
err_t store_pg_import_session(struct pg_import *im, const uint8_t id[16],
			      int64_t expires_at) WARN_UNUSED;
/* Sets the chain head to the last row copied and commits; frees im. */
err_t store_pg_import_commit(struct pg_import *im) WARN_UNUSED;
/* Rolls back; frees im (NULL is fine). */
void store_pg_import_abort(struct pg_import *im);

#endif
