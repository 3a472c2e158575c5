/* The configuration reader and its typed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conffile.h"
#include "unit_util.h"

struct seen {
	char keys[8][32];
	char values[8][64];
	int n;
};

static err_t record(void *ctx, const char *key, const char *value)
{
	struct seen *s = ctx;

	if (strcmp(key, "bad") == 0)
		return err_fail(ERR_BAD_REQUEST, "bad: refused");
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
	s->n++;
	return ERR_OK;
}

static err_t load(const char *text, struct seen *s)
{
	char *dir = unit_tmpdir();
	char path[512];
	FILE *f;
	err_t rc;

	snprintf(path, sizeof(path), "%s/x.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	memset(s, 0, sizeof(*s));
	rc = conffile_load(path, record, s);
	unit_rmtree(dir);
	return rc;
}

static void test_lines(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(load("# c\n\n  a = 1  \nb=two words\n\tc =\n", &s), ERR_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.values[0], "1");
	assert_string_equal(s.values[1], "two words");
	assert_string_equal(s.values[2], "");
	assert_int_equal(load("a = 1\nbad = x\n", &s), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "x.conf:2: bad: refused"));
	assert_int_equal(load("no equals sign\n", &s), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), ":1: expected 'key = value'"));
	char *longline = malloc(CONFFILE_MAX_LINE + 16);
	memset(longline, 'a', CONFFILE_MAX_LINE + 8);
	strcpy(longline + CONFFILE_MAX_LINE + 8, "=1\n");
	assert_int_equal(load(longline, &s), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "too long"));
	free(longline);
	assert_int_equal(conffile_load("/nonexistent/x.conf", record, &s), ERR_NOT_FOUND);
}

static void test_values(void **state)
{
	unsigned long long n;
	bool b;
	char dst[4];

	(void)state;
	assert_int_equal(conffile_number("k", "010", 0, 100, &n), ERR_OK);
	assert_int_equal(n, 10); /* decimal, never octal */
	assert_int_equal(conffile_number("k", "0x81010001", 0, 0xFFFFFFFF, &n), ERR_OK);
	assert_true(n == 0x81010001ULL);
	assert_int_equal(conffile_number("k", "0x", 0, 100, &n), ERR_BAD_REQUEST);
	assert_int_equal(conffile_number("k", "-1", 0, 100, &n), ERR_BAD_REQUEST);
	assert_int_equal(conffile_number("k", "101", 0, 100, &n), ERR_BAD_REQUEST);
	assert_int_equal(conffile_number("k", "5x", 0, 100, &n), ERR_BAD_REQUEST);
	assert_int_equal(conffile_number("k", "99999999999999999999999", 0, ~0ULL, &n),
			 ERR_BAD_REQUEST);
	assert_int_equal(conffile_number("k", "", 0, 100, &n), ERR_BAD_REQUEST);
	assert_int_equal(conffile_bool("k", "yes", &b), ERR_OK);
	assert_true(b);
	assert_int_equal(conffile_bool("k", "false", &b), ERR_OK);
	assert_false(b);
	assert_int_equal(conffile_bool("k", "1", &b), ERR_BAD_REQUEST);
	assert_int_equal(conffile_string("k", "abc", dst, sizeof(dst)), ERR_OK); /* fills exactly */
	assert_string_equal(dst, "abc");
	assert_int_equal(conffile_string("k", "abcd", dst, sizeof(dst)), ERR_BAD_REQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
