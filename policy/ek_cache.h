/* A small, bounded, thread-safe cache of EK verdicts (NOTES-performance.md:
 * parsing and chain checks cost more than the rest of an attestation).
 * Set-associative: a key maps to one set of EK_CACHE_WAYS slots under its
 * own lock, so threads rarely wait on each other and memory is fixed. One
 * cache belongs to one loaded policy, so a reloaded policy (new anchors,
 * rules or CRLs) starts empty and no generation number is needed. */
#ifndef ATTEST_EK_CACHE_H
#define ATTEST_EK_CACHE_H

#include <stdint.h>
#include <time.h>

#include "ek_check.h"
#include "err.h"

/* 1024 sets x 4 ways = 4,096 verdicts (~10 MiB): a fleet of that many
 * machines re-attesting stays warm; beyond it the cache degrades to one
 * chain check per attestation, which is still correct. */
#define EK_CACHE_SETS 1024
#define EK_CACHE_WAYS 4

/* Longest a verdict is reused. Nothing but the clock changes a verdict
 * under one policy; this bounds how late a certificate that becomes valid
 * (or expires, with expiry checks on) is noticed. */
#define EK_CACHE_MAX_AGE 600

#define EK_CACHE_KEY_SIZE 32

struct ek_cache;

err_t ek_cache_new(struct ek_cache **out) WARN_UNUSED;
void ek_cache_free(struct ek_cache *c);

/* A new reference to the verdict stored under key and still valid at now,
 * or NULL. */
const struct ek_verdict *ek_cache_get(struct ek_cache *c,
				      const uint8_t key[static EK_CACHE_KEY_SIZE], time_t now);

/* Stores a reference to v (replacing the oldest entry of the set). */
void ek_cache_put(struct ek_cache *c, const uint8_t key[static EK_CACHE_KEY_SIZE],
		  const struct ek_verdict *v);

#endif
