/* Strict base64, base64url and hex: RFC 4648 vectors and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

static const struct {
	const char *plain;
	const char *b64;
	const char *b64url;
} rfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static bool decodes(const char *s, uint8_t **out, size_t *n)
{
	return b64_decode(s, strlen(s), 1024, out, n);
}

static void test_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *plain = rfc4648[i].plain;
		char *enc = b64_encode((const uint8_t *)plain, strlen(plain));
		char *url = b64url_encode((const uint8_t *)plain, strlen(plain));
		uint8_t *dec = NULL;
		size_t n = 99;

		assert_non_null(enc);
		assert_string_equal(enc, rfc4648[i].b64);
		assert_string_equal(url, rfc4648[i].b64url);
		assert_true(decodes(enc, &dec, &n));
		assert_int_equal(n, strlen(plain));
		assert_memory_equal(dec, plain, n);
		free(dec);
		assert_true(b64url_decode(url, strlen(url), 1024, &dec, &n));
		assert_int_equal(n, strlen(plain));
		assert_memory_equal(dec, plain, n);
		free(dec);
		free(enc);
		free(url);
	}
}

static void test_binary_and_url_alphabet(void **state)
{
	const uint8_t bin[] = {0xfb, 0xff, 0xbf, 0x00};
	char *enc, *url;
	uint8_t *dec;
	size_t n;

	(void)state;
	enc = b64_encode(bin, sizeof(bin));
	url = b64url_encode(bin, sizeof(bin));
	assert_string_equal(enc, "+/+/AA==");
	assert_string_equal(url, "-_-_AA");
	assert_true(b64url_decode(url, strlen(url), 16, &dec, &n));
	assert_int_equal(n, sizeof(bin));
	assert_memory_equal(dec, bin, n);
	free(dec);
	/* Each alphabet refuses the other's symbols. */
	assert_false(b64url_decode(enc, strlen(enc), 16, &dec, &n));
	assert_false(decodes(url, &dec, &n));
	free(enc);
	free(url);
}

static void test_strict_refusals(void **state)
{
	static const char *bad[] = {
	    "Zg",	/* missing padding */
	    "Zg=",	/* wrong length */
	    "Zh==",	/* non-zero padding bits (OpenSSL alone accepts it) */
	    "Zm9=",	/* non-zero padding bits, one '=' */
	    "Zm 8=",	/* whitespace */
	    "Zm8=\n",	/* trailing newline */
	    "Zm8=Zm8=", /* padding in the middle */
	    "Z===",	/* three '=' */
	    "====",	/* only padding */
	    "Zm-8",	/* URL symbol in the standard alphabet */
	    ("Zm\x80"
	     "8"), /* non-ASCII */
	};
	uint8_t *dec = NULL;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(decodes(bad[i], &dec, &n));
	assert_null(dec);
	/* Embedded NUL: the length, not the terminator, bounds the input. */
	assert_false(b64_decode("Zm8\0", 4, 16, &dec, &n));
	assert_false(b64url_decode("Z", 1, 16, &dec, &n));   /* 1 mod 4 is never valid */
	assert_false(b64url_decode("Zh", 2, 16, &dec, &n));  /* non-zero unused bits */
	assert_false(b64url_decode("Zg=", 3, 16, &dec, &n)); /* no padding in base64url */
}

static void test_decode_cap(void **state)
{
	uint8_t *dec = NULL;
	size_t n;

	(void)state;
	assert_true(b64_decode("Zm9v", 4, 3, &dec, &n)); /* exactly the cap */
	free(dec);
	dec = NULL;
	assert_false(b64_decode("Zm9v", 4, 2, &dec, &n)); /* one over */
	assert_false(b64_decode("Zm9vYg==", 8, 3, &dec, &n));
	assert_null(dec);
	assert_false(b64_decode("Zm9v", SIZE_MAX, SIZE_MAX, &dec, &n));
	assert_null(b64_encode((const uint8_t *)"", B64_MAX_INPUT + 1));
}

static void test_hex(void **state)
{
	const uint8_t bin[] = {0x00, 0x9f, 0xa0, 0xff};
	char out[2 * sizeof(bin) + 1];
	uint8_t dec[4];
	size_t n;

	(void)state;
	hex_encode(bin, sizeof(bin), out);
	assert_string_equal(out, "009fa0ff");
	assert_true(hex_decode("009FA0ff", 8, dec, sizeof(dec), &n)); /* either case */
	assert_int_equal(n, 4);
	assert_memory_equal(dec, bin, 4);
	assert_true(hex_decode("", 0, dec, 0, &n));
	assert_int_equal(n, 0);
	assert_false(hex_decode("009", 3, dec, sizeof(dec), &n));  /* odd */
	assert_false(hex_decode("0x9f", 4, dec, sizeof(dec), &n)); /* prefix */
	assert_false(hex_decode("zz", 2, dec, sizeof(dec), &n));
	assert_false(hex_decode("0011223344", 10, dec, sizeof(dec), &n)); /* one over the cap */
	assert_false(hex_decode("00", SIZE_MAX - 1, dec, sizeof(dec), &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors),
	    cmocka_unit_test(test_binary_and_url_alphabet),
	    cmocka_unit_test(test_strict_refusals),
	    cmocka_unit_test(test_decode_cap),
	    cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
