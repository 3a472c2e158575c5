/* The sqlite store: append-only hash chain, single-use sessions, machines,
 * API keys, queries, and tamper detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "store_contract.h"
#include "unit_util.h"

struct fixture {
	char *dir;
	char path[512];
	char spec[520];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = unit_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/attestd.db", f->dir);
	snprintf(f->spec, sizeof(f->spec), "sqlite:%s", f->path);
	if (store_open(f->spec, &f->st) != ERR_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static void test_chain_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r, got;
	struct audit_result a;

	for (int i = 0; i < 5; i++) {
		make_record(&r, "sha256:aa", i % 2 == 0, 100 + i);
		assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
		assert_int_equal(r.id, i + 1);
	}
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.rows, 5);
	assert_int_equal(a.first_bad_id, 0);

	/* Durable across a close and reopen; the chain continues. */
	store_close(f->st);
	assert_int_equal(store_open(f->spec, &f->st), ERR_OK);
	make_record(&r, "sha256:bb", true, 200);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(r.id, 6);
	assert_int_equal(f->st->ops->attestation_get(f->st, 5, &got), ERR_OK);
	assert_memory_equal(r.prev_hash, got.hash, STORE_HASH_LEN);
	assert_string_equal(got.host, "{\"hostname\":\"m1\"}");
	assert_int_equal(f->st->ops->attestation_get(f->st, 99, &got), ERR_NOT_FOUND);
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.rows, 6);
	assert_int_equal(a.first_bad_id, 0);
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_history_is_append_only_and_edits_are_detected(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r;
	struct audit_result a;
	sqlite3 *db;

	for (int i = 0; i < 4; i++) {
		make_record(&r, "sha256:aa", false, 100 + i);
		assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	}
	/* The database refuses an edit outright... */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE attestations SET outcome='admitted' WHERE id=2",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(
	    sqlite3_exec(db, "DELETE FROM attestations WHERE id=2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* ...and one who drops the guard and edits a refusal into an admission
	 * is caught by the chain at that row. */
	sql(f->path, "DROP TRIGGER attestations_no_update;"
		     "UPDATE attestations SET outcome='admitted', error='' WHERE id=2");
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 2);
	assert_non_null(strstr(a.reason, "edited"));
}

static void test_deleted_row_is_detected(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r;
	struct audit_result a;

	for (int i = 0; i < 4; i++) {
		make_record(&r, "sha256:aa", false, 100 + i);
		assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	}
	sql(f->path, "DROP TRIGGER attestations_no_delete; DELETE FROM attestations WHERE id=3");
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 4);
	assert_non_null(strstr(a.reason, "prev_hash"));
}

static void test_session_single_use(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r;
	uint8_t sid[16] = {1, 2, 3};
	bool used = true;

	assert_int_equal(f->st->ops->session_used(f->st, sid, &used), ERR_OK);
	assert_false(used);
	make_record(&r, "sha256:aa", true, 100);
	strcpy(r.token_jti, "jti-1");
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r), ERR_OK);
	assert_int_equal(f->st->ops->session_used(f->st, sid, &used), ERR_OK);
	assert_true(used);
	/* The replay is recorded as a refusal, and no token id is kept. */
	make_record(&r, "sha256:aa", true, 101);
	strcpy(r.token_jti, "jti-2");
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r),
			 ERR_SESSION_REPLAYED);
	assert_false(r.admitted);
	assert_string_equal(r.error, "session_replayed");
	assert_string_equal(r.token_jti, "");
	struct attestation_record got;
	assert_int_equal(f->st->ops->attestation_get(f->st, r.id, &got), ERR_OK);
	assert_false(got.admitted);
	assert_string_equal(got.error, "session_replayed");
	/* Also after a restart. */
	store_close(f->st);
	assert_int_equal(store_open(f->spec, &f->st), ERR_OK);
	make_record(&r, "sha256:aa", true, 102);
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r),
			 ERR_SESSION_REPLAYED);
}

static void test_machines(void **state)
{
	struct fixture *f = *state;
	struct machine m;
	struct attestation_record r;

	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_NOT_FOUND);
	assert_int_equal(f->st->ops->machine_set_revoked(f->st, "sha256:aa", 5, "x"),
			 ERR_NOT_FOUND);
	assert_int_equal(f->st->ops->machine_enroll(f->st, "sha256:aa", "rack 4", 50), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_true(m.enrolled);
	assert_int_equal(m.revoked_at, 0);
	assert_string_equal(m.note, "rack 4");
	make_record(&r, "sha256:aa", true, 60);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.first_seen, 60);
	assert_string_equal(m.last_outcome, "admitted");
	assert_true(m.enrolled); /* seeing a machine keeps its enrollment */
	assert_int_equal(f->st->ops->machine_set_revoked(f->st, "sha256:aa", 70, "stolen"), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.revoked_at, 70);
	assert_string_equal(m.note, "stolen");
	/* Another process (attestctl) writes between two batches. */
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"UPDATE machines SET note='x'\"", f->path);
	assert_int_equal(system(cmd), 0);
	make_record(&r, "sha256:aa", false, 71);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(f->st->ops->machine_set_revoked(f->st, "sha256:aa", 0, ""), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.revoked_at, 0);
}

static void test_query_filters(void **state)
{
	contract_query_filters(((struct fixture *)*state)->st);
}

struct id_list {
	int64_t ids[16];
	int n;
};

static bool collect_ids(const struct attestation_record *r, void *ctx)
{
	struct id_list *l = ctx;

	l->ids[l->n++] = r->id;
	return true;
}

static void test_time_order_is_id_order(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r;
	struct id_list page = {0};
	struct audit_result a;

	/* A decision started earlier may commit later: its time is raised to
	 * the chain head's, so times never go down along the ids. */
	make_record(&r, "sha256:aa", true, 200);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	make_record(&r, "sha256:aa", true, 150);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(r.time, 200);
	for (int i = 0; i < 6; i++) {
		make_record(&r, "sha256:bb", true, 201 + i / 2);
		assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	}
	/* A time range, paged with the cursor, returns every row once in id
	 * order. */
	struct attestation_filter w = {.outcome = -1, .since = 200, .until = 204, .limit = 3};
	for (;;) {
		int before = page.n;

		assert_int_equal(f->st->ops->attestations_query(f->st, &w, collect_ids, &page),
				 ERR_OK);
		if (page.n - before < 3)
			break;
		w.after_id = page.ids[page.n - 1];
	}
	assert_int_equal(page.n, 8);
	for (int i = 0; i < page.n; i++)
		assert_int_equal(page.ids[i], i + 1);
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 0);
}

static void test_api_keys(void **state)
{
	contract_api_keys(((struct fixture *)*state)->st);
}

#define WRITERS 8

static void test_concurrent_writers_keep_one_chain(void **state)
{
	struct fixture *f = *state;
	pthread_t t[WRITERS];
	struct audit_result a;

	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, commit_many, f->st), 0);
	for (int i = 0; i < WRITERS; i++) {
		void *res;

		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.rows, WRITERS * PER_WRITER);
	assert_int_equal(a.first_bad_id, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_chain_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_is_append_only_and_edits_are_detected,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_row_is_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_single_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_machines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_order_is_id_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers_keep_one_chain, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
