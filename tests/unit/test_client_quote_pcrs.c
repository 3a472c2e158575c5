/* The PCR side of quoting: selections in the TPM's form, what a
 * TPM2_PCR_Read answer may contain, and the check that the values sent are
 * the ones the quote signed (a PCR extended between read and quote). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_mu.h>

#include "quote_pcrs.h"
#include "tpm_soft.h"

static void test_selection_bits(void **state)
{
	TPML_PCR_SELECTION s;

	(void)state;
	quote_pcrs_selection(TPM2_ALG_SHA256, 1u << 0 | 1u << 7 | 1u << 8 | 1u << 23, &s);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.pcrSelections[0].hash, TPM2_ALG_SHA256);
	assert_int_equal(s.pcrSelections[0].sizeofSelect, 3);
	assert_int_equal(s.pcrSelections[0].pcrSelect[0], 0x81);
	assert_int_equal(s.pcrSelections[0].pcrSelect[1], 0x01);
	assert_int_equal(s.pcrSelections[0].pcrSelect[2], 0x80);
}

static struct pcr_bank empty_bank(void)
{
	struct pcr_bank b;

	memset(&b, 0, sizeof(b));
	b.alg = TPM2_ALG_SHA256;
	b.digest_len = 32;
	return b;
}

/* A PCR_Read answer for `mask`, value of PCR i = 32 bytes of i. */
static void answer(uint32_t mask, TPML_PCR_SELECTION *sel, TPML_DIGEST *values)
{
	quote_pcrs_selection(TPM2_ALG_SHA256, mask, sel);
	memset(values, 0, sizeof(*values));
	for (unsigned i = 0; i < 24; i++) {
		if (!(mask & (1u << i)))
			continue;
		values->digests[values->count].size = 32;
		memset(values->digests[values->count].buffer, (int)i, 32);
		values->count++;
	}
}

static void test_read_answers_are_taken_in_rounds(void **state)
{
	struct pcr_bank b = empty_bank();
	uint32_t wanted = 0x3ff; /* PCRs 0-9: a TPM answers 8 at a time */
	TPML_PCR_SELECTION sel;
	TPML_DIGEST values;

	(void)state;
	answer(0xff, &sel, &values);
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_OK);
	assert_int_equal(wanted, 0x300);
	answer(0x300, &sel, &values);
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_OK);
	assert_int_equal(wanted, 0);
	assert_int_equal(b.present, 0x3ff);
	assert_int_equal(b.value[9][31], 9);
	assert_int_equal(b.value[0][0], 0);
}

static void test_read_answers_beyond_the_question_are_refused(void **state)
{
	struct pcr_bank b = empty_bank();
	uint32_t wanted;
	TPML_PCR_SELECTION sel;
	TPML_DIGEST values;

	(void)state;
	/* a PCR not asked for */
	wanted = 0x0f;
	answer(0x1f, &sel, &values);
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_INTERNAL);
	/* another bank */
	wanted = 0x0f;
	answer(0x0f, &sel, &values);
	sel.pcrSelections[0].hash = TPM2_ALG_SHA1;
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_INTERNAL);
	/* a value of the wrong size */
	wanted = 0x0f;
	answer(0x0f, &sel, &values);
	values.digests[2].size = 20;
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_INTERNAL);
	/* more values than selected PCRs, and fewer */
	wanted = 0x0f;
	answer(0x0f, &sel, &values);
	values.count++;
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_INTERNAL);
	wanted = 0x0f;
	answer(0x0f, &sel, &values);
	values.count--;
	assert_int_equal(quote_pcrs_take(&sel, &values, &wanted, &b), ERR_INTERNAL);
}

/* A quote of sha256 `mask` over the bank's values, as a TPM makes it. */
static void quote_of(const struct pcr_bank *b, uint32_t mask, TPM2B_ATTEST *out,
		     TPMT_SIGNATURE *sig)
{
	static const uint8_t nonce[32] = {1};
	uint8_t concat[24 * 32];
	size_t n = 0, off = 0;
	TPMS_ATTEST attest;

	for (unsigned i = 0; i < 24; i++) {
		if (mask & (1u << i)) {
			memcpy(concat + n, b->value[i], 32);
			n += 32;
		}
	}
	soft_quote(nonce, TPM2_ALG_SHA256, mask, concat, n, &attest);
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&attest, out->attestationData,
						     sizeof(out->attestationData), &off),
			 TSS2_RC_SUCCESS);
	out->size = (uint16_t)off;
	memset(sig, 0, sizeof(*sig));
	sig->sigAlg = TPM2_ALG_ECDSA;
	sig->signature.ecdsa.hash = TPM2_ALG_SHA256;
}

static void test_quote_covers_the_values_read(void **state)
{
	struct pcr_bank b = empty_bank();
	struct pcr_selection sel = {TPM2_ALG_SHA256, 0xff};
	TPM2B_ATTEST q;
	TPMT_SIGNATURE sig;
	bool covered = false;

	(void)state;
	b.present = 0xff;
	for (unsigned i = 0; i < 8; i++)
		memset(b.value[i], 0x40 + (int)i, 32);
	quote_of(&b, 0xff, &q, &sig);
	assert_int_equal(quote_pcrs_covered(&q, &sig, &sel, &b, &covered), ERR_OK);
	assert_true(covered);
	/* PCR 7 was extended after it was read: quote again, do not send. */
	b.value[7][0] ^= 1;
	assert_int_equal(quote_pcrs_covered(&q, &sig, &sel, &b, &covered), ERR_OK);
	assert_false(covered);
}

static void test_a_quote_of_something_else_is_an_error(void **state)
{
	struct pcr_bank b = empty_bank();
	struct pcr_selection sel = {TPM2_ALG_SHA256, 0xff}, other = {TPM2_ALG_SHA256, 0x7f};
	TPM2B_ATTEST q;
	TPMT_SIGNATURE sig;
	bool covered = true;

	(void)state;
	b.present = 0xff;
	quote_of(&b, 0xff, &q, &sig);
	assert_int_equal(quote_pcrs_covered(&q, &sig, &other, &b, &covered), ERR_INTERNAL);
	assert_false(covered);
	/* values missing for a quoted PCR */
	b.present = 0x7f;
	assert_int_equal(quote_pcrs_covered(&q, &sig, &sel, &b, &covered), ERR_INTERNAL);
	b.present = 0xff;
	/* a signature hash the client does not know */
	sig.signature.ecdsa.hash = TPM2_ALG_NULL;
	assert_int_equal(quote_pcrs_covered(&q, &sig, &sel, &b, &covered), ERR_INTERNAL);
	sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
	/* trailing bytes after the TPMS_ATTEST */
	q.size++;
	assert_int_equal(quote_pcrs_covered(&q, &sig, &sel, &b, &covered), ERR_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_selection_bits),
	    cmocka_unit_test(test_read_answers_are_taken_in_rounds),
	    cmocka_unit_test(test_read_answers_beyond_the_question_are_refused),
	    cmocka_unit_test(test_quote_covers_the_values_read),
	    cmocka_unit_test(test_a_quote_of_something_else_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
