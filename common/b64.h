/* Strict base64 (RFC 4648 §4, padded), base64url (§5, unpadded, for JWTs) and
 * hex, on top of OpenSSL's block coder. */
#ifndef ATTEST_B64_H
#define ATTEST_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest input either encoder takes: OpenSSL's coder counts in int. */
#define B64_MAX_INPUT ((size_t)768 * 1024 * 1024)

/* NUL-terminated, malloc'd; NULL if n > B64_MAX_INPUT or out of memory. */
char *b64_encode(const uint8_t *p, size_t n);
char *b64url_encode(const uint8_t *p, size_t n);

/* Decodes s[0..slen) strictly: length a multiple of 4, only the alphabet, at
 * most two '=' and only at the end, unused bits of the last symbol zero, no
 * whitespace. Refuses results longer than max. On success *out is malloc'd
 * (free it; it may hold zero bytes) and *outlen its length. */
bool b64_decode(const char *s, size_t slen, size_t max, uint8_t **out, size_t *outlen) WARN_UNUSED;

/* Same rules for the URL alphabet without padding (a length of 1 mod 4 is
 * never valid). */
bool b64url_decode(const char *s, size_t slen, size_t max, uint8_t **out,
		   size_t *outlen) WARN_UNUSED;

/* Writes 2n lower-case hex digits and a NUL to out (2n+1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);

/* Decodes hex digits (either case, no prefix, even count) into out[0..cap). */
bool hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen) WARN_UNUSED;

#endif
