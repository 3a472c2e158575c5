/* The store contract every backend keeps (store.h), as test cases shared by
 * tests/unit/test_store.c (sqlite) and test_store_pg.c (PostgreSQL); each
 * file wraps them in its own fixture. Included once per test program. */
#ifndef ATTEST_STORE_CONTRACT_H
#define ATTEST_STORE_CONTRACT_H

#include <stdio.h>
#include <string.h>

#include "store.h"

static void make_record(struct attestation_record *r, const char *machine, bool admitted,
			int64_t time)
{
	memset(r, 0, sizeof(*r));
	r->time = time;
	strcpy(r->phase, "quote");
	snprintf(r->machine_id, sizeof(r->machine_id), "%s", machine);
	strcpy(r->ek_issuer, "CN=Test Intermediate");
	strcpy(r->ek_manufacturer, "id:53544D20");
	r->admitted = admitted;
	strcpy(r->error, admitted ? "" : "nonce_mismatch");
	strcpy(r->policy, "default");
	r->reset_count = 3;
	r->restart_count = -1;
	strcpy(r->host, "{\"hostname\":\"m1\"}");
}

static bool count_rows(const struct attestation_record *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return true;
}

static int query_count(struct store *st, struct attestation_filter f)
{
	int n = 0;

	assert_int_equal(st->ops->attestations_query(st, &f, count_rows, &n), ERR_OK);
	return n;
}

static bool count_groups(const struct attestation_count *c, void *ctx)
{
	int64_t *total = ctx;

	*total += c->count;
	return true;
}

static void contract_query_filters(struct store *st)
{
	struct attestation_record r;
	int64_t total = 0;

	for (int i = 0; i < 10; i++) {
		make_record(&r, i < 6 ? "sha256:aa" : "sha256:bb", i % 3 == 0, 100 + i);
		assert_int_equal(st->ops->commit_decision(st, NULL, 0, &r), ERR_OK);
	}
	assert_int_equal(query_count(st, (struct attestation_filter){.outcome = -1, .limit = 100}),
			 10);
	assert_int_equal(query_count(st, (struct attestation_filter){.machine_id = "sha256:bb",
								     .outcome = -1,
								     .limit = 100}),
			 4);
	assert_int_equal(query_count(st, (struct attestation_filter){.outcome = 1, .limit = 100}),
			 4);
	assert_int_equal(query_count(st, (struct attestation_filter){.outcome = -1,
								     .error = "nonce_mismatch",
								     .limit = 100}),
			 6);
	assert_int_equal(query_count(st,
				     (struct attestation_filter){
					 .outcome = -1, .since = 102, .until = 105, .limit = 100}),
			 3);
	assert_int_equal(query_count(st, (struct attestation_filter){.machine_id = "sha256:aa",
								     .outcome = 0,
								     .error = "nonce_mismatch",
								     .since = 101,
								     .until = 200,
								     .after_id = 2,
								     .limit = 100}),
			 3); /* ids 3, 5, 6 */
	assert_int_equal(
	    query_count(st,
			(struct attestation_filter){.outcome = -1, .after_id = 8, .limit = 100}),
	    2);
	assert_int_equal(query_count(st, (struct attestation_filter){.outcome = -1, .limit = 3}),
			 3);
	assert_int_equal(st->ops->attestation_counts(st, 100, 110, count_groups, &total), ERR_OK);
	assert_int_equal(total, 10);
}

static void contract_api_keys(struct store *st)
{
	uint8_t h1[STORE_HASH_LEN] = {1}, h2[STORE_HASH_LEN] = {2};
	char role[16];

	assert_int_equal(st->ops->apikey_add(st, h1, "auditor", "alice", 5), ERR_OK);
	assert_int_equal(st->ops->apikey_role(st, h1, role), ERR_OK);
	assert_string_equal(role, "auditor");
	assert_int_equal(st->ops->apikey_role(st, h2, role), ERR_UNAUTHORIZED);
}

/* Decisions each concurrent writer thread commits. */
#define PER_WRITER 50

/* A writer thread: PER_WRITER decisions on the store given; non-NULL on
 * the first failure. */
static void *commit_many(void *arg)
{
	struct store *st = arg;

	for (int i = 0; i < PER_WRITER; i++) {
		struct attestation_record r;

		make_record(&r, "sha256:cc", true, 100);
		if (st->ops->commit_decision(st, NULL, 0, &r) != ERR_OK)
			return (void *)1;
	}
	return NULL;
}

#endif
