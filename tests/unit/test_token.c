/* ES256 admission tokens: issue, verify, and the forgeries JWT verifiers
 * have fallen for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "token.h"
#include "unit_util.h"

struct fixture {
	char *dir;
	struct token_keys *keys;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char keydir[512];

	f->dir = unit_tmpdir();
	snprintf(keydir, sizeof(keydir), "%s/keys", f->dir);
	if (token_keys_open(keydir, &f->keys) != ERR_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	token_keys_free(f->keys);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static void issue(struct token_keys *k, int64_t now, int64_t ttl, char **tok)
{
	struct token_issue req = {"attestd", "gw", "sha256:abcd", "jti-1", now, ttl, NULL};

	*tok = NULL;
	assert_int_equal(token_issue(k, &req, tok), ERR_OK);
}

static err_t verify(struct token_keys *k, const char *tok, int64_t now, struct token_claims *c)
{
	return token_verify(k, tok, strlen(tok), "attestd", "gw", now, c);
}

static void test_issue_verify(void **state)
{
	struct fixture *f = *state;
	struct token_claims c;
	char *tok;
	issue(f->keys, 1000, 300, &tok);

	assert_int_equal(verify(f->keys, tok, 1000, &c), ERR_OK);
	assert_string_equal(c.sub, "sha256:abcd");
	assert_string_equal(c.jti, "jti-1");
	assert_int_equal(c.iat, 1000);
	assert_int_equal(c.exp, 1300);
	assert_int_equal(verify(f->keys, tok, 1299, &c), ERR_OK);
	assert_int_equal(verify(f->keys, tok, 1300, &c), ERR_TOKEN_EXPIRED);
	assert_int_equal(verify(f->keys, tok, 999, &c), ERR_TOKEN_EXPIRED); /* before nbf */
	/* Another issuer's or audience's token is not ours. */
	assert_int_equal(token_verify(f->keys, tok, strlen(tok), "other", "gw", 1000, &c),
			 ERR_TOKEN_INVALID);
	assert_int_equal(token_verify(f->keys, tok, strlen(tok), "attestd", "x", 1000, &c),
			 ERR_TOKEN_INVALID);
	free(tok);
}

/* Replaces the header of tok with json (re-encoded), keeping the rest. */
static char *with_header(const char *tok, const char *json)
{
	char *h = b64url_encode((const uint8_t *)json, strlen(json));
	const char *rest = strchr(tok, '.');
	char *out = malloc(strlen(h) + strlen(rest) + 1);

	strcpy(out, h);
	strcat(out, rest);
	free(h);
	return out;
}

static void test_forgeries_refused(void **state)
{
	struct fixture *f = *state;
	struct token_claims c;
	char *tok;
	issue(f->keys, 1000, 300, &tok);
	size_t len = strlen(tok);
	char *forged;

	/* Flipped signature byte. */
	forged = strdup(tok);
	forged[len - 5] = forged[len - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(f->keys, forged, 1000, &c), ERR_TOKEN_INVALID);
	free(forged);

	/* alg "none" with an empty signature (the classic JWT forgery). */
	forged = with_header(tok, "{\"alg\":\"none\",\"typ\":\"JWT\"}");
	*(strrchr(forged, '.') + 1) = '\0';
	assert_int_equal(verify(f->keys, forged, 1000, &c), ERR_TOKEN_INVALID);
	free(forged);

	/* HS256 (public key as HMAC secret), RS256, unknown kid. */
	forged = with_header(tok, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x\"}");
	assert_int_equal(verify(f->keys, forged, 1000, &c), ERR_TOKEN_INVALID);
	free(forged);
	forged = with_header(tok, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"unknown\"}");
	assert_int_equal(verify(f->keys, forged, 1000, &c), ERR_TOKEN_INVALID);
	assert_string_equal(err_detail(), "unknown key id");
	free(forged);

	/* Claims swapped for another machine's: signature no longer matches. */
	const char *claims = "{\"iss\":\"attestd\",\"sub\":\"sha256:evil\",\"aud\":\"gw\","
			     "\"iat\":1000,\"nbf\":1000,\"exp\":99999,\"jti\":\"j\"}";
	char *c64 = b64url_encode((const uint8_t *)claims, strlen(claims));
	const char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
	forged = calloc(1, len + strlen(c64) + 1);
	memcpy(forged, tok, (size_t)(dot1 - tok) + 1);
	strcat(forged, c64);
	strcat(forged, dot2);
	assert_int_equal(verify(f->keys, forged, 1000, &c), ERR_TOKEN_INVALID);
	free(forged);
	free(c64);

	/* Malformed shapes. */
	assert_int_equal(verify(f->keys, "", 1000, &c), ERR_TOKEN_INVALID);
	assert_int_equal(verify(f->keys, "a.b", 1000, &c), ERR_TOKEN_INVALID);
	assert_int_equal(verify(f->keys, "a.b.c.d", 1000, &c), ERR_TOKEN_INVALID);
	assert_int_equal(verify(f->keys, "...", 1000, &c), ERR_TOKEN_INVALID);
	free(tok);
}

static void test_rotation_keeps_old_tokens(void **state)
{
	struct fixture *f = *state;
	struct token_claims c;
	char keydir[512], kid[64];
	char *old_tok;
	issue(f->keys, 1000, 300, &old_tok);
	json_t *jwks;

	snprintf(keydir, sizeof(keydir), "%s/keys", f->dir);
	assert_int_equal(token_keys_rotate(keydir, kid), ERR_OK);
	/* A second handle sees both keys at once (a restarted daemon). */
	struct token_keys *fresh;
	assert_int_equal(token_keys_open(keydir, &fresh), ERR_OK);
	assert_int_equal(verify(fresh, old_tok, 1000, &c), ERR_OK);
	char *new_tok;
	issue(fresh, 1000, 300, &new_tok);
	/* The new token names the new key. */
	char *hdr_end = strchr(new_tok, '.');
	uint8_t *hdr;
	size_t hdr_len;
	assert_true(b64url_decode(new_tok, (size_t)(hdr_end - new_tok), 1024, &hdr, &hdr_len));
	assert_non_null(memmem(hdr, hdr_len, kid, strlen(kid)));
	free(hdr);
	jwks = token_jwks(fresh);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
	json_t *k0 = json_array_get(json_object_get(jwks, "keys"), 0);
	assert_string_equal(json_string_value(json_object_get(k0, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(k0, "crv")), "P-256");
	json_decref(jwks);
	free(new_tok);
	free(old_tok);
	token_keys_free(fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_issue_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forgeries_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_keeps_old_tokens, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
