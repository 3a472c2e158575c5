/* EK certificates: parsing (DER as read from TPM NV, with its 0xFF padding,
 * or PEM), the TCG fields of the subject alternative name and of the subject
 * directory attributes, the machine id, and the check that the EK public a
 * client sends is the certificate's key. Chain building: ekcert_chain.h. */
#ifndef ATTEST_EKCERT_H
#define ATTEST_EKCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

/* Largest certificate input accepted, padding and PEM armour included. Real
 * EK certificates are 0.5-2 KiB and NV indices hold at most a few KiB; 64 KiB
 * keeps a hostile input from costing more than a real one by much. */
#define EKCERT_MAX_INPUT (64 * 1024)

/* Longest TCG SAN value kept (manufacturer, model, version). The TCG EK
 * Credential Profile bounds them with STRMAX; real values are under 32
 * bytes. Longer values make the certificate invalid rather than truncated,
 * so a virtual-TPM rule never matches against a cut string. */
#define EKCERT_TCG_STR_MAX 128

/* "sha256:" + 64 hex digits + NUL. */
#define EKCERT_MACHINE_ID_SIZE (7 + 64 + 1)

/* What the certificate says about its TPM. Strings are empty when absent. */
struct ekcert_tpm_info {
	bool has_tcg_san;     /* a directoryName with the TCG attributes */
	bool manufacturer_ok; /* manufacturer parsed as "id:" + 1..8 hex digits */
	uint32_t manufacturer;
	char manufacturer_str[EKCERT_TCG_STR_MAX + 1]; /* as written: "id:49465800" */
	char vendor_code[5];			       /* printable id bytes: "IFX", "STM" */
	const char *vendor_name;		       /* TCG registry name, NULL if unknown */
	char model[EKCERT_TCG_STR_MAX + 1];
	char version[EKCERT_TCG_STR_MAX + 1];
	/* tcg-at-tpmSpecification from subject directory attributes. */
	bool has_spec;
	char spec_family[EKCERT_TCG_STR_MAX + 1]; /* "2.0" */
	uint32_t spec_level;
	uint32_t spec_revision; /* e.g. 116 for revision 1.16 */
};

struct ekcert;

/* The wire form (DESIGN.md: `ek_cert` is DER): one DER certificate, which
 * may be followed by 0xFF bytes only (an NV index read whole). Anything else
 * after the certificate, or no certificate: ERR_EK_CERT_INVALID. A SAN that
 * cannot be decoded or carries two different values for one TCG attribute is
 * also ERR_EK_CERT_INVALID, because the virtual-TPM rules read it. */
err_t ekcert_parse_der(const uint8_t *buf, size_t len, struct ekcert **out) WARN_UNUSED;

/* DER as above, or PEM with exactly one CERTIFICATE block (text around it is
 * allowed, as openssl x509 -text writes). For files an operator gives. */
err_t ekcert_parse(const uint8_t *buf, size_t len, struct ekcert **out) WARN_UNUSED;

void ekcert_free(struct ekcert *c);

/* Borrowed pointers, valid while c lives. */
X509 *ekcert_x509(const struct ekcert *c);
EVP_PKEY *ekcert_key(const struct ekcert *c);
const struct ekcert_tpm_info *ekcert_tpm_info(const struct ekcert *c);

/* The DER X.509 at the start of buf, with only 0xFF padding allowed after
 * it: ERR_EK_CERT_INVALID otherwise. Also used for `ek_chain` entries, which
 * come from the same NV indices. */
err_t ekcert_x509_from_der(const uint8_t *buf, size_t len, X509 **out) WARN_UNUSED;

/* DESIGN.md machine id: "sha256:" + lower-case hex SHA-256 of the DER
 * SubjectPublicKeyInfo of the certificate's key, as the certificate encodes
 * it. ekcert_key_machine_id computes the same from a key (OpenSSL's
 * canonical encoding, which is what EK certificates carry: RSA with NULL
 * parameters, EC named curve and uncompressed point). */
err_t ekcert_machine_id(const struct ekcert *c,
			char out[static EKCERT_MACHINE_ID_SIZE]) WARN_UNUSED;
err_t ekcert_key_machine_id(EVP_PKEY *key, char out[static EKCERT_MACHINE_ID_SIZE]) WARN_UNUSED;

/* ERR_OK when ek_pub (made from the client's TPM2B_PUBLIC) is the
 * certificate's key, ERR_EK_KEY_MISMATCH otherwise (other type, curve,
 * modulus, exponent or point). */
err_t ekcert_check_key(const struct ekcert *c, EVP_PKEY *ek_pub) WARN_UNUSED;
err_t ekcert_key_equal(EVP_PKEY *cert_key, EVP_PKEY *ek_pub) WARN_UNUSED;

/* Reads the TCG form "id:" + 1 to 8 hex digits (manufacturer ids are
 * written with exactly 8) as a number; false for anything else. */
bool ekcert_parse_tcg_id(const char *s, uint32_t *out) WARN_UNUSED;

/* TCG vendor registry name of a manufacturer id ("Infineon"), NULL if not
 * in the table. */
const char *ekcert_vendor_name(uint32_t manufacturer);

/* A distinguished name as one RFC 2253 line ("CN=x,O=y"; UTF-8 kept,
 * control characters escaped), cut to fit cap; "(empty)" for an empty
 * name, as most EK certificates' subjects are. */
void ekcert_name_line(const X509_NAME *name, char *out, size_t cap);

#endif
