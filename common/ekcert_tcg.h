/* The TCG fields of an EK certificate, for ekcert.c: manufacturer, model
 * and version from the subject alternative name, the TPM specification
 * from the subject directory attributes. */
#ifndef ATTEST_EKCERT_TCG_H
#define ATTEST_EKCERT_TCG_H

#include <openssl/x509.h>

#include "ekcert.h"
#include "err.h"

/* Fills *out (zeroed first). A SAN that does not decode, repeats, or gives
 * one TCG attribute two different values, and a value longer than
 * EKCERT_TCG_STR_MAX: ERR_EK_CERT_INVALID, since the virtual-TPM rules
 * read these fields. The specification attribute is informational: when it
 * is malformed it is reported absent. */
err_t ekcert_tcg_read(X509 *x, struct ekcert_tpm_info *out) WARN_UNUSED;

#endif
