/* TPM structures from clients: complete unmarshalling of real swtpm and
 * hardware bytes, Names equal to tpm2-tools', and the AK and EK rules with
 * each of their refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "tpm_soft.h"
#include "tpm_wire.h"

static TPMT_PUBLIC public_from(const char *path)
{
	size_t len;
	uint8_t *bytes = soft_read_file(path, &len);
	TPMT_PUBLIC pub;

	assert_int_equal(tpm_wire_public(bytes, len, "pub", &pub), ERR_OK);
	free(bytes);
	return pub;
}

/* Every strict prefix of a structure fails, and so does one extra byte:
 * no partial read and no trailing data is ever accepted. */
static void refuse_prefixes_and_trailer(const char *path, err_t (*parse)(const uint8_t *, size_t,
									 const char *, void *))
{
	size_t len;
	uint8_t *bytes = soft_read_file(path, &len), *longer = malloc(len + 1);
	union {
		TPMT_PUBLIC pub;
		TPMS_ATTEST attest;
		TPMT_SIGNATURE sig;
	} out;

	assert_non_null(longer);
	assert_int_equal(parse(bytes, len, "field", &out), ERR_OK);
	for (size_t n = 0; n < len; n++) {
		err_clear();
		assert_int_equal(parse(bytes, n, "field", &out), ERR_BAD_REQUEST);
		assert_memory_equal(err_detail(), "field: ", 7);
	}
	memcpy(longer, bytes, len);
	longer[len] = 0;
	assert_int_equal(parse(longer, len + 1, "field", &out), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "1 bytes after"));
	free(longer);
	free(bytes);
}

static err_t parse_public(const uint8_t *p, size_t n, const char *f, void *out)
{
	return tpm_wire_public(p, n, f, out);
}

static err_t parse_attest(const uint8_t *p, size_t n, const char *f, void *out)
{
	return tpm_wire_attest(p, n, f, out);
}

static err_t parse_signature(const uint8_t *p, size_t n, const char *f, void *out)
{
	return tpm_wire_signature(p, n, f, out);
}

static void test_unmarshal_is_complete_and_exact(void **state)
{
	static const char *const publics[] = {"tpm/ak_ecc.pub", "tpm/ak_rsa.pub",
					      "tpm/ek_rsa2048.pub", "tpm/ek_ecc_p384.pub"};
	static const char *const attests[] = {"tpm/quote_ecc.attest", "tpm/time_ecc.attest",
					      "tpm/guard_x1carbon_stm_quote.attest"};
	static const char *const sigs[] = {"tpm/quote_ecc.sig", "tpm/quote_rsa.sig",
					   "tpm/quote_rsapss.sig",
					   "tpm/guard_ludmilla_ntc_quote.sig"};

	(void)state;
	for (size_t i = 0; i < sizeof(publics) / sizeof(publics[0]); i++)
		refuse_prefixes_and_trailer(publics[i], parse_public);
	for (size_t i = 0; i < sizeof(attests) / sizeof(attests[0]); i++)
		refuse_prefixes_and_trailer(attests[i], parse_attest);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		refuse_prefixes_and_trailer(sigs[i], parse_signature);
}

/* The TPM2B_PUBLIC size must cover the public area exactly, neither more
 * (trailing bytes inside) nor less. */
static void test_public_size_must_match_area(void **state)
{
	size_t len;
	uint8_t *bytes = soft_read_file("tpm/ak_ecc.pub", &len);
	uint8_t padded[512];
	TPMT_PUBLIC pub;

	(void)state;
	memcpy(padded, bytes, len);
	padded[len] = 0;
	padded[1]++; /* size one larger, one more byte present */
	assert_int_equal(tpm_wire_public(padded, len + 1, "ak_pub", &pub), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "ak_pub: 1 bytes after the TPMT_PUBLIC"));
	padded[1] -= 2; /* size one smaller: the area is cut */
	assert_int_equal(tpm_wire_public(padded, len, "ak_pub", &pub), ERR_BAD_REQUEST);
	free(bytes);
}

/* Real hardware quotes (Nuvoton, STMicro; guard-oss) parse field by field. */
static void test_hardware_quotes(void **state)
{
	size_t len;
	uint8_t *bytes = soft_read_file("tpm/guard_ludmilla_ntc_quote.attest", &len);
	TPMS_ATTEST attest;
	TPMT_SIGNATURE sig;
	const TPML_PCR_SELECTION *sel = &attest.attested.quote.pcrSelect;

	(void)state;
	assert_int_equal(tpm_wire_attest(bytes, len, "quote", &attest), ERR_OK);
	free(bytes);
	assert_int_equal(attest.magic, TPM2_GENERATED_VALUE);
	assert_int_equal(attest.type, TPM2_ST_ATTEST_QUOTE);
	assert_int_equal(attest.extraData.size, 32);
	assert_int_equal(attest.firmwareVersion, 0x0007000200010000ull);
	assert_int_equal(sel->count, 3);
	assert_int_equal(sel->pcrSelections[0].hash, TPM2_ALG_SHA256);
	assert_int_equal(sel->pcrSelections[1].hash, TPM2_ALG_SHA384);
	assert_int_equal(sel->pcrSelections[2].hash, TPM2_ALG_SHA1);

	bytes = soft_read_file("tpm/guard_x1carbon_stm_quote.sig", &len);
	assert_int_equal(tpm_wire_signature(bytes, len, "signature", &sig), ERR_OK);
	free(bytes);
	assert_int_equal(sig.sigAlg, TPM2_ALG_ECDSA);
	assert_int_equal(sig.signature.ecdsa.hash, TPM2_ALG_SHA256);
	assert_int_equal(sig.signature.ecdsa.signatureR.size, 32);
}

/* tpm2-tools wrote the Name of each object (-n); ours must be the same. */
static void test_names_match_tpm2_tools(void **state)
{
	static const char *const objects[] = {"ak_ecc",	    "ak_rsa",	   "ak_rsapss",
					      "ek_rsa2048", "ek_ecc_p256", "ek_ecc_p384",
					      "ek_rsa3072"};

	(void)state;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		char path[64];
		size_t len;
		uint8_t *expected;
		TPMT_PUBLIC pub;
		TPM2B_NAME name;

		snprintf(path, sizeof(path), "tpm/%s.pub", objects[i]);
		pub = public_from(path);
		snprintf(path, sizeof(path), "tpm/%s.name", objects[i]);
		expected = soft_read_file(path, &len);
		assert_int_equal(tpm_object_name(&pub, &name), ERR_OK);
		assert_int_equal(name.size, len);
		assert_memory_equal(name.name, expected, len);
		free(expected);
	}
}

static void test_real_aks_pass(void **state)
{
	static const char *const aks[] = {"tpm/ak_ecc.pub", "tpm/ak_rsa.pub", "tpm/ak_rsapss.pub"};

	(void)state;
	for (size_t i = 0; i < sizeof(aks) / sizeof(aks[0]); i++) {
		TPMT_PUBLIC ak = public_from(aks[i]);
		EVP_PKEY *key = NULL;

		assert_int_equal(tpm_ak_check(&ak, &key), ERR_OK);
		assert_non_null(key);
		EVP_PKEY_free(key);
		assert_int_equal(tpm_ak_check(&ak, NULL), ERR_OK);
	}
}

static void expect_ak_invalid(const TPMT_PUBLIC *ak, const char *detail)
{
	EVP_PKEY *key = (EVP_PKEY *)1;

	err_clear();
	assert_int_equal(tpm_ak_check(ak, &key), ERR_AK_INVALID);
	assert_null(key);
	assert_int_equal(ERR_peek_error(), 0); /* nothing left in OpenSSL's queue */
	if (strstr(err_detail(), detail) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", detail, err_detail());
}

/* safeboot #36: a key that is not restricted signs anything, including a
 * forged quote. A real one from swtpm, quoting fine, is refused. */
static void test_unrestricted_key_is_no_ak(void **state)
{
	TPMT_PUBLIC key = public_from("tpm/unrestricted_ecc.pub");

	(void)state;
	expect_ak_invalid(&key, "restricted clear");
}

static void test_ak_rules(void **state)
{
	TPMT_PUBLIC ecc = public_from("tpm/ak_ecc.pub"), rsa = public_from("tpm/ak_rsa.pub"), ak;

	(void)state;
	static const struct {
		TPMA_OBJECT bit;
		const char *detail;
	} required[] = {
	    {TPMA_OBJECT_FIXEDTPM, "fixedTPM clear"},
	    {TPMA_OBJECT_FIXEDPARENT, "fixedParent clear"},
	    {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin clear"},
	    {TPMA_OBJECT_RESTRICTED, "restricted clear"},
	    {TPMA_OBJECT_SIGN_ENCRYPT, "sign clear"},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		ak = ecc;
		ak.objectAttributes &= ~required[i].bit;
		expect_ak_invalid(&ak, required[i].detail);
	}
	ak = ecc;
	ak.objectAttributes |= TPMA_OBJECT_DECRYPT;
	expect_ak_invalid(&ak, "decrypt set");

	/* Attributes outside the rule are free. */
	ak = ecc;
	ak.objectAttributes |= TPMA_OBJECT_NODA | TPMA_OBJECT_STCLEAR;
	ak.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
	assert_int_equal(tpm_ak_check(&ak, NULL), ERR_OK);

	ak = ecc;
	ak.nameAlg = TPM2_ALG_SHA1;
	expect_ak_invalid(&ak, "nameAlg");
	ak = ecc;
	ak.parameters.eccDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA1;
	expect_ak_invalid(&ak, "hash 0x0004");
	ak = ecc;
	ak.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDAA;
	expect_ak_invalid(&ak, "not ECDSA");
	ak = ecc;
	ak.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	expect_ak_invalid(&ak, "not ECDSA");
	ak = ecc;
	ak.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
	expect_ak_invalid(&ak, "not NIST P-256");
	ak = ecc;
	ak.parameters.eccDetail.kdf.scheme = TPM2_ALG_KDF1_SP800_56A;
	expect_ak_invalid(&ak, "KDF");
	ak = ecc;
	ak.unique.ecc.y.buffer[5] ^= 1; /* no longer on the curve */
	expect_ak_invalid(&ak, "not a valid public key");
	ak = ecc;
	ak.unique.ecc.x.size = 33;
	expect_ak_invalid(&ak, "not a valid public key");

	ak = rsa;
	ak.parameters.rsaDetail.keyBits = 3072;
	expect_ak_invalid(&ak, "RSA-3072");
	ak = rsa;
	ak.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSAES;
	expect_ak_invalid(&ak, "not RSASSA or RSAPSS");
	ak = rsa;
	ak.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
	expect_ak_invalid(&ak, "symmetric");
	ak = rsa;
	ak.parameters.rsaDetail.exponent = 3;
	expect_ak_invalid(&ak, "not a valid public key");
	ak = rsa;
	ak.unique.rsa.buffer[255] &= 0xfe; /* an even modulus */
	expect_ak_invalid(&ak, "not a valid public key");
	ak = rsa;
	ak.unique.rsa.size = 255;
	expect_ak_invalid(&ak, "not a valid public key");
	ak = rsa;
	ak.type = TPM2_ALG_KEYEDHASH;
	expect_ak_invalid(&ak, "not RSA or ECC");
}

static void test_real_eks_pass_with_their_template(void **state)
{
	static const struct {
		const char *path;
		uint16_t name_alg, aes_bits;
	} eks[] = {
	    {"tpm/ek_rsa2048.pub", TPM2_ALG_SHA256, 128},
	    {"tpm/ek_ecc_p256.pub", TPM2_ALG_SHA256, 128},
	    {"tpm/ek_ecc_p384.pub", TPM2_ALG_SHA384, 256},
	    {"tpm/ek_rsa3072.pub", TPM2_ALG_SHA384, 256},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(eks) / sizeof(eks[0]); i++) {
		TPMT_PUBLIC ek = public_from(eks[i].path);
		struct tpm_ek_profile profile;
		EVP_PKEY *key = NULL;

		assert_int_equal(tpm_ek_check(&ek, &profile, &key), ERR_OK);
		assert_int_equal(profile.name_alg, eks[i].name_alg);
		assert_int_equal(profile.aes_bits, eks[i].aes_bits);
		assert_non_null(profile.template_name);
		assert_non_null(key);
		EVP_PKEY_free(key);
	}
}

static void expect_ek_invalid(const TPMT_PUBLIC *ek, const char *detail)
{
	struct tpm_ek_profile profile;

	err_clear();
	assert_int_equal(tpm_ek_check(ek, &profile, NULL), ERR_EK_INVALID);
	if (strstr(err_detail(), detail) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", detail, err_detail());
}

static void test_ek_rules(void **state)
{
	TPMT_PUBLIC rsa = public_from("tpm/ek_rsa2048.pub"),
		    p384 = public_from("tpm/ek_ecc_p384.pub");
	TPMT_PUBLIC ak = public_from("tpm/ak_rsa.pub"), ek;

	(void)state;
	expect_ek_invalid(&ak, "sign set"); /* a signing key is no EK */
	ek = rsa;
	ek.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
	expect_ek_invalid(&ek, "restricted clear");
	ek = rsa;
	ek.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
	expect_ek_invalid(&ek, "fixedTPM clear");
	ek = rsa;
	ek.objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
	expect_ek_invalid(&ek, "sign set");
	ek = rsa;
	ek.nameAlg = TPM2_ALG_SHA384;
	expect_ek_invalid(&ek, "nameAlg");
	ek = rsa;
	ek.parameters.rsaDetail.symmetric.keyBits.aes = 256;
	expect_ek_invalid(&ek, "AES-128-CFB");
	ek = rsa;
	ek.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CBC;
	expect_ek_invalid(&ek, "AES-128-CFB");
	ek = rsa;
	ek.parameters.rsaDetail.scheme.scheme = TPM2_ALG_OAEP;
	expect_ek_invalid(&ek, "scheme");
	ek = rsa;
	ek.parameters.rsaDetail.keyBits = 4096;
	expect_ek_invalid(&ek, "no supported template");
	ek = rsa;
	ek.unique.rsa.size = 128;
	expect_ek_invalid(&ek, "not a valid public key");

	/* H-3 is P-384 with SHA-384 and AES-256: the L-2 parameters on a
	 * P-384 key are no template. */
	ek = p384;
	ek.nameAlg = TPM2_ALG_SHA256;
	expect_ek_invalid(&ek, "nameAlg");
	ek = p384;
	ek.parameters.eccDetail.symmetric.keyBits.aes = 128;
	expect_ek_invalid(&ek, "AES-256-CFB");
	ek = p384;
	ek.parameters.eccDetail.kdf.scheme = TPM2_ALG_KDF2;
	expect_ek_invalid(&ek, "KDF");
	ek = p384;
	ek.parameters.eccDetail.curveID = TPM2_ECC_NIST_P521;
	expect_ek_invalid(&ek, "no supported template");
	ek = p384;
	ek.unique.ecc.x.buffer[0] ^= 0x80;
	expect_ek_invalid(&ek, "not a valid public key");
	ek = p384;
	ek.type = TPM2_ALG_SYMCIPHER;
	expect_ek_invalid(&ek, "no supported template");
}

/* The key built from a public area is that key: same modulus, same point. */
static void test_public_key_is_the_key(void **state)
{
	EVP_PKEY *rsa = soft_rsa_key(2048), *ec = soft_ec_key("P-384"), *built = NULL;
	TPMT_PUBLIC pub;

	(void)state;
	soft_ak_public(rsa, TPM2_ALG_RSASSA, &pub);
	assert_true(tpm_public_key(&pub, &built));
	assert_int_equal(EVP_PKEY_eq(rsa, built), 1);
	EVP_PKEY_free(built);

	soft_ek_public(ec, &pub);
	assert_true(tpm_public_key(&pub, &built));
	assert_int_equal(EVP_PKEY_eq(ec, built), 1);
	EVP_PKEY_free(built);

	/* A coordinate longer than the curve's is refused, even if it only
	 * has a leading zero more. */
	memmove(pub.unique.ecc.x.buffer + 1, pub.unique.ecc.x.buffer, 48);
	pub.unique.ecc.x.buffer[0] = 0;
	pub.unique.ecc.x.size = 49;
	assert_false(tpm_public_key(&pub, &built));
	assert_null(built);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unmarshal_is_complete_and_exact),
	    cmocka_unit_test(test_public_size_must_match_area),
	    cmocka_unit_test(test_hardware_quotes),
	    cmocka_unit_test(test_names_match_tpm2_tools),
	    cmocka_unit_test(test_real_aks_pass),
	    cmocka_unit_test(test_unrestricted_key_is_no_ak),
	    cmocka_unit_test(test_ak_rules),
	    cmocka_unit_test(test_real_eks_pass_with_their_template),
	    cmocka_unit_test(test_ek_rules),
	    cmocka_unit_test(test_public_key_is_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
