/* Software keys in TPM clothing (see tpm_soft.h). Written from the TPM 2.0
 * specification independently of the code under test, except for the KDFs,
 * which have their own known-answer tests. */
#include "tpm_soft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "fileio.h"
#include "tpm_wire.h"

/* Test inputs are small: the largest is an event log of a few hundred KiB. */
#define SOFT_FILE_MAX (4u << 20)

static void soft_die(const char *what)
{
	fprintf(stderr, "tpm_soft: %s failed\n", what);
	abort();
}

uint8_t *soft_read_file(const char *path, size_t *len)
{
	uint8_t *data = NULL;

	if (fileio_read(path, SOFT_FILE_MAX, &data, len) != ERR_OK)
		soft_die(path);
	return data;
}

EVP_PKEY *soft_rsa_key(unsigned bits)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	if (key == NULL)
		soft_die("RSA keygen");
	return key;
}

EVP_PKEY *soft_ec_key(const char *group)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	if (key == NULL)
		soft_die("EC keygen");
	return key;
}

static void fill_unique(EVP_PKEY *key, TPMT_PUBLIC *pub)
{
	if (EVP_PKEY_is_a(key, "RSA")) {
		BIGNUM *n = NULL;
		int bytes = EVP_PKEY_get_size(key);

		if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    BN_bn2binpad(n, pub->unique.rsa.buffer, bytes) != bytes)
			soft_die("RSA modulus");
		BN_free(n);
		pub->type = TPM2_ALG_RSA;
		pub->unique.rsa.size = (uint16_t)bytes;
		pub->parameters.rsaDetail.keyBits = (uint16_t)EVP_PKEY_get_bits(key);
		pub->parameters.rsaDetail.exponent = 0;
	} else {
		uint8_t point[1 + 2 * 66];
		size_t len = 0, coord;

		if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point,
						    sizeof(point), &len) != 1)
			soft_die("EC point");
		coord = (len - 1) / 2;
		pub->type = TPM2_ALG_ECC;
		pub->parameters.eccDetail.curveID =
		    coord == 32 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
		pub->unique.ecc.x.size = (uint16_t)coord;
		memcpy(pub->unique.ecc.x.buffer, point + 1, coord);
		pub->unique.ecc.y.size = (uint16_t)coord;
		memcpy(pub->unique.ecc.y.buffer, point + 1 + coord, coord);
	}
}

void soft_ak_public(EVP_PKEY *key, uint16_t scheme, TPMT_PUBLIC *pub)
{
	memset(pub, 0, sizeof(*pub));
	fill_unique(key, pub);
	pub->nameAlg = TPM2_ALG_SHA256;
	pub->objectAttributes = SOFT_AK_ATTRIBUTES;
	if (pub->type == TPM2_ALG_RSA) {
		pub->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		pub->parameters.rsaDetail.scheme.scheme = scheme;
		pub->parameters.rsaDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
	} else {
		pub->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		pub->parameters.eccDetail.scheme.scheme = scheme;
		pub->parameters.eccDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
		pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
}

void soft_ek_public(EVP_PKEY *key, TPMT_PUBLIC *pub)
{
	TPMT_SYM_DEF_OBJECT *sym;
	bool high = EVP_PKEY_get_bits(key) > 2048 ||
		    (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256);

	memset(pub, 0, sizeof(*pub));
	fill_unique(key, pub);
	pub->nameAlg = high ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
	pub->objectAttributes = SOFT_EK_ATTRIBUTES;
	if (pub->type == TPM2_ALG_RSA) {
		sym = &pub->parameters.rsaDetail.symmetric;
		pub->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	} else {
		sym = &pub->parameters.eccDetail.symmetric;
		pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
	sym->algorithm = TPM2_ALG_AES;
	sym->keyBits.aes = high ? 256 : 128;
	sym->mode.aes = TPM2_ALG_CFB;
}

size_t soft_marshal_public(const TPMT_PUBLIC *pub, uint8_t *out, size_t cap)
{
	TPM2B_PUBLIC wrapped = {.size = 0, .publicArea = *pub};
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&wrapped, out, cap, &off) != TSS2_RC_SUCCESS)
		soft_die("TPM2B_PUBLIC marshal");
	return off;
}

size_t soft_marshal_attest(const TPMS_ATTEST *attest, uint8_t *out, size_t cap)
{
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Marshal(attest, out, cap, &off) != TSS2_RC_SUCCESS)
		soft_die("TPMS_ATTEST marshal");
	return off;
}

size_t soft_marshal_signature(const TPMT_SIGNATURE *sig, uint8_t *out, size_t cap)
{
	size_t off = 0;

	if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, out, cap, &off) != TSS2_RC_SUCCESS)
		soft_die("TPMT_SIGNATURE marshal");
	return off;
}

static void ecdsa_to_tpm(const uint8_t *der, size_t der_len, TPMS_SIGNATURE_ECC *out)
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)der_len);

	if (sig == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(sig), out->signatureR.buffer, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out->signatureS.buffer, 32) != 32)
		soft_die("ECDSA signature");
	out->signatureR.size = 32;
	out->signatureS.size = 32;
	ECDSA_SIG_free(sig);
}

void soft_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *msg, size_t len, TPMT_SIGNATURE *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t out[512];
	size_t out_len = sizeof(out);

	memset(sig, 0, sizeof(*sig));
	if (ctx == NULL || EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, key, NULL) != 1)
		soft_die("sign init");
	if (scheme == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		soft_die("PSS setup");
	if (EVP_DigestSign(ctx, out, &out_len, msg, len) != 1)
		soft_die("sign");
	EVP_MD_CTX_free(ctx);
	sig->sigAlg = scheme;
	sig->signature.any.hashAlg = TPM2_ALG_SHA256;
	if (scheme == TPM2_ALG_ECDSA) {
		ecdsa_to_tpm(out, out_len, &sig->signature.ecdsa);
	} else {
		sig->signature.rsassa.sig.size = (uint16_t)out_len;
		memcpy(sig->signature.rsassa.sig.buffer, out, out_len);
	}
}

void soft_quote(const uint8_t nonce[32], uint16_t bank, uint32_t mask, const uint8_t *values,
		size_t values_len, TPMS_ATTEST *attest)
{
	TPMS_QUOTE_INFO *info = &attest->attested.quote;
	unsigned int len = 0;

	memset(attest, 0, sizeof(*attest));
	attest->magic = TPM2_GENERATED_VALUE;
	attest->type = TPM2_ST_ATTEST_QUOTE;
	attest->qualifiedSigner.size = 34;
	attest->qualifiedSigner.name[1] = TPM2_ALG_SHA256;
	attest->extraData.size = 32;
	memcpy(attest->extraData.buffer, nonce, 32);
	attest->clockInfo.clock = 123456789;
	attest->clockInfo.resetCount = 7;
	attest->clockInfo.restartCount = 3;
	attest->clockInfo.safe = TPM2_YES;
	attest->firmwareVersion = 0x2019102300163636ull;
	info->pcrSelect.count = 1;
	info->pcrSelect.pcrSelections[0].hash = bank;
	info->pcrSelect.pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < 3; i++)
		info->pcrSelect.pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
	if (EVP_Digest(values, values_len, info->pcrDigest.buffer, &len, EVP_sha256(), NULL) != 1)
		soft_die("pcr digest");
	info->pcrDigest.size = (uint16_t)len;
}

/* Recovers the seed from the encrypted secret: OAEP for RSA, ECDH + KDFe
 * with the ephemeral point for ECC. Returns the seed length, 0 on failure. */
static size_t recover_seed(EVP_PKEY *ek_priv, const struct tpm_ek *ek,
			   const struct tpm_credential *cred, uint8_t *seed)
{
	const uint8_t *secret = cred->encrypted_secret + 2;
	size_t secret_len = cred->encrypted_secret_len - 2, seed_len = tpm_hash_size(ek->name_alg);
	const char *md = EVP_MD_get0_name(tpm_hash_md(ek->name_alg));

	if (ek->pub.type == TPM2_ALG_RSA) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek_priv, NULL);
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
						     OSSL_PKEY_RSA_PAD_MODE_OAEP, 0),
		    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, (char *)md,
						     0),
		    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *)md,
						     0),
		    OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, "IDENTITY",
						      9),
		    OSSL_PARAM_construct_end(),
		};
		uint8_t plain[512];
		size_t len = sizeof(plain);
		/* OpenSSL wants room for a whole modulus, whatever the padding. */
		int ok = ctx != NULL && EVP_PKEY_decrypt_init_ex(ctx, params) == 1 &&
			 EVP_PKEY_decrypt(ctx, plain, &len, secret, secret_len) == 1 &&
			 len == seed_len;

		if (ok)
			memcpy(seed, plain, len);

		EVP_PKEY_CTX_free(ctx);
		return ok ? seed_len : 0;
	} else {
		/* TPMS_ECC_POINT: two TPM2B coordinates, each curve-sized here. */
		size_t coord = (size_t)secret[0] << 8 | secret[1];
		TPMT_PUBLIC eph_pub = ek->pub;
		EVP_PKEY *eph = NULL;
		EVP_PKEY_CTX *ctx = NULL;
		uint8_t z[66], ek_x[66];
		size_t z_len = sizeof(z);
		int ok;

		eph_pub.unique.ecc.x.size = (uint16_t)coord;
		memcpy(eph_pub.unique.ecc.x.buffer, secret + 2, coord);
		eph_pub.unique.ecc.y.size = (uint16_t)coord;
		memcpy(eph_pub.unique.ecc.y.buffer, secret + 4 + coord, coord);
		memcpy(ek_x, ek->pub.unique.ecc.x.buffer, coord);
		ok = tpm_public_key(&eph_pub, &eph) &&
		     (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek_priv, NULL)) != NULL &&
		     EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, eph) == 1 &&
		     EVP_PKEY_derive(ctx, z, &z_len) == 1 &&
		     tpm_kdfe(ek->name_alg, z, z_len, "IDENTITY", secret + 2, coord, ek_x, coord,
			      seed, seed_len) == ERR_OK;
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(eph);
		return ok ? seed_len : 0;
	}
}

int soft_activate(EVP_PKEY *ek_priv, const struct tpm_ek *ek, const TPM2B_NAME *name,
		  const struct tpm_credential *cred, uint8_t *out, size_t *out_len)
{
	uint8_t seed[TPM_HASH_MAX], sym_key[32], hmac_key[TPM_HASH_MAX], mac[TPM_HASH_MAX];
	uint8_t macced[256], plain[2 + TPM_HASH_MAX];
	const uint8_t *blob = cred->id_object + 2, *enc;
	size_t seed_len = recover_seed(ek_priv, ek, cred, seed), hmac_len, enc_len, mac_len = 0;
	const char *md = EVP_MD_get0_name(tpm_hash_md(ek->name_alg));
	const uint8_t iv[16] = {0};
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	if (seed_len == 0)
		return 0;
	hmac_len = (size_t)blob[0] << 8 | blob[1];
	enc = blob + 2 + hmac_len;
	enc_len = cred->id_object_len - 4 - hmac_len;
	memcpy(macced, enc, enc_len);
	memcpy(macced + enc_len, name->name, name->size);
	if (tpm_kdfa(ek->name_alg, seed, seed_len, "INTEGRITY", NULL, 0, NULL, 0, hmac_key,
		     seed_len) != ERR_OK ||
	    tpm_kdfa(ek->name_alg, seed, seed_len, "STORAGE", name->name, name->size, NULL, 0,
		     sym_key, ek->aes_bits / 8) != ERR_OK ||
	    EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, hmac_key, seed_len, macced,
		      enc_len + name->size, mac, sizeof(mac), &mac_len) == NULL)
		soft_die("activation keys");
	if (mac_len != hmac_len || CRYPTO_memcmp(mac, blob + 2, hmac_len) != 0)
		return 0;
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
	     EVP_DecryptInit_ex2(
		 ctx, EVP_get_cipherbyname(ek->aes_bits == 256 ? "AES-256-CFB" : "AES-128-CFB"),
		 sym_key, iv, NULL) == 1 &&
	     EVP_DecryptUpdate(ctx, plain, &n, enc, (int)enc_len) == 1 && (size_t)n == enc_len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok || ((size_t)plain[0] << 8 | plain[1]) != enc_len - 2)
		return 0;
	*out_len = enc_len - 2;
	memcpy(out, plain + 2, *out_len);
	return 1;
}
