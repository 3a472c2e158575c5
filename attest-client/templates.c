/* Key templates. The EK templates must match TCG's bit for bit: the TPM
 * derives the EK from its seed and the template, and only the exact default
 * template gives back the key the EK certificate names. */
#include "templates.h"

#include <string.h>

/* PolicyA: TPM2_PolicySecret(TPM_RH_ENDORSEMENT) as a SHA-256 policy digest
 * (EK Credential Profile, §B.3.2): the EK can be used by whoever knows the
 * endorsement hierarchy's authorization, normally empty. */
static const uint8_t ek_policy_a_sha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* The L templates' unique field: zeros of the key's size (256 bytes for
 * RSA-2048, 32 for each P-256 coordinate). */
#define EK_RSA_UNIQUE_SIZE 256
#define EK_ECC_UNIQUE_SIZE 32

/* What both templates share: the key (RSA-2048 or NIST P-256), nameAlg
 * SHA-256. symmetric and scheme sit at the start of both the RSA and the
 * ECC parameters (TPMS_ASYM_PARMS), so the callers set them once. */
static TPMT_PUBLIC *key_template(enum client_key_alg alg, TPMA_OBJECT attributes, TPM2B_PUBLIC *out)
{
	TPMT_PUBLIC *p = &out->publicArea;

	memset(out, 0, sizeof(*out));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = attributes;
	if (alg == CLIENT_ALG_RSA) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.keyBits = 2048;
		p->parameters.rsaDetail.exponent = 0; /* the default, 65537 */
	} else {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
	return p;
}

void template_ek(enum client_key_alg alg, TPM2B_PUBLIC *out)
{
	TPMT_PUBLIC *p = key_template(
	    alg,
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
	    out);

	p->authPolicy.size = sizeof(ek_policy_a_sha256);
	memcpy(p->authPolicy.buffer, ek_policy_a_sha256, sizeof(ek_policy_a_sha256));
	p->parameters.asymDetail.symmetric.algorithm = TPM2_ALG_AES;
	p->parameters.asymDetail.symmetric.keyBits.aes = 128;
	p->parameters.asymDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	p->parameters.asymDetail.scheme.scheme = TPM2_ALG_NULL;
	if (alg == CLIENT_ALG_RSA) {
		p->unique.rsa.size = EK_RSA_UNIQUE_SIZE;
	} else {
		p->unique.ecc.x.size = EK_ECC_UNIQUE_SIZE;
		p->unique.ecc.y.size = EK_ECC_UNIQUE_SIZE;
	}
}

void template_ak(enum client_key_alg alg, TPM2B_PUBLIC *out)
{
	/* restricted + sign: the TPM signs only digests it computed itself or
	 * structures it made (quotes), never a caller's TPM_GENERATED_VALUE. */
	TPMT_PUBLIC *p = key_template(
	    alg,
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
	    out);

	p->parameters.asymDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.asymDetail.scheme.scheme =
	    alg == CLIENT_ALG_RSA ? TPM2_ALG_RSASSA : TPM2_ALG_ECDSA;
	p->parameters.asymDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
}

uint32_t template_ek_persistent_handle(enum client_key_alg alg)
{
	return alg == CLIENT_ALG_RSA ? 0x81010001u : 0x81010002u;
}

uint32_t template_ek_cert_index(enum client_key_alg alg)
{
	return alg == CLIENT_ALG_RSA ? 0x01c00002u : 0x01c0000au;
}
