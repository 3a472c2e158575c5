/* TPM structures from clients: unmarshalling, the EK and AK rules, Names and
 * keys. Everything here reads hostile bytes or judges hostile public areas. */
#include "tpm_wire.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include "abuf.h"
#include "tpm_crypto.h"

static err_t unmarshal_result(TSS2_RC rc, size_t off, size_t len, const char *field,
			      const char *type)
{
	if (rc != TSS2_RC_SUCCESS)
		return err_fail(ERR_BAD_REQUEST, "%s: not a valid %s (tss2-mu 0x%x)", field, type,
				(unsigned)rc);
	if (off != len)
		return err_fail(ERR_BAD_REQUEST, "%s: %zu bytes after the %s", field, len - off,
				type);
	return ERR_OK;
}

err_t tpm_wire_public(const uint8_t *p, size_t len, const char *field, TPMT_PUBLIC *out)
{
	struct abuf b, area;
	uint16_t size;
	size_t off = 0;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	/* The TPM2B size is read here rather than by tss2-mu so that the public
	 * area is parsed inside a view of exactly that size. */
	abuf_init(&b, p, len);
	if (!abuf_u16be(&b, &size) || !abuf_child(&b, size, &area))
		return err_fail(ERR_BAD_REQUEST, "%s: TPM2B_PUBLIC size beyond the data", field);
	if (!abuf_expect_end(&b))
		return err_fail(ERR_BAD_REQUEST, "%s: %zu bytes after the TPM2B_PUBLIC", field,
				abuf_remaining(&b));
	rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(area.p, area.len, &off, out);
	return unmarshal_result(rc, off, area.len, field, "TPMT_PUBLIC");
}

err_t tpm_wire_attest(const uint8_t *p, size_t len, const char *field, TPMS_ATTEST *out)
{
	size_t off = 0;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	rc = Tss2_MU_TPMS_ATTEST_Unmarshal(p, len, &off, out);
	return unmarshal_result(rc, off, len, field, "TPMS_ATTEST");
}

err_t tpm_wire_signature(const uint8_t *p, size_t len, const char *field, TPMT_SIGNATURE *out)
{
	size_t off = 0;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, len, &off, out);
	return unmarshal_result(rc, off, len, field, "TPMT_SIGNATURE");
}

/* An exponent of 0 means the TPM default, 2^16 + 1 (Part 2, TPMS_RSA_PARMS);
 * TPMs are only required to support that one. */
#define TPM_RSA_DEFAULT_EXPONENT 65537u

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_key(const TPMT_PUBLIC *pub)
{
	const TPMS_RSA_PARMS *parms = &pub->parameters.rsaDetail;
	const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *modulus = NULL, *exponent = NULL;
	EVP_PKEY *pkey = NULL;

	if (parms->keyBits != 2048 && parms->keyBits != 3072)
		return NULL;
	/* Exactly keyBits long (top bit set) and odd: anything else is no RSA
	 * modulus a TPM made. */
	if (n->size != parms->keyBits / 8 || (n->buffer[0] & 0x80) == 0 ||
	    (n->buffer[n->size - 1] & 1) == 0)
		return NULL;
	if (parms->exponent != 0 && parms->exponent != TPM_RSA_DEFAULT_EXPONENT)
		return NULL;
	modulus = BN_bin2bn(n->buffer, n->size, NULL);
	exponent = BN_new();
	bld = OSSL_PARAM_BLD_new();
	if (modulus != NULL && exponent != NULL && bld != NULL &&
	    BN_set_word(exponent, TPM_RSA_DEFAULT_EXPONENT) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, modulus) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, exponent) == 1)
		pkey = pkey_from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(modulus);
	BN_free(exponent);
	return pkey;
}

/* Largest coordinate of a supported curve (P-384). */
#define TPM_ECC_COORD_MAX 48

static bool ecc_curve(uint16_t curve_id, const char **group, size_t *coord_size)
{
	switch (curve_id) {
	case TPM2_ECC_NIST_P256:
		*group = SN_X9_62_prime256v1;
		*coord_size = 32;
		return true;
	case TPM2_ECC_NIST_P384:
		*group = SN_secp384r1;
		*coord_size = 48;
		return true;
	default:
		return false;
	}
}

/* Writes a big-endian coordinate right-aligned into out[0..size): TPMs pad
 * coordinates to the curve size, but leading zeros carry no value, so a
 * shorter one means the same number. */
static bool ecc_coordinate(const TPM2B_ECC_PARAMETER *c, uint8_t *out, size_t size)
{
	if (c->size == 0 || c->size > size)
		return false;
	memset(out, 0, size - c->size);
	memcpy(out + (size - c->size), c->buffer, c->size);
	return true;
}

static EVP_PKEY *ecc_key(const TPMT_PUBLIC *pub)
{
	uint8_t point[1 + 2 * TPM_ECC_COORD_MAX];
	const char *group;
	size_t size;
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *check = NULL;

	if (!ecc_curve(pub->parameters.eccDetail.curveID, &group, &size))
		return NULL;
	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	if (!ecc_coordinate(&pub->unique.ecc.x, point + 1, size) ||
	    !ecc_coordinate(&pub->unique.ecc.y, point + 1 + size, size))
		return NULL;
	bld = OSSL_PARAM_BLD_new();
	if (bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size) ==
		1)
		pkey = pkey_from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	/* On the curve and not the point at infinity; the cofactor of both
	 * curves is 1, so that is all a public point has to be. Checked once
	 * here so that ECDH may later skip it (NOTES-performance.md). */
	if (pkey != NULL) {
		check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (check == NULL || EVP_PKEY_public_check_quick(check) != 1) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	EVP_PKEY_CTX_free(check);
	return pkey;
}

bool tpm_public_key(const TPMT_PUBLIC *pub, EVP_PKEY **out)
{
	switch (pub->type) {
	case TPM2_ALG_RSA:
		*out = rsa_key(pub);
		break;
	case TPM2_ALG_ECC:
		*out = ecc_key(pub);
		break;
	default:
		*out = NULL;
		break;
	}
	/* A refused key is the client's fault, not an error of this thread:
	 * leave nothing in OpenSSL's queue for unrelated code to find. */
	if (*out == NULL)
		ERR_clear_error();
	return *out != NULL;
}

err_t tpm_object_name(const TPMT_PUBLIC *pub, TPM2B_NAME *out)
{
	uint8_t area[sizeof(TPMT_PUBLIC)];
	size_t area_len = 0, digest_size = tpm_hash_size(pub->nameAlg);
	const EVP_MD *md = tpm_hash_md(pub->nameAlg);
	unsigned int written = 0;

	if (md == NULL)
		return err_fail(ERR_BAD_REQUEST, "nameAlg 0x%04x has no Name", pub->nameAlg);
	if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, area, sizeof(area), &area_len) != TSS2_RC_SUCCESS)
		return err_fail(ERR_INTERNAL, "cannot marshal a TPMT_PUBLIC");
	out->name[0] = (uint8_t)(pub->nameAlg >> 8);
	out->name[1] = (uint8_t)pub->nameAlg;
	if (EVP_Digest(area, area_len, out->name + 2, &written, md, NULL) != 1 ||
	    written != digest_size)
		return err_fail(ERR_INTERNAL, "digest of a public area failed");
	out->size = (uint16_t)(2 + digest_size);
	return ERR_OK;
}

/* Attribute bits a key rule requires, with their names for details. */
static const struct {
	TPMA_OBJECT bit;
	const char *name;
} object_attributes[] = {
    {TPMA_OBJECT_FIXEDTPM, "fixedTPM"},
    {TPMA_OBJECT_FIXEDPARENT, "fixedParent"},
    {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin"},
    {TPMA_OBJECT_RESTRICTED, "restricted"},
    {TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
    {TPMA_OBJECT_DECRYPT, "decrypt"},
};

/* First bit of `required` missing from attrs, or of `forbidden` present. */
static const char *attribute_broken(TPMA_OBJECT attrs, TPMA_OBJECT required, TPMA_OBJECT forbidden,
				    bool *missing)
{
	for (size_t i = 0; i < sizeof(object_attributes) / sizeof(object_attributes[0]); i++) {
		TPMA_OBJECT bit = object_attributes[i].bit;

		*missing = (required & bit) != 0 && (attrs & bit) == 0;
		if (*missing || ((forbidden & bit) != 0 && (attrs & bit) != 0))
			return object_attributes[i].name;
	}
	return NULL;
}

static err_t attributes_check(TPMA_OBJECT attrs, TPMA_OBJECT required, TPMA_OBJECT forbidden,
			      err_t refusal, const char *what)
{
	bool missing;
	const char *name = attribute_broken(attrs, required, forbidden, &missing);

	if (name == NULL)
		return ERR_OK;
	return err_fail(refusal, "%s attributes 0x%08x: %s %s", what, (unsigned)attrs, name,
			missing ? "clear" : "set");
}

#define TPM_KEY_ORIGIN_BITS                                                                        \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN)

static err_t ak_algorithms_check(const TPMT_PUBLIC *ak)
{
	const TPMS_RSA_PARMS *rsa = &ak->parameters.rsaDetail;
	const TPMS_ECC_PARMS *ecc = &ak->parameters.eccDetail;

	switch (ak->type) {
	case TPM2_ALG_RSA:
		if (rsa->keyBits != 2048)
			return err_fail(ERR_AK_INVALID, "AK RSA-%u, not RSA-2048", rsa->keyBits);
		if (rsa->symmetric.algorithm != TPM2_ALG_NULL)
			return err_fail(ERR_AK_INVALID, "AK has a symmetric algorithm");
		if (rsa->scheme.scheme != TPM2_ALG_RSASSA && rsa->scheme.scheme != TPM2_ALG_RSAPSS)
			return err_fail(ERR_AK_INVALID, "AK scheme 0x%04x, not RSASSA or RSAPSS",
					rsa->scheme.scheme);
		if (rsa->scheme.details.anySig.hashAlg != TPM2_ALG_SHA256)
			return err_fail(ERR_AK_INVALID, "AK signs with hash 0x%04x, not SHA-256",
					rsa->scheme.details.anySig.hashAlg);
		return ERR_OK;
	case TPM2_ALG_ECC:
		if (ecc->curveID != TPM2_ECC_NIST_P256)
			return err_fail(ERR_AK_INVALID, "AK curve 0x%04x, not NIST P-256",
					ecc->curveID);
		if (ecc->symmetric.algorithm != TPM2_ALG_NULL || ecc->kdf.scheme != TPM2_ALG_NULL)
			return err_fail(ERR_AK_INVALID, "AK has a symmetric algorithm or a KDF");
		if (ecc->scheme.scheme != TPM2_ALG_ECDSA)
			return err_fail(ERR_AK_INVALID, "AK scheme 0x%04x, not ECDSA",
					ecc->scheme.scheme);
		if (ecc->scheme.details.anySig.hashAlg != TPM2_ALG_SHA256)
			return err_fail(ERR_AK_INVALID, "AK signs with hash 0x%04x, not SHA-256",
					ecc->scheme.details.anySig.hashAlg);
		return ERR_OK;
	default:
		return err_fail(ERR_AK_INVALID, "AK type 0x%04x, not RSA or ECC", ak->type);
	}
}

/* Hands the key to the caller or frees it; the rule checks are done. */
static err_t key_result(const TPMT_PUBLIC *pub, EVP_PKEY **key, err_t refusal, const char *what)
{
	EVP_PKEY *pkey;

	if (!tpm_public_key(pub, &pkey))
		return err_fail(refusal, "%s key is not a valid public key", what);
	if (key != NULL)
		*key = pkey;
	else
		EVP_PKEY_free(pkey);
	return ERR_OK;
}

err_t tpm_ak_check(const TPMT_PUBLIC *ak, EVP_PKEY **key)
{
	if (key != NULL)
		*key = NULL;
	if (ak->nameAlg != TPM2_ALG_SHA256)
		return err_fail(ERR_AK_INVALID, "AK nameAlg 0x%04x, not SHA-256", ak->nameAlg);
	TRY(attributes_check(ak->objectAttributes,
			     TPM_KEY_ORIGIN_BITS | TPMA_OBJECT_RESTRICTED |
				 TPMA_OBJECT_SIGN_ENCRYPT,
			     TPMA_OBJECT_DECRYPT, ERR_AK_INVALID, "AK"));
	TRY(ak_algorithms_check(ak));
	return key_result(ak, key, ERR_AK_INVALID, "AK");
}

/* The TCG EK Credential Profile templates DESIGN.md supports. The L and H
 * variants of one key differ only in attributes and policy, not in what
 * MakeCredential uses, so they share a row. */
static const struct ek_template {
	const char *name;
	uint16_t type;
	uint16_t key; /* RSA modulus bits or TPM curve id */
	uint16_t name_alg;
	uint16_t aes_bits;
} ek_templates[] = {
    {"L-1/H-1 RSA-2048", TPM2_ALG_RSA, 2048, TPM2_ALG_SHA256, 128},
    {"L-2/H-2 P-256", TPM2_ALG_ECC, TPM2_ECC_NIST_P256, TPM2_ALG_SHA256, 128},
    {"H-3 P-384", TPM2_ALG_ECC, TPM2_ECC_NIST_P384, TPM2_ALG_SHA384, 256},
    {"H-6 RSA-3072", TPM2_ALG_RSA, 3072, TPM2_ALG_SHA384, 256},
};

static const struct ek_template *ek_template_for(const TPMT_PUBLIC *ek)
{
	uint16_t key;

	if (ek->type == TPM2_ALG_RSA)
		key = ek->parameters.rsaDetail.keyBits;
	else if (ek->type == TPM2_ALG_ECC)
		key = ek->parameters.eccDetail.curveID;
	else
		return NULL;
	for (size_t i = 0; i < sizeof(ek_templates) / sizeof(ek_templates[0]); i++) {
		if (ek_templates[i].type == ek->type && ek_templates[i].key == key)
			return &ek_templates[i];
	}
	return NULL;
}

err_t tpm_ek_check(const TPMT_PUBLIC *ek, struct tpm_ek_profile *profile, EVP_PKEY **key)
{
	const struct ek_template *t = ek_template_for(ek);
	const TPMT_SYM_DEF_OBJECT *sym;
	uint16_t scheme, kdf = TPM2_ALG_NULL;

	if (key != NULL)
		*key = NULL;
	if (t == NULL)
		return err_fail(ERR_EK_INVALID,
				"EK type 0x%04x with this key size is no supported "
				"template",
				ek->type);
	/* RSA and ECC parameters both begin with the symmetric definition and
	 * the scheme, but as members of a union: read the right one. */
	if (ek->type == TPM2_ALG_RSA) {
		sym = &ek->parameters.rsaDetail.symmetric;
		scheme = ek->parameters.rsaDetail.scheme.scheme;
	} else {
		sym = &ek->parameters.eccDetail.symmetric;
		scheme = ek->parameters.eccDetail.scheme.scheme;
		kdf = ek->parameters.eccDetail.kdf.scheme;
	}
	TRY(attributes_check(ek->objectAttributes,
			     TPM_KEY_ORIGIN_BITS | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
			     TPMA_OBJECT_SIGN_ENCRYPT, ERR_EK_INVALID, "EK"));
	if (ek->nameAlg != t->name_alg)
		return err_fail(ERR_EK_INVALID, "EK %s with nameAlg 0x%04x", t->name, ek->nameAlg);
	if (sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB ||
	    sym->keyBits.aes != t->aes_bits)
		return err_fail(ERR_EK_INVALID, "EK %s: symmetric is not AES-%u-CFB", t->name,
				t->aes_bits);
	if (scheme != TPM2_ALG_NULL || kdf != TPM2_ALG_NULL)
		return err_fail(ERR_EK_INVALID, "EK %s has a scheme or a KDF", t->name);
	TRY(key_result(ek, key, ERR_EK_INVALID, "EK"));
	profile->template_name = t->name;
	profile->name_alg = t->name_alg;
	profile->aes_bits = t->aes_bits;
	return ERR_OK;
}
