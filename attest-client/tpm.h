/* The machine's TPM, through tss2-esys and the TCTI loader: NV reads, the
 * EK and AK, credential activation and quotes. Prefix tpmdev_ (the TPM
 * device), apart from common's tpm_ helpers of the verifier side.
 *
 * A struct tpmdev owns every transient object and session it loads (at most
 * the EK, the AK and one policy session: some TPMs have only 3 object slots)
 * and tpmdev_close flushes them all, on every path; persistent objects are
 * only let go, never evicted. Every failure here is a TPM failure: the
 * detail names the command and the TPM's response code. */
#ifndef ATTEST_CLIENT_TPM_H
#define ATTEST_CLIENT_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "config.h"
#include "err.h"
#include "pcrs.h"
#include "quote.h"

struct tpmdev;

/* Opens the TPM named by a TCTI loader string ("device:/dev/tpmrm0",
 * "swtpm:host=127.0.0.1,port=2321", "tabrmd", ...). */
err_t tpmdev_open(const char *tcti, struct tpmdev **out) WARN_UNUSED;

/* Flushes every transient object and session still loaded, then closes
 * the connection. NULL-safe. */
void tpmdev_close(struct tpmdev *t);

/* The defined NV indices in first..last, ascending (at most cap). */
err_t tpmdev_nv_list(struct tpmdev *t, uint32_t first, uint32_t last, uint32_t *out, size_t cap,
		     size_t *count) WARN_UNUSED;

/* Reads a whole NV index (its auth value, else owner authorization, both
 * empty); refuses indices larger than max. *out is malloc'd. */
err_t tpmdev_nv_read(struct tpmdev *t, uint32_t index, size_t max, uint8_t **out,
		     size_t *len) WARN_UNUSED;

/* True when a persistent object exists at handle. */
err_t tpmdev_persistent_exists(struct tpmdev *t, uint32_t handle, bool *exists) WARN_UNUSED;

/* Makes the EK the persistent object at handle, or a fresh primary from the
 * TCG default template of alg (replacing the EK held before), and gives its
 * public area. */
err_t tpmdev_ek_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub) WARN_UNUSED;
err_t tpmdev_ek_create(struct tpmdev *t, enum client_key_alg alg, TPM2B_PUBLIC *pub) WARN_UNUSED;

/* The AK: a new child of the EK (as tpm2_createak makes it), a persistent
 * object, or a saved context; each gives its public area. Needs the EK for
 * creation only. */
err_t tpmdev_ak_create(struct tpmdev *t, enum client_key_alg alg, TPM2B_PUBLIC *pub) WARN_UNUSED;
err_t tpmdev_ak_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub) WARN_UNUSED;
err_t tpmdev_ak_load_context(struct tpmdev *t, const TPMS_CONTEXT *ctx,
			     TPM2B_PUBLIC *pub) WARN_UNUSED;

/* TPM2_ActivateCredential(AK, EK): the secret the verifier sealed to this
 * EK and the AK's name. The caller wipes *secret after use. */
err_t tpmdev_activate_credential(struct tpmdev *t, const TPM2B_ID_OBJECT *blob,
				 const TPM2B_ENCRYPTED_SECRET *encrypted,
				 TPM2B_DIGEST *secret) WARN_UNUSED;

/* The PCR values of a selection, in a pcr_bank (present == sel->mask). */
err_t tpmdev_pcr_read(struct tpmdev *t, const struct pcr_selection *sel,
		      struct pcr_bank *out) WARN_UNUSED;

struct tpmdev_quote {
	TPM2B_ATTEST attest; /* its buffer is the TPMS_ATTEST the AK signed */
	TPMT_SIGNATURE signature;
	struct pcr_bank pcrs; /* the values the quote's digest covers */
};

/* TPM2_Quote with the AK (its own scheme) over sel, nonce as qualifying
 * data, and the PCR values it covers: values and quote are taken again if a
 * PCR changed between the two, so the digest always matches. */
err_t tpmdev_quote(struct tpmdev *t, const uint8_t nonce[static QUOTE_NONCE_SIZE],
		   const struct pcr_selection *sel, struct tpmdev_quote *out) WARN_UNUSED;

#endif
