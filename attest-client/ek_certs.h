/* The EK certificate and its intermediates as the client sends them: DER,
 * read from the TPM's NV indices (TCG EK Credential Profile) or from files
 * for TPMs whose certificates are served online (Intel PTT, AMD fTPM). */
#ifndef ATTEST_CLIENT_EK_CERTS_H
#define ATTEST_CLIENT_EK_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "config.h"
#include "err.h"
#include "tpm.h"

/* Real chains hold one or two intermediates; the TCG chain range of NV
 * could hold 256 indices, and a verifier needs no more than this. */
#define EK_CERTS_CHAIN_MAX 8

/* EK certificate indices (0x01c00002 RSA-2048, 0x01c0000a P-256, 0x01c00016
 * P-384, ...) and the chain range 0x01c00100..0x01c001ff. */
#define EK_CERTS_NV_FIRST	0x01c00000u
#define EK_CERTS_NV_CHAIN_FIRST 0x01c00100u
#define EK_CERTS_NV_CHAIN_LAST	0x01c001ffu

struct ek_cert_der {
	uint8_t *der;
	size_t len;
};

struct ek_certs {
	struct ek_cert_der leaf;
	struct ek_cert_der chain[EK_CERTS_CHAIN_MAX];
	size_t chain_count;
	enum client_key_alg alg; /* of the leaf's key: CLIENT_ALG_RSA or _ECC */
};

void ek_certs_init(struct ek_certs *c);
void ek_certs_free(struct ek_certs *c);

/* Adds the certificates in p: DER certificates back to back, then nothing
 * but 0xFF bytes (NV indices are often padded to their defined size). The
 * first becomes the leaf when as_leaf (and sets c->alg), the others go to
 * the chain. ERR_BAD_REQUEST for anything else. */
err_t ek_certs_add_der(struct ek_certs *c, const uint8_t *p, size_t len, bool as_leaf) WARN_UNUSED;

/* The same for a file: DER as above, or PEM with one or more CERTIFICATE
 * blocks (each block's bytes are sent exactly as they are). */
err_t ek_certs_add_file(struct ek_certs *c, const char *path, bool as_leaf) WARN_UNUSED;

/* Reads the EK certificate for alg from NV, and every certificate in the
 * chain range. CLIENT_ALG_AUTO takes ECC P-256 when certified, else RSA,
 * preferring one whose EK is already persistent (no key derivation).
 * ERR_NOT_FOUND when the TPM holds no usable EK certificate. */
err_t ek_certs_read_nv(struct tpmdev *t, enum client_key_alg alg, struct ek_certs *c) WARN_UNUSED;

/* True when pub (an EK public area) holds the leaf certificate's key. */
bool ek_certs_certify(const struct ek_certs *c, const TPM2B_PUBLIC *pub);

#endif
