/* attest-client's settings: safe defaults, every key of the file, and a
 * refusal naming file, line and key for each bad one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conffile.h"
#include "config.h"
#include "unit_util.h"

static err_t load_text(const char *text, struct client_config *c)
{
	char *dir = unit_tmpdir();
	char path[512];
	FILE *f;
	err_t rc;

	snprintf(path, sizeof(path), "%s/attest-client.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	client_config_defaults(c);
	err_clear();
	rc = client_config_load(path, c);
	unit_rmtree(dir);
	return rc;
}

static void test_defaults(void **state)
{
	struct client_config c;

	(void)state;
	client_config_defaults(&c);
	assert_string_equal(c.tcti, "device:/dev/tpmrm0"); /* the kernel resource manager */
	assert_string_equal(c.token_file, "/run/attest/token");
	assert_string_equal(c.event_log, "/sys/kernel/security/tpm0/binary_bios_measurements");
	assert_false(c.insecure_http);
	assert_string_equal(c.ca_bundle, ""); /* the system store: still verified */
	assert_int_equal(c.ek_alg, CLIENT_ALG_AUTO);
	assert_int_equal(c.ak_alg, CLIENT_ALG_ECC);
	assert_int_equal(c.ak_handle, 0);
	assert_int_equal(c.retries, 5);
	assert_int_equal(c.timeout_s, 30);
	/* A verifier URL must be given: there is no default to send evidence to. */
	assert_int_equal(client_config_check(&c, true), ERR_BAD_REQUEST);
	assert_int_equal(client_config_check(&c, false), ERR_OK);
}

static void test_every_key(void **state)
{
	struct client_config c;

	(void)state;
	assert_int_equal(load_text("# attest-client\n\n"
				   "url = https://attestd.example:8443/\n"
				   "ca_bundle = /etc/attest/ca.pem\n"
				   "  insecure_http = yes  \n"
				   "tcti=swtpm:host=127.0.0.1,port=2321\n"
				   "token_file = /run/x/token\n"
				   "event_log = /tmp/log.bin\n"
				   "ek_alg = rsa\n"
				   "ek_cert = /etc/attest/ek.pem\n"
				   "ek_chain = /etc/attest/chain.pem\n"
				   "ak_alg = rsa\n"
				   "ak_handle = 0x81010003\n"
				   "retries = 0\n"
				   "retry_delay = 100\n"
				   "retry_max_delay = 400\n"
				   "timeout = 5\n"
				   "log_level = debug\n",
				   &c),
			 ERR_OK);
	assert_string_equal(c.url, "https://attestd.example:8443/");
	assert_string_equal(c.ca_bundle, "/etc/attest/ca.pem");
	assert_true(c.insecure_http);
	assert_string_equal(c.tcti, "swtpm:host=127.0.0.1,port=2321"); /* '=' inside a value */
	assert_string_equal(c.token_file, "/run/x/token");
	assert_string_equal(c.event_log, "/tmp/log.bin");
	assert_int_equal(c.ek_alg, CLIENT_ALG_RSA);
	assert_string_equal(c.ek_cert, "/etc/attest/ek.pem");
	assert_string_equal(c.ek_chain, "/etc/attest/chain.pem");
	assert_int_equal(c.ak_alg, CLIENT_ALG_RSA);
	assert_int_equal(c.ak_handle, 0x81010003);
	assert_int_equal(c.retries, 0);
	assert_int_equal(c.retry_delay_ms, 100);
	assert_int_equal(c.retry_max_delay_ms, 400);
	assert_int_equal(c.timeout_s, 5);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(client_config_check(&c, true), ERR_OK);
}

/* load_text(text) fails; the detail holds each of the words. */
static void refuse(const char *text, const char *word1, const char *word2)
{
	struct client_config c;

	assert_int_equal(load_text(text, &c), ERR_BAD_REQUEST);
	if (strstr(err_detail(), word1) == NULL || strstr(err_detail(), word2) == NULL)
		fail_msg("detail '%s' lacks '%s' or '%s'", err_detail(), word1, word2);
}

static void test_bad_files_are_refused_naming_line_and_key(void **state)
{
	(void)state;
	/* A typo must not leave a default silently in force. */
	refuse("url = https://a\nak_algo = rsa\n", ":2: ", "unknown option 'ak_algo'");
	refuse("just words\n", ":1: ", "key = value");
	refuse("ek_alg = dsa\n", ":1: ", "ek_alg");
	refuse("ak_alg = auto\n", ":1: ", "ak_alg"); /* auto is for the EK only */
	refuse("insecure_http = maybe\n", ":1: ", "insecure_http");
	/* An AK handle outside the persistent range is no AK. */
	refuse("ak_handle = 0x01c00002\n", ":1: ", "ak_handle");
	refuse("ak_handle = 0x81010003x\n", ":1: ", "ak_handle");
	refuse("retries = 101\n", ":1: ", "retries");
	refuse("retries = -1\n", ":1: ", "retries");
	refuse("timeout = 0\n", ":1: ", "timeout");
	refuse("retry_delay = 600001\n", ":1: ", "retry_delay");
	refuse("log_level = loud\n", ":1: ", "log_level");
}

static void test_overlong_lines_and_values_are_refused(void **state)
{
	size_t n = CONFFILE_MAX_LINE + 200;
	char *text = malloc(n + 16);
	struct client_config c;

	(void)state;
	assert_non_null(text);
	memcpy(text, "url = ", 6);
	memset(text + 6, 'a', n - 6);
	strcpy(text + n, "\n");
	refuse(text, ":1: ", "too long");
	/* A value one byte too long for its field, on a line that fits. */
	memset(text + 6, 'a', CLIENT_CONFIG_MAX_VALUE);
	strcpy(text + 6 + CLIENT_CONFIG_MAX_VALUE, "\n");
	refuse(text, ":1: ", "url");
	/* The longest value that fits is kept whole. */
	strcpy(text + 6 + CLIENT_CONFIG_MAX_VALUE - 1, "\n");
	assert_int_equal(load_text(text, &c), ERR_OK);
	assert_int_equal(strlen(c.url), CLIENT_CONFIG_MAX_VALUE - 1);
	free(text);
}

static void test_missing_file_is_not_found(void **state)
{
	struct client_config c;

	(void)state;
	client_config_defaults(&c);
	assert_int_equal(client_config_load("/nonexistent/attest-client.conf", &c), ERR_NOT_FOUND);
}

static void test_settings_that_contradict_each_other(void **state)
{
	struct client_config c;

	(void)state;
	client_config_defaults(&c);
	assert_int_equal(client_config_set(&c, "url", "https://v"), ERR_OK);
	assert_int_equal(client_config_set(&c, "ak_handle", "0x81010003"), ERR_OK);
	assert_int_equal(client_config_set(&c, "ak_context", "/var/lib/ak.ctx"), ERR_OK);
	assert_int_equal(client_config_check(&c, true), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "ak_handle and ak_context"));

	client_config_defaults(&c);
	assert_int_equal(client_config_set(&c, "retry_delay", "5000"), ERR_OK);
	assert_int_equal(client_config_set(&c, "retry_max_delay", "1000"), ERR_OK);
	assert_int_equal(client_config_check(&c, false), ERR_BAD_REQUEST);
}

/* The example shipped next to the program loads as it is, and says what it
 * claims to. */
static void test_shipped_example_is_valid(void **state)
{
	struct client_config c;

	(void)state;
	client_config_defaults(&c);
	assert_int_equal(client_config_load("../../attest-client/attest-client.conf.example", &c),
			 ERR_OK);
	assert_string_equal(c.url, "https://attestd.example.net:8443");
	assert_string_equal(c.ca_bundle, "/etc/attest-client/attestd-ca.pem");
	assert_false(c.insecure_http);
	assert_int_equal(client_config_check(&c, true), ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_bad_files_are_refused_naming_line_and_key),
	    cmocka_unit_test(test_overlong_lines_and_values_are_refused),
	    cmocka_unit_test(test_missing_file_is_not_found),
	    cmocka_unit_test(test_settings_that_contradict_each_other),
	    cmocka_unit_test(test_shipped_example_is_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
