/* The PCR side of quoting, apart from the TPM commands: selections in the
 * TPM's form, the values TPM2_PCR_Read answers, and the check that a quote
 * covers exactly those values, so the client never sends a verifier values
 * that its quote does not sign. */
#ifndef ATTEST_CLIENT_QUOTE_PCRS_H
#define ATTEST_CLIENT_QUOTE_PCRS_H

#include <stdbool.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "err.h"
#include "pcrs.h"

/* One bank, the PCRs of mask (bit i: PCR i), as TPM commands take it. */
void quote_pcrs_selection(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *out);

/* Takes the values one TPM2_PCR_Read answered, in the order of the
 * selection it answered with, into out (out->alg and out->digest_len set
 * by the caller). Every PCR answered must be one of *wanted, of out's bank
 * and size; each taken is cleared from *wanted. ERR_INTERNAL otherwise. */
err_t quote_pcrs_take(const TPML_PCR_SELECTION *answered, const TPML_DIGEST *values,
		      uint32_t *wanted, struct pcr_bank *out) WARN_UNUSED;

/* *covered is true when attest (the TPMS_ATTEST a TPM2_Quote signed with
 * sig's hash) is a quote of exactly sel whose pcrDigest is that hash over
 * values in selection order; false when the digest differs (a PCR moved
 * between reading and quoting). ERR_INTERNAL when attest is no quote of
 * sel at all. */
err_t quote_pcrs_covered(const TPM2B_ATTEST *attest, const TPMT_SIGNATURE *sig,
			 const struct pcr_selection *sel, const struct pcr_bank *values,
			 bool *covered) WARN_UNUSED;

#endif
