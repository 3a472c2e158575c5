/* TPM2_Quote verification. The order of the checks is DESIGN.md's; each
 * answers with its own code so that a refusal says which proof failed. */
#include "quote.h"

#include <string.h>

#include <openssl/crypto.h>

#include "tpm_crypto.h"
#include "tpm_wire.h"

/* Only a structure the TPM made itself starts with TPM_GENERATED_VALUE:
 * TPM2_Sign with a restricted key refuses to sign digests of data that
 * does (the TPM2_Hash ticket says so). Without this check an AK signs
 * any "quote" an attacker writes (CVE-2024-29038). */
static err_t attest_is_quote(const TPMS_ATTEST *attest)
{
	if (attest->magic != TPM2_GENERATED_VALUE)
		return err_fail(ERR_QUOTE_INVALID, "quote magic 0x%08x is not TPM_GENERATED_VALUE",
				attest->magic);
	if (attest->type != TPM2_ST_ATTEST_QUOTE)
		return err_fail(ERR_QUOTE_INVALID, "attestation type 0x%04x is not a quote",
				attest->type);
	return ERR_OK;
}

static err_t nonce_check(const TPMS_ATTEST *attest, const uint8_t nonce[static QUOTE_NONCE_SIZE])
{
	if (attest->extraData.size != QUOTE_NONCE_SIZE ||
	    CRYPTO_memcmp(attest->extraData.buffer, nonce, QUOTE_NONCE_SIZE) != 0)
		return err_fail(ERR_NONCE_MISMATCH, "quote extraData is not the challenge nonce");
	return ERR_OK;
}

/* Values outside the signed selection are attacker bytes: refuse them
 * rather than ignore them, so nothing downstream can ever read one. */
static err_t pcrs_exactly_selected(const struct pcr_values *pcrs, const struct pcr_selection *sel,
				   const struct pcr_bank **bank)
{
	const char *name = pcr_bank_name(sel->bank);

	if (pcrs->bank_count != 1 || (*bank = pcr_values_bank(pcrs, sel->bank)) == NULL)
		return err_fail(ERR_BAD_REQUEST, "pcrs: must hold the %s bank and no other",
				name != NULL ? name : "quoted");
	if ((*bank)->present != sel->mask)
		return err_fail(ERR_BAD_REQUEST,
				"pcrs: %s holds PCRs 0x%06x, the quote selects 0x%06x", name,
				(*bank)->present, sel->mask);
	return ERR_OK;
}

static err_t pcr_digest_check(const TPMS_QUOTE_INFO *info, const struct pcr_bank *bank,
			      uint16_t hash_alg, struct quote_facts *out)
{
	const EVP_MD *md = tpm_hash_md(hash_alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool ok = md != NULL && ctx != NULL && EVP_DigestInit_ex2(ctx, md, NULL) == 1;

	/* Selection order is PCR index order within the one bank. */
	for (unsigned i = 0; ok && i < PCR_COUNT; i++) {
		if (bank->present & (UINT32_C(1) << i))
			ok = EVP_DigestUpdate(ctx, bank->value[i], bank->digest_len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out->pcr_digest, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_fail(ERR_INTERNAL, "PCR digest computation failed");
	out->pcr_digest_len = len;
	if (info->pcrDigest.size != len ||
	    CRYPTO_memcmp(info->pcrDigest.buffer, out->pcr_digest, len) != 0)
		return err_fail(ERR_PCR_DIGEST_MISMATCH,
				"the sent PCR values do not hash to the quoted digest");
	return ERR_OK;
}

/* The hash the AK signs with, which TPM2_Quote also uses for pcrDigest. */
static uint16_t ak_sign_hash(const TPMT_PUBLIC *ak)
{
	return ak->type == TPM2_ALG_RSA ? ak->parameters.rsaDetail.scheme.details.anySig.hashAlg
					: ak->parameters.eccDetail.scheme.details.anySig.hashAlg;
}

static err_t verify(const struct quote_input *in, EVP_PKEY **ak_key, struct quote_facts *out)
{
	TPMS_ATTEST attest;
	TPMT_SIGNATURE sig;
	const TPMS_QUOTE_INFO *info = &attest.attested.quote;
	const struct pcr_bank *bank;

	TRY(tpm_wire_attest(in->attest, in->attest_len, "quote", &attest));
	TRY(tpm_wire_signature(in->sig, in->sig_len, "signature", &sig));
	TRY(tpm_ak_check(in->ak, ak_key));
	TRY(attest_is_quote(&attest));
	TRY(tpm_signature_verify(in->ak, *ak_key, &sig, in->attest, in->attest_len));
	TRY(nonce_check(&attest, in->nonce));
	if (!pcr_selection_equals(in->requested, &info->pcrSelect))
		return err_fail(ERR_PCR_SELECTION_MISMATCH,
				"the quote's PCR selection is not the one requested");
	TRY(pcrs_exactly_selected(in->pcrs, in->requested, &bank));
	TRY(pcr_digest_check(info, bank, ak_sign_hash(in->ak), out));
	out->clock = attest.clockInfo.clock;
	out->reset_count = attest.clockInfo.resetCount;
	out->restart_count = attest.clockInfo.restartCount;
	out->safe = attest.clockInfo.safe == TPM2_YES;
	out->firmware_version = attest.firmwareVersion;
	out->quoted = *bank;
	return ERR_OK;
}

err_t quote_verify(const struct quote_input *in, struct quote_facts *out)
{
	EVP_PKEY *ak_key = NULL;
	err_t rc;

	memset(out, 0, sizeof(*out));
	rc = verify(in, &ak_key, out);
	EVP_PKEY_free(ak_key);
	if (rc != ERR_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}
