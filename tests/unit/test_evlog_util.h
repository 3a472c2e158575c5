/* Helpers shared by the event-log and boot-policy unit tests: loading the
 * vectors in tests/data/eventlogs and building small synthetic logs. */
#ifndef ATTEST_TEST_EVLOG_UTIL_H
#define ATTEST_TEST_EVLOG_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "evlog.h"
#include "evlog_json.h"
#include "fileio.h"

/* Reads tests/data/eventlogs/NAME (tests run in tests/data). */
static inline uint8_t *vector_bytes(const char *name, size_t *len)
{
	char path[256];
	uint8_t *bytes = NULL;

	snprintf(path, sizeof(path), "eventlogs/%s", name);
	if (fileio_read(path, EVLOG_MAX_SIZE, &bytes, len) != ERR_OK) {
		fprintf(stderr, "cannot read %s: %s\n", path, err_detail());
		abort();
	}
	return bytes;
}

static inline struct evlog *vector_log(const char *name)
{
	size_t len;
	uint8_t *bytes = vector_bytes(name, &len);
	struct evlog *log = NULL;

	if (evlog_parse(bytes, len, &log) != ERR_OK) {
		fprintf(stderr, "%s does not parse: %s\n", name, err_detail());
		abort();
	}
	free(bytes);
	return log;
}

/* The "banks" of NAME.pcrs.json; false when the vector has no sidecar. */
static inline bool vector_sidecar(const char *name, struct evlog_pcr_values out[EVLOG_BANK_COUNT])
{
	char path[256];
	json_t *doc;
	err_t rc;

	snprintf(path, sizeof(path), "eventlogs/%s.pcrs.json", name);
	doc = json_load_file(path, 0, NULL);
	if (doc == NULL)
		return false;
	rc = evlog_pcr_values_from_json(json_object_get(doc, "banks"), out);
	json_decref(doc);
	if (rc != ERR_OK) {
		fprintf(stderr, "%s: %s\n", path, err_detail());
		abort();
	}
	return true;
}

/* Removes PCR `pcr` from every bank of a sidecar (PCR 10 is Linux IMA's,
 * which no firmware log replays). */
static inline void sidecar_drop_pcr(struct evlog_pcr_values v[EVLOG_BANK_COUNT], unsigned pcr)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		size_t n = evlog_bank_size((enum evlog_bank)b), k = 0;

		if (!(v[b].mask & (1u << pcr)))
			continue;
		for (unsigned i = 0; i < pcr; i++)
			k += (v[b].mask >> i) & 1u;
		memmove(v[b].values + k * n, v[b].values + (k + 1) * n, v[b].len - (k + 1) * n);
		v[b].len -= n;
		v[b].mask &= ~(1u << pcr);
	}
}

/* Synthetic logs, written field by field in the log's little-endian. */
struct logbuf {
	uint8_t bytes[64 * 1024];
	size_t len;
};

static inline void lb_put(struct logbuf *b, const void *p, size_t n)
{
	if (n > sizeof(b->bytes) - b->len)
		abort();
	memcpy(b->bytes + b->len, p, n);
	b->len += n;
}

static inline void lb_u16(struct logbuf *b, uint16_t v)
{
	uint8_t s[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	lb_put(b, s, 2);
}

static inline void lb_u32(struct logbuf *b, uint32_t v)
{
	uint8_t s[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	lb_put(b, s, 4);
}

static inline void lb_fill(struct logbuf *b, uint8_t byte, size_t n)
{
	uint8_t chunk[64];

	memset(chunk, byte, sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		lb_put(b, chunk, k);
		n -= k;
	}
}

/* A legacy TCG_PCClientPCREvent with a SHA1 digest of `fill` bytes. */
static inline void lb_legacy_event(struct logbuf *b, uint32_t pcr, uint32_t type, uint8_t fill,
				   const void *data, uint32_t len)
{
	lb_u32(b, pcr);
	lb_u32(b, type);
	lb_fill(b, fill, 20);
	lb_u32(b, len);
	lb_put(b, data, len);
}

struct lb_alg {
	uint16_t alg;
	uint16_t size;
};

/* The Spec ID Event03 header event declaring `algs`. */
static inline void lb_spec_id(struct logbuf *b, const struct lb_alg *algs, uint32_t n)
{
	struct logbuf d = {.len = 0};

	lb_put(&d, "Spec ID Event03", 16);
	lb_u32(&d, 0);		   /* platform class */
	lb_put(&d, "\0\2\0\2", 4); /* version 2.0 errata 0, uintn size 2 */
	lb_u32(&d, n);
	for (uint32_t i = 0; i < n; i++) {
		lb_u16(&d, algs[i].alg);
		lb_u16(&d, algs[i].size);
	}
	lb_put(&d, "", 1); /* no vendor info */
	lb_legacy_event(b, 0, EV_NO_ACTION, 0, d.bytes, (uint32_t)d.len);
}

/* A TCG_PCR_EVENT2 with one digest per alg, each all `fill` bytes. */
static inline void lb_event2(struct logbuf *b, uint32_t pcr, uint32_t type,
			     const struct lb_alg *algs, uint32_t n, uint8_t fill, const void *data,
			     uint32_t len)
{
	lb_u32(b, pcr);
	lb_u32(b, type);
	lb_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		lb_u16(b, algs[i].alg);
		lb_fill(b, fill, algs[i].size);
	}
	lb_u32(b, len);
	lb_put(b, data, len);
}

static const struct lb_alg lb_sha1_sha256[] = {{0x0004, 20}, {0x000B, 32}};

/* H(v || digest) in place, as a TPM extends. */
static inline void expect_extend(const char *md, uint8_t *v, const uint8_t *digest, size_t n)
{
	uint8_t in[2 * EVLOG_MAX_DIGEST];
	unsigned int out_len;

	memcpy(in, v, n);
	memcpy(in + n, digest, n);
	if (EVP_Digest(in, 2 * n, v, &out_len, EVP_get_digestbyname(md), NULL) != 1)
		abort();
}

#endif
