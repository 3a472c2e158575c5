/* Token signing keys: the directory of P-256 keys named by their RFC 7638
 * thumbprint, the `current` file naming the signing one, rotation, reload
 * when another process rotated, and the JWKS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "b64.h"
#include "fileio.h"
#include "log.h"
#include "token_int.h"

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
void token_keys_refresh(struct token_keys *k)
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

	token_keys_refresh(k);
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

const struct token_key *token_keys_find(struct token_keys *k, const char *kid)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		if (strcmp(k->keys[i].kid, kid) == 0)
			return &k->keys[i];
	}
	return NULL;
}
