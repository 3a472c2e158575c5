/* KDFa and KDFe against known answers, MakeCredential opened again by a
 * software TPM2_ActivateCredential for every supported EK template (the
 * swtpm integration test opens it with a real TPM), and TPMT_SIGNATURE
 * checks for the three AK schemes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <tss2/tss2_mu.h>

#include "b64.h"
#include "tpm_crypto.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t got = 0;

	assert_true(hex_decode(hex, strlen(hex), out, len, &got));
	assert_int_equal(got, len);
}

/* The TPM's own KDFa self-test (KdfTestData.h of the TCG reference code):
 * key, label "KDFSELFTESTLABEL", contexts U and V, 160 bits out. */
static void test_kdfa_tpm_selftest_vectors(void **state)
{
	static const struct {
		uint16_t hash;
		const char *out;
	} vectors[] = {
	    {TPM2_ALG_SHA1, "55b5a7184aa07423c47dae766c26a2377d7cf851"},
	    {TPM2_ALG_SHA256, "bb0259e1c8ba607e6a2cd704b69a902e9ade84c4"},
	    {TPM2_ALG_SHA384, "1dce70c9113eb2dba47bd9cfc72bf46f45b09312"},
	    {TPM2_ALG_SHA512, "8be2c1b85b78569b9fa759f5857c56d684810fd3"},
	};
	uint8_t key[20], u[8], v[8], expected[20], out[20];

	(void)state;
	unhex("271FA08BBDC5060EC3DFA928FF9B73123A12DA0C", key, sizeof(key));
	unhex("CE244F395DCA7391", u, sizeof(u));
	unhex("DA504031DDF12E83", v, sizeof(v));
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unhex(vectors[i].out, expected, sizeof(expected));
		assert_int_equal(tpm_kdfa(vectors[i].hash, key, sizeof(key), "KDFSELFTESTLABEL", u,
					  sizeof(u), v, sizeof(v), out, sizeof(out)),
				 ERR_OK);
		assert_memory_equal(out, expected, sizeof(out));
	}
}

/* Vectors computed from the Part 1 formulas with Python's hmac/hashlib:
 * several HMAC blocks, and the uses MakeCredential makes. */
static void test_kdfa_python_vectors(void **state)
{
	uint8_t key[48], name[34], out[80], expected[80];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i < 32 ? i : i - 32);
	name[0] = 0x00;
	name[1] = 0x0b;
	for (size_t i = 0; i < 32; i++)
		name[2 + i] = (uint8_t)(100 + i);

	unhex("d98939313878365f823837e2ce0286ca", expected, 16);
	assert_int_equal(
	    tpm_kdfa(TPM2_ALG_SHA256, key, 32, "STORAGE", name, sizeof(name), NULL, 0, out, 16),
	    ERR_OK);
	assert_memory_equal(out, expected, 16);

	unhex("bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e", expected, 32);
	assert_int_equal(tpm_kdfa(TPM2_ALG_SHA256, key, 32, "INTEGRITY", NULL, 0, NULL, 0, out, 32),
			 ERR_OK);
	assert_memory_equal(out, expected, 32);

	unhex("fe531c91ac8fac3ef7a7c3d9108847fc090926c7038a680812cfa275ac416782db3ff61eb40fe049"
	      "f195198d13a946d4f03a9d4b76b3bdce2a82f07cf54a2a3a04abfa05529ded1405167cf62ac59083",
	      expected, 80);
	assert_int_equal(tpm_kdfa(TPM2_ALG_SHA384, key, 48, "TEST", (const uint8_t *)"abc", 3,
				  (const uint8_t *)"defg", 4, out, 80),
			 ERR_OK);
	assert_memory_equal(out, expected, 80);
}

static void test_kdfe_python_vectors(void **state)
{
	uint8_t z[48], u[48], v[48], out[48], expected[48];

	(void)state;
	for (size_t i = 0; i < sizeof(z); i++)
		z[i] = (uint8_t)(i < 32 ? 200 + i : 200 + i - 32);

	for (size_t i = 0; i < 32; i++) {
		u[i] = (uint8_t)i;
		v[i] = (uint8_t)(32 + i);
	}
	unhex("47bc22a137b0b9fee4c9d7b048e7b8c85baa3c166e71bfcefcdb8588d0f1e574", expected, 32);
	assert_int_equal(tpm_kdfe(TPM2_ALG_SHA256, z, 32, "IDENTITY", u, 32, v, 32, out, 32),
			 ERR_OK);
	assert_memory_equal(out, expected, 32);

	memset(u, 0, sizeof(u));
	memset(v, 1, sizeof(v));
	unhex("b330d46367587c1734235e80bc1b61b84541d8f3c27779988f37f52638161f2f39d781d4b7f48205"
	      "9582f12826817268",
	      expected, 48);
	assert_int_equal(tpm_kdfe(TPM2_ALG_SHA384, z, 48, "IDENTITY", u, 48, v, 48, out, 48),
			 ERR_OK);
	assert_memory_equal(out, expected, 48);

	unhex("56b477bf641b94a7951be034e2c0bd712a03d42e3229e83d2514bce3ae29d2bff3619b8aeb836e92",
	      expected, 40);
	assert_int_equal(tpm_kdfe(TPM2_ALG_SHA256, z, 32, "SECRET", NULL, 0, NULL, 0, out, 40),
			 ERR_OK);
	assert_memory_equal(out, expected, 40);
}

static void test_kdf_refusals(void **state)
{
	uint8_t key[32] = {1}, big[300] = {0}, out[32];

	(void)state;
	assert_int_equal(tpm_kdfa(TPM2_ALG_SM3_256, key, 32, "X", NULL, 0, NULL, 0, out, 32),
			 ERR_INTERNAL);
	assert_int_equal(
	    tpm_kdfa(TPM2_ALG_SHA256, key, 32, "X", big, sizeof(big), NULL, 0, out, 32),
	    ERR_INTERNAL);
	assert_int_equal(tpm_kdfe(TPM2_ALG_NULL, key, 32, "X", NULL, 0, NULL, 0, out, 32),
			 ERR_INTERNAL);
	assert_int_equal(tpm_kdfe(TPM2_ALG_SHA256, key, 32, "X", big, 200, big, 100, out, 32),
			 ERR_INTERNAL);
}

static void ak_name(TPM2B_NAME *name)
{
	EVP_PKEY *key = soft_ec_key("P-256");
	TPMT_PUBLIC ak;

	soft_ak_public(key, TPM2_ALG_ECDSA, &ak);
	assert_int_equal(tpm_object_name(&ak, name), ERR_OK);
	EVP_PKEY_free(key);
}

/* MakeCredential with a software EK of each template; the credential opens
 * only for the AK Name it was made for and only while it is intact. */
static void credential_round_trip(EVP_PKEY *ek_key, size_t secret_size_len,
				  size_t encrypted_secret_len)
{
	TPMT_PUBLIC pub;
	struct tpm_ek ek;
	struct tpm_credential cred;
	TPM2B_NAME name, other;
	uint8_t secret[32], opened[64];
	size_t opened_len = 0, off = 0;
	TPM2B_ID_OBJECT id_object;
	TPM2B_ENCRYPTED_SECRET encrypted;

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa0 + i);
	soft_ek_public(ek_key, &pub);
	assert_int_equal(tpm_ek_load(&pub, &ek), ERR_OK);
	ak_name(&name);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, sizeof(secret), &cred), ERR_OK);
	/* size || (size || integrityHMAC) || encIdentity(size || secret) */
	assert_int_equal(cred.id_object_len, 2 + 2 + secret_size_len + 2 + sizeof(secret));
	assert_int_equal(cred.encrypted_secret_len, encrypted_secret_len);
	/* Exactly what tss2-mu reads (and Esys_ActivateCredential takes). */
	assert_int_equal(
	    Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred.id_object, cred.id_object_len, &off, &id_object),
	    TSS2_RC_SUCCESS);
	assert_int_equal(off, cred.id_object_len);
	off = 0;
	assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(
			     cred.encrypted_secret, cred.encrypted_secret_len, &off, &encrypted),
			 TSS2_RC_SUCCESS);
	assert_int_equal(off, cred.encrypted_secret_len);
	assert_int_equal(soft_activate(ek_key, &ek, &name, &cred, opened, &opened_len), 1);
	assert_int_equal(opened_len, sizeof(secret));
	assert_memory_equal(opened, secret, sizeof(secret));

	/* Another AK (another Name) cannot open it: the binding that proves
	 * the AK lives in the EK's TPM. */
	ak_name(&other);
	assert_int_equal(soft_activate(ek_key, &ek, &other, &cred, opened, &opened_len), 0);
	cred.id_object[cred.id_object_len - 1] ^= 1;
	assert_int_equal(soft_activate(ek_key, &ek, &name, &cred, opened, &opened_len), 0);
	tpm_ek_release(&ek);
}

static void test_make_credential_rsa2048(void **state)
{
	EVP_PKEY *key = soft_rsa_key(2048);

	(void)state;
	credential_round_trip(key, 32, 2 + 256);
	EVP_PKEY_free(key);
}

static void test_make_credential_rsa3072(void **state)
{
	EVP_PKEY *key = soft_rsa_key(3072);

	(void)state;
	credential_round_trip(key, 48, 2 + 384);
	EVP_PKEY_free(key);
}

static void test_make_credential_p256(void **state)
{
	EVP_PKEY *key = soft_ec_key("P-256");

	(void)state;
	/* TPMS_ECC_POINT: two sized 32-byte coordinates. */
	credential_round_trip(key, 32, 2 + 2 + 32 + 2 + 32);
	EVP_PKEY_free(key);
}

static void test_make_credential_p384(void **state)
{
	EVP_PKEY *key = soft_ec_key("P-384");

	(void)state;
	credential_round_trip(key, 48, 2 + 2 + 48 + 2 + 48);
	EVP_PKEY_free(key);
}

/* Each credential is fresh: new seed (RSA) or new ephemeral key (ECC). */
static void test_make_credential_is_randomized(void **state)
{
	TPMT_PUBLIC pub = {0};
	struct tpm_ek ek;
	struct tpm_credential a, b;
	TPM2B_NAME name;
	uint8_t secret[32] = {1};
	size_t len;
	uint8_t *bytes = soft_read_file("tpm/ek_ecc_p256.pub", &len);

	(void)state;
	assert_int_equal(tpm_wire_public(bytes, len, "ek_pub", &pub), ERR_OK);
	free(bytes);
	assert_int_equal(tpm_ek_load(&pub, &ek), ERR_OK);
	ak_name(&name);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, sizeof(secret), &a), ERR_OK);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, sizeof(secret), &b), ERR_OK);
	assert_int_equal(a.encrypted_secret_len, b.encrypted_secret_len);
	assert_memory_not_equal(a.encrypted_secret, b.encrypted_secret, a.encrypted_secret_len);
	assert_memory_not_equal(a.id_object, b.id_object, a.id_object_len);
	tpm_ek_release(&ek);
}

static void test_make_credential_refusals(void **state)
{
	EVP_PKEY *key = soft_ec_key("P-256");
	TPMT_PUBLIC pub;
	struct tpm_ek ek;
	struct tpm_credential cred;
	TPM2B_NAME name;
	uint8_t secret[65] = {0};

	(void)state;
	ak_name(&name);
	/* The TPM accepts no credential longer than the EK's nameAlg digest. */
	soft_ek_public(key, &pub);
	assert_int_equal(tpm_ek_load(&pub, &ek), ERR_OK);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, 33, &cred), ERR_INTERNAL);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, 0, &cred), ERR_INTERNAL);
	name.size = 1;
	assert_int_equal(tpm_make_credential(&ek, &name, secret, 32, &cred), ERR_INTERNAL);
	tpm_ek_release(&ek);
	tpm_ek_release(&ek); /* releasing twice is harmless */

	/* An AK is no EK. */
	soft_ak_public(key, TPM2_ALG_ECDSA, &pub);
	assert_int_equal(tpm_ek_load(&pub, &ek), ERR_EK_INVALID);
	assert_null(ek.key);
	assert_int_equal(tpm_make_credential(&ek, &name, secret, 32, &cred), ERR_INTERNAL);
	tpm_ek_release(&ek);
	EVP_PKEY_free(key);
}

/* The tpm2_makecredential -o layout: magic, version, the two TPM2Bs. */
static void test_credential_file(void **state)
{
	struct tpm_credential cred = {.id_object = {0, 2, 0xaa, 0xbb},
				      .id_object_len = 4,
				      .encrypted_secret = {0, 1, 0xcc},
				      .encrypted_secret_len = 3};
	uint8_t file[TPM_CREDENTIAL_FILE_MAX];
	static const uint8_t expected[] = {0xba, 0xdc, 0xc0, 0xde, 0, 0, 0,   1,
					   0,	 2,    0xaa, 0xbb, 0, 1, 0xcc};
	size_t len = 0;

	(void)state;
	assert_int_equal(tpm_credential_file(&cred, file, sizeof(file), &len), ERR_OK);
	assert_int_equal(len, sizeof(expected));
	assert_memory_equal(file, expected, len);
	assert_int_equal(tpm_credential_file(&cred, file, 14, &len), ERR_INTERNAL);
}

static void signature_checks(EVP_PKEY *key, uint16_t scheme)
{
	static const uint8_t msg[] = "\xffTCG a structure the TPM signed";
	TPMT_PUBLIC pub;
	TPMT_SIGNATURE sig, bad;
	EVP_PKEY *built = NULL;

	soft_ak_public(key, scheme, &pub);
	assert_true(tpm_public_key(&pub, &built));
	soft_sign(key, scheme, msg, sizeof(msg), &sig);
	assert_int_equal(tpm_signature_verify(&pub, built, &sig, msg, sizeof(msg)), ERR_OK);
	/* Another message, a changed signature byte: refused. */
	assert_int_equal(tpm_signature_verify(&pub, built, &sig, msg, sizeof(msg) - 1),
			 ERR_QUOTE_INVALID);
	bad = sig;
	if (scheme == TPM2_ALG_ECDSA)
		bad.signature.ecdsa.signatureS.buffer[7] ^= 1;
	else
		bad.signature.rsassa.sig.buffer[7] ^= 1;
	assert_int_equal(tpm_signature_verify(&pub, built, &bad, msg, sizeof(msg)),
			 ERR_QUOTE_INVALID);
	assert_int_equal(ERR_peek_error(), 0); /* nothing left in OpenSSL's queue */
	/* The AK's hash is part of what it vouches for. */
	bad = sig;
	bad.signature.any.hashAlg = TPM2_ALG_SHA1;
	assert_int_equal(tpm_signature_verify(&pub, built, &bad, msg, sizeof(msg)),
			 ERR_QUOTE_INVALID);
	assert_non_null(strstr(err_detail(), "the AK's"));
	EVP_PKEY_free(built);
}

static void test_signature_schemes(void **state)
{
	EVP_PKEY *rsa = soft_rsa_key(2048), *ec = soft_ec_key("P-256");
	TPMT_PUBLIC pub;
	TPMT_SIGNATURE sig;
	EVP_PKEY *built = NULL;
	static const uint8_t msg[] = "quote";

	(void)state;
	signature_checks(rsa, TPM2_ALG_RSASSA);
	signature_checks(rsa, TPM2_ALG_RSAPSS);
	signature_checks(ec, TPM2_ALG_ECDSA);

	/* An RSASSA key never vouches for a PSS signature, even a valid one. */
	soft_ak_public(rsa, TPM2_ALG_RSASSA, &pub);
	assert_true(tpm_public_key(&pub, &built));
	soft_sign(rsa, TPM2_ALG_RSAPSS, msg, sizeof(msg), &sig);
	assert_int_equal(tpm_signature_verify(&pub, built, &sig, msg, sizeof(msg)),
			 ERR_QUOTE_INVALID);
	/* A PKCS#1 signature one byte short is refused, not padded. */
	soft_sign(rsa, TPM2_ALG_RSASSA, msg, sizeof(msg), &sig);
	sig.signature.rsassa.sig.size--;
	assert_int_equal(tpm_signature_verify(&pub, built, &sig, msg, sizeof(msg)),
			 ERR_QUOTE_INVALID);
	EVP_PKEY_free(built);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdfa_tpm_selftest_vectors),
	    cmocka_unit_test(test_kdfa_python_vectors),
	    cmocka_unit_test(test_kdfe_python_vectors),
	    cmocka_unit_test(test_kdf_refusals),
	    cmocka_unit_test(test_make_credential_rsa2048),
	    cmocka_unit_test(test_make_credential_rsa3072),
	    cmocka_unit_test(test_make_credential_p256),
	    cmocka_unit_test(test_make_credential_p384),
	    cmocka_unit_test(test_make_credential_is_randomized),
	    cmocka_unit_test(test_make_credential_refusals),
	    cmocka_unit_test(test_credential_file),
	    cmocka_unit_test(test_signature_schemes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
