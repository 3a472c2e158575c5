/* The TPM's cryptography on the verifier's side: KDFa/KDFe on OpenSSL's
 * SP 800-108 and SP 800-56A KDFs, MakeCredential (Part 1 §24), signatures. */
#include "tpm_crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "abuf.h"
#include "tpm_wire.h"

/* Algorithms are fetched once per process: an implicit fetch on every use
 * costs a store lookup and a lock per call (NOTES-performance.md). */
static struct {
	uint16_t alg;
	const char *name;
	size_t size;
	EVP_MD *md;
} tpm_hashes[] = {
    {TPM2_ALG_SHA1, "SHA1", 20, NULL},
    {TPM2_ALG_SHA256, "SHA256", 32, NULL},
    {TPM2_ALG_SHA384, "SHA384", 48, NULL},
    {TPM2_ALG_SHA512, "SHA512", 64, NULL},
};

static EVP_KDF *kbkdf, *sskdf;
static EVP_MAC *hmac;
static EVP_CIPHER *aes128_cfb, *aes256_cfb;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

/* A failed fetch leaves NULL, which every user reports as ERR_INTERNAL. */
static void fetch_algorithms(void)
{
	for (size_t i = 0; i < sizeof(tpm_hashes) / sizeof(tpm_hashes[0]); i++)
		tpm_hashes[i].md = EVP_MD_fetch(NULL, tpm_hashes[i].name, NULL);
	kbkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_KBKDF, NULL);
	sskdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SSKDF, NULL);
	hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	aes128_cfb = EVP_CIPHER_fetch(NULL, "AES-128-CFB", NULL);
	aes256_cfb = EVP_CIPHER_fetch(NULL, "AES-256-CFB", NULL);
}

static bool fetched(void)
{
	return pthread_once(&fetch_once, fetch_algorithms) == 0;
}

const EVP_MD *tpm_hash_md(uint16_t alg)
{
	if (!fetched())
		return NULL;
	for (size_t i = 0; i < sizeof(tpm_hashes) / sizeof(tpm_hashes[0]); i++) {
		if (tpm_hashes[i].alg == alg)
			return tpm_hashes[i].md;
	}
	return NULL;
}

size_t tpm_hash_size(uint16_t alg)
{
	for (size_t i = 0; i < sizeof(tpm_hashes) / sizeof(tpm_hashes[0]); i++) {
		if (tpm_hashes[i].alg == alg)
			return tpm_hashes[i].size;
	}
	return 0;
}

/* Largest KDF context: two ECC coordinates, or a Name and nothing else. */
#define TPM_KDF_CONTEXT_MAX (2 * sizeof(((TPM2B_ECC_PARAMETER *)0)->buffer))

/* Longest KDF label with its zero: Part 1 uses "IDENTITY", "STORAGE",
 * "INTEGRITY", "SECRET", "DUPLICATE" and the like. */
#define TPM_KDF_LABEL_MAX 16

static err_t kdf_derive(EVP_KDF *kdf, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;

	EVP_KDF_CTX_free(ctx);
	return ok ? ERR_OK
		  : err_fail(ERR_INTERNAL, "%s failed", kdf ? EVP_KDF_get0_name(kdf) : "KDF");
}

err_t tpm_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_len, const char *label,
	       const uint8_t *context_u, size_t u_len, const uint8_t *context_v, size_t v_len,
	       uint8_t *out, size_t out_len)
{
	const EVP_MD *md = tpm_hash_md(hash_alg);
	uint8_t context[TPM_KDF_CONTEXT_MAX];
	OSSL_PARAM params[6];
	err_t rc;

	if (md == NULL || u_len > sizeof(context) || v_len > sizeof(context) - u_len)
		return err_fail(ERR_INTERNAL, "KDFa: unsupported hash or context too long");
	if (u_len > 0)
		memcpy(context, context_u, u_len);
	if (v_len > 0)
		memcpy(context + u_len, context_v, v_len);
	/* For whole bytes out (all this code asks for), SP 800-108 counter mode
	 * is KDFa exactly: HMAC(key, [i]32 || label || 0x00 || context ||
	 * [bits]32). OpenSSL writes the 0x00 (its separator) and [bits]32 (its
	 * "L") itself, so the label goes without its zero. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, OSSL_MAC_NAME_HMAC, 0);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	params[3] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label, strlen(label));
	params[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context, u_len + v_len);
	params[5] = OSSL_PARAM_construct_end();
	rc = kdf_derive(kbkdf, params, out, out_len);
	OPENSSL_cleanse(context, sizeof(context));
	return rc;
}

err_t tpm_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_len, const char *use,
	       const uint8_t *party_u, size_t u_len, const uint8_t *party_v, size_t v_len,
	       uint8_t *out, size_t out_len)
{
	const EVP_MD *md = tpm_hash_md(hash_alg);
	size_t use_len = strlen(use) + 1; /* the zero is part of the input */
	uint8_t info[TPM_KDF_LABEL_MAX + TPM_KDF_CONTEXT_MAX];
	OSSL_PARAM params[4];
	struct wbuf w;

	wbuf_init(&w, info, sizeof(info));
	wbuf_put(&w, use, use_len);
	wbuf_put(&w, party_u, u_len);
	wbuf_put(&w, party_v, v_len);
	if (md == NULL || !wbuf_ok(&w))
		return err_fail(ERR_INTERNAL, "KDFe: unsupported hash or context too long");
	/* SP 800-56A single-step KDF with a hash: H([i]32 || Z || FixedInfo),
	 * and KDFe's FixedInfo is use || partyUInfo || partyVInfo. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)z, z_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, w.len);
	params[3] = OSSL_PARAM_construct_end();
	return kdf_derive(sskdf, params, out, out_len);
}

err_t tpm_ek_load(const TPMT_PUBLIC *pub, struct tpm_ek *out)
{
	struct tpm_ek_profile profile;

	memset(out, 0, sizeof(*out));
	TRY(tpm_ek_check(pub, &profile, &out->key));
	out->pub = *pub;
	out->name_alg = profile.name_alg;
	out->aes_bits = profile.aes_bits;
	return ERR_OK;
}

void tpm_ek_release(struct tpm_ek *ek)
{
	if (ek == NULL)
		return;
	EVP_PKEY_free(ek->key);
	ek->key = NULL;
}

/* Part 1 §24 labels; each is used with its terminating zero. */
#define LABEL_IDENTITY	"IDENTITY"
#define LABEL_STORAGE	"STORAGE"
#define LABEL_INTEGRITY "INTEGRITY"

/* RSA EK: the seed travels OAEP-encrypted, hash and MGF1 of the EK's nameAlg,
 * label "IDENTITY\0". */
static err_t rsa_seed(const struct tpm_ek *ek, uint8_t *seed, size_t seed_len, struct wbuf *secret)
{
	uint8_t enc[TPM2_MAX_RSA_KEY_BYTES];
	size_t enc_len = sizeof(enc);
	char *digest = (char *)EVP_MD_get0_name(tpm_hash_md(ek->name_alg));
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
					     OSSL_PKEY_RSA_PAD_MODE_OAEP, 0),
	    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, digest, 0),
	    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, digest, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, LABEL_IDENTITY,
					      sizeof(LABEL_IDENTITY)),
	    OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->key, NULL);
	bool ok = RAND_priv_bytes(seed, (int)seed_len) == 1 && ctx != NULL &&
		  EVP_PKEY_encrypt_init_ex(ctx, params) == 1 &&
		  EVP_PKEY_encrypt(ctx, enc, &enc_len, seed, seed_len) == 1;

	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return err_fail(ERR_INTERNAL, "MakeCredential: RSA-OAEP of the seed failed");
	wbuf_u16be(secret, (uint16_t)enc_len);
	wbuf_put(secret, enc, enc_len);
	return ERR_OK;
}

/* Largest uncompressed point: 0x04 || x || y on P-384. */
#define ECC_POINT_MAX (1 + 2 * 48)

/* One-pass ECDH with a fresh key on the EK's curve: Z (the shared x, as long
 * as a coordinate of the curve) and the ephemeral public point 0x04||x||y. */
static bool ecdh_ephemeral(EVP_PKEY *peer, uint8_t *z, size_t *z_len, uint8_t *point,
			   size_t point_cap)
{
	EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL), *derive = NULL;
	EVP_PKEY *ephemeral = NULL;
	size_t point_len = 0;
	bool ok = false;

	if (gen == NULL || EVP_PKEY_keygen_init(gen) != 1 || EVP_PKEY_keygen(gen, &ephemeral) != 1)
		goto out;
	/* The EK point was validated when it was loaded; checking it again on
	 * every derive is the cost NOTES-performance.md measured away. */
	derive = EVP_PKEY_CTX_new_from_pkey(NULL, ephemeral, NULL);
	ok = derive != NULL && EVP_PKEY_derive_init(derive) == 1 &&
	     EVP_PKEY_derive_set_peer_ex(derive, peer, 0) == 1 &&
	     EVP_PKEY_derive(derive, z, z_len) == 1 &&
	     EVP_PKEY_get_octet_string_param(ephemeral, OSSL_PKEY_PARAM_PUB_KEY, point, point_cap,
					     &point_len) == 1 &&
	     point_len == 1 + 2 * *z_len && point[0] == POINT_CONVERSION_UNCOMPRESSED;
out:
	EVP_PKEY_CTX_free(derive);
	EVP_PKEY_CTX_free(gen);
	EVP_PKEY_free(ephemeral);
	return ok;
}

/* ECC EK: the seed is KDFe(nameAlg, Z, "IDENTITY", ephemeral.x, EK.x) and the
 * ephemeral public point travels as a TPMS_ECC_POINT. */
static err_t ecc_seed(const struct tpm_ek *ek, uint8_t *seed, size_t seed_len, struct wbuf *secret)
{
	uint8_t z[ECC_POINT_MAX], point[ECC_POINT_MAX], ek_x[ECC_POINT_MAX];
	size_t z_len = sizeof(z);
	const TPM2B_ECC_PARAMETER *x = &ek->pub.unique.ecc.x;
	err_t rc;

	if (!ecdh_ephemeral(ek->key, z, &z_len, point, sizeof(point)) || x->size > z_len) {
		OPENSSL_cleanse(z, sizeof(z));
		return err_fail(ERR_INTERNAL, "MakeCredential: ECDH failed");
	}
	/* The TPM pads its own coordinates to the curve size: so must we. */
	memset(ek_x, 0, z_len - x->size);
	memcpy(ek_x + (z_len - x->size), x->buffer, x->size);
	rc = tpm_kdfe(ek->name_alg, z, z_len, LABEL_IDENTITY, point + 1, z_len, ek_x, z_len, seed,
		      seed_len);
	OPENSSL_cleanse(z, sizeof(z));
	if (rc != ERR_OK)
		return rc;
	wbuf_u16be(secret, (uint16_t)(4 + 2 * z_len));
	wbuf_u16be(secret, (uint16_t)z_len);
	wbuf_put(secret, point + 1, z_len);
	wbuf_u16be(secret, (uint16_t)z_len);
	wbuf_put(secret, point + 1 + z_len, z_len);
	return ERR_OK;
}

static err_t hmac_of(uint16_t hash_alg, const uint8_t *key, size_t key_len, const uint8_t *a,
		     size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out, size_t out_len)
{
	const EVP_MD *md = tpm_hash_md(hash_alg);
	EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
					     md ? (char *)EVP_MD_get0_name(md) : "", 0),
	    OSSL_PARAM_construct_end(),
	};
	size_t written = 0;
	int ok = md != NULL && ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
		 EVP_MAC_update(ctx, a, a_len) == 1 && EVP_MAC_update(ctx, b, b_len) == 1 &&
		 EVP_MAC_final(ctx, out, &written, out_len) == 1 && written == out_len;

	EVP_MAC_CTX_free(ctx);
	return ok ? ERR_OK : err_fail(ERR_INTERNAL, "HMAC failed");
}

/* Part 1 §24.4-24.5: encIdentity = AES-CFB(KDFa(seed, "STORAGE", name)) of
 * the credential as a TPM2B_DIGEST, IV zero; integrityHMAC =
 * HMAC(KDFa(seed, "INTEGRITY"), encIdentity || name). Written as a
 * TPM2B_ID_OBJECT: size, integrityHMAC as a TPM2B, encIdentity. */
static err_t protect_credential(const struct tpm_ek *ek, const uint8_t *seed, size_t seed_len,
				const TPM2B_NAME *name, const uint8_t *secret, size_t secret_len,
				struct wbuf *id_object)
{
	EVP_CIPHER *cipher = ek->aes_bits == 256 ? aes256_cfb : aes128_cfb;
	uint8_t sym_key[256 / 8], hmac_key[TPM_HASH_MAX], integrity[TPM_HASH_MAX];
	uint8_t plain[2 + TPM_HASH_MAX], enc[2 + TPM_HASH_MAX];
	const uint8_t iv[16] = {0};
	size_t digest_len = seed_len, enc_len = 2 + secret_len;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, final_n = 0;
	err_t rc;

	plain[0] = (uint8_t)(secret_len >> 8);
	plain[1] = (uint8_t)secret_len;
	memcpy(plain + 2, secret, secret_len);
	TRY_OUT(rc, tpm_kdfa(ek->name_alg, seed, seed_len, LABEL_STORAGE, name->name, name->size,
			     NULL, 0, sym_key, ek->aes_bits / 8));
	if (ctx == NULL || cipher == NULL ||
	    EVP_EncryptInit_ex2(ctx, cipher, sym_key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, enc, &n, plain, (int)enc_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, enc + n, &final_n) != 1 || (size_t)(n + final_n) != enc_len) {
		rc = err_fail(ERR_INTERNAL, "MakeCredential: AES-CFB failed");
		goto out;
	}
	TRY_OUT(rc, tpm_kdfa(ek->name_alg, seed, seed_len, LABEL_INTEGRITY, NULL, 0, NULL, 0,
			     hmac_key, digest_len));
	TRY_OUT(rc, hmac_of(ek->name_alg, hmac_key, digest_len, enc, enc_len, name->name,
			    name->size, integrity, digest_len));
	wbuf_u16be(id_object, (uint16_t)(2 + digest_len + enc_len));
	wbuf_u16be(id_object, (uint16_t)digest_len);
	wbuf_put(id_object, integrity, digest_len);
	wbuf_put(id_object, enc, enc_len);
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(sym_key, sizeof(sym_key));
	OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc;
}

err_t tpm_make_credential(const struct tpm_ek *ek, const TPM2B_NAME *ak_name, const uint8_t *secret,
			  size_t secret_len, struct tpm_credential *out)
{
	size_t seed_len = tpm_hash_size(ek->name_alg);
	uint8_t seed[TPM_HASH_MAX];
	struct wbuf id_object, encrypted;
	err_t rc;

	memset(out, 0, sizeof(*out));
	if (ek->key == NULL || tpm_hash_md(ek->name_alg) == NULL)
		return err_fail(ERR_INTERNAL, "MakeCredential without a loaded EK");
	/* The TPM refuses credentials longer than its nameAlg digest. */
	if (secret_len == 0 || secret_len > seed_len)
		return err_fail(ERR_INTERNAL, "MakeCredential: secret of %zu bytes", secret_len);
	if (ak_name->size < 2 || ak_name->size > sizeof(ak_name->name))
		return err_fail(ERR_INTERNAL, "MakeCredential: bad object Name");
	wbuf_init(&id_object, out->id_object, sizeof(out->id_object));
	wbuf_init(&encrypted, out->encrypted_secret, sizeof(out->encrypted_secret));
	if (ek->pub.type == TPM2_ALG_RSA)
		TRY_OUT(rc, rsa_seed(ek, seed, seed_len, &encrypted));
	else
		TRY_OUT(rc, ecc_seed(ek, seed, seed_len, &encrypted));
	TRY_OUT(rc,
		protect_credential(ek, seed, seed_len, ak_name, secret, secret_len, &id_object));
	if (!wbuf_ok(&id_object) || !wbuf_ok(&encrypted)) {
		rc = err_fail(ERR_INTERNAL, "MakeCredential: output does not fit");
		goto out;
	}
	out->id_object_len = id_object.len;
	out->encrypted_secret_len = encrypted.len;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc != ERR_OK)
		memset(out, 0, sizeof(*out)); /* no half-made credential */
	return rc;
}

/* tpm2-tools' files/tpm2_makecredential magic and version. */
#define TPM2_TOOLS_CREDENTIAL_MAGIC   0xBADCC0DEu
#define TPM2_TOOLS_CREDENTIAL_VERSION 1u

err_t tpm_credential_file(const struct tpm_credential *cred, uint8_t *out, size_t cap, size_t *len)
{
	struct wbuf w;

	wbuf_init(&w, out, cap);
	wbuf_u32be(&w, TPM2_TOOLS_CREDENTIAL_MAGIC);
	wbuf_u32be(&w, TPM2_TOOLS_CREDENTIAL_VERSION);
	wbuf_put(&w, cred->id_object, cred->id_object_len);
	wbuf_put(&w, cred->encrypted_secret, cred->encrypted_secret_len);
	if (!wbuf_ok(&w))
		return err_fail(ERR_INTERNAL, "credential file does not fit in %zu bytes", cap);
	*len = w.len;
	return ERR_OK;
}

/* The scheme and hash a signing key's public area commits it to. */
static bool signing_scheme(const TPMT_PUBLIC *pub, uint16_t *scheme, uint16_t *hash)
{
	if (pub->type == TPM2_ALG_RSA) {
		*scheme = pub->parameters.rsaDetail.scheme.scheme;
		*hash = pub->parameters.rsaDetail.scheme.details.anySig.hashAlg;
	} else if (pub->type == TPM2_ALG_ECC) {
		*scheme = pub->parameters.eccDetail.scheme.scheme;
		*hash = pub->parameters.eccDetail.scheme.details.anySig.hashAlg;
	} else {
		return false;
	}
	return *scheme == TPM2_ALG_RSASSA || *scheme == TPM2_ALG_RSAPSS ||
	       *scheme == TPM2_ALG_ECDSA;
}

/* An ECDSA signature as OpenSSL verifies it: DER of r and s. */
static bool ecdsa_der(const TPMS_SIGNATURE_ECC *ecdsa, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(ecdsa->signatureR.buffer, ecdsa->signatureR.size, NULL);
	BIGNUM *s = BN_bin2bn(ecdsa->signatureS.buffer, ecdsa->signatureS.size, NULL);
	int len;

	*der = NULL;
	if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return false;
	}
	len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	if (len <= 0)
		return false;
	*der_len = (size_t)len;
	return true;
}

static bool verify_init(EVP_PKEY_CTX *ctx, uint16_t scheme, const EVP_MD *md)
{
	if (EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
		return false;
	if (scheme == TPM2_ALG_RSASSA)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
	/* TPMs differ in the PSS salt they use (the digest size, or the
	 * largest that fits): recover it from the signature. */
	if (scheme == TPM2_ALG_RSAPSS)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) == 1;
	return true;
}

err_t tpm_signature_verify(const TPMT_PUBLIC *key_pub, EVP_PKEY *key, const TPMT_SIGNATURE *sig,
			   const uint8_t *msg, size_t msg_len)
{
	uint16_t scheme, hash;
	const EVP_MD *md;
	uint8_t digest[TPM_HASH_MAX], *der = NULL;
	const uint8_t *sig_bytes;
	size_t sig_len;
	unsigned int digest_len = 0;
	EVP_PKEY_CTX *ctx = NULL;
	err_t rc;

	if (!signing_scheme(key_pub, &scheme, &hash) || (md = tpm_hash_md(hash)) == NULL)
		return err_fail(ERR_INTERNAL, "signature check with a key that does not sign");
	/* sigAlg selects the union member; the hash sits first in each. */
	if (sig->sigAlg != scheme || sig->signature.any.hashAlg != hash)
		return err_fail(ERR_QUOTE_INVALID,
				"signature scheme 0x%04x hash 0x%04x; the AK's: 0x%04x 0x%04x",
				sig->sigAlg, sig->signature.any.hashAlg, scheme, hash);
	if (scheme == TPM2_ALG_ECDSA) {
		if (!ecdsa_der(&sig->signature.ecdsa, &der, &sig_len)) {
			ERR_clear_error();
			return err_fail(ERR_QUOTE_INVALID, "ECDSA signature r, s unusable");
		}
		sig_bytes = der;
	} else {
		/* rsassa and rsapss are the same structure. */
		sig_bytes = sig->signature.rsassa.sig.buffer;
		sig_len = sig->signature.rsassa.sig.size;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (ctx == NULL || !verify_init(ctx, scheme, md) ||
	    EVP_Digest(msg, msg_len, digest, &digest_len, md, NULL) != 1) {
		rc = err_fail(ERR_INTERNAL, "signature check setup failed");
		goto out;
	}
	if (EVP_PKEY_verify(ctx, sig_bytes, sig_len, digest, digest_len) != 1) {
		ERR_clear_error(); /* a bad signature is the client's, not ours */
		rc = err_fail(ERR_QUOTE_INVALID, "signature does not verify with the AK");
	} else {
		rc = ERR_OK;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}
