/* Internals shared by the token files: the signing keys (token_keys.c)
 * and the JWTs made and checked with them (token.c). */
#ifndef ATTEST_TOKEN_INT_H
#define ATTEST_TOKEN_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "token.h"

#define TOKEN_KID_LEN 43 /* base64url of a SHA-256 thumbprint */
#define P256_COORD    32
/* A PEM-encoded P-256 private key is ~250 bytes. */
#define TOKEN_KEY_FILE_MAX 8192

struct token_key {
	char kid[TOKEN_KID_LEN + 1];
	EVP_PKEY *pkey;
	uint8_t x[P256_COORD];
	uint8_t y[P256_COORD];
};

/* Verified tokens, so a gateway asking about the same token on every
 * request costs a hash and a lookup instead of an ECDSA verification.
 * Direct-mapped by the key hash; a collision just evicts. Only tokens whose
 * signature, issuer and audience checked out are stored; their times are
 * checked on every hit. */
#define TOKEN_CACHE_SLOTS 8192
#define TOKEN_CACHE_LOCKS 64

struct token_cache_slot {
	bool used;
	uint8_t key[32]; /* SHA-256 of iss, aud and the token */
	struct token_claims claims;
};

struct token_keys {
	pthread_mutex_t cache_locks[TOKEN_CACHE_LOCKS];
	struct token_cache_slot cache[TOKEN_CACHE_SLOTS];
	pthread_rwlock_t lock;
	char dir[4096];
	struct token_key keys[TOKEN_MAX_KEYS];
	size_t nkeys;
	size_t current;
	struct timespec current_mtime; /* of dir/current when last loaded */
	int64_t last_check;	       /* Unix seconds, accessed with __atomic builtins */
};

/* Re-reads the key directory when `current` changed (a rotation by
 * attestctl or another instance); checks at most once a second. */
void token_keys_refresh(struct token_keys *k);

/* The key named kid; caller holds k->lock for reading. NULL if unknown. */
const struct token_key *token_keys_find(struct token_keys *k, const char *kid);

#endif
