/* The TPM's own cryptography, done on the verifier's side with OpenSSL 3 EVP:
 * hash ids, KDFa and KDFe (TPM 2.0 Part 1 §11.4.10), MakeCredential (Part 1
 * §24) for RSA and ECC endorsement keys, and TPMT_SIGNATURE checks. */
#ifndef ATTEST_TPM_CRYPTO_H
#define ATTEST_TPM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "err.h"

/* Largest digest of a supported hash (SHA-512). */
#define TPM_HASH_MAX 64

/* The OpenSSL digest for a TPM hash id (TPM2_ALG_SHA1/256/384/512), fetched
 * once per process; NULL for any other id. Do not free. */
const EVP_MD *tpm_hash_md(uint16_t alg);

/* Digest size in bytes of a TPM hash id; 0 when unsupported. */
size_t tpm_hash_size(uint16_t alg);

/* KDFa(hashAlg, key, label, contextU, contextV, bits) of Part 1 §11.4.10.2,
 * the SP 800-108 counter-mode HMAC KDF; fills out[0..out_len). label is a C
 * string; its terminating zero is part of the input, as the TPM does. */
err_t tpm_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_len, const char *label,
	       const uint8_t *context_u, size_t u_len, const uint8_t *context_v, size_t v_len,
	       uint8_t *out, size_t out_len) WARN_UNUSED;

/* KDFe(hashAlg, Z, use, partyUInfo, partyVInfo, bits) of Part 1 §11.4.10.3,
 * the SP 800-56A single-step hash KDF; use is a C string, zero included. */
err_t tpm_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_len, const char *use,
	       const uint8_t *party_u, size_t u_len, const uint8_t *party_v, size_t v_len,
	       uint8_t *out, size_t out_len) WARN_UNUSED;

/* An endorsement key ready for MakeCredential: its public area passed the
 * template check (tpm_ek_check) and its key was built and validated once, so
 * each credential made with it skips those steps. */
struct tpm_ek {
	TPMT_PUBLIC pub;
	EVP_PKEY *key;
	uint16_t name_alg; /* hash of the KDFs, the HMAC and OAEP */
	uint16_t aes_bits; /* AES-CFB key size of the credential's encryption */
};

/* ERR_EK_INVALID when pub is not a supported EK template (DESIGN.md). Release
 * with tpm_ek_release, also after a failure. */
err_t tpm_ek_load(const TPMT_PUBLIC *pub, struct tpm_ek *out) WARN_UNUSED;
void tpm_ek_release(struct tpm_ek *ek);

/* The two halves of a credential, each exactly as tss2-mu marshals it
 * (TPM2B size first): what tpm2_activatecredential and Esys take. */
struct tpm_credential {
	uint8_t id_object[sizeof(TPM2B_ID_OBJECT)]; /* TPM2B_ID_OBJECT */
	size_t id_object_len;
	uint8_t encrypted_secret[sizeof(TPM2B_ENCRYPTED_SECRET)]; /* TPM2B_ENCRYPTED_SECRET */
	size_t encrypted_secret_len;
};

/* TPM2_MakeCredential done in software: protects secret (1 .. digest size of
 * the EK's nameAlg bytes) so that only the TPM holding ek, with the object
 * named ak_name loaded, can recover it with TPM2_ActivateCredential. */
err_t tpm_make_credential(const struct tpm_ek *ek, const TPM2B_NAME *ak_name, const uint8_t *secret,
			  size_t secret_len, struct tpm_credential *out) WARN_UNUSED;

/* The file `tpm2_makecredential -o` writes: magic 0xBADCC0DE, version 1, then
 * the TPM2B_ID_OBJECT and the TPM2B_ENCRYPTED_SECRET. */
#define TPM_CREDENTIAL_FILE_MAX                                                                    \
	(8 + sizeof(((struct tpm_credential *)0)->id_object) +                                     \
	 sizeof(((struct tpm_credential *)0)->encrypted_secret))
err_t tpm_credential_file(const struct tpm_credential *cred, uint8_t *out, size_t cap,
			  size_t *len) WARN_UNUSED;

/* Checks sig over msg with key (built from key_pub by tpm_public_key). The
 * signature's scheme and hash must be the ones key_pub declares: a key that
 * says RSASSA-SHA256 never vouches for a PSS or SHA-1 signature. Returns
 * ERR_QUOTE_INVALID (with a detail) when the signature does not verify. */
err_t tpm_signature_verify(const TPMT_PUBLIC *key_pub, EVP_PKEY *key, const TPMT_SIGNATURE *sig,
			   const uint8_t *msg, size_t msg_len) WARN_UNUSED;

#endif
