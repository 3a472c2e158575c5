/* PostgreSQL backend: values between attestd and the server. Statement
 * parameters (text, int64 as text, bytes as binary), binary result
 * columns read with their sizes checked, and text made valid for a UTF-8
 * database before it is hashed and stored. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

static int param_add(struct pg_params *p, const char *v, int len, int format)
{
	/* Every statement's parameter count is fixed by its SQL text, at most
	 * PG_MAX_PARAMS: overflowing is a programming error. */
	if (p->n >= PG_MAX_PARAMS)
		abort();
	p->values[p->n] = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = format;
	return ++p->n;
}

int pg_param_text(struct pg_params *p, const char *s)
{
	return param_add(p, s, 0, 0);
}

int pg_param_int(struct pg_params *p, int64_t v)
{
	if (p->n >= PG_MAX_PARAMS)
		abort();
	snprintf(p->ints[p->n], sizeof(p->ints[p->n]), "%" PRId64, v);
	return param_add(p, p->ints[p->n], 0, 0);
}

int pg_param_bytes(struct pg_params *p, const uint8_t *b, size_t len)
{
	return param_add(p, (const char *)b, (int)len, 1);
}

void pg_params_record(struct pg_params *p, const struct attestation_record *r)
{
	pg_param_int(p, r->id);
	pg_param_int(p, r->time);
	pg_param_text(p, r->phase);
	pg_param_text(p, r->machine_id);
	pg_param_text(p, r->ek_issuer);
	pg_param_text(p, r->ek_manufacturer);
	pg_param_text(p, store_outcome_str(r->admitted));
	pg_param_text(p, r->error);
	pg_param_text(p, r->detail);
	pg_param_text(p, r->policy);
	pg_param_text(p, r->pcr_digest);
	pg_param_int(p, r->reset_count);
	pg_param_int(p, r->restart_count);
	pg_param_text(p, r->host);
	pg_param_text(p, r->token_jti);
	pg_param_bytes(p, r->prev_hash, STORE_HASH_LEN);
	pg_param_bytes(p, r->hash, STORE_HASH_LEN);
}

/* Length of the well-formed UTF-8 sequence at s (1 to 4 bytes), or 0.
 * Stops at the terminating NUL: a byte is read only after the one before
 * it was a continuation byte. */
static size_t utf8_sequence_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0; /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0; /* overlong, or beyond U+10FFFF */
		return 4;
	}
	return 0;
}

bool pg_utf8_repair(char *s)
{
	bool changed = false;

	for (unsigned char *p = (unsigned char *)s; *p != '\0';) {
		size_t n = utf8_sequence_len(p);

		if (n == 0) {
			*p++ = '?';
			changed = true;
		} else {
			p += n;
		}
	}
	return changed;
}

bool pg_record_repair_text(struct attestation_record *r)
{
	char *fields[] = {r->phase, r->machine_id, r->ek_issuer, r->ek_manufacturer,
			  r->error, r->detail,	   r->policy,	 r->pcr_digest,
			  r->host,  r->token_jti};
	bool changed = false;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		changed |= pg_utf8_repair(fields[i]);
	return changed;
}

int64_t pg_col_int64(const PGresult *r, int row, int col)
{
	const uint8_t *v = (const uint8_t *)PQgetvalue(r, row, col);
	uint64_t x = 0;

	/* Binary int8: eight bytes, big-endian. */
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | v[i];
	return (int64_t)x;
}

void pg_col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, PQgetvalue(r, row, col), n);
	dst[n] = '\0';
}

void pg_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t len)
{
	memset(dst, 0, len);
	if (!PQgetisnull(r, row, col) && (size_t)PQgetlength(r, row, col) == len)
		memcpy(dst, PQgetvalue(r, row, col), len);
}
