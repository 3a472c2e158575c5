/* The error table: stable codes, HTTP statuses, per-thread detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void test_codes_and_statuses(void **state)
{
	(void)state;
	/* The statuses DESIGN.md fixes for clients and gateways. */
	assert_string_equal(err_code_str(ERR_BAD_REQUEST), "bad_request");
	assert_int_equal(err_http_status(ERR_BAD_REQUEST), 400);
	assert_int_equal(err_http_status(ERR_EK_CERT_INVALID), 400);
	assert_int_equal(err_http_status(ERR_BODY_TOO_LARGE), 413);
	assert_int_equal(err_http_status(ERR_EK_VIRTUAL_TPM), 403);
	assert_int_equal(err_http_status(ERR_SESSION_REPLAYED), 403);
	assert_int_equal(err_http_status(ERR_TOKEN_EXPIRED), 403);
	assert_int_equal(err_http_status(ERR_UNAUTHORIZED), 401);
	assert_int_equal(err_http_status(ERR_TOKEN_INVALID), 401);
	assert_int_equal(err_http_status(ERR_RATE_LIMITED), 429);
	assert_int_equal(err_http_status(ERR_UNAVAILABLE), 503);
	assert_int_equal(err_http_status(ERR_INTERNAL), 500);
	assert_string_equal(err_code_str(ERR_EVENTLOG_REPLAY_MISMATCH), "eventlog_replay_mismatch");
	/* Out-of-range values never index past the table. */
	assert_string_equal(err_code_str((err_t)ERR_COUNT), "internal");
	assert_string_equal(err_code_str((err_t)-1), "internal");
	assert_int_equal(err_http_status((err_t)1000), 500);
}

static void test_round_trip_every_code(void **state)
{
	(void)state;
	for (int i = 0; i < ERR_COUNT; i++) {
		err_t back;
		const char *code = err_code_str((err_t)i);

		assert_true(err_from_str(code, &back));
		assert_int_equal(back, i);
		/* every code is distinct */
		for (int j = 0; j < i; j++)
			assert_string_not_equal(code, err_code_str((err_t)j));
	}
	err_t unused;
	assert_false(err_from_str("no_such_code", &unused));
	assert_false(err_from_str("", &unused));
	assert_false(err_from_str(NULL, &unused));
}

static void test_detail(void **state)
{
	char longer[ERR_DETAIL_MAX * 2];

	(void)state;
	err_clear();
	assert_string_equal(err_detail(), "");
	assert_int_equal(err_fail(ERR_QUOTE_INVALID, "magic %08x", 0xdeadbeefU), ERR_QUOTE_INVALID);
	assert_string_equal(err_detail(), "magic deadbeef");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	(void)err_fail(ERR_INTERNAL, "%s", longer);
	assert_int_equal(strlen(err_detail()), ERR_DETAIL_MAX - 1);
	err_clear();
	assert_string_equal(err_detail(), "");
}

static err_t fails_with(err_t e)
{
	return e;
}

static err_t try_chain(err_t first, int *reached)
{
	TRY(fails_with(first));
	*reached = 1;
	return ERR_OK;
}

static void test_try_propagates(void **state)
{
	int reached = 0;

	(void)state;
	assert_int_equal(try_chain(ERR_NONCE_MISMATCH, &reached), ERR_NONCE_MISMATCH);
	assert_int_equal(reached, 0);
	assert_int_equal(try_chain(ERR_OK, &reached), ERR_OK);
	assert_int_equal(reached, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes_and_statuses),
	    cmocka_unit_test(test_round_trip_every_code),
	    cmocka_unit_test(test_detail),
	    cmocka_unit_test(test_try_propagates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
