/* JWT ES256 admission tokens: issue, verify, and the cache of verified
 * tokens. The keys are token_keys.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "b64.h"
#include "token_int.h"

static char *json_b64url(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	char *enc = text != NULL ? b64url_encode((const uint8_t *)text, strlen(text)) : NULL;

	free(text);
	return enc;
}

/* ECDSA DER (OpenSSL) to the fixed 64-byte r||s of RFC 7518 §3.4. */
static bool der_to_raw(const uint8_t *der, size_t len, uint8_t raw[static 2 * P256_COORD])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	bool ok;

	if (sig == NULL)
		return false;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, P256_COORD) == P256_COORD &&
	     BN_bn2binpad(s, raw + P256_COORD, P256_COORD) == P256_COORD;
	ECDSA_SIG_free(sig);
	return ok;
}

static bool raw_to_der(const uint8_t raw[static 2 * P256_COORD], uint8_t **der, size_t *len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, P256_COORD, NULL);
	BIGNUM *s = BN_bin2bn(raw + P256_COORD, P256_COORD, NULL);
	int n;

	if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(s);
		return false;
	}
	*der = NULL;
	n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return false;
	*len = (size_t)n;
	return true;
}

err_t token_issue(struct token_keys *k, const struct token_issue *req, char **out)
{
	json_t *header = NULL, *claims = NULL;
	char *h64 = NULL, *c64 = NULL, *s64 = NULL, *signing_input = NULL;
	uint8_t der[128], raw[2 * P256_COORD];
	size_t der_len = sizeof(der);
	EVP_MD_CTX *md = NULL;
	err_t rc = ERR_INTERNAL;
	bool locked = false;

	token_keys_refresh(k);
	pthread_rwlock_rdlock(&k->lock);
	locked = true;
	const struct token_key *key = &k->keys[k->current];

	header = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "JWT", "kid", key->kid);
	claims =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", req->iss, "sub", req->sub,
		      "aud", req->aud, "iat", (json_int_t)req->now, "nbf", (json_int_t)req->now,
		      "exp", (json_int_t)(req->now + req->ttl), "jti", req->jti);
	if (header == NULL || claims == NULL ||
	    (req->facts != NULL && json_object_update_missing(claims, req->facts) != 0))
		goto out;
	h64 = json_b64url(header);
	c64 = json_b64url(claims);
	if (h64 == NULL || c64 == NULL || asprintf(&signing_input, "%s.%s", h64, c64) < 0) {
		signing_input = NULL;
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
	    EVP_DigestSign(md, der, &der_len, (const uint8_t *)signing_input,
			   strlen(signing_input)) != 1 ||
	    !der_to_raw(der, der_len, raw))
		goto out;
	s64 = b64url_encode(raw, sizeof(raw));
	if (s64 == NULL || asprintf(out, "%s.%s", signing_input, s64) < 0)
		goto out;
	rc = ERR_OK;
out:
	if (locked)
		pthread_rwlock_unlock(&k->lock);
	EVP_MD_CTX_free(md);
	json_decref(header);
	json_decref(claims);
	free(h64);
	free(c64);
	free(s64);
	free(signing_input);
	return rc == ERR_OK ? rc : err_fail(rc, "signing the token failed");
}

static json_t *decode_json_part(const char *p, size_t len)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	json_t *j = NULL;

	if (b64url_decode(p, len, TOKEN_MAX_LEN, &raw, &raw_len))
		j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static bool claim_time(json_t *claims, const char *name, int64_t *out)
{
	json_t *v = json_object_get(claims, name);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

static bool claim_string(json_t *claims, const char *name, char *dst, size_t cap)
{
	const char *s = json_string_value(json_object_get(claims, name));

	if (s == NULL || strlen(s) >= cap)
		return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

static err_t verify_uncached(struct token_keys *k, const char *token, size_t len, const char *iss,
			     const char *aud, int64_t now, struct token_claims *out)
{
	const char *dot1, *dot2;
	json_t *header = NULL, *claims = NULL;
	uint8_t *sig = NULL, *der = NULL;
	size_t sig_len = 0, der_len = 0;
	EVP_MD_CTX *md = NULL;
	const char *alg, *kid, *typ;
	err_t rc = ERR_TOKEN_INVALID;
	const char *why = "malformed token";
	bool locked = false;

	if (len == 0 || len > TOKEN_MAX_LEN || memchr(token, '\0', len) != NULL)
		goto out;
	dot1 = memchr(token, '.', len);
	dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		goto out;
	header = decode_json_part(token, (size_t)(dot1 - token));
	claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (header == NULL || claims == NULL)
		goto out;
	alg = json_string_value(json_object_get(header, "alg"));
	kid = json_string_value(json_object_get(header, "kid"));
	typ = json_string_value(json_object_get(header, "typ"));
	/* Only ES256: "none", HS256 with the public key as secret and the like
	 * are the classic JWT forgeries. */
	if (alg == NULL || strcmp(alg, "ES256") != 0) {
		why = "algorithm is not ES256";
		goto out;
	}
	if (json_object_get(header, "crit") != NULL || (typ != NULL && strcmp(typ, "JWT") != 0) ||
	    kid == NULL) {
		why = "unsupported token header";
		goto out;
	}
	if (!b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), 128, &sig, &sig_len) ||
	    sig_len != 2 * P256_COORD || !raw_to_der(sig, &der, &der_len)) {
		why = "malformed signature";
		goto out;
	}

	token_keys_refresh(k);
	pthread_rwlock_rdlock(&k->lock);
	locked = true;
	const struct token_key *key = token_keys_find(k, kid);

	if (key == NULL) {
		why = "unknown key id";
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
	    EVP_DigestVerify(md, der, der_len, (const uint8_t *)token, (size_t)(dot2 - token)) !=
		1) {
		why = "bad signature";
		goto out;
	}
	if (!claim_string(claims, "sub", out->sub, sizeof(out->sub)) ||
	    !claim_string(claims, "jti", out->jti, sizeof(out->jti)) ||
	    !claim_time(claims, "iat", &out->iat) || !claim_time(claims, "nbf", &out->nbf) ||
	    !claim_time(claims, "exp", &out->exp)) {
		why = "missing claims";
		goto out;
	}
	const char *tiss = json_string_value(json_object_get(claims, "iss"));
	const char *taud = json_string_value(json_object_get(claims, "aud"));

	if (tiss == NULL || strcmp(tiss, iss) != 0 || taud == NULL || strcmp(taud, aud) != 0) {
		why = "wrong issuer or audience";
		goto out;
	}
	if (now >= out->exp || now < out->nbf) {
		rc = ERR_TOKEN_EXPIRED;
		why = now >= out->exp ? "token expired" : "token not yet valid";
		goto out;
	}
	rc = ERR_OK;
out:
	if (locked)
		pthread_rwlock_unlock(&k->lock);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	free(sig);
	json_decref(header);
	json_decref(claims);
	return rc == ERR_OK ? rc : err_fail(rc, "%s", why);
}

static bool cache_key(const char *token, size_t len, const char *iss, const char *aud,
		      uint8_t key[static 32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, iss, strlen(iss) + 1) == 1 &&
		  EVP_DigestUpdate(md, aud, strlen(aud) + 1) == 1 &&
		  EVP_DigestUpdate(md, token, len) == 1 && EVP_DigestFinal_ex(md, key, NULL) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static size_t cache_slot(const uint8_t key[static 32])
{
	return ((size_t)key[0] << 8 | key[1]) % TOKEN_CACHE_SLOTS;
}

err_t token_verify(struct token_keys *k, const char *token, size_t len, const char *iss,
		   const char *aud, int64_t now, struct token_claims *out)
{
	uint8_t key[32];
	size_t slot;
	pthread_mutex_t *lock;
	bool hit = false;
	err_t rc;

	if (len == 0 || len > TOKEN_MAX_LEN || !cache_key(token, len, iss, aud, key))
		return verify_uncached(k, token, len, iss, aud, now, out);
	slot = cache_slot(key);
	lock = &k->cache_locks[slot % TOKEN_CACHE_LOCKS];
	pthread_mutex_lock(lock);
	if (k->cache[slot].used && CRYPTO_memcmp(k->cache[slot].key, key, sizeof(key)) == 0) {
		*out = k->cache[slot].claims;
		hit = true;
	}
	pthread_mutex_unlock(lock);
	if (hit) {
		if (now >= out->exp || now < out->nbf)
			return err_fail(ERR_TOKEN_EXPIRED, "%s",
					now >= out->exp ? "token expired" : "token not yet valid");
		return ERR_OK;
	}
	rc = verify_uncached(k, token, len, iss, aud, now, out);
	if (rc == ERR_OK) {
		pthread_mutex_lock(lock);
		k->cache[slot].used = true;
		memcpy(k->cache[slot].key, key, sizeof(key));
		k->cache[slot].claims = *out;
		pthread_mutex_unlock(lock);
	}
	return rc;
}
