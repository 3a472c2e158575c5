/* Host metadata and the event log: what the client reads about the machine,
 * cleaned for JSON and bounded as DESIGN.md says. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host.h"
#include "unit_util.h"

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static const char *dmi(const json_t *host, const char *field)
{
	return json_string_value(json_object_get(json_object_get(host, "dmi"), field));
}

static void test_dmi_strings_are_read_and_cleaned(void **state)
{
	char *dir = unit_tmpdir();
	json_t *host;

	(void)state;
	put(dir, "sys_vendor", "Dell Inc.\n", 10);
	put(dir, "product_name", "PowerEdge R650  \n", 17);
	put(dir, "bios_version", "1.2\x1b[31m\xff\n", 10); /* escape and a non-UTF-8 byte */
	put(dir, "board_name", "\n", 1);		   /* empty after trimming */
	put(dir, "product_serial", "SN12345\n", 8);	   /* never sent */
	put(dir, "product_uuid", "4c4c4544-0000\n", 14);   /* never sent */
	host = host_metadata("rack4-node17", dir);
	assert_non_null(host);
	assert_string_equal(json_string_value(json_object_get(host, "hostname")), "rack4-node17");
	assert_string_equal(dmi(host, "sys_vendor"), "Dell Inc.");
	assert_string_equal(dmi(host, "product_name"), "PowerEdge R650");
	assert_string_equal(dmi(host, "bios_version"), "1.2?[31m?");
	assert_null(dmi(host, "board_name"));
	assert_null(dmi(host, "product_serial"));
	assert_null(dmi(host, "product_uuid"));
	assert_int_equal(json_object_size(json_object_get(host, "dmi")), 3);
	json_decref(host);
	unit_rmtree(dir);
}

static void test_no_dmi_no_dmi_object(void **state)
{
	json_t *host = host_metadata("h", "/nonexistent/dmi/id");

	(void)state;
	assert_non_null(host);
	assert_null(json_object_get(host, "dmi"));
	assert_int_equal(json_object_size(host), 1);
	json_decref(host);
	host = host_metadata(NULL, "/nonexistent/dmi/id");
	assert_int_equal(json_object_size(host), 0);
	json_decref(host);
}

/* Every field at the SMBIOS maximum: more than 4 KiB in all, so some are
 * left out, and what is sent stays within the limit. */
static void test_host_stays_within_4_kib(void **state)
{
	static const char *const fields[] = {
	    "sys_vendor",   "product_name",   "product_version", "product_family",  "product_sku",
	    "board_vendor", "board_name",     "board_version",	 "bios_vendor",	    "bios_version",
	    "bios_date",    "chassis_vendor", "chassis_type",	 "chassis_version",
	};
	char *dir = unit_tmpdir(), value[HOST_DMI_VALUE_MAX + 40], name[300];
	json_t *host;
	size_t size;

	(void)state;
	memset(value, 'v', sizeof(value));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put(dir, fields[i], value, sizeof(value)); /* longer than SMBIOS allows */
	memset(name, 'h', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	host = host_metadata(name, dir);
	assert_non_null(host);
	size = json_dumpb(host, NULL, 0, JSON_COMPACT);
	assert_true(size <= HOST_MAX_JSON);
	assert_true(size > HOST_MAX_JSON - HOST_DMI_VALUE_MAX - 40); /* filled, not emptied */
	assert_int_equal(strlen(dmi(host, "sys_vendor")), HOST_DMI_VALUE_MAX);
	assert_int_equal(strlen(json_string_value(json_object_get(host, "hostname"))),
			 HOST_DMI_VALUE_MAX);
	assert_true(json_object_size(json_object_get(host, "dmi")) < 14);
	json_decref(host);
	unit_rmtree(dir);
}

static void test_event_log_is_read_whole(void **state)
{
	char *dir = unit_tmpdir(), path[512];
	uint8_t data[200000], *log = NULL;
	size_t len = 0;
	bool present = false;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	put(dir, "log.bin", data, sizeof(data));
	snprintf(path, sizeof(path), "%s/log.bin", dir);
	assert_int_equal(host_read_event_log(path, &log, &len, &present), ERR_OK);
	assert_true(present);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(log, data, sizeof(data));
	free(log);
	/* A machine without a TPM event log sends none. */
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_int_equal(host_read_event_log(path, &log, &len, &present), ERR_OK);
	assert_false(present);
	assert_null(log);
	/* A directory is no log. */
	assert_int_equal(host_read_event_log(dir, &log, &len, &present), ERR_BAD_REQUEST);
	unit_rmtree(dir);
}

static void test_event_log_larger_than_the_verifier_takes_is_refused(void **state)
{
	char *dir = unit_tmpdir(), path[512];
	uint8_t *log = NULL;
	size_t len = 0;
	bool present = false;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.bin", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)HOST_EVENT_LOG_MAX), 0);
	close(fd);
	assert_int_equal(host_read_event_log(path, &log, &len, &present), ERR_OK);
	assert_int_equal(len, HOST_EVENT_LOG_MAX);
	free(log);
	fd = open(path, O_WRONLY);
	assert_int_equal(ftruncate(fd, (off_t)HOST_EVENT_LOG_MAX + 1), 0);
	close(fd);
	assert_int_equal(host_read_event_log(path, &log, &len, &present), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "larger than"));
	assert_null(log);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dmi_strings_are_read_and_cleaned),
	    cmocka_unit_test(test_no_dmi_no_dmi_object),
	    cmocka_unit_test(test_host_stays_within_4_kib),
	    cmocka_unit_test(test_event_log_is_read_whole),
	    cmocka_unit_test(test_event_log_larger_than_the_verifier_takes_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
