/* Quote verification: real swtpm quotes (ECDSA, RSASSA, RSAPSS AKs) pass
 * and report their facts; each attack real verifiers fell for is refused
 * with its own code, and the first failing check is the one that answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "quote.h"
#include "tpm_crypto.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

/* A quote as a client sends it, with everything the verifier holds. */
struct evidence {
	uint8_t *attest, *sig;
	size_t attest_len, sig_len;
	TPMT_PUBLIC ak;
	struct pcr_selection requested;
	struct pcr_values pcrs;
	struct quote_input in;
};

static void load_nonce(uint8_t nonce[QUOTE_NONCE_SIZE])
{
	size_t len, got = 0;
	uint8_t *hex = soft_read_file("tpm/nonce.hex", &len);

	assert_true(
	    hex_decode((const char *)hex, 2 * QUOTE_NONCE_SIZE, nonce, QUOTE_NONCE_SIZE, &got));
	free(hex);
}

static void load_pcrs(const char *path, struct pcr_values *out)
{
	json_error_t error;
	json_t *j = json_load_file(path, 0, &error);

	assert_non_null(j);
	assert_int_equal(pcr_values_from_json(j, out), ERR_OK);
	json_decref(j);
}

/* tests/data/tpm/<quote>.{attest,sig} checked against <ak>.pub, the nonce
 * of nonce.hex, the selection sha256:0-7 and the PCR values every vector
 * quoted (one swtpm, no extend between the quotes). */
static void load(struct evidence *e, const char *quote, const char *ak)
{
	char path[96];
	uint8_t *bytes;
	size_t len;

	memset(e, 0, sizeof(*e));
	snprintf(path, sizeof(path), "tpm/%s.attest", quote);
	e->attest = soft_read_file(path, &e->attest_len);
	snprintf(path, sizeof(path), "tpm/%s.sig", quote);
	e->sig = soft_read_file(path, &e->sig_len);
	snprintf(path, sizeof(path), "tpm/%s.pub", ak);
	bytes = soft_read_file(path, &len);
	assert_int_equal(tpm_wire_public(bytes, len, "ak_pub", &e->ak), ERR_OK);
	free(bytes);
	load_pcrs("tpm/pcrs.json", &e->pcrs);
	assert_int_equal(pcr_selection_parse("sha256:0,1,2,3,4,5,6,7", &e->requested), ERR_OK);
	e->in = (struct quote_input){
	    .attest = e->attest,
	    .attest_len = e->attest_len,
	    .sig = e->sig,
	    .sig_len = e->sig_len,
	    .ak = &e->ak,
	    .requested = &e->requested,
	    .pcrs = &e->pcrs,
	};
	load_nonce(e->in.nonce);
}

static void unload(struct evidence *e)
{
	free(e->attest);
	free(e->sig);
}

/* Verifies and checks the code and that the detail says what failed. */
static void expect(struct evidence *e, err_t code, const char *detail)
{
	struct quote_facts facts;

	err_clear();
	memset(&facts, 0xa5, sizeof(facts));
	assert_int_equal(quote_verify(&e->in, &facts), code);
	if (detail != NULL && strstr(err_detail(), detail) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", detail, err_detail());
	if (code != ERR_OK) {
		struct quote_facts zero;

		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&facts, &zero, sizeof(facts)); /* nothing half-true leaks */
	}
}

/* The refusals below must not rest on a broken signature: the vectors'
 * signatures are genuine, made by the TPM with the key they name. */
static void assert_signature_genuine(const struct evidence *e)
{
	TPMT_SIGNATURE sig;
	EVP_PKEY *key = NULL;

	assert_int_equal(tpm_wire_signature(e->sig, e->sig_len, "signature", &sig), ERR_OK);
	assert_true(tpm_public_key(&e->ak, &key));
	assert_int_equal(tpm_signature_verify(&e->ak, key, &sig, e->attest, e->attest_len), ERR_OK);
	EVP_PKEY_free(key);
}

static void test_real_quotes_verify(void **state)
{
	static const char *const pairs[][2] = {
	    {"quote_ecc", "ak_ecc"},
	    {"quote_rsa", "ak_rsa"},
	    {"quote_rsapss", "ak_rsapss"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct evidence e;
		struct quote_facts facts;
		TPMS_ATTEST attest;

		load(&e, pairs[i][0], pairs[i][1]);
		assert_int_equal(quote_verify(&e.in, &facts), ERR_OK);
		assert_int_equal(tpm_wire_attest(e.attest, e.attest_len, "quote", &attest), ERR_OK);
		assert_int_equal(facts.clock, attest.clockInfo.clock);
		assert_int_equal(facts.reset_count, attest.clockInfo.resetCount);
		assert_int_equal(facts.restart_count, attest.clockInfo.restartCount);
		assert_true(facts.safe);
		/* libtpms 0.9 reports 0x20191023.00163636 */
		assert_int_equal(facts.firmware_version, 0x2019102300163636ull);
		assert_int_equal(facts.pcr_digest_len, 32);
		assert_memory_equal(facts.pcr_digest, attest.attested.quote.pcrDigest.buffer, 32);
		assert_int_equal(facts.quoted.alg, TPM2_ALG_SHA256);
		assert_int_equal(facts.quoted.present, 0xff);
		assert_memory_equal(facts.quoted.value[7], e.pcrs.banks[0].value[7], 32);
		unload(&e);
	}
}

/* CVE-2024-29038 with a real TPM: the quote's magic changed, then hashed
 * with TPM2_Hash and signed with TPM2_Sign by the real restricted AK. The
 * signature is genuine; only the magic tells that the TPM did not make it. */
static void test_forged_quote_real_tpm_signature(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "forged_ecc", "ak_ecc");
	assert_signature_genuine(&e);
	expect(&e, ERR_QUOTE_INVALID, "magic");
	unload(&e);
}

/* The same forgery with a software AK: any digest, any nonce, signed. With
 * the magic set the very same structure verifies, so the magic alone is
 * what refuses the forgery. */
static void test_forged_quote_software_ak(void **state)
{
	EVP_PKEY *key = soft_ec_key("P-256");
	struct evidence e;
	TPMS_ATTEST attest;
	TPMT_SIGNATURE sig;
	uint8_t attest_bytes[sizeof(TPMS_ATTEST)], sig_bytes[sizeof(TPMT_SIGNATURE)];
	uint8_t values[8 * 32];

	(void)state;
	load(&e, "quote_ecc", "ak_ecc");
	soft_ak_public(key, TPM2_ALG_ECDSA, &e.ak);
	for (int i = 0; i < 8; i++)
		memcpy(values + 32 * i, e.pcrs.banks[0].value[i], 32);
	soft_quote(e.in.nonce, TPM2_ALG_SHA256, 0xff, values, sizeof(values), &attest);
	for (uint32_t magic = 0; magic < 2; magic++) {
		attest.magic = magic ? TPM2_GENERATED_VALUE : 0x00544347;
		e.in.attest = attest_bytes;
		e.in.attest_len = soft_marshal_attest(&attest, attest_bytes, sizeof(attest_bytes));
		soft_sign(key, TPM2_ALG_ECDSA, e.in.attest, e.in.attest_len, &sig);
		e.in.sig = sig_bytes;
		e.in.sig_len = soft_marshal_signature(&sig, sig_bytes, sizeof(sig_bytes));
		if (magic)
			expect(&e, ERR_OK, NULL);
		else
			expect(&e, ERR_QUOTE_INVALID, "magic 0x00544347");
	}
	EVP_PKEY_free(key);
	unload(&e);
}

/* A TPMS_ATTEST of another type, signed by the real AK, is no quote. */
static void test_time_attestation_is_no_quote(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "time_ecc", "ak_ecc");
	assert_signature_genuine(&e);
	expect(&e, ERR_QUOTE_INVALID, "type 0x8019");
	unload(&e);
}

/* safeboot #36: a quote by a key that is not restricted proves nothing. */
static void test_unrestricted_signer_is_refused(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "quote_unrestricted", "unrestricted_ecc");
	assert_signature_genuine(&e);
	expect(&e, ERR_AK_INVALID, "restricted clear");
	unload(&e);
}

static void test_signature_refusals(void **state)
{
	struct evidence e;
	EVP_PKEY *other;

	(void)state;
	load(&e, "quote_ecc", "ak_ecc");
	e.sig[e.sig_len - 1] ^= 1;
	expect(&e, ERR_QUOTE_INVALID, "does not verify");
	e.sig[e.sig_len - 1] ^= 1;
	e.attest[0x50] ^= 1; /* the clock: signed like everything else */
	expect(&e, ERR_QUOTE_INVALID, "does not verify");
	unload(&e);

	/* The right signature under another AK, and another AK's scheme. */
	load(&e, "quote_ecc", "ak_ecc");
	other = soft_ec_key("P-256");
	soft_ak_public(other, TPM2_ALG_ECDSA, &e.ak);
	expect(&e, ERR_QUOTE_INVALID, "does not verify");
	EVP_PKEY_free(other);
	unload(&e);
	load(&e, "quote_ecc", "ak_rsa");
	expect(&e, ERR_QUOTE_INVALID, "scheme");
	unload(&e);
}

static void test_nonce_mismatch(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "quote_rsa", "ak_rsa");
	e.in.nonce[31] ^= 1;
	expect(&e, ERR_NONCE_MISMATCH, "nonce");
	unload(&e);
}

/* CVE-2024-29039: the verifier asked for sha256:0-7; a quote over another
 * selection, however well signed, is refused before any PCR is read. */
static void test_selection_mismatch(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "quote_twobanks", "ak_ecc"); /* real: sha1:0 + sha256:0 */
	assert_signature_genuine(&e);
	expect(&e, ERR_PCR_SELECTION_MISMATCH, "selection");
	unload(&e);

	load(&e, "quote_ecc", "ak_ecc");
	assert_int_equal(pcr_selection_parse("sha256:0,1,2,3,4,5,6", &e.requested), ERR_OK);
	expect(&e, ERR_PCR_SELECTION_MISMATCH, NULL);
	assert_int_equal(pcr_selection_parse("sha1:0,1,2,3,4,5,6,7", &e.requested), ERR_OK);
	expect(&e, ERR_PCR_SELECTION_MISMATCH, NULL);
	unload(&e);
}

/* Values beyond the signed selection are never taken, and none missing. */
static void test_pcrs_must_be_exactly_the_selection(void **state)
{
	struct evidence e;
	struct pcr_bank *bank;

	(void)state;
	load(&e, "quote_ecc", "ak_ecc");
	bank = &e.pcrs.banks[0];
	bank->present |= 1u << 8; /* PCR 8, not quoted */
	expect(&e, ERR_BAD_REQUEST, "pcrs: sha256 holds PCRs 0x0001ff");
	bank->present = 0x7f; /* PCR 7 missing */
	expect(&e, ERR_BAD_REQUEST, "pcrs:");
	bank->present = 0xff;
	e.pcrs.banks[1] = *bank;
	e.pcrs.banks[1].alg = TPM2_ALG_SHA1;
	e.pcrs.bank_count = 2; /* a second bank, not quoted */
	expect(&e, ERR_BAD_REQUEST, "no other");
	e.pcrs.banks[0].alg = TPM2_ALG_SHA384;
	e.pcrs.bank_count = 1; /* only another bank */
	expect(&e, ERR_BAD_REQUEST, "sha256 bank");
	unload(&e);
}

/* safeboot #53: a fine signature over the digest of other PCR values. */
static void test_wrong_pcr_value_is_digest_mismatch(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "quote_rsapss", "ak_rsapss");
	e.pcrs.banks[0].value[3][0] ^= 1;
	expect(&e, ERR_PCR_DIGEST_MISMATCH, "do not hash");
	unload(&e);
}

static void test_malformed_input_is_bad_request(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "quote_ecc", "ak_ecc");
	e.in.attest_len--;
	expect(&e, ERR_BAD_REQUEST, "quote: ");
	e.in.attest_len++;
	e.in.sig_len++;
	expect(&e, ERR_BAD_REQUEST, "signature: 1 bytes after");
	e.in.sig = NULL;
	e.in.sig_len = 0;
	expect(&e, ERR_BAD_REQUEST, "signature: ");
	unload(&e);
}

/* Several things wrong: the first check in DESIGN.md's order answers. */
static void test_first_failure_answers(void **state)
{
	struct evidence e;

	(void)state;
	load(&e, "forged_ecc", "ak_ecc");
	e.in.nonce[0] ^= 1;
	e.pcrs.banks[0].value[0][0] ^= 1;
	expect(&e, ERR_QUOTE_INVALID, "magic"); /* before signature, nonce, digest */
	unload(&e);

	load(&e, "quote_ecc", "ak_ecc");
	e.in.nonce[0] ^= 1;
	e.pcrs.banks[0].present = 1;
	e.pcrs.banks[0].value[0][0] ^= 1;
	assert_int_equal(pcr_selection_parse("sha256:0", &e.requested), ERR_OK);
	expect(&e, ERR_NONCE_MISMATCH, NULL); /* before selection, pcrs, digest */
	e.in.nonce[0] ^= 1;
	expect(&e, ERR_PCR_SELECTION_MISMATCH, NULL); /* before pcrs */
	assert_int_equal(pcr_selection_parse("sha256:0,1,2,3,4,5,6,7", &e.requested), ERR_OK);
	expect(&e, ERR_BAD_REQUEST, "pcrs:"); /* before the digest */
	unload(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_quotes_verify),
	    cmocka_unit_test(test_forged_quote_real_tpm_signature),
	    cmocka_unit_test(test_forged_quote_software_ak),
	    cmocka_unit_test(test_time_attestation_is_no_quote),
	    cmocka_unit_test(test_unrestricted_signer_is_refused),
	    cmocka_unit_test(test_signature_refusals),
	    cmocka_unit_test(test_nonce_mismatch),
	    cmocka_unit_test(test_selection_mismatch),
	    cmocka_unit_test(test_pcrs_must_be_exactly_the_selection),
	    cmocka_unit_test(test_wrong_pcr_value_is_digest_mismatch),
	    cmocka_unit_test(test_malformed_input_is_bad_request),
	    cmocka_unit_test(test_first_failure_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
