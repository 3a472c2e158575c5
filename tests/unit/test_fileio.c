/* Whole-file reads with a cap; atomic and create-once writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "unit_util.h"

static void test_read_cap_and_errors(void **state)
{
	char *dir = unit_tmpdir();
	char path[512];
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(fileio_write_atomic(path, "hello", 5, 0644), ERR_OK);
	assert_int_equal(fileio_read(path, 5, &buf, &len), ERR_OK); /* exactly the cap */
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(buf[5], 0); /* usable as a string */
	free(buf);
	assert_int_equal(fileio_read(path, 4, &buf, &len), ERR_BAD_REQUEST);  /* one over */
	assert_int_equal(fileio_read(dir, 100, &buf, &len), ERR_BAD_REQUEST); /* a directory */
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(fileio_read(path, 100, &buf, &len), ERR_NOT_FOUND);
	/* procfs (like securityfs, where the event log is) reports size 0:
	 * the content is read anyway, and the cap still holds. */
	assert_int_equal(fileio_read("/proc/self/status", 1 << 20, &buf, &len), ERR_OK);
	assert_non_null(strstr((char *)buf, "Pid:"));
	free(buf);
	assert_int_equal(fileio_read("/proc/self/status", 16, &buf, &len), ERR_BAD_REQUEST);
	/* Bigger than the first guess: the buffer grows. */
	char big[10000];
	memset(big, 'x', sizeof(big));
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(fileio_write_atomic(path, big, sizeof(big), 0644), ERR_OK);
	assert_int_equal(fileio_read(path, sizeof(big), &buf, &len), ERR_OK);
	assert_int_equal(len, sizeof(big));
	assert_int_equal(buf[len], 0);
	free(buf);
	unit_rmtree(dir);
}

static void test_write_atomic_replaces_with_mode(void **state)
{
	char *dir = unit_tmpdir();
	char path[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_int_equal(fileio_write_atomic(path, "first", 5, 0600), ERR_OK);
	assert_int_equal(fileio_write_atomic(path, "second!", 7, 0600), ERR_OK);
	assert_int_equal(fileio_read(path, 100, &buf, &len), ERR_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "second!", 7);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* No temp file is left behind. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/f", dir);
	assert_int_not_equal(fileio_write_atomic(path, "x", 1, 0600), ERR_OK);
	unit_rmtree(dir);
}

static void test_create_once_keeps_the_first(void **state)
{
	char *dir = unit_tmpdir();
	char path[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	int created = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/key", dir);
	assert_int_equal(fileio_create_once(path, "one", 3, 0600, &created), ERR_OK);
	assert_int_equal(created, 1);
	assert_int_equal(fileio_create_once(path, "two", 3, 0600, &created), ERR_OK);
	assert_int_equal(created, 0);
	assert_int_equal(fileio_read(path, 100, &buf, &len), ERR_OK);
	assert_memory_equal(buf, "one", 3);
	free(buf);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_cap_and_errors),
	    cmocka_unit_test(test_write_atomic_replaces_with_mode),
	    cmocka_unit_test(test_create_once_keeps_the_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
