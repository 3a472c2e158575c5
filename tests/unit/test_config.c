/* The configuration file: defaults, every option, and clear refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "unit_util.h"

static err_t load_text(const char *text, struct config *c)
{
	char *dir = unit_tmpdir();
	char path[512];
	FILE *f;
	err_t rc;

	snprintf(path, sizeof(path), "%s/attestd.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	config_defaults(c);
	rc = config_load(path, c);
	unit_rmtree(dir);
	return rc;
}

static void test_defaults_are_safe(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.listen_addr, "127.0.0.1"); /* loopback unless told otherwise */
	assert_false(c.allow_plain_http);
	assert_int_equal(c.max_body, 4 * 1024 * 1024);
	assert_false(c.admission_requires_key);
}

static void test_every_option(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load_text("# comment\n\n"
				   "listen = [::1]:9000\n"
				   "tls_cert = /etc/attestd/tls.crt\n"
				   "tls_key=/etc/attestd/tls.key\n"
				   "  allow_plain_http = yes  \n"
				   "state_dir = /srv/attestd\n"
				   "store = sqlite:/srv/attestd/db\n"
				   "policy = /srv/policy.json\n"
				   "max_body = 65536\n"
				   "threads = 4\n"
				   "log_level = debug\n"
				   "token_issuer = https://attestd.example\n"
				   "token_audience = lab-gateway\n"
				   "admission_requires_key = true\n",
				   &c),
			 ERR_OK);
	assert_string_equal(c.listen_addr, "::1");
	assert_int_equal(c.listen_port, 9000);
	assert_string_equal(c.tls_key, "/etc/attestd/tls.key");
	assert_true(c.allow_plain_http);
	assert_string_equal(c.store, "sqlite:/srv/attestd/db");
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_string_equal(c.token_issuer, "https://attestd.example");
	assert_true(c.admission_requires_key);
}

/* Both URI schemes libpq reads select the PostgreSQL backend; the whole
 * URI is kept for libpq. */
static void test_postgresql_store(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load_text("store = postgresql://attestd@db.example:5432/attestd\n", &c),
			 ERR_OK);
	assert_string_equal(c.store, "postgresql://attestd@db.example:5432/attestd");
	assert_int_equal(
	    load_text("store = postgres://db.example/attestd?sslmode=verify-full\n", &c), ERR_OK);
	assert_string_equal(c.store, "postgres://db.example/attestd?sslmode=verify-full");
}

/* A refused store value is not repeated in the message: it may be a
 * mistyped URI that holds a password. */
static void test_store_refusal_hides_the_value(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load_text("store = postgresq://attestd:s3cret@db/attestd\n", &c),
			 ERR_BAD_REQUEST);
	assert_null(strstr(err_detail(), "s3cret"));
	assert_non_null(strstr(err_detail(), "postgresql://"));
}

static void test_refusals_name_the_line(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load_text("listen = 127.0.0.1:80\nbogus = 1\n", &c), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), ":2: unknown option 'bogus'"));
	assert_int_equal(load_text("listen = localhost:80\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("listen = 127.0.0.1:70000\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("listen = 127.0.0.1\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("max_body = 12abc\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("max_body = -1\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("max_body = 99999999999999999999999\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("allow_plain_http = maybe\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("store = mysql://x\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("store = sqlite:\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("store = postgresql://\n", &c), ERR_BAD_REQUEST);
	assert_int_equal(load_text("just words\n", &c), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), ":1: expected 'key = value'"));
	struct config d;
	config_defaults(&d);
	assert_int_equal(config_load("/nonexistent/attestd.conf", &d), ERR_NOT_FOUND);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(config_is_loopback("127.0.0.1"));
	assert_true(config_is_loopback("127.1.2.3"));
	assert_true(config_is_loopback("::1"));
	assert_false(config_is_loopback("0.0.0.0"));
	assert_false(config_is_loopback("::"));
	assert_false(config_is_loopback("10.0.0.1"));
	assert_false(config_is_loopback("garbage"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_are_safe),
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_refusals_name_the_line),
	    cmocka_unit_test(test_postgresql_store),
	    cmocka_unit_test(test_store_refusal_hides_the_value),
	    cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
