/* TPM structures as they arrive from a client: complete unmarshalling through
 * tss2-mu, the EK template and AK attribute rules of DESIGN.md, object Names
 * and OpenSSL keys built from a public area. */
#ifndef ATTEST_TPM_WIRE_H
#define ATTEST_TPM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "err.h"

/* Each unmarshaller takes the exact wire bytes of one structure and refuses
 * anything tss2-mu will not read, and any byte left over, with
 * ERR_BAD_REQUEST and a detail that starts with `field` ("ak_pub: ..."). */

/* A TPM2B_PUBLIC (tpm2_createak -u); its size must cover the public area
 * exactly. */
err_t tpm_wire_public(const uint8_t *p, size_t len, const char *field,
		      TPMT_PUBLIC *out) WARN_UNUSED;

/* A TPMS_ATTEST, the bytes a TPM signs (tpm2_quote -m). Magic and type are
 * not judged here: that is the verifier's first check. */
err_t tpm_wire_attest(const uint8_t *p, size_t len, const char *field,
		      TPMS_ATTEST *out) WARN_UNUSED;

/* A TPMT_SIGNATURE (tpm2_quote -s). */
err_t tpm_wire_signature(const uint8_t *p, size_t len, const char *field,
			 TPMT_SIGNATURE *out) WARN_UNUSED;

/* The key in a public area as an OpenSSL public key, built from the raw
 * fields (no DER round trip) and validated: RSA 2048/3072 with exponent
 * 65537, or a point on NIST P-256/P-384. False for anything else; the
 * caller picks the error code (ek_invalid, ak_invalid). */
bool tpm_public_key(const TPMT_PUBLIC *pub, EVP_PKEY **out) WARN_UNUSED;

/* Object Name: nameAlg (2 bytes, big-endian) || H_nameAlg(TPMT_PUBLIC as
 * the TPM marshals it), the value TPM2_MakeCredential binds to. */
err_t tpm_object_name(const TPMT_PUBLIC *pub, TPM2B_NAME *out) WARN_UNUSED;

/* The AK rule: nameAlg SHA-256; RSA-2048 with RSASSA or RSAPSS and SHA-256,
 * or ECC NIST P-256 with ECDSA and SHA-256; fixedTPM, fixedParent,
 * sensitiveDataOrigin, restricted and sign set, decrypt clear; a valid key.
 * Only such a key signs nothing but TPM-made structures. ERR_AK_INVALID
 * otherwise, the detail naming the first rule broken. When key is not NULL
 * and the AK passes, *key receives its public key (EVP_PKEY_free it). */
err_t tpm_ak_check(const TPMT_PUBLIC *ak, EVP_PKEY **key) WARN_UNUSED;

/* What MakeCredential needs from an EK template. */
struct tpm_ek_profile {
	const char *template_name; /* "L-2/H-2 P-256", "H-3 P-384", ...: for logs */
	uint16_t name_alg;
	uint16_t aes_bits; /* AES-CFB, the only symmetric cipher of these templates */
};

/* The EK rule: a restricted decryption key (fixedTPM, fixedParent,
 * sensitiveDataOrigin, restricted, decrypt set; sign clear) whose key,
 * nameAlg and symmetric definition are those of a supported TCG template:
 * L-1/H-1 RSA-2048, L-2/H-2 P-256 (SHA-256, AES-128-CFB), H-3 P-384 and
 * H-6 RSA-3072 (SHA-384, AES-256-CFB). ERR_EK_INVALID otherwise. key as
 * for tpm_ak_check. */
err_t tpm_ek_check(const TPMT_PUBLIC *ek, struct tpm_ek_profile *profile,
		   EVP_PKEY **key) WARN_UNUSED;

#endif
