/* EK certificates as the client reads them: real vendors' NV contents with
 * their 0xFF padding, concatenated chains, PEM files for online
 * certificates, and refusals for what is not a certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ek_certs.h"
#include "tpm_soft.h"
#include "unit_util.h"

#define STM_PADDED   "ekcerts/hardware/stm_st33htph_rsa2048_ek_ffpadded.der"
#define IFX_RSA	     "ekcerts/hardware/ifx_slb9670_rsa2048_ek.der"
#define STM_ECC	     "ekcerts/hardware/stm_st33htph_eccp256_ek.der"
#define INTERMEDIATE "ekcerts/synthetic/int.pem"

static size_t der_length(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x = d2i_X509(NULL, &q, (long)len);

	assert_non_null(x);
	X509_free(x);
	return (size_t)(q - p);
}

static void test_nv_padding_is_not_part_of_the_certificate(void **state)
{
	size_t len;
	uint8_t *nv = soft_read_file(STM_PADDED, &len);
	size_t der = der_length(nv, len);
	struct ek_certs c;

	(void)state;
	assert_true(der < len); /* the vector really is padded */
	ek_certs_init(&c);
	assert_int_equal(ek_certs_add_der(&c, nv, len, true), ERR_OK);
	/* Sent: the manufacturer's certificate, byte for byte, and no padding. */
	assert_int_equal(c.leaf.len, der);
	assert_memory_equal(c.leaf.der, nv, der);
	assert_int_equal(c.chain_count, 0);
	assert_int_equal(c.alg, CLIENT_ALG_RSA);
	ek_certs_free(&c);
	free(nv);
}

/* NV content: leaf + intermediate back to back, then padding. */
static void test_concatenated_certificates_become_the_chain(void **state)
{
	size_t a_len, b_len;
	uint8_t *a = soft_read_file(STM_ECC, &a_len), *b = soft_read_file(IFX_RSA, &b_len);
	uint8_t *nv = malloc(a_len + b_len + 100);
	struct ek_certs c;

	(void)state;
	assert_non_null(nv);
	memcpy(nv, a, a_len);
	memcpy(nv + a_len, b, b_len);
	memset(nv + a_len + b_len, 0xff, 100);
	ek_certs_init(&c);
	assert_int_equal(ek_certs_add_der(&c, nv, a_len + b_len + 100, true), ERR_OK);
	assert_int_equal(c.alg, CLIENT_ALG_ECC);
	assert_int_equal(c.leaf.len, a_len);
	assert_int_equal(c.chain_count, 1);
	assert_int_equal(c.chain[0].len, b_len);
	assert_memory_equal(c.chain[0].der, b, b_len);
	ek_certs_free(&c);
	free(nv);
	free(a);
	free(b);
}

static void test_what_is_not_certificate_and_padding_is_refused(void **state)
{
	size_t len;
	uint8_t *der = soft_read_file(IFX_RSA, &len);
	uint8_t *buf = malloc(len + 16);
	uint8_t only_ff[64];
	struct ek_certs c;

	(void)state;
	assert_non_null(buf);
	memset(only_ff, 0xff, sizeof(only_ff));
	ek_certs_init(&c);
	/* zeros after the certificate: not NV padding */
	memcpy(buf, der, len);
	memset(buf + len, 0x00, 16);
	assert_int_equal(ek_certs_add_der(&c, buf, len + 16, true), ERR_BAD_REQUEST);
	ek_certs_free(&c);
	/* an erased index */
	assert_int_equal(ek_certs_add_der(&c, only_ff, sizeof(only_ff), true), ERR_BAD_REQUEST);
	assert_int_equal(ek_certs_add_der(&c, only_ff, 0, true), ERR_BAD_REQUEST);
	/* a certificate cut short */
	assert_int_equal(ek_certs_add_der(&c, der, len - 1, true), ERR_BAD_REQUEST);
	assert_null(c.leaf.der);
	ek_certs_free(&c);
	free(buf);
	free(der);
}

static void test_pem_files_are_sent_as_their_der(void **state)
{
	BIO *bio = BIO_new_file(INTERMEDIATE, "r");
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int der_len = i2d_X509(x, &der);
	struct ek_certs c;

	(void)state;
	assert_true(der_len > 0);
	ek_certs_init(&c);
	/* The Intel PTT certificate of the vectors, as its vendor serves it. */
	assert_int_equal(
	    ek_certs_add_file(&c, "ekcerts/hardware/intc_ptt_spth_rsa2048_ek.pem", true), ERR_OK);
	assert_int_equal(c.alg, CLIENT_ALG_RSA);
	assert_int_equal(ek_certs_add_file(&c, INTERMEDIATE, false), ERR_OK);
	assert_int_equal(c.chain_count, 1);
	assert_int_equal(c.chain[0].len, (size_t)der_len);
	assert_memory_equal(c.chain[0].der, der, (size_t)der_len);
	/* A DER file works the same way. */
	assert_int_equal(ek_certs_add_file(&c, IFX_RSA, false), ERR_OK);
	assert_int_equal(c.chain_count, 2);
	ek_certs_free(&c);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_bad_files_are_refused_naming_the_file(void **state)
{
	char *dir = unit_tmpdir(), path[512], *bundle;
	size_t len;
	uint8_t *pem = soft_read_file(INTERMEDIATE, &len);
	struct ek_certs c;

	(void)state;
	ek_certs_init(&c);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	write_file(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	assert_int_equal(ek_certs_add_file(&c, path, true), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), path));
	snprintf(path, sizeof(path), "%s/text", dir);
	write_file(path, "not a certificate\n");
	assert_int_equal(ek_certs_add_file(&c, path, true), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), path));
	/* Two certificates where one EK certificate is meant: the second is
	 * taken as the chain, never as a second leaf. */
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	bundle = calloc(1, 2 * len + 1);
	assert_non_null(bundle);
	memcpy(bundle, pem, len);
	memcpy(bundle + len, pem, len);
	write_file(path, bundle);
	assert_int_equal(ek_certs_add_file(&c, path, false), ERR_OK);
	assert_int_equal(c.chain_count, 2);
	assert_null(c.leaf.der);
	assert_int_equal(ek_certs_add_file(&c, "/nonexistent.pem", true), ERR_NOT_FOUND);
	ek_certs_free(&c);
	/* DER whose subject happens to hold "-----BEGIN " is still DER (found
	 * by fuzz_client_ek_certs). */
	ek_certs_init(&c);
	assert_int_equal(ek_certs_add_file(&c, "ekcerts/synthetic/begin-in-subject.der", true),
			 ERR_OK);
	assert_non_null(c.leaf.der);
	ek_certs_free(&c);
	free(bundle);
	free(pem);
	unit_rmtree(dir);
}

/* A self-signed certificate for key, standing for an EK certificate. */
static uint8_t *cert_for(EVP_PKEY *key, size_t *len)
{
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

static void test_only_the_l_template_keys_are_taken(void **state)
{
	EVP_PKEY *p384 = soft_ec_key("P-384"), *rsa3072 = soft_rsa_key(3072);
	size_t len;
	uint8_t *der;
	struct ek_certs c;

	(void)state;
	ek_certs_init(&c);
	der = cert_for(p384, &len);
	assert_int_equal(ek_certs_add_der(&c, der, len, true), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "P-256"));
	/* As an intermediate the key type does not matter. */
	assert_int_equal(ek_certs_add_der(&c, der, len, false), ERR_OK);
	OPENSSL_free(der);
	der = cert_for(rsa3072, &len);
	assert_int_equal(ek_certs_add_der(&c, der, len, true), ERR_BAD_REQUEST);
	OPENSSL_free(der);
	ek_certs_free(&c);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa3072);
}

static void test_the_chain_is_bounded(void **state)
{
	size_t len;
	uint8_t *der = soft_read_file(IFX_RSA, &len);
	struct ek_certs c;

	(void)state;
	ek_certs_init(&c);
	for (int i = 0; i < EK_CERTS_CHAIN_MAX; i++)
		assert_int_equal(ek_certs_add_der(&c, der, len, false), ERR_OK);
	assert_int_equal(ek_certs_add_der(&c, der, len, false), ERR_BAD_REQUEST);
	assert_int_equal(c.chain_count, EK_CERTS_CHAIN_MAX);
	ek_certs_free(&c);
	free(der);
}

/* The persistent EK is used only when it is the certified key. */
static void test_certify_compares_the_keys(void **state)
{
	EVP_PKEY *key = soft_ec_key("P-256"), *other = soft_ec_key("P-256");
	size_t len;
	uint8_t *der = cert_for(key, &len);
	TPM2B_PUBLIC pub = {0};
	struct ek_certs c;

	(void)state;
	ek_certs_init(&c);
	assert_int_equal(ek_certs_add_der(&c, der, len, true), ERR_OK);
	soft_ek_public(key, &pub.publicArea);
	assert_true(ek_certs_certify(&c, &pub));
	soft_ek_public(other, &pub.publicArea);
	assert_false(ek_certs_certify(&c, &pub));
	ek_certs_free(&c);
	assert_false(ek_certs_certify(&c, &pub)); /* no certificate at all */
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nv_padding_is_not_part_of_the_certificate),
	    cmocka_unit_test(test_concatenated_certificates_become_the_chain),
	    cmocka_unit_test(test_what_is_not_certificate_and_padding_is_refused),
	    cmocka_unit_test(test_pem_files_are_sent_as_their_der),
	    cmocka_unit_test(test_bad_files_are_refused_naming_the_file),
	    cmocka_unit_test(test_only_the_l_template_keys_are_taken),
	    cmocka_unit_test(test_the_chain_is_bounded),
	    cmocka_unit_test(test_certify_compares_the_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
