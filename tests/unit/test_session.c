/* Sealed sessions: round trip, and every way a session must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "b64.h"
#include "session.h"
#include "unit_util.h"

static void fill_session(struct session *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(session_randomize(s), ERR_OK);
	s->expires_at = 1000;
	strcpy(s->pcr_selection, "sha256:0,1,2,3,4,5,6,7");
	strcpy(s->machine_id, "sha256:00ff");
	strcpy(s->ek_manufacturer, "id:53544D20");
	strcpy(s->ek_issuer, "CN=Test");
	s->ak_pub_len = 90;
	memset(s->ak_pub, 0xab, s->ak_pub_len);
}

/* A sample session sealed under a fixed key; free the result. */
static char *seal_sample(struct session_key *k, struct session *s)
{
	char *sealed = NULL;

	memset(k->key, 7, sizeof(k->key));
	fill_session(s);
	assert_int_equal(session_seal(k, s, &sealed), ERR_OK);
	return sealed;
}

static void test_round_trip(void **state)
{
	struct session_key k;
	struct session s, back;
	char *sealed;

	(void)state;
	sealed = seal_sample(&k, &s);
	assert_int_equal(session_open(&k, sealed, strlen(sealed), 999, &back), ERR_OK);
	assert_memory_equal(back.id, s.id, sizeof(s.id));
	assert_memory_equal(back.secret, s.secret, sizeof(s.secret));
	assert_memory_equal(back.nonce, s.nonce, sizeof(s.nonce));
	assert_int_equal(back.expires_at, 1000);
	assert_string_equal(back.pcr_selection, s.pcr_selection);
	assert_string_equal(back.ek_issuer, "CN=Test");
	assert_string_equal(back.host, s.host);
	assert_int_equal(back.ak_pub_len, 90);
	assert_memory_equal(back.ak_pub, s.ak_pub, 90);
	/* The secret is not visible in the sealed form. */
	assert_null(strstr(sealed, "AAAA"));
	free(sealed);
}

static void test_expired(void **state)
{
	struct session_key k;
	struct session s, back;
	char *sealed;

	(void)state;
	sealed = seal_sample(&k, &s);
	assert_int_equal(session_open(&k, sealed, strlen(sealed), 1000, &back),
			 ERR_SESSION_EXPIRED);
	assert_int_equal(session_open(&k, sealed, strlen(sealed), 5000, &back),
			 ERR_SESSION_EXPIRED);
	free(sealed);
}

static void test_forged_and_tampered(void **state)
{
	struct session_key k, other;
	struct session s, back;
	char *sealed;
	size_t len;

	(void)state;
	memset(other.key, 8, sizeof(other.key));
	sealed = seal_sample(&k, &s);
	len = strlen(sealed);
	/* Another server's key. */
	assert_int_equal(session_open(&other, sealed, len, 0, &back), ERR_SESSION_INVALID);
	/* Every flipped symbol of the sealed form is detected. */
	for (size_t i = 0; i < len; i++) {
		char saved = sealed[i];

		sealed[i] = saved == 'A' ? 'B' : 'A';
		assert_int_equal(session_open(&k, sealed, len, 0, &back), ERR_SESSION_INVALID);
		sealed[i] = saved;
	}
	/* Truncated, empty, garbage, over-long. */
	assert_int_equal(session_open(&k, sealed, len - 4, 0, &back), ERR_SESSION_INVALID);
	assert_int_equal(session_open(&k, "", 0, 0, &back), ERR_SESSION_INVALID);
	assert_int_equal(session_open(&k, "not base64!", 11, 0, &back), ERR_SESSION_INVALID);
	assert_int_equal(session_open(&k, sealed, SESSION_MAX_SEALED + 1, 0, &back),
			 ERR_SESSION_INVALID);
	free(sealed);
}

static void test_key_file_created_once(void **state)
{
	char *dir = unit_tmpdir();
	struct session_key a, b;
	char path[512];
	struct stat st;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(session_key_load(dir, &a), ERR_OK);
	assert_int_equal(session_key_load(dir, &b), ERR_OK);
	assert_memory_equal(a.key, b.key, sizeof(a.key)); /* a restart keeps the key */
	snprintf(path, sizeof(path), "%s/session.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, SESSION_KEY_LEN);
	/* A damaged key file is refused, not silently replaced. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("short", f);
	fclose(f);
	assert_int_equal(session_key_load(dir, &b), ERR_INTERNAL);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_forged_and_tampered),
	    cmocka_unit_test(test_key_file_created_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
