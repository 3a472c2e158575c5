/* Verification of a TPM2_Quote against the AK, the nonce and the PCR
 * selection the verifier asked for, in the order DESIGN.md fixes. */
#ifndef ATTEST_QUOTE_H
#define ATTEST_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "err.h"
#include "pcrs.h"

/* The challenge nonce: 32 random bytes (DESIGN.md). */
#define QUOTE_NONCE_SIZE 32

struct quote_input {
	const uint8_t *attest; /* TPMS_ATTEST, the exact signed bytes */
	size_t attest_len;
	const uint8_t *sig; /* TPMT_SIGNATURE */
	size_t sig_len;
	const TPMT_PUBLIC *ak;		       /* the AK public area from the challenge */
	uint8_t nonce[QUOTE_NONCE_SIZE];       /* what the verifier sent */
	const struct pcr_selection *requested; /* what the verifier asked for */
	const struct pcr_values *pcrs;	       /* what the client sent */
};

/* What a verified quote proves, for the decision, the token and the record. */
struct quote_facts {
	uint64_t clock; /* ms the TPM has been powered, from clockInfo */
	uint32_t reset_count;
	uint32_t restart_count;
	bool safe;
	uint64_t firmware_version;
	uint8_t pcr_digest[PCR_DIGEST_MAX];
	size_t pcr_digest_len;
	/* The quoted bank: alg, digest_len, and present == the signed selection.
	 * The only PCR values anything after the quote may rely on. */
	struct pcr_bank quoted;
};

/* Checks, first failure answers:
 *  1. attest and sig unmarshal completely     else ERR_BAD_REQUEST ("quote: ...",
 *                                                  "signature: ...")
 *  2. the AK passes tpm_ak_check              else ERR_AK_INVALID
 *  3. magic TPM_GENERATED_VALUE, type QUOTE   else ERR_QUOTE_INVALID
 *  4. signature by the AK, AK's scheme+hash   else ERR_QUOTE_INVALID
 *  5. extraData == nonce (constant time)      else ERR_NONCE_MISMATCH
 *  6. signed selection == requested           else ERR_PCR_SELECTION_MISMATCH
 *  7. pcrs hold exactly the selected PCRs of
 *     the selected bank, nothing else         else ERR_BAD_REQUEST ("pcrs: ...")
 *  8. pcrDigest == H(values in selection order), H the AK's signing hash
 *                                             else ERR_PCR_DIGEST_MISMATCH
 * On ERR_OK, *out holds the facts; on failure it is zeroed. */
err_t quote_verify(const struct quote_input *in, struct quote_facts *out) WARN_UNUSED;

#endif
