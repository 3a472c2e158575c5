/* Log levels, the two output formats and one-line messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs fn with stderr sent to a temporary file and returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void log_three_levels(void)
{
	log_error("e %d", 1);
	log_info("i %d", 2);
	log_debug("d %d", 3);
}

static void log_injection(void)
{
	log_warn("host %s", "evil\nforged line");
}

static void test_levels_filter(void **state)
{
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("unit");
	log_set_level(LOG_LVL_INFO);
	out = capture_stderr(log_three_levels);
	assert_non_null(strstr(out, "unit[error] e 1\n"));
	assert_non_null(strstr(out, "unit[info] i 2\n"));
	assert_null(strstr(out, "d 3"));
	log_set_level(LOG_LVL_ERROR);
	out = capture_stderr(log_three_levels);
	assert_null(strstr(out, "i 2"));
	assert_non_null(strstr(out, "e 1"));
}

static void test_journal_format(void **state)
{
	char *out;

	(void)state;
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("unit");
	log_set_level(LOG_LVL_DEBUG);
	out = capture_stderr(log_three_levels);
	assert_string_equal(out, "<3>e 1\n<6>i 2\n<7>d 3\n");
	unsetenv("JOURNAL_STREAM");
	log_init("unit");
}

static void test_one_line_per_message(void **state)
{
	char *out;

	(void)state;
	log_set_level(LOG_LVL_INFO);
	out = capture_stderr(log_injection);
	assert_non_null(strstr(out, "host evil forged line\n"));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
}

static void test_level_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_true(log_level_from_str("debug", &l));
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_true(log_level_from_str("warn", &l));
	assert_int_equal(l, LOG_LVL_WARN);
	assert_false(log_level_from_str("verbose", &l));
	assert_false(log_level_from_str(NULL, &l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels_filter),
	    cmocka_unit_test(test_journal_format),
	    cmocka_unit_test(test_one_line_per_message),
	    cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
