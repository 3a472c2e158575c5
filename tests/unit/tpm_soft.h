/* Software keys in TPM clothing, for unit tests and benchmarks: the public
 * area a TPM would report for an OpenSSL key, TPM-style signatures and
 * quotes, and TPM2_ActivateCredential done with an EK's private key. Any
 * failure aborts: these build test inputs, they are not under test. */
#ifndef ATTEST_TPM_SOFT_H
#define ATTEST_TPM_SOFT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "tpm_crypto.h"

/* Attributes tpm2_createak gives an AK and tpm2_createek an L-template EK. */
#define SOFT_AK_ATTRIBUTES                                                                         \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |        \
	 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)
#define SOFT_EK_ATTRIBUTES                                                                         \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |        \
	 TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* A whole file (tests run in tests/data); aborts if it cannot be read. */
uint8_t *soft_read_file(const char *path, size_t *len);

/* A fresh key: "RSA" with bits 2048/3072, or "EC" with a curve name. */
EVP_PKEY *soft_rsa_key(unsigned bits);
EVP_PKEY *soft_ec_key(const char *group);

/* The public area of an AK (scheme RSASSA, RSAPSS or ECDSA, SHA-256). */
void soft_ak_public(EVP_PKEY *key, uint16_t scheme, TPMT_PUBLIC *pub);

/* The public area of an EK of the template matching the key (L-1, L-2,
 * H-3 or H-6). */
void soft_ek_public(EVP_PKEY *key, TPMT_PUBLIC *pub);

/* TPM2B_PUBLIC / TPMS_ATTEST / TPMT_SIGNATURE wire bytes; return length. */
size_t soft_marshal_public(const TPMT_PUBLIC *pub, uint8_t *out, size_t cap);
size_t soft_marshal_attest(const TPMS_ATTEST *attest, uint8_t *out, size_t cap);
size_t soft_marshal_signature(const TPMT_SIGNATURE *sig, uint8_t *out, size_t cap);

/* Signs msg (hashing it with SHA-256) as TPM2_Sign would. */
void soft_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *msg, size_t len, TPMT_SIGNATURE *sig);

/* A TPMS_ATTEST of type quote as a TPM would make it: nonce as extraData,
 * one selection of `bank` and `mask`, pcrDigest = SHA-256 of values. */
void soft_quote(const uint8_t nonce[32], uint16_t bank, uint32_t mask, const uint8_t *values,
		size_t values_len, TPMS_ATTEST *attest);

/* TPM2_ActivateCredential with the EK's private key: 1 and the secret in
 * out[0..*out_len) when the credential opens for `name`, 0 otherwise. */
int soft_activate(EVP_PKEY *ek_priv, const struct tpm_ek *ek, const TPM2B_NAME *name,
		  const struct tpm_credential *cred, uint8_t *out, size_t *out_len);

#endif
