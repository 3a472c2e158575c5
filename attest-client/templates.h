/* The public-area templates the client asks the TPM to create keys from:
 * the TCG default EK templates, so the EK is the key the manufacturer
 * certified, and an AK like tpm2_createak's, so either tool's AK passes the
 * verifier's AK rule. */
#ifndef ATTEST_CLIENT_TEMPLATES_H
#define ATTEST_CLIENT_TEMPLATES_H

#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "config.h"

/* TCG EK Credential Profile 2.5, §2.2.1.4 (low range): L-1 for RSA-2048,
 * L-2 for ECC NIST P-256. alg is CLIENT_ALG_RSA or CLIENT_ALG_ECC. */
void template_ek(enum client_key_alg alg, TPM2B_PUBLIC *out);

/* A restricted signing key: RSA-2048 RSASSA-SHA256 or NIST P-256
 * ECDSA-SHA256, nameAlg SHA-256, fixedTPM, fixedParent,
 * sensitiveDataOrigin, userWithAuth, restricted, sign. */
void template_ak(enum client_key_alg alg, TPM2B_PUBLIC *out);

/* The persistent handles TCG's Provisioning Guidance reserves for the EK:
 * 0x81010001 (RSA), 0x81010002 (ECC); tpm2_createek -c uses them too. */
uint32_t template_ek_persistent_handle(enum client_key_alg alg);

/* The NV index of the EK certificate for alg: 0x01c00002 (RSA-2048),
 * 0x01c0000a (ECC P-256). */
uint32_t template_ek_cert_index(enum client_key_alg alg);

#endif
