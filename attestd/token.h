/* Admission tokens: JWTs (RFC 7519) signed ES256 with keys kept in
 * state_dir/token-keys/, named by their RFC 7638 JWK thumbprint (`kid`).
 * The newest key signs; retired keys keep verifying (and stay in the JWKS)
 * until every token they signed has expired. */
#ifndef ATTEST_TOKEN_H
#define ATTEST_TOKEN_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Longest token accepted from a caller: ours are ~700 bytes. */
#define TOKEN_MAX_LEN 8192
/* Keys kept at once (signing + retired ones still verifying). */
#define TOKEN_MAX_KEYS 8
/* A retired key is deleted at the next rotation after this many seconds:
 * longer than any token TTL the policy allows (policy caps TTL at 1 h). */
#define TOKEN_KEY_RETAIN_S (2 * 3600)

struct token_keys;

/* Loads the keys in dir (creating dir and a first key if none exists). */
err_t token_keys_open(const char *dir, struct token_keys **out) WARN_UNUSED;
void token_keys_free(struct token_keys *k);

/* Makes a new signing key, retires the current one, deletes keys retired
 * longer than TOKEN_KEY_RETAIN_S ago. Running daemons pick it up by
 * themselves (they re-read the directory when `current` changes). */
err_t token_keys_rotate(const char *dir, char kid_out[64]) WARN_UNUSED;

/* {"keys": [ {kty, crv, x, y, kid, use, alg}, ... ]} (new reference). */
json_t *token_jwks(struct token_keys *k);

struct token_claims {
	char sub[80]; /* machine id */
	char jti[64];
	int64_t iat;
	int64_t nbf;
	int64_t exp;
};

struct token_issue {
	const char *iss;
	const char *aud;
	const char *sub;
	const char *jti;
	int64_t now;
	int64_t ttl;
	json_t *facts; /* extra claims (attestation facts), borrowed; may be NULL */
};

/* Signs a token; *out is malloc'd. */
err_t token_issue(struct token_keys *k, const struct token_issue *req, char **out) WARN_UNUSED;

/* Verifies signature (ES256 only, known kid), issuer and audience, then
 * time: ERR_TOKEN_INVALID for anything malformed, forged or not ours,
 * ERR_TOKEN_EXPIRED when now >= exp or now < nbf. Claims are filled on
 * ERR_OK and on ERR_TOKEN_EXPIRED. */
err_t token_verify(struct token_keys *k, const char *token, size_t len, const char *iss,
		   const char *aud, int64_t now, struct token_claims *out) WARN_UNUSED;

#endif
