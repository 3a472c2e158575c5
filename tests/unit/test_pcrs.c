/* PCR selection strings, the comparison with the TPM's signed selection,
 * and the client's `pcrs` JSON: what is accepted and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pcrs.h"

static struct pcr_selection parsed(const char *s)
{
	struct pcr_selection sel;

	assert_int_equal(pcr_selection_parse(s, &sel), ERR_OK);
	return sel;
}

static void test_selection_parse_and_format(void **state)
{
	struct pcr_selection sel;
	char text[PCR_SELECTION_STR_MAX];

	(void)state;
	sel = parsed("sha256:0,1,2,3,4,5,6,7");
	assert_int_equal(sel.bank, TPM2_ALG_SHA256);
	assert_int_equal(sel.mask, 0xff);
	assert_true(pcr_selection_format(&sel, text, sizeof(text)));
	assert_string_equal(text, "sha256:0,1,2,3,4,5,6,7");

	/* Any order in, ascending out: one selection, one spelling. */
	sel = parsed("sha1:23,7,0");
	assert_int_equal(sel.bank, TPM2_ALG_SHA1);
	assert_int_equal(sel.mask, 0x800081);
	assert_true(pcr_selection_format(&sel, text, sizeof(text)));
	assert_string_equal(text, "sha1:0,7,23");

	assert_int_equal(parsed("sha384:9").bank, TPM2_ALG_SHA384);
}

static void test_selection_longest_fits(void **state)
{
	struct pcr_selection sel =
	    parsed("sha512:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23");
	char text[PCR_SELECTION_STR_MAX];

	(void)state;
	assert_int_equal(sel.mask, 0xffffff);
	assert_true(pcr_selection_format(&sel, text, sizeof(text)));
	assert_int_equal(strlen(text) + 1, PCR_SELECTION_STR_MAX);
	assert_false(pcr_selection_format(&sel, text, sizeof(text) - 1));
}

static void test_selection_refusals(void **state)
{
	static const char *const bad[] = {
	    "",		  "sha256",	"sha256:",   "sha256:0,", "sha256:,0",	"sha256:0,,1",
	    "sha256:24",  "sha256:07",	"sha256:-1", "sha256: 1", "sha256:1 ",	"sha256:1,1",
	    "SHA256:1",	  "sha3:1",	"md5:0",     ":0",	  "sha256:0:1", "sha256:100",
	    "sha256:0x1", "sha256:1;2",
	};
	struct pcr_selection sel;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		assert_int_equal(pcr_selection_parse(bad[i], &sel), ERR_BAD_REQUEST);
		assert_non_null(strstr(err_detail(), "pcr selection"));
	}
}

static void test_format_refuses_invalid(void **state)
{
	char text[PCR_SELECTION_STR_MAX];
	struct pcr_selection empty = {TPM2_ALG_SHA256, 0};
	struct pcr_selection pcr24 = {TPM2_ALG_SHA256, UINT32_C(1) << 24};
	struct pcr_selection sm3 = {TPM2_ALG_SM3_256, 1};

	(void)state;
	assert_false(pcr_selection_format(&empty, text, sizeof(text)));
	assert_false(pcr_selection_format(&pcr24, text, sizeof(text)));
	assert_false(pcr_selection_format(&sm3, text, sizeof(text)));
}

static TPML_PCR_SELECTION tpm_selection(uint16_t hash, uint8_t size, uint32_t bits)
{
	TPML_PCR_SELECTION t;

	memset(&t, 0, sizeof(t));
	t.count = 1;
	t.pcrSelections[0].hash = hash;
	t.pcrSelections[0].sizeofSelect = size;
	for (unsigned i = 0; i < size; i++)
		t.pcrSelections[0].pcrSelect[i] = (uint8_t)(bits >> (8 * i));
	return t;
}

/* CVE-2024-29039: the signed selection is the TPM's, not the verifier's;
 * only the exact same set of PCRs of the same bank may pass. */
static void test_selection_equals_signed_one_exactly(void **state)
{
	struct pcr_selection sel = parsed("sha256:0,1,2,3,4,5,6,7");
	TPML_PCR_SELECTION t = tpm_selection(TPM2_ALG_SHA256, 3, 0xff);

	(void)state;
	assert_true(pcr_selection_equals(&sel, &t));
	t = tpm_selection(TPM2_ALG_SHA256, 4, 0xff); /* a 32-PCR bitmap, same set */
	assert_true(pcr_selection_equals(&sel, &t));

	t = tpm_selection(TPM2_ALG_SHA256, 3, 0x7f); /* one PCR fewer */
	assert_false(pcr_selection_equals(&sel, &t));
	t = tpm_selection(TPM2_ALG_SHA256, 3, 0x1ff); /* one PCR more */
	assert_false(pcr_selection_equals(&sel, &t));
	t = tpm_selection(TPM2_ALG_SHA256, 4, 0x010000ff); /* PCR 24 */
	assert_false(pcr_selection_equals(&sel, &t));
	t = tpm_selection(TPM2_ALG_SHA1, 3, 0xff); /* other bank */
	assert_false(pcr_selection_equals(&sel, &t));
	t = tpm_selection(TPM2_ALG_SHA256, 0, 0); /* nothing selected */
	assert_false(pcr_selection_equals(&sel, &t));

	/* A second, empty bank is still a different list than the one asked for. */
	t = tpm_selection(TPM2_ALG_SHA256, 3, 0xff);
	t.count = 2;
	t.pcrSelections[1].hash = TPM2_ALG_SHA1;
	t.pcrSelections[1].sizeofSelect = 3;
	assert_false(pcr_selection_equals(&sel, &t));

	sel = parsed("sha256:16");
	t = tpm_selection(TPM2_ALG_SHA256, 2, 0); /* too short to reach PCR 16 */
	assert_false(pcr_selection_equals(&sel, &t));
}

static json_t *json_of(const char *text)
{
	json_error_t error;
	json_t *j = json_loads(text, 0, &error);

	assert_non_null(j);
	return j;
}

static err_t values_of(const char *text, struct pcr_values *v)
{
	json_t *j = json_of(text);
	err_t rc = pcr_values_from_json(j, v);

	json_decref(j);
	return rc;
}

#define HEX32 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define HEX20 "0123456789abcdef0123456789abcdef01234567"

static void test_values_parse(void **state)
{
	struct pcr_values v;
	const struct pcr_bank *bank;

	(void)state;
	assert_int_equal(values_of("{\"sha256\": {\"0\": \"" HEX32 "\", \"23\": \"" HEX32
				   "\"}, \"sha1\": {\"7\": \"" HEX20 "\"}}",
				   &v),
			 ERR_OK);
	assert_int_equal(v.bank_count, 2);
	bank = pcr_values_bank(&v, TPM2_ALG_SHA256);
	assert_non_null(bank);
	assert_int_equal(bank->digest_len, 32);
	assert_int_equal(bank->present, 0x800001);
	assert_int_equal(bank->value[23][0], 0x00);
	assert_int_equal(bank->value[23][31], 0xff); /* upper case hex accepted */
	bank = pcr_values_bank(&v, TPM2_ALG_SHA1);
	assert_non_null(bank);
	assert_int_equal(bank->present, 0x80);
	assert_int_equal(bank->value[7][19], 0x67);
	assert_null(pcr_values_bank(&v, TPM2_ALG_SHA384));
}

/* Real PCRs of three banks from a Nuvoton TPM (guard-oss "ludmilla"). */
static void test_values_real_three_banks(void **state)
{
	json_error_t error;
	json_t *sidecar = json_load_file("tpm/guard_ludmilla_ntc_quote.pcrs.json", 0, &error);
	struct pcr_values v;

	(void)state;
	assert_non_null(sidecar);
	assert_int_equal(pcr_values_from_json(json_object_get(sidecar, "banks"), &v), ERR_OK);
	json_decref(sidecar);
	assert_int_equal(v.bank_count, 3);
	assert_int_equal(pcr_values_bank(&v, TPM2_ALG_SHA384)->present, 0xffffff);
	assert_int_equal(pcr_values_bank(&v, TPM2_ALG_SHA384)->digest_len, 48);
	assert_int_equal(pcr_values_bank(&v, TPM2_ALG_SHA256)->value[0][0], 0x09);
}

static void test_values_refusals(void **state)
{
	static const struct {
		const char *json, *detail;
	} bad[] = {
	    {"[]", "pcrs: not an object"},
	    {"{\"sha3\": {}}", "pcrs.sha3: unknown bank"},
	    {"{\"SHA256\": {}}", "unknown bank"},
	    {"{\"sha256\": []}", "pcrs.sha256: not an object"},
	    {"{\"sha256\": {\"24\": \"" HEX32 "\"}}", "not a PCR index"},
	    {"{\"sha256\": {\"07\": \"" HEX32 "\"}}", "not a PCR index"},
	    {"{\"sha256\": {\"-1\": \"" HEX32 "\"}}", "not a PCR index"},
	    {"{\"sha256\": {\"\": \"" HEX32 "\"}}", "not a PCR index"},
	    {"{\"sha256\": {\"7\": 7}}", "pcrs.sha256.7: not a string"},
	    {"{\"sha256\": {\"7\": \"" HEX20 "\"}}", "pcrs.sha256.7: not 32 bytes"},
	    {"{\"sha256\": {\"7\": \"" HEX32 "00\"}}", "not 32 bytes"},
	    {"{\"sha256\": {\"7\": \"0x" HEX32 "\"}}", "not 32 bytes"},
	    {"{\"sha256\": {\"7\": \"zz112233445566778899aabbccddeeff00112233445566778899aabbccd"
	     "deeff\"}}",
	     "not 32 bytes"},
	    {"{\"sha1\": {\"0\": \"" HEX32 "\"}}", "pcrs.sha1.0: not 20 bytes"},
	};
	struct pcr_values v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		assert_int_equal(values_of(bad[i].json, &v), ERR_BAD_REQUEST);
		if (strstr(err_detail(), bad[i].detail) == NULL)
			fail_msg("%s: detail \"%s\"", bad[i].json, err_detail());
	}
}

/* jansson's parser refuses NUL in keys, but a json_t built in code may hold
 * one: "7\0x" must not pass for a second PCR 7, nor "sha256\0" for a bank. */
static void test_values_keys_with_nul(void **state)
{
	json_t *pcrs = json_object(), *bank = json_object();
	struct pcr_values v;

	(void)state;
	assert_int_equal(json_object_set_new(bank, "7", json_string(HEX32)), 0);
	assert_int_equal(json_object_setn_new(bank, "7\0x", 3, json_string(HEX32)), 0);
	assert_int_equal(json_object_set(pcrs, "sha256", bank), 0);
	assert_int_equal(pcr_values_from_json(pcrs, &v), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "not a PCR index"));
	json_decref(pcrs);

	pcrs = json_object();
	assert_int_equal(json_object_setn_new(pcrs, "sha256\0", 7, json_object()), 0);
	assert_int_equal(pcr_values_from_json(pcrs, &v), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "unknown bank"));
	json_decref(pcrs);
	json_decref(bank);
}

static void test_bank_names(void **state)
{
	(void)state;
	assert_string_equal(pcr_bank_name(TPM2_ALG_SHA1), "sha1");
	assert_string_equal(pcr_bank_name(TPM2_ALG_SHA512), "sha512");
	assert_null(pcr_bank_name(TPM2_ALG_SM3_256));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_selection_parse_and_format),
	    cmocka_unit_test(test_selection_longest_fits),
	    cmocka_unit_test(test_selection_refusals),
	    cmocka_unit_test(test_format_refuses_invalid),
	    cmocka_unit_test(test_selection_equals_signed_one_exactly),
	    cmocka_unit_test(test_values_parse),
	    cmocka_unit_test(test_values_real_three_banks),
	    cmocka_unit_test(test_values_refusals),
	    cmocka_unit_test(test_values_keys_with_nul),
	    cmocka_unit_test(test_bank_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
