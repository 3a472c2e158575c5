/* The client's key templates: the EK templates are tpm2_createek's (the
 * TCG defaults) in every field but the key itself, and what the client
 * creates passes the verifier's own EK and AK rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_mu.h>

#include "templates.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

static TPM2B_PUBLIC public_file(const char *path)
{
	size_t len, off = 0;
	uint8_t *bytes = soft_read_file(path, &len);
	TPM2B_PUBLIC pub = {0};

	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes, len, &off, &pub), TSS2_RC_SUCCESS);
	free(bytes);
	return pub;
}

/* template, given the key of `made`, marshals to made's very bytes. */
static void assert_template_made(TPM2B_PUBLIC template, const TPM2B_PUBLIC *made)
{
	uint8_t a[sizeof(TPM2B_PUBLIC)], b[sizeof(TPM2B_PUBLIC)];
	size_t alen = 0, blen = 0;

	template.publicArea.unique = made->publicArea.unique;
	template.size = 0;
	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&template, a, sizeof(a), &alen),
			 TSS2_RC_SUCCESS);
	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(made, b, sizeof(b), &blen), TSS2_RC_SUCCESS);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
}

static void test_ek_templates_are_tpm2_createeks(void **state)
{
	TPM2B_PUBLIC t, rsa = public_file("tpm/ek_rsa2048.pub"),
			ecc = public_file("tpm/ek_ecc_p256.pub");
	struct tpm_ek_profile profile;

	(void)state;
	template_ek(CLIENT_ALG_RSA, &t);
	assert_template_made(t, &rsa);
	assert_int_equal(t.publicArea.unique.rsa.size, 256); /* zeros of the key's size */
	template_ek(CLIENT_ALG_ECC, &t);
	assert_template_made(t, &ecc);
	assert_int_equal(t.publicArea.unique.ecc.x.size, 32);
	assert_int_equal(t.publicArea.unique.ecc.y.size, 32);
	/* and the verifier calls them L-1 and L-2 */
	assert_int_equal(tpm_ek_check(&rsa.publicArea, &profile, NULL), ERR_OK);
	assert_int_equal(profile.aes_bits, 128);
	assert_int_equal(tpm_ek_check(&ecc.publicArea, &profile, NULL), ERR_OK);
}

static void test_ak_templates_pass_the_verifiers_ak_rule(void **state)
{
	EVP_PKEY *ec = soft_ec_key("P-256"), *rsa = soft_rsa_key(2048);
	TPM2B_PUBLIC t, made = public_file("tpm/ak_ecc.pub");
	TPMT_PUBLIC keyed;

	(void)state;
	/* ECC: the same template tpm2_createak -G ecc -s ecdsa -g sha256 uses */
	template_ak(CLIENT_ALG_ECC, &t);
	assert_template_made(t, &made);
	soft_ak_public(ec, TPM2_ALG_ECDSA, &keyed);
	t.publicArea.unique = keyed.unique;
	assert_int_equal(tpm_ak_check(&t.publicArea, NULL), ERR_OK);
	/* RSA: likewise -G rsa -s rsassa */
	template_ak(CLIENT_ALG_RSA, &t);
	made = public_file("tpm/ak_rsa.pub");
	assert_template_made(t, &made);
	soft_ak_public(rsa, TPM2_ALG_RSASSA, &keyed);
	t.publicArea.unique = keyed.unique;
	assert_int_equal(tpm_ak_check(&t.publicArea, NULL), ERR_OK);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void test_tcg_handles_and_indices(void **state)
{
	(void)state;
	assert_int_equal(template_ek_persistent_handle(CLIENT_ALG_RSA), 0x81010001);
	assert_int_equal(template_ek_persistent_handle(CLIENT_ALG_ECC), 0x81010002);
	assert_int_equal(template_ek_cert_index(CLIENT_ALG_RSA), 0x01c00002);
	assert_int_equal(template_ek_cert_index(CLIENT_ALG_ECC), 0x01c0000a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ek_templates_are_tpm2_createeks),
	    cmocka_unit_test(test_ak_templates_pass_the_verifiers_ak_rule),
	    cmocka_unit_test(test_tcg_handles_and_indices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
