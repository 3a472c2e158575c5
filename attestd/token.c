/* JWT ES256 issue/verify and the signing-key directory. */
#include "token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64.h"
#include "fileio.h"
#include "log.h"

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

static err_t key_coordinates(EVP_PKEY *pkey, uint8_t x[static P256_COORD],
			     uint8_t y[static P256_COORD])
{
	uint8_t point[1 + 2 * P256_COORD];
	size_t len = 0;
	char group[32];

	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return err_fail(ERR_INTERNAL, "token key is not P-256");
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
					    &len) != 1 ||
	    len != sizeof(point) || point[0] != 0x04)
		return err_fail(ERR_INTERNAL, "token key has no uncompressed public point");
	memcpy(x, point + 1, P256_COORD);
	memcpy(y, point + 1 + P256_COORD, P256_COORD);
	return ERR_OK;
}

/* RFC 7638: SHA-256 over the required members in lexicographic order. */
static err_t key_thumbprint(const uint8_t x[static P256_COORD], const uint8_t y[static P256_COORD],
			    char kid[static TOKEN_KID_LEN + 1])
{
	char *bx = b64url_encode(x, P256_COORD), *by = b64url_encode(y, P256_COORD), *bk = NULL;
	char jwk[256];
	uint8_t digest[32];
	err_t rc = ERR_INTERNAL;
	int n;

	if (bx == NULL || by == NULL)
		goto out;
	n = snprintf(jwk, sizeof(jwk),
		     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
	if (n < 0 || (size_t)n >= sizeof(jwk) ||
	    EVP_Digest(jwk, (size_t)n, digest, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	bk = b64url_encode(digest, sizeof(digest));
	if (bk == NULL || strlen(bk) != TOKEN_KID_LEN)
		goto out;
	memcpy(kid, bk, TOKEN_KID_LEN + 1);
	rc = ERR_OK;
out:
	free(bx);
	free(by);
	free(bk);
	return rc == ERR_OK ? rc : err_fail(rc, "computing a key id failed");
}

static err_t key_from_pem(const uint8_t *pem, size_t len, struct token_key *out)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	err_t rc;

	out->pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (out->pkey == NULL)
		return err_fail(ERR_INTERNAL, "unreadable token key");
	rc = key_coordinates(out->pkey, out->x, out->y);
	if (rc == ERR_OK)
		rc = key_thumbprint(out->x, out->y, out->kid);
	if (rc != ERR_OK) {
		EVP_PKEY_free(out->pkey);
		out->pkey = NULL;
	}
	return rc;
}

static void keys_clear(struct token_keys *k)
{
	for (size_t i = 0; i < k->nkeys; i++)
		EVP_PKEY_free(k->keys[i].pkey);
	k->nkeys = 0;
	k->current = 0;
}

static bool is_key_file(const char *name)
{
	size_t n = strlen(name);

	return n == TOKEN_KID_LEN + 4 && strcmp(name + TOKEN_KID_LEN, ".pem") == 0;
}

static err_t read_current(const char *dir, char kid[static TOKEN_KID_LEN + 1],
			  struct timespec *mtime)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/current", dir);
	if (stat(path, &st) != 0)
		return err_fail(ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
	TRY(fileio_read(path, 256, &buf, &len));
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	if (len != TOKEN_KID_LEN) {
		free(buf);
		return err_fail(ERR_INTERNAL, "%s: not a key id", path);
	}
	memcpy(kid, buf, TOKEN_KID_LEN);
	kid[TOKEN_KID_LEN] = '\0';
	free(buf);
	*mtime = st.st_mtim;
	return ERR_OK;
}

/* Loads every key file and marks the current one; caller holds the lock. */
static err_t keys_load(struct token_keys *k)
{
	char current[TOKEN_KID_LEN + 1];
	DIR *d;
	struct dirent *e;
	err_t rc = ERR_OK;
	bool found = false;

	keys_clear(k);
	TRY(read_current(k->dir, current, &k->current_mtime));
	d = opendir(k->dir);
	if (d == NULL)
		return err_fail(ERR_INTERNAL, "%s: %s", k->dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char path[4200];
		uint8_t *pem = NULL;
		size_t len = 0;
		struct token_key *key = &k->keys[k->nkeys];

		if (!is_key_file(e->d_name))
			continue;
		if (k->nkeys == TOKEN_MAX_KEYS) {
			rc =
			    err_fail(ERR_INTERNAL, "%s: more than %d keys", k->dir, TOKEN_MAX_KEYS);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", k->dir, e->d_name);
		rc = fileio_read(path, TOKEN_KEY_FILE_MAX, &pem, &len);
		if (rc == ERR_OK)
			rc = key_from_pem(pem, len, key);
		OPENSSL_clear_free(pem, len);
		if (rc != ERR_OK)
			break;
		if (strncmp(key->kid, e->d_name, TOKEN_KID_LEN) != 0) {
			EVP_PKEY_free(key->pkey);
			rc =
			    err_fail(ERR_INTERNAL, "%s: key id does not match its file name", path);
			break;
		}
		if (strcmp(key->kid, current) == 0) {
			k->current = k->nkeys;
			found = true;
		}
		k->nkeys++;
	}
	closedir(d);
	if (rc == ERR_OK && !found)
		rc = err_fail(ERR_INTERNAL, "%s: current key %s is missing", k->dir, current);
	if (rc != ERR_OK)
		keys_clear(k);
	return rc;
}

static err_t write_new_key(const char *dir, char kid_out[static TOKEN_KID_LEN + 1])
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	struct token_key key = {0};
	char path[4200];
	char *pem;
	long pem_len;
	int created;
	err_t rc;

	if (pkey == NULL || bio == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = err_fail(ERR_INTERNAL, "generating a token key failed");
		goto out;
	}
	TRY_OUT(rc, key_coordinates(pkey, key.x, key.y));
	TRY_OUT(rc, key_thumbprint(key.x, key.y, key.kid));
	pem_len = BIO_get_mem_data(bio, &pem);
	snprintf(path, sizeof(path), "%s/%s.pem", dir, key.kid);
	TRY_OUT(rc, fileio_create_once(path, pem, (size_t)pem_len, 0600, &created));
	snprintf(path, sizeof(path), "%s/current", dir);
	TRY_OUT(rc, fileio_write_atomic(path, key.kid, TOKEN_KID_LEN, 0644));
	memcpy(kid_out, key.kid, TOKEN_KID_LEN + 1);
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rc;
}

static err_t ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_fail(ERR_INTERNAL, "%s: %s", dir, strerror(errno));
	return ERR_OK;
}

err_t token_keys_rotate(const char *dir, char kid_out[64])
{
	char old[TOKEN_KID_LEN + 1] = "";
	struct timespec unused;
	char path[4200];
	DIR *d;
	struct dirent *e;
	time_t now = time(NULL);

	TRY(ensure_dir(dir));
	if (read_current(dir, old, &unused) == ERR_OK) {
		/* The retired key's mtime records when it stopped signing. */
		snprintf(path, sizeof(path), "%s/%s.pem", dir, old);
		(void)utimensat(AT_FDCWD, path, NULL, 0);
	}
	TRY(write_new_key(dir, kid_out));
	d = opendir(dir);
	if (d == NULL)
		return ERR_OK;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!is_key_file(e->d_name) || strncmp(e->d_name, kid_out, TOKEN_KID_LEN) == 0 ||
		    strncmp(e->d_name, old, TOKEN_KID_LEN) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && st.st_mtime + TOKEN_KEY_RETAIN_S < now)
			(void)unlink(path);
	}
	closedir(d);
	return ERR_OK;
}

err_t token_keys_open(const char *dir, struct token_keys **out)
{
	struct token_keys *k = calloc(1, sizeof(*k));
	char kid[64];
	err_t rc;

	if (k == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	if (snprintf(k->dir, sizeof(k->dir), "%s", dir) >= (int)sizeof(k->dir)) {
		free(k);
		return err_fail(ERR_BAD_REQUEST, "token key directory path too long");
	}
	pthread_rwlock_init(&k->lock, NULL);
	for (size_t i = 0; i < TOKEN_CACHE_LOCKS; i++)
		pthread_mutex_init(&k->cache_locks[i], NULL);
	rc = ensure_dir(dir);
	if (rc == ERR_OK) {
		struct timespec unused;

		if (read_current(dir, kid, &unused) == ERR_NOT_FOUND)
			rc = write_new_key(dir, kid);
	}
	if (rc == ERR_OK)
		rc = keys_load(k);
	if (rc != ERR_OK) {
		token_keys_free(k);
		return rc;
	}
	__atomic_store_n(&k->last_check, (int64_t)time(NULL), __ATOMIC_RELAXED);
	*out = k;
	return ERR_OK;
}

void token_keys_free(struct token_keys *k)
{
	if (k == NULL)
		return;
	keys_clear(k);
	pthread_rwlock_destroy(&k->lock);
	for (size_t i = 0; i < TOKEN_CACHE_LOCKS; i++)
		pthread_mutex_destroy(&k->cache_locks[i]);
	free(k);
}

/* Re-reads the directory when `current` changed (a rotation by attestctl or
 * another instance); checks at most once a second. */
static void keys_refresh(struct token_keys *k)
{
	int64_t now = time(NULL);
	int64_t last = __atomic_load_n(&k->last_check, __ATOMIC_RELAXED);
	char kid[TOKEN_KID_LEN + 1];
	struct timespec mtime;

	if (now == last || !__atomic_compare_exchange_n(&k->last_check, &last, now, false,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	if (read_current(k->dir, kid, &mtime) != ERR_OK)
		return;
	pthread_rwlock_rdlock(&k->lock);
	bool same = mtime.tv_sec == k->current_mtime.tv_sec &&
		    mtime.tv_nsec == k->current_mtime.tv_nsec &&
		    strcmp(kid, k->keys[k->current].kid) == 0;
	pthread_rwlock_unlock(&k->lock);
	if (same)
		return;
	pthread_rwlock_wrlock(&k->lock);
	if (keys_load(k) != ERR_OK)
		log_error("reloading token keys from %s failed: %s", k->dir, err_detail());
	else
		log_info("token keys reloaded: %zu keys, signing with %s", k->nkeys,
			 k->keys[k->current].kid);
	pthread_rwlock_unlock(&k->lock);
}

json_t *token_jwks(struct token_keys *k)
{
	json_t *keys = json_array();

	keys_refresh(k);
	pthread_rwlock_rdlock(&k->lock);
	for (size_t i = 0; keys != NULL && i < k->nkeys; i++) {
		char *x = b64url_encode(k->keys[i].x, P256_COORD);
		char *y = b64url_encode(k->keys[i].y, P256_COORD);

		if (x != NULL && y != NULL)
			json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
							      "kty", "EC", "crv", "P-256", "x", x,
							      "y", y, "kid", k->keys[i].kid, "use",
							      "sig", "alg", "ES256"));
		free(x);
		free(y);
	}
	pthread_rwlock_unlock(&k->lock);
	return json_pack("{s:o}", "keys", keys);
}

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

	keys_refresh(k);
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

static const struct token_key *find_key(struct token_keys *k, const char *kid)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		if (strcmp(k->keys[i].kid, kid) == 0)
			return &k->keys[i];
	}
	return NULL;
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

	keys_refresh(k);
	pthread_rwlock_rdlock(&k->lock);
	locked = true;
	const struct token_key *key = find_key(k, kid);

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
