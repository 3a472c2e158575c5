/* Rendering of history rows: times, JSON, and CSV that a spreadsheet can
 * open without running anything a client wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record_json.h"

static void test_times(void **state)
{
	char buf[32];
	int64_t t;

	(void)state;
	rfc3339(1795341600, buf);
	assert_string_equal(buf, "2026-11-22T10:00:00Z");
	assert_true(parse_time("2026-11-22T10:00:00Z", &t));
	assert_int_equal(t, 1795341600);
	assert_true(parse_time("1795341600", &t));
	assert_int_equal(t, 1795341600);
	assert_false(parse_time("2026-11-22 10:00:00", &t));
	assert_false(parse_time("2026-11-22T10:00:00+01:00", &t)); /* UTC only */
	assert_false(parse_time("12abc", &t));
	assert_false(parse_time("-5", &t));
	assert_false(parse_time("", &t));
	assert_false(parse_time(NULL, &t));
}

static struct attestation_record *sample(void)
{
	struct attestation_record *r = calloc(1, sizeof(*r));

	r->id = 7;
	r->time = 1795341600;
	strcpy(r->phase, "quote");
	strcpy(r->machine_id, "sha256:ab");
	strcpy(r->error, "nonce_mismatch");
	strcpy(r->detail, "the \"nonce\", it differs");
	strcpy(r->host, "{\"hostname\":\"=cmd|' /C calc'!A0\"}");
	r->reset_count = -1;
	return r;
}

static void test_json(void **state)
{
	struct attestation_record *r = sample();
	json_t *j = record_to_json(r);

	(void)state;
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2026-11-22T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(j, "outcome")), "refused");
	/* host metadata comes back as the object it was, not a string */
	assert_true(json_is_object(json_object_get(j, "host")));
	assert_true(json_is_null(json_object_get(j, "token_jti")));
	assert_int_equal(strlen(json_string_value(json_object_get(j, "hash"))), 64);
	json_decref(j);
	free(r);
}

static void test_csv_quoting_and_formulas(void **state)
{
	struct attestation_record *r = sample();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	record_csv_header(f);
	strcpy(r->machine_id, "=HYPERLINK(\"x\")");
	record_to_csv(f, r);
	fclose(f);
	/* Quotes doubled, and a cell that starts like a formula is defused. */
	assert_non_null(strstr(buf, "\"the \"\"nonce\"\", it differs\""));
	assert_non_null(strstr(buf, "\"'=HYPERLINK(\"\"x\"\")\""));
	assert_non_null(strstr(buf, "\r\n7,\"2026-11-22T10:00:00Z\",\"quote\""));
	free(buf);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_csv_quoting_and_formulas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
