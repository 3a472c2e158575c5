/* PCR selections, values and the quote's digest, checked with tss2-mu and
 * OpenSSL. */
#include "quote_pcrs.h"

#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "tpm_crypto.h"

/* PCRs fit in 3 selection bytes on PC Client TPMs (PCR_COUNT == 24). */
#define PCR_SELECT_BYTES 3

void quote_pcrs_selection(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *out)
{
	memset(out, 0, sizeof(*out));
	out->count = 1;
	out->pcrSelections[0].hash = bank;
	out->pcrSelections[0].sizeofSelect = PCR_SELECT_BYTES;
	for (unsigned i = 0; i < PCR_COUNT; i++) {
		if (mask & (1u << i))
			out->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
	}
}

err_t quote_pcrs_take(const TPML_PCR_SELECTION *sel, const TPML_DIGEST *values, uint32_t *wanted,
		      struct pcr_bank *out)
{
	uint32_t v = 0;

	for (uint32_t s = 0; s < sel->count && s < TPM2_NUM_PCR_BANKS; s++) {
		const TPMS_PCR_SELECTION *e = &sel->pcrSelections[s];

		for (unsigned i = 0; i < e->sizeofSelect && i < TPM2_PCR_SELECT_MAX; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				unsigned pcr = i * 8 + bit;

				if (!(e->pcrSelect[i] & (1u << bit)))
					continue;
				if (e->hash != out->alg || pcr >= PCR_COUNT ||
				    !(*wanted & (1u << pcr)) || v >= values->count ||
				    values->digests[v].size != out->digest_len)
					return err_fail(ERR_INTERNAL, "TPM2_PCR_Read answered "
								      "PCRs it was not asked for");
				memcpy(out->value[pcr], values->digests[v].buffer, out->digest_len);
				out->present |= 1u << pcr;
				*wanted &= ~(1u << pcr);
				v++;
			}
		}
	}
	if (v != values->count)
		return err_fail(ERR_INTERNAL, "TPM2_PCR_Read: more values than PCRs");
	return ERR_OK;
}

err_t quote_pcrs_covered(const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig,
			 const struct pcr_selection *sel, const struct pcr_bank *values,
			 bool *covered)
{
	TPMS_ATTEST attest;
	size_t off = 0;
	uint8_t digest[TPM_HASH_MAX];
	unsigned digest_len = 0;
	const EVP_MD *md = tpm_hash_md(sig->signature.any.hashAlg);
	EVP_MD_CTX *ctx;
	bool ok;

	*covered = false;
	memset(&attest, 0, sizeof(attest));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData, quoted->size, &off, &attest) !=
		TSS2_RC_SUCCESS ||
	    off != quoted->size || attest.type != TPM2_ST_ATTEST_QUOTE)
		return err_fail(ERR_INTERNAL, "TPM2_Quote returned no quote structure");
	if (md == NULL)
		return err_fail(ERR_INTERNAL, "the AK signs with an unsupported hash");
	if (values->alg != sel->bank || (values->present & sel->mask) != sel->mask)
		return err_fail(ERR_INTERNAL, "PCR values missing for the quoted selection");
	if (!pcr_selection_equals(sel, &attest.attested.quote.pcrSelect))
		return err_fail(ERR_INTERNAL, "TPM2_Quote covered another PCR selection");
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
	for (unsigned i = 0; ok && i < PCR_COUNT; i++) {
		if (sel->mask & (1u << i))
			ok = EVP_DigestUpdate(ctx, values->value[i], values->digest_len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_fail(ERR_INTERNAL, "hashing the PCR values failed");
	*covered = attest.attested.quote.pcrDigest.size == digest_len &&
		   memcmp(attest.attested.quote.pcrDigest.buffer, digest, digest_len) == 0;
	return ERR_OK;
}
