/* A software twin of one machine's TPM, for benchmarks and tests (not
 * product code): an endorsement key of the TCG default template L-1
 * (RSA-2048) or L-2 (P-256) with an EK certificate issued by the test
 * manufacturer PKI (scripts/make-test-pki), an ECDSA P-256 AK, a measured
 * UEFI boot with Secure Boot on (a ~30 KB crypto-agile event log) and the
 * PCRs it leaves. It activates credentials and quotes as
 * TPM2_ActivateCredential and TPM2_Quote would, so attestd can be driven at
 * full speed with no TPM in the loop. Built on tests/unit/tpm_soft. Set-up
 * failures abort (these are test inputs); a credential that does not open
 * is an answer, not a failure. One thread at a time per soft_tpm. */
#ifndef ATTEST_SOFT_TPM_H
#define ATTEST_SOFT_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

/* What the EK certificate's TCG subject alternative name says: an STMicro
 * part, as scripts/swtpm-fixture writes it, so nothing looks virtual. */
#define SOFT_TPM_MANUFACTURER "id:53544D20"
#define SOFT_TPM_MODEL	      "ST33HTPHAHD4"
#define SOFT_TPM_VERSION      "id:00010102"

/* The PCRs a default policy quotes: sha256:0-7. */
#define SOFT_TPM_PCR_MASK 0xffu

/* Largest wire forms soft_tpm_quote writes. */
#define SOFT_TPM_ATTEST_MAX    sizeof(TPMS_ATTEST)
#define SOFT_TPM_SIGNATURE_MAX sizeof(TPMT_SIGNATURE)

enum soft_ek_type { SOFT_EK_RSA, SOFT_EK_ECC };

struct soft_tpm;

/* A new machine: fresh EK and AK keys, the EK certificate signed by
 * PKI_DIR/private/{rsa,ecc}-intermediate.key, the boot log and its PCRs. */
struct soft_tpm *soft_tpm_new(enum soft_ek_type type, const char *pki_dir);
void soft_tpm_free(struct soft_tpm *t);

/* Wire forms of DESIGN.md, owned by t: the EK certificate and the issuing
 * intermediate (DER), the EK and AK public areas (TPM2B_PUBLIC) and the
 * event log (binary TCG log). */
const uint8_t *soft_tpm_ek_cert(const struct soft_tpm *t, size_t *len);
const uint8_t *soft_tpm_ek_chain(const struct soft_tpm *t, size_t *len);
const uint8_t *soft_tpm_ek_pub(const struct soft_tpm *t, size_t *len);
const uint8_t *soft_tpm_ak_pub(const struct soft_tpm *t, size_t *len);
const uint8_t *soft_tpm_event_log(const struct soft_tpm *t, size_t *len);

/* The SHA-256 PCR value (32 bytes) the boot left in PCR `index` (0..23). */
const uint8_t *soft_tpm_pcr_sha256(const struct soft_tpm *t, unsigned index);

/* TPM2_ActivateCredential with this EK and AK: the credential_blob
 * (TPM2B_ID_OBJECT) and encrypted_secret (TPM2B_ENCRYPTED_SECRET) as
 * attestd sends them. True and the secret in out[0..*out_len) (out holds
 * at least 64 bytes) when the credential was made for this EK and this
 * AK's name; false for anything else, malformed input included. */
bool soft_tpm_activate(struct soft_tpm *t, const uint8_t *id_object, size_t id_object_len,
		       const uint8_t *encrypted_secret, size_t encrypted_secret_len, uint8_t *out,
		       size_t *out_len);

/* TPM2_Quote of the sha256 PCRs in mask with the AK: the TPMS_ATTEST
 * (qualifiedSigner the AK's name, extraData the nonce, the clock advancing
 * from call to call) into attest[0..SOFT_TPM_ATTEST_MAX) and its
 * TPMT_SIGNATURE (ECDSA-SHA256) into sig[0..SOFT_TPM_SIGNATURE_MAX). */
void soft_tpm_quote(struct soft_tpm *t, const uint8_t nonce[32], uint32_t mask, uint8_t *attest,
		    size_t *attest_len, uint8_t *sig, size_t *sig_len);

#endif
