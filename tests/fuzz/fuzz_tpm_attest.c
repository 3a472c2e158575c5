/* Feeds outside bytes as the quote (TPMS_ATTEST) to the unmarshaller and to
 * quote_verify, with a real AK, a genuine signature and PCR values as the
 * verifier would hold them: every structure that unmarshals runs the magic,
 * type and signature checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tpm_keys.h"
#include "quote.h"
#include "tpm_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TPMS_ATTEST attest;
	TPMT_PUBLIC ak;
	struct pcr_selection requested = {TPM2_ALG_SHA256, 0xff};
	struct pcr_values pcrs = {
	    .bank_count = 1,
	    .banks = {{.alg = TPM2_ALG_SHA256, .digest_len = 32, .present = 0xff}}};
	struct quote_input in = {.attest = data,
				 .attest_len = size,
				 .sig = fuzz_quote_ecc_sig,
				 .sig_len = sizeof(fuzz_quote_ecc_sig),
				 .ak = &ak,
				 .requested = &requested,
				 .pcrs = &pcrs};
	struct quote_facts facts;
	err_t rc;

	if (tpm_wire_public(fuzz_ak_ecc, sizeof(fuzz_ak_ecc), "ak", &ak) != ERR_OK)
		abort();
	if (tpm_wire_attest(data, size, "quote", &attest) != ERR_OK)
		return 0;
	(void)pcr_selection_equals(&requested, &attest.attested.quote.pcrSelect);
	if (attest.extraData.size >= QUOTE_NONCE_SIZE)
		memcpy(in.nonce, attest.extraData.buffer, QUOTE_NONCE_SIZE);
	rc = quote_verify(&in, &facts);
	/* Only the genuine quote carries this signature; anything else that
	 * unmarshals must fail at magic, type or signature. */
	if (rc == ERR_OK && attest.magic != TPM2_GENERATED_VALUE)
		abort();
	return 0;
}
