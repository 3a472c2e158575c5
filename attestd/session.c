/* Session sealing. Wire form (then base64url):
 *   version (1) | IV (12) | ciphertext | GCM tag (16)
 * with the version byte as additional authenticated data, so a future format
 * cannot be confused with this one. The plaintext is a fixed sequence of
 * fields written with wbuf and read back with abuf. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "abuf.h"
#include "b64.h"
#include "fileio.h"

#define SESSION_VERSION	  1
#define SESSION_IV_LEN	  12
#define SESSION_TAG_LEN	  16
#define SESSION_MAX_PLAIN 6144

err_t session_key_load(const char *state_dir, struct session_key *out)
{
	char path[4096];
	uint8_t fresh[SESSION_KEY_LEN];
	uint8_t *buf = NULL;
	size_t len = 0;
	int created;
	err_t rc;

	if (snprintf(path, sizeof(path), "%s/session.key", state_dir) >= (int)sizeof(path))
		return err_fail(ERR_BAD_REQUEST, "state_dir too long");
	if (RAND_priv_bytes(fresh, sizeof(fresh)) != 1)
		return err_fail(ERR_INTERNAL, "no randomness for the session key");
	rc = fileio_create_once(path, fresh, sizeof(fresh), 0600, &created);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	if (rc != ERR_OK)
		return rc;
	TRY(fileio_read(path, 4096, &buf, &len));
	if (len != SESSION_KEY_LEN) {
		OPENSSL_clear_free(buf, len);
		return err_fail(ERR_INTERNAL, "%s: expected %d bytes, found %zu", path,
				SESSION_KEY_LEN, len);
	}
	memcpy(out->key, buf, SESSION_KEY_LEN);
	OPENSSL_clear_free(buf, len);
	return ERR_OK;
}

err_t session_randomize(struct session *s)
{
	if (RAND_bytes(s->id, sizeof(s->id)) != 1 ||
	    RAND_priv_bytes(s->secret, sizeof(s->secret)) != 1 ||
	    RAND_bytes(s->nonce, sizeof(s->nonce)) != 1)
		return err_fail(ERR_INTERNAL, "no randomness for a session");
	return ERR_OK;
}

static void put_string(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	wbuf_u16be(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

static bool get_string(struct abuf *b, char *dst, size_t cap)
{
	uint16_t n;
	const uint8_t *p;

	if (!abuf_u16be(b, &n) || n >= cap || !abuf_bytes(b, n, &p))
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return memchr(dst, '\0', n) == NULL;
}

static bool session_serialize(const struct session *s, struct wbuf *w)
{
	if (strlen(s->pcr_selection) > UINT16_MAX || s->ak_pub_len > sizeof(s->ak_pub))
		return false;
	wbuf_put(w, s->id, sizeof(s->id));
	wbuf_u32be(w, (uint32_t)((uint64_t)s->expires_at >> 32));
	wbuf_u32be(w, (uint32_t)s->expires_at);
	wbuf_put(w, s->secret, sizeof(s->secret));
	wbuf_put(w, s->nonce, sizeof(s->nonce));
	put_string(w, s->pcr_selection);
	put_string(w, s->machine_id);
	put_string(w, s->ek_manufacturer);
	put_string(w, s->ek_issuer);
	put_string(w, s->host);
	wbuf_u16be(w, (uint16_t)s->ak_pub_len);
	wbuf_put(w, s->ak_pub, s->ak_pub_len);
	return wbuf_ok(w);
}

static bool session_deserialize(const uint8_t *p, size_t len, struct session *s)
{
	struct abuf b;
	uint64_t expires;
	uint16_t ak_len;

	abuf_init(&b, p, len);
	if (!abuf_copy(&b, s->id, sizeof(s->id)) || !abuf_u64be(&b, &expires) ||
	    !abuf_copy(&b, s->secret, sizeof(s->secret)) ||
	    !abuf_copy(&b, s->nonce, sizeof(s->nonce)) ||
	    !get_string(&b, s->pcr_selection, sizeof(s->pcr_selection)) ||
	    !get_string(&b, s->machine_id, sizeof(s->machine_id)) ||
	    !get_string(&b, s->ek_manufacturer, sizeof(s->ek_manufacturer)) ||
	    !get_string(&b, s->ek_issuer, sizeof(s->ek_issuer)) ||
	    !get_string(&b, s->host, sizeof(s->host)) || !abuf_u16be(&b, &ak_len) ||
	    ak_len > sizeof(s->ak_pub) || !abuf_copy(&b, s->ak_pub, ak_len))
		return false;
	s->expires_at = (int64_t)expires;
	s->ak_pub_len = ak_len;
	return abuf_expect_end(&b);
}

/* One AES-256-GCM pass in either direction; returns false on any failure,
 * including a tag mismatch when decrypting. */
static bool gcm_crypt(int enc, const uint8_t key[static SESSION_KEY_LEN],
		      const uint8_t iv[static SESSION_IV_LEN], const uint8_t *aad, size_t aad_len,
		      const uint8_t *in, size_t in_len, uint8_t *out,
		      uint8_t tag[static SESSION_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, fin;
	bool ok = false;

	if (ctx == NULL || in_len > INT32_MAX)
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SESSION_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SESSION_TAG_LEN, tag) != 1)
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

err_t session_seal(const struct session_key *k, const struct session *s, char **out)
{
	uint8_t plain[SESSION_MAX_PLAIN];
	uint8_t sealed[1 + SESSION_IV_LEN + SESSION_MAX_PLAIN + SESSION_TAG_LEN];
	struct wbuf w;
	err_t rc = ERR_OK;

	wbuf_init(&w, plain, sizeof(plain));
	if (!session_serialize(s, &w)) {
		rc = err_fail(ERR_INTERNAL, "session state does not fit");
		goto out;
	}
	sealed[0] = SESSION_VERSION;
	if (RAND_bytes(sealed + 1, SESSION_IV_LEN) != 1 ||
	    !gcm_crypt(1, k->key, sealed + 1, sealed, 1, plain, w.len, sealed + 1 + SESSION_IV_LEN,
		       sealed + 1 + SESSION_IV_LEN + w.len)) {
		rc = err_fail(ERR_INTERNAL, "sealing the session failed");
		goto out;
	}
	*out = b64url_encode(sealed, 1 + SESSION_IV_LEN + w.len + SESSION_TAG_LEN);
	if (*out == NULL)
		rc = err_fail(ERR_INTERNAL, "out of memory");
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc;
}

err_t session_open(const struct session_key *k, const char *sealed, size_t sealed_len, int64_t now,
		   struct session *out)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0, ct_len;
	uint8_t plain[SESSION_MAX_PLAIN];
	err_t rc = ERR_OK;

	if (sealed_len > SESSION_MAX_SEALED ||
	    !b64url_decode(sealed, sealed_len, SESSION_MAX_SEALED, &raw, &raw_len) ||
	    raw_len < 1 + SESSION_IV_LEN + SESSION_TAG_LEN || raw[0] != SESSION_VERSION) {
		rc = err_fail(ERR_SESSION_INVALID, "not a session issued by this service");
		goto out;
	}
	ct_len = raw_len - 1 - SESSION_IV_LEN - SESSION_TAG_LEN;
	if (ct_len > sizeof(plain) ||
	    !gcm_crypt(0, k->key, raw + 1, raw, 1, raw + 1 + SESSION_IV_LEN, ct_len, plain,
		       raw + 1 + SESSION_IV_LEN + ct_len) ||
	    !session_deserialize(plain, ct_len, out)) {
		rc = err_fail(ERR_SESSION_INVALID, "session failed authentication");
		goto out;
	}
	if (now >= out->expires_at)
		rc = err_fail(ERR_SESSION_EXPIRED, "session expired %lld s ago",
			      (long long)(now - out->expires_at));
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	free(raw);
	return rc;
}

void session_wipe(struct session *s)
{
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
}
