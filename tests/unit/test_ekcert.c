/* EK certificates: the real vectors' TCG fields, NV padding, every refusal
 * of the parser, the machine id, the EK key check, and chain verification on
 * real quirks (unsorted names, spaces, mixed algorithms, same-name CAs) and
 * on the synthetic PKI (revocation, expiry, client-sent roots). */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "ekcert.h"
#include "ekcert_chain.h"
#include "fileio.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

#define SYN "ekcerts/synthetic/"

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	if (fileio_read(path, EKCERT_MAX_INPUT * 4, &buf, len) != ERR_OK)
		fail_msg("cannot read %s: %s", path, err_detail());
	return buf;
}

static struct ekcert *parse_file(const char *path)
{
	size_t len = 0;
	uint8_t *buf = slurp(path, &len);
	struct ekcert *c = NULL;
	err_t rc = ekcert_parse(buf, len, &c);

	free(buf);
	if (rc != ERR_OK)
		fail_msg("%s: %s: %s", path, err_code_str(rc), err_detail());
	return c;
}

static err_t parse_bytes(const uint8_t *buf, size_t len)
{
	struct ekcert *c = NULL;
	err_t rc = ekcert_parse_der(buf, len, &c);

	assert_true((rc == ERR_OK) == (c != NULL));
	ekcert_free(c);
	return rc;
}

/* ---- parsing and TCG fields ---- */

static const struct vector {
	const char *file;
	const char *manufacturer;
	uint32_t id;
	const char *code;
	const char *vendor;
	const char *model;
	const char *version;
	const char *machine_id;
} hardware[] = {
    {"ekcerts/hardware/ifx_slb9670_rsa2048_ek.der", "id:49465800", 0x49465800, "IFX", "Infineon",
     "SLB 9670 TPM2.0", "id:0728",
     "sha256:65147797daa5bf027449c5b7acedba4d302f553af506248aad9113c8fe90de9e"},
    {"ekcerts/hardware/intc_ptt_spth_rsa2048_ek.pem", "id:494E5443", 0x494E5443, "INTC", "Intel",
     "SPT", "id:00020000",
     "sha256:2b7edbeb5a48e18a9f8e37625949f76847efe7f7157ec469af6964bcb8a4094a"},
    {"ekcerts/hardware/ntc_eccp256_ek_rootca2111_nonder_issuer.der", "id:4E544300", 0x4E544300,
     "NTC", "Nuvoton", "NPCT75x", "id:00070002",
     "sha256:b3496e611dfb3bd3c7d1fc97bb031245e85844b5042dc573ab419dd7f7b192c4"},
    {"ekcerts/hardware/ntc_npct6xx_rsa2048_ek.der", "id:4E544300", 0x4E544300, "NTC", "Nuvoton",
     "NPCT6xx", "id:13", "sha256:ecced97f0d47eec6fbf0b503a9c50a897471e0301d25ccb78d3e788445766a5f"},
    {"ekcerts/hardware/stm_st33htph_eccp256_ek.der", "id:53544D20", 0x53544D20, "STM",
     "STMicroelectronics", "ST33HTPHAHB4", "id:00490004",
     "sha256:da87f7c33d64091ea39f83a22a4ea25549f6e91b2e448251bd57fa3dfcf39560"},
    {"ekcerts/hardware/stm_st33htph_rsa2048_ek_ffpadded.der", "id:53544D20", 0x53544D20, "STM",
     "STMicroelectronics", "ST33HTPHAHB4", "id:00490004",
     "sha256:de6a6ba0564fc32ed137b2e2c97b39c741e87a3fbbb80bc9092b75b6dc8a2aab"},
};

static void test_hardware_vectors_report_tcg_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hardware) / sizeof(hardware[0]); i++) {
		const struct vector *v = &hardware[i];
		struct ekcert *c = parse_file(v->file);
		const struct ekcert_tpm_info *t = ekcert_tpm_info(c);
		char id[EKCERT_MACHINE_ID_SIZE];

		assert_true(t->has_tcg_san);
		assert_true(t->manufacturer_ok);
		assert_string_equal(t->manufacturer_str, v->manufacturer);
		assert_int_equal(t->manufacturer, v->id);
		assert_string_equal(t->vendor_code, v->code);
		assert_string_equal(t->vendor_name, v->vendor);
		assert_string_equal(t->model, v->model);
		assert_string_equal(t->version, v->version);
		assert_int_equal(ekcert_machine_id(c, id), ERR_OK);
		assert_string_equal(id, v->machine_id);
		/* The id from the key alone (what enrollment by EK public would
		 * compute) is the same. */
		assert_int_equal(ekcert_key_machine_id(ekcert_key(c), id), ERR_OK);
		assert_string_equal(id, v->machine_id);
		ekcert_free(c);
	}
}

static void test_tpm_specification_attribute(void **state)
{
	struct ekcert *c = parse_file(SYN "ek-rsa.pem");
	const struct ekcert_tpm_info *t = ekcert_tpm_info(c);

	(void)state;
	assert_true(t->has_spec);
	assert_string_equal(t->spec_family, "2.0");
	assert_int_equal(t->spec_level, 0);
	assert_int_equal(t->spec_revision, 164);
	ekcert_free(c);

	/* A real one: Infineon SLB 9670 says TPM 2.0, level 0, revision 116. */
	c = parse_file("ekcerts/hardware/ifx_slb9670_rsa2048_ek.der");
	t = ekcert_tpm_info(c);
	assert_true(t->has_spec);
	assert_string_equal(t->spec_family, "2.0");
	assert_int_equal(t->spec_level, 0);
	assert_int_equal(t->spec_revision, 116);
	ekcert_free(c);
}

static void test_certificate_without_tcg_san(void **state)
{
	/* GCE's newer vTPM certificates carry no SAN at all. */
	struct ekcert *c = parse_file("ekcerts/virtual/gce_pca_tpm_rsa_enc_cert.pem");
	const struct ekcert_tpm_info *t = ekcert_tpm_info(c);

	(void)state;
	assert_false(t->has_tcg_san);
	assert_false(t->manufacturer_ok);
	assert_string_equal(t->model, "");
	ekcert_free(c);
}

static void test_swtpm_and_google_ids(void **state)
{
	struct ekcert *c = parse_file("ekcerts/virtual/swtpm_fedora33_rsa2048_ek.der");

	(void)state;
	assert_int_equal(ekcert_tpm_info(c)->manufacturer, 0x00001014);
	assert_string_equal(ekcert_tpm_info(c)->vendor_code, ""); /* not text */
	assert_string_equal(ekcert_tpm_info(c)->model, "swtpm");
	ekcert_free(c);
	c = parse_file("ekcerts/virtual/gce_uca_tpm_ecc_enc_cert.pem");
	assert_string_equal(ekcert_tpm_info(c)->vendor_code, "GOOG");
	assert_string_equal(ekcert_tpm_info(c)->vendor_name, "Google");
	assert_string_equal(ekcert_tpm_info(c)->model, "vTPM");
	ekcert_free(c);
	assert_null(ekcert_vendor_name(0x12345678));
}

static void test_nv_padding_accepted_and_ignored(void **state)
{
	size_t len = 0;
	uint8_t *buf = slurp("ekcerts/hardware/stm_st33htph_rsa2048_ek_ffpadded.der", &len);
	struct ekcert *c = NULL;
	unsigned char *der = NULL;
	int der_len;

	(void)state;
	assert_int_equal(ekcert_parse_der(buf, len, &c), ERR_OK);
	der_len = i2d_X509(ekcert_x509(c), &der);
	assert_true(der_len > 0 && (size_t)der_len < len);
	assert_memory_equal(der, buf, (size_t)der_len);
	for (size_t i = (size_t)der_len; i < len; i++)
		assert_int_equal(buf[i], 0xFF);
	/* The bare certificate parses the same. */
	assert_int_equal(parse_bytes(buf, (size_t)der_len), ERR_OK);
	OPENSSL_free(der);
	ekcert_free(c);
	free(buf);
}

static void test_trailing_data_refused(void **state)
{
	size_t len = 0;
	uint8_t *buf = slurp("ekcerts/hardware/ifx_slb9670_rsa2048_ek.der", &len);
	uint8_t *longer = malloc(len + 3);
	static const uint8_t tails[][3] = {
	    {0xFF, 0xFF, 0x00}, {0x00, 0x00, 0x00}, {0x0a, 0xFF, 0xFF}, {0x30, 0x00, 0xFF}};

	(void)state;
	assert_non_null(longer);
	memcpy(longer, buf, len);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		memcpy(longer + len, tails[i], 3);
		assert_int_equal(parse_bytes(longer, len + 3), ERR_EK_CERT_INVALID);
		assert_non_null(strstr(err_detail(), "after the certificate"));
	}
	memset(longer + len, 0xFF, 3);
	assert_int_equal(parse_bytes(longer, len + 3), ERR_OK);
	free(longer);
	free(buf);
}

static void test_not_a_certificate_refused(void **state)
{
	size_t len = 0;
	uint8_t *buf = slurp("ekcerts/hardware/ifx_slb9670_rsa2048_ek.der", &len);
	static const uint8_t junk[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00};
	uint8_t ff[64];

	(void)state;
	memset(ff, 0xFF, sizeof(ff));
	assert_int_equal(parse_bytes(buf, 0), ERR_EK_CERT_INVALID);
	assert_int_equal(parse_bytes(buf, len - 1), ERR_EK_CERT_INVALID); /* truncated */
	assert_int_equal(parse_bytes(buf, 100), ERR_EK_CERT_INVALID);
	assert_int_equal(parse_bytes(junk, sizeof(junk)), ERR_EK_CERT_INVALID);
	assert_int_equal(parse_bytes(ff, sizeof(ff)), ERR_EK_CERT_INVALID); /* an empty NV index */
	free(buf);
}

static void test_pem_input(void **state)
{
	size_t len = 0, one_len = 0;
	uint8_t *intel = slurp("ekcerts/hardware/intc_ptt_spth_rsa2048_ek.pem", &len);
	uint8_t *one = slurp(SYN "ek-rsa.pem", &one_len);
	uint8_t *two = malloc(2 * one_len);
	struct ekcert *c = NULL;

	(void)state;
	/* Leading "Subject:/Issuer:" text is fine for a file... */
	assert_memory_not_equal(intel, "-----", 5);
	assert_int_equal(ekcert_parse(intel, len, &c), ERR_OK);
	ekcert_free(c);
	/* ...but the wire form is DER only. */
	assert_int_equal(ekcert_parse_der(intel, len, &c), ERR_EK_CERT_INVALID);
	assert_null(c);
	/* Two certificates are not one EK certificate. */
	assert_non_null(two);
	memcpy(two, one, one_len);
	memcpy(two + one_len, one, one_len);
	assert_int_equal(ekcert_parse(two, 2 * one_len, &c), ERR_EK_CERT_INVALID);
	assert_non_null(strstr(err_detail(), "more than one"));
	free(two);
	free(one);
	free(intel);
}

static void test_conflicting_san_refused(void **state)
{
	size_t len = 0;
	uint8_t *buf = slurp(SYN "ek-dup-san.pem", &len);
	struct ekcert *c = NULL;

	(void)state;
	/* Two manufacturers: a rule could match one and miss the other. */
	assert_int_equal(ekcert_parse(buf, len, &c), ERR_EK_CERT_INVALID);
	assert_non_null(strstr(err_detail(), "two different values"));
	assert_null(c);
	free(buf);
}

/* ---- the EK key ---- */

static EVP_PKEY *private_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static void test_ek_pub_must_be_the_certificate_key(void **state)
{
	struct ekcert *rsa = parse_file(SYN "ek-rsa.pem");
	struct ekcert *ecc = parse_file(SYN "ek-ecc.pem");
	EVP_PKEY *rsa_key = private_key(SYN "ek-rsa.key");
	EVP_PKEY *ecc_key = private_key(SYN "ek-ecc.key");
	EVP_PKEY *other_ecc = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	char a[EKCERT_MACHINE_ID_SIZE], b[EKCERT_MACHINE_ID_SIZE];

	(void)state;
	assert_non_null(other_ecc);
	assert_non_null(other_rsa);
	assert_int_equal(ekcert_check_key(rsa, rsa_key), ERR_OK);
	assert_int_equal(ekcert_check_key(ecc, ecc_key), ERR_OK);
	/* Another key of the same kind, a key of the other kind, no key. */
	assert_int_equal(ekcert_check_key(rsa, other_rsa), ERR_EK_KEY_MISMATCH);
	assert_int_equal(ekcert_check_key(ecc, other_ecc), ERR_EK_KEY_MISMATCH);
	assert_int_equal(ekcert_check_key(rsa, ecc_key), ERR_EK_KEY_MISMATCH);
	assert_int_equal(ekcert_check_key(ecc, rsa_key), ERR_EK_KEY_MISMATCH);
	assert_int_equal(ekcert_check_key(ecc, NULL), ERR_EK_KEY_MISMATCH);
	/* The machine id is the key's, whichever object holds it. */
	assert_int_equal(ekcert_machine_id(ecc, a), ERR_OK);
	assert_int_equal(ekcert_key_machine_id(ecc_key, b), ERR_OK);
	assert_string_equal(a, b);
	EVP_PKEY_free(other_rsa);
	EVP_PKEY_free(other_ecc);
	EVP_PKEY_free(ecc_key);
	EVP_PKEY_free(rsa_key);
	ekcert_free(ecc);
	ekcert_free(rsa);
}

/* The EK public as attestd gets it: TPM2B_PUBLIC bytes, unmarshalled and
 * turned into a key from its raw fields (no DER round trip). */
static EVP_PKEY *key_from_tpm2b_public(EVP_PKEY *tpm_key)
{
	TPMT_PUBLIC pub, back;
	uint8_t wire[1024];
	size_t n;
	EVP_PKEY *k = NULL;

	soft_ek_public(tpm_key, &pub);
	n = soft_marshal_public(&pub, wire, sizeof(wire));
	assert_int_equal(tpm_wire_public(wire, n, "ek_pub", &back), ERR_OK);
	assert_true(tpm_public_key(&back, &k));
	return k;
}

static void test_ek_pub_from_tpm2b_public(void **state)
{
	struct ekcert *rsa = parse_file(SYN "ek-rsa.pem");
	struct ekcert *ecc = parse_file(SYN "ek-ecc.pem");
	EVP_PKEY *rsa_priv = private_key(SYN "ek-rsa.key");
	EVP_PKEY *ecc_priv = private_key(SYN "ek-ecc.key");
	EVP_PKEY *other_priv = soft_ec_key("P-256");
	EVP_PKEY *rsa_pub = key_from_tpm2b_public(rsa_priv);
	EVP_PKEY *ecc_pub = key_from_tpm2b_public(ecc_priv);
	EVP_PKEY *other_pub = key_from_tpm2b_public(other_priv);

	(void)state;
	assert_int_equal(ekcert_check_key(rsa, rsa_pub), ERR_OK);
	assert_int_equal(ekcert_check_key(ecc, ecc_pub), ERR_OK);
	/* The attack: a genuine certificate with another TPM's (or a soft
	 * key's) EK public, so MakeCredential would encrypt to a key the
	 * certificate does not vouch for. */
	assert_int_equal(ekcert_check_key(ecc, other_pub), ERR_EK_KEY_MISMATCH);
	assert_int_equal(ekcert_check_key(rsa, ecc_pub), ERR_EK_KEY_MISMATCH);
	EVP_PKEY_free(other_pub);
	EVP_PKEY_free(ecc_pub);
	EVP_PKEY_free(rsa_pub);
	EVP_PKEY_free(other_priv);
	EVP_PKEY_free(ecc_priv);
	EVP_PKEY_free(rsa_priv);
	ekcert_free(ecc);
	ekcert_free(rsa);
}

/* ---- chains ---- */

static struct ekcert_trust *trust(enum ekcert_expired expired, const char *anchors,
				  const char *intermediates, const char *crls)
{
	struct ekcert_trust *t = NULL;

	assert_int_equal(ekcert_trust_new(expired, &t), ERR_OK);
	if (anchors != NULL && ekcert_trust_add_anchors(t, anchors) != ERR_OK)
		fail_msg("anchors %s: %s", anchors, err_detail());
	if (intermediates != NULL && ekcert_trust_add_intermediates(t, intermediates) != ERR_OK)
		fail_msg("intermediates %s: %s", intermediates, err_detail());
	if (crls != NULL && ekcert_trust_add_crls(t, crls) != ERR_OK)
		fail_msg("crls %s: %s", crls, err_detail());
	return t;
}

static STACK_OF(X509) * certs(const char *path)
{
	STACK_OF(X509) *s = NULL;

	if (ekcert_load_certs(path, &s) != ERR_OK)
		fail_msg("%s: %s", path, err_detail());
	return s;
}

static err_t verify(const struct ekcert_trust *t, const char *leaf, STACK_OF(X509) * sent,
		    int *depth)
{
	struct ekcert *c = parse_file(leaf);
	STACK_OF(X509) *chain = NULL;
	err_t rc = ekcert_verify_chain(t, ekcert_x509(c), sent, &chain);

	assert_true((rc == ERR_OK) == (chain != NULL));
	if (depth != NULL)
		*depth = chain != NULL ? sk_X509_num(chain) : 0;
	sk_X509_pop_free(chain, X509_free);
	ekcert_free(c);
	return rc;
}

/* The shipped trust store, every vendor directory. */
static struct ekcert_trust *default_store(void)
{
	const char *root = getenv("ATTEST_SOURCE_ROOT");
	char pattern[4096];
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, NULL, NULL, NULL);
	const char *kinds[] = {"roots", "intermediates"};

	assert_non_null(root);
	for (int k = 0; k < 2; k++) {
		glob_t g;
		snprintf(pattern, sizeof(pattern), "%s/policy/trust/*/%s", root, kinds[k]);
		assert_int_equal(glob(pattern, 0, NULL, &g), 0);
		for (size_t i = 0; i < g.gl_pathc; i++) {
			err_t rc = k == 0 ? ekcert_trust_add_anchors(t, g.gl_pathv[i])
					  : ekcert_trust_add_intermediates(t, g.gl_pathv[i]);
			if (rc != ERR_OK)
				fail_msg("%s: %s", g.gl_pathv[i], err_detail());
		}
		globfree(&g);
	}
	return t;
}

static void test_hardware_vectors_chain_to_shipped_store(void **state)
{
	struct ekcert_trust *t = default_store();
	/* Leaf + anchor (Nuvoton), + one intermediate (Infineon, Intel,
	 * STMicro: "STM TPM EK Root CA" is an anchor itself, so the chain ends
	 * there rather than at GlobalSign's root above it). */
	static const int depths[] = {3, 3, 2, 2, 3, 3};

	(void)state;
	assert_true(ekcert_trust_anchor_count(t) > 20);
	assert_true(ekcert_trust_intermediate_count(t) > 100);
	for (size_t i = 0; i < sizeof(hardware) / sizeof(hardware[0]); i++) {
		int depth = 0;
		err_t rc = verify(t, hardware[i].file, NULL, &depth);
		if (rc != ERR_OK)
			fail_msg("%s: %s", hardware[i].file, err_detail());
		assert_int_equal(depth, depths[i]);
	}
	ekcert_trust_free(t);
}

static void test_virtual_vectors_do_not_chain_to_shipped_store(void **state)
{
	struct ekcert_trust *t = default_store();
	glob_t g;

	(void)state;
	assert_int_equal(glob("ekcerts/virtual/*", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 10);
	for (size_t i = 0; i < g.gl_pathc; i++)
		assert_int_equal(verify(t, g.gl_pathv[i], NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	globfree(&g);
	ekcert_trust_free(t);
}

static void test_intermediate_sent_by_client(void **state)
{
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", NULL, NULL);
	STACK_OF(X509) *sent = certs(SYN "int.pem");
	STACK_OF(X509) *noise = certs(SYN "swtpm-localca.pem");

	(void)state;
	assert_int_equal(verify(t, SYN "ek-rsa.pem", NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_non_null(strstr(err_detail(), "Synthetic EK"));
	assert_int_equal(verify(t, SYN "ek-rsa.pem", sent, NULL), ERR_OK);
	/* Any order, with an unrelated CA in front. */
	assert_true(sk_X509_unshift(noise, sk_X509_value(sent, 0)) > 0);
	X509_up_ref(sk_X509_value(sent, 0));
	assert_int_equal(verify(t, SYN "ek-ecc.pem", noise, NULL), ERR_OK);
	sk_X509_pop_free(noise, X509_free);
	sk_X509_pop_free(sent, X509_free);
	ekcert_trust_free(t);
}

static void test_root_sent_by_client_is_not_trusted(void **state)
{
	/* The store trusts only an unrelated root; the client sends the
	 * whole chain including its own root. */
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, SYN "swtpm-root.pem", NULL, NULL);
	STACK_OF(X509) *sent = certs(SYN "root.pem");
	STACK_OF(X509) *inter = certs(SYN "int.pem");

	(void)state;
	assert_true(sk_X509_push(sent, sk_X509_value(inter, 0)) > 0);
	X509_up_ref(sk_X509_value(inter, 0));
	assert_int_equal(verify(t, SYN "ek-rsa.pem", sent, NULL), ERR_EK_CHAIN_UNTRUSTED);
	sk_X509_pop_free(inter, X509_free);
	sk_X509_pop_free(sent, X509_free);
	ekcert_trust_free(t);
}

static void test_too_many_intermediates_sent(void **state)
{
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", NULL);
	STACK_OF(X509) *sent = certs(SYN "int.pem");

	(void)state;
	for (int i = 0; i < EKCERT_MAX_SENT_CHAIN; i++) {
		X509_up_ref(sk_X509_value(sent, 0));
		assert_true(sk_X509_push(sent, sk_X509_value(sent, 0)) > 0);
	}
	assert_int_equal(verify(t, SYN "ek-rsa.pem", sent, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_non_null(strstr(err_detail(), "intermediates sent"));
	sk_X509_pop_free(sent, X509_free);
	ekcert_trust_free(t);
}

static void test_issuer_differs_in_spaces_only(void **state)
{
	/* The leaf names its issuer "Synthetic EK CA"; the CA calls itself
	 * "Synthetic EK  CA" (Intel's GLK intermediates do this). */
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", NULL);

	(void)state;
	assert_int_equal(verify(t, SYN "ek-spaces.pem", NULL, NULL), ERR_OK);
	ekcert_trust_free(t);
}

static void test_same_name_intermediates_with_different_keys(void **state)
{
	/* Two Google "EK/AK CA Intermediate" CAs; each leaf must find its own. */
	struct ekcert_trust *t =
	    trust(EKCERT_EXPIRED_ALLOW, "ekcerts/virtual-ca/gtt_gcp_ek_ak_ca_root.crt", NULL, NULL);

	(void)state;
	assert_int_equal(ekcert_trust_add_intermediates(
			     t, "ekcerts/virtual-ca/gtt_gcp_ek_ak_ca_intermediate_v3.crt"),
			 ERR_OK);
	assert_int_equal(
	    ekcert_trust_add_intermediates(t, "ekcerts/virtual-ca/salrashid_ek_intermediate.crt"),
	    ERR_OK);
	assert_int_equal(verify(t, "ekcerts/virtual/gce_salrashid_akcert.pem", NULL, NULL), ERR_OK);
	assert_int_equal(verify(t, "ekcerts/virtual/gce_pca_tpm_rsa_enc_cert.pem", NULL, NULL),
			 ERR_OK);
	ekcert_trust_free(t);
}

static void test_revoked_certificate(void **state)
{
	struct ekcert_trust *t =
	    trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", SYN "int.crl");
	struct ekcert_trust *no_crl =
	    trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", NULL);

	(void)state;
	assert_int_equal(verify(no_crl, SYN "ek-revoked.pem", NULL, NULL), ERR_OK);
	assert_int_equal(verify(t, SYN "ek-revoked.pem", NULL, NULL), ERR_EK_REVOKED);
	assert_non_null(strstr(err_detail(), "revoked"));
	/* Its siblings are fine, and so is a CA that has no CRL here (the
	 * root's own certificate of int.pem is not checked against a CRL). */
	assert_int_equal(verify(t, SYN "ek-rsa.pem", NULL, NULL), ERR_OK);
	ekcert_trust_free(no_crl);
	ekcert_trust_free(t);
}

static void test_expiry_is_a_policy_choice(void **state)
{
	struct ekcert_trust *allow =
	    trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", NULL);
	struct ekcert_trust *deny = trust(EKCERT_EXPIRED_DENY, SYN "root.pem", SYN "int.pem", NULL);

	(void)state;
	assert_int_equal(verify(allow, SYN "ek-expired.pem", NULL, NULL), ERR_OK);
	assert_int_equal(verify(deny, SYN "ek-expired.pem", NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_non_null(strstr(err_detail(), "expired"));
	/* Not yet valid is refused either way. */
	assert_int_equal(verify(allow, SYN "ek-notyet.pem", NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_int_equal(verify(deny, SYN "ek-notyet.pem", NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_int_equal(verify(deny, SYN "ek-rsa.pem", NULL, NULL), ERR_OK);
	ekcert_trust_free(deny);
	ekcert_trust_free(allow);
}

static void test_ca_certificate_as_ek_refused(void **state)
{
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, SYN "root.pem", SYN "int.pem", NULL);
	STACK_OF(X509) *ca = certs(SYN "int.pem");

	(void)state;
	assert_int_equal(ekcert_verify_chain(t, sk_X509_value(ca, 0), NULL, NULL),
			 ERR_EK_CHAIN_UNTRUSTED);
	assert_non_null(strstr(err_detail(), "CA certificate"));
	sk_X509_pop_free(ca, X509_free);
	ekcert_trust_free(t);
}

static void test_trust_store_load_errors(void **state)
{
	struct ekcert_trust *t = trust(EKCERT_EXPIRED_ALLOW, NULL, NULL, NULL);
	STACK_OF(X509) *s = NULL;

	(void)state;
	assert_int_equal(ekcert_trust_add_anchors(t, "ekcerts/no-such-dir"), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "no-such-dir"));
	/* An end-entity certificate can never be an anchor. */
	assert_int_equal(ekcert_trust_add_anchors(t, SYN "ek-rsa.pem"), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "not a CA"));
	/* Not a certificate; a CRL where certificates belong, and the reverse. */
	assert_int_equal(ekcert_trust_add_anchors(t, SYN "generate.sh"), ERR_BAD_REQUEST);
	assert_int_equal(ekcert_trust_add_intermediates(t, SYN "int.crl"), ERR_BAD_REQUEST);
	assert_int_equal(ekcert_trust_add_crls(t, SYN "int.pem"), ERR_BAD_REQUEST);
	assert_int_equal(ekcert_load_certs(SYN "int.crl", &s), ERR_BAD_REQUEST);
	assert_null(s);
	assert_int_equal(ekcert_trust_anchor_count(t), 0);
	ekcert_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hardware_vectors_report_tcg_fields),
	    cmocka_unit_test(test_tpm_specification_attribute),
	    cmocka_unit_test(test_certificate_without_tcg_san),
	    cmocka_unit_test(test_swtpm_and_google_ids),
	    cmocka_unit_test(test_nv_padding_accepted_and_ignored),
	    cmocka_unit_test(test_trailing_data_refused),
	    cmocka_unit_test(test_not_a_certificate_refused),
	    cmocka_unit_test(test_pem_input),
	    cmocka_unit_test(test_conflicting_san_refused),
	    cmocka_unit_test(test_ek_pub_must_be_the_certificate_key),
	    cmocka_unit_test(test_ek_pub_from_tpm2b_public),
	    cmocka_unit_test(test_hardware_vectors_chain_to_shipped_store),
	    cmocka_unit_test(test_virtual_vectors_do_not_chain_to_shipped_store),
	    cmocka_unit_test(test_intermediate_sent_by_client),
	    cmocka_unit_test(test_root_sent_by_client_is_not_trusted),
	    cmocka_unit_test(test_too_many_intermediates_sent),
	    cmocka_unit_test(test_issuer_differs_in_spaces_only),
	    cmocka_unit_test(test_same_name_intermediates_with_different_keys),
	    cmocka_unit_test(test_revoked_certificate),
	    cmocka_unit_test(test_expiry_is_a_policy_choice),
	    cmocka_unit_test(test_ca_certificate_as_ek_refused),
	    cmocka_unit_test(test_trust_store_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
