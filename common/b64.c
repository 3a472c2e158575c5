/* Base64 and hex. OpenSSL's EVP_DecodeBlock accepts whitespace and ignores
 * non-zero padding bits, so every input is validated here first and only a
 * canonical encoding reaches it. */
#include "b64.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* One more than each byte's value as a base64 symbol, 0 for anything
 * else: one table lookup per input byte (request bodies carry 40 KB event
 * logs in base64). */
static const uint8_t b64_values_plus1[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,  ['G'] = 7,	['H'] = 8,
    ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int b64_symbol_value(char c)
{
	return (int)b64_values_plus1[(unsigned char)c] - 1;
}

char *b64_encode(const uint8_t *p, size_t n)
{
	char *out;

	if (n > B64_MAX_INPUT)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	(void)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *b64url_encode(const uint8_t *p, size_t n)
{
	char *out = b64_encode(p, n);
	size_t len;

	if (out == NULL)
		return NULL;
	len = strlen(out);
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* Checks canonical padded base64 and returns the number of '=' (0..2), or -1. */
static int b64_validate(const char *s, size_t slen)
{
	size_t pad = 0;
	int last;

	if (slen % 4 != 0)
		return -1;
	if (slen == 0)
		return 0;
	if (s[slen - 1] == '=')
		pad = s[slen - 2] == '=' ? 2 : 1;
	/* No branch per byte: remember whether any byte was not a symbol. */
	unsigned any_bad = 0;

	for (size_t i = 0; i < slen - pad; i++)
		any_bad |= b64_values_plus1[(unsigned char)s[i]] == 0;
	if (any_bad)
		return -1;
	/* The symbol before the padding carries 4 (one byte) or 2 (two bytes)
	 * unused low bits; a canonical encoder writes them as zero. */
	last = b64_symbol_value(s[slen - pad - 1]);
	if ((pad == 2 && (last & 0x0f) != 0) || (pad == 1 && (last & 0x03) != 0))
		return -1;
	return (int)pad;
}

bool b64_decode(const char *s, size_t slen, size_t max, uint8_t **out, size_t *outlen)
{
	int pad = b64_validate(s, slen);
	size_t n;
	uint8_t *buf;

	if (pad < 0 || slen > B64_MAX_INPUT)
		return false;
	n = slen / 4 * 3 - (size_t)pad;
	if (n > max)
		return false;
	/* EVP_DecodeBlock writes whole groups, padding bytes included. */
	buf = malloc(slen / 4 * 3 + 1);
	if (buf == NULL)
		return false;
	if (slen > 0 && EVP_DecodeBlock(buf, (const unsigned char *)s, (int)slen) < 0) {
		free(buf);
		return false;
	}
	*out = buf;
	*outlen = n;
	return true;
}

bool b64url_decode(const char *s, size_t slen, size_t max, uint8_t **out, size_t *outlen)
{
	size_t padded_len;
	char *std;
	bool ok;

	if (slen % 4 == 1 || slen > B64_MAX_INPUT)
		return false;
	padded_len = (slen + 3) / 4 * 4;
	std = malloc(padded_len);
	if (std == NULL)
		return false;
	for (size_t i = 0; i < slen; i++) {
		char c = s[i];

		/* The standard symbols '+', '/' and '=' are not part of this
		 * alphabet: map them to a non-symbol so validation refuses them. */
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || c == '=')
			c = '!';
		std[i] = c;
	}
	memset(std + slen, '=', padded_len - slen);
	ok = b64_decode(std, padded_len, max, out, outlen);
	free(std);
	return ok;
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
	if (slen % 2 != 0 || slen / 2 > cap)
		return false;
	for (size_t i = 0; i < slen / 2; i++) {
		int hi = hex_digit_value(s[2 * i]);
		int lo = hex_digit_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = slen / 2;
	return true;
}
