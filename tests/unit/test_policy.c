/* Policy loading and the EK checks under it: the shipped default policy
 * trusts every hardware vector and refuses every virtual one, also when the
 * virtual TPMs' CAs are added to the trust store; each virtual-TPM rule
 * kind, the order of the checks, the verdict cache, and every refusal of
 * the policy loader. */
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>

#include "ek_check.h"
#include "ekcert.h"
#include "fileio.h"
#include "policy.h"
#include "unit_util.h"
#include "vtpm.h"

#define SYN "ekcerts/synthetic/"

static char source_policy_dir[PATH_MAX];
static char data_dir[PATH_MAX];

static int setup(void **state)
{
	const char *root = getenv("ATTEST_SOURCE_ROOT");

	(void)state;
	if (root == NULL || getcwd(data_dir, sizeof(data_dir)) == NULL)
		return -1;
	snprintf(source_policy_dir, sizeof(source_policy_dir), "%s/policy", root);
	return 0;
}

/* ---- helpers ---- */

static struct policy *load_default(void)
{
	char path[PATH_MAX + 32];
	struct policy *p = NULL;

	snprintf(path, sizeof(path), "%s/default.json", source_policy_dir);
	if (policy_load_file(path, &p) != ERR_OK)
		fail_msg("%s: %s", path, err_detail());
	return p;
}

/* default.json with the members of `ek_changes` (JSON text) replacing its
 * "ek" members; paths in ek_changes are relative to tests/data. */
static err_t load_variant(const char *ek_changes, struct policy **out)
{
	char path[PATH_MAX + 32];
	json_t *root, *changes, *ek, *v;
	const char *key;
	char *text;
	err_t rc;

	snprintf(path, sizeof(path), "%s/default.json", source_policy_dir);
	root = json_load_file(path, 0, NULL);
	changes = json_loads(ek_changes, 0, NULL);
	ek = json_object_get(root, "ek");
	assert_non_null(root);
	assert_non_null(changes);
	json_object_foreach(changes, key, v)
	{
		/* Make the test's paths absolute so default.json's own relative
		 * paths still resolve against the source policy directory. */
		if (json_is_array(v)) {
			size_t i;
			json_t *item;
			json_array_foreach(v, i, item)
			{
				char abs[PATH_MAX * 2];
				if (!json_is_string(item))
					continue;
				snprintf(abs, sizeof(abs), "%s/%s", data_dir,
					 json_string_value(item));
				json_array_set_new(v, i, json_string(abs));
			}
		}
		json_object_set(ek, key, v);
	}
	text = json_dumps(root, 0);
	assert_non_null(text);
	rc = policy_load_json(text, strlen(text), source_policy_dir, out);
	free(text);
	json_decref(changes);
	json_decref(root);
	return rc;
}

static struct policy *variant(const char *ek_changes)
{
	struct policy *p = NULL;

	if (load_variant(ek_changes, &p) != ERR_OK)
		fail_msg("%s: %s", ek_changes, err_detail());
	return p;
}

static err_t load_text(const char *json)
{
	struct policy *p = NULL;
	err_t rc = policy_load_json(json, strlen(json), data_dir, &p);

	assert_true((rc == ERR_OK) == (p != NULL));
	policy_free(p);
	return rc;
}

/* The DER of any certificate file, as a client would send it. */
static uint8_t *der_of(const char *path, size_t *len)
{
	uint8_t *buf = NULL, *der = NULL;
	size_t n = 0;
	struct ekcert *c = NULL;
	unsigned char *p = NULL;
	int dlen;

	assert_int_equal(fileio_read(path, EKCERT_MAX_INPUT, &buf, &n), ERR_OK);
	if (ekcert_parse(buf, n, &c) != ERR_OK)
		fail_msg("%s: %s", path, err_detail());
	if (buf[0] == 0x30) { /* keep DER exactly as read, NV padding included */
		ekcert_free(c);
		*len = n;
		return buf;
	}
	dlen = i2d_X509(ekcert_x509(c), &p);
	assert_true(dlen > 0);
	der = malloc((size_t)dlen);
	assert_non_null(der);
	memcpy(der, p, (size_t)dlen);
	OPENSSL_free(p);
	ekcert_free(c);
	free(buf);
	*len = (size_t)dlen;
	return der;
}

static STACK_OF(X509) * sent(const char *a, const char *b)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	const char *files[] = {a, b};

	for (int i = 0; i < 2 && files[i] != NULL; i++) {
		STACK_OF(X509) *one = NULL;
		assert_int_equal(ekcert_load_certs(files[i], &one), ERR_OK);
		while (sk_X509_num(one) > 0)
			assert_true(sk_X509_push(s, sk_X509_shift(one)) > 0);
		sk_X509_free(one);
	}
	return s;
}

/* ek_check on a file; returns the code, *v the verdict (or NULL). */
static err_t check(const struct policy *p, const char *file, STACK_OF(X509) * chain,
		   const struct ek_verdict **v)
{
	size_t len = 0;
	uint8_t *der = der_of(file, &len);
	const struct ek_verdict *got = NULL;
	struct ek_sent_chain sent;

	/* ek_check takes the intermediates as a client sends them: DER bytes. */
	assert_int_equal(ek_sent_chain_from_stack(chain, &sent), ERR_OK);
	err_t rc = ek_check(p, der, len, chain != NULL ? &sent : NULL, &got);

	ek_sent_chain_clear(&sent);
	free(der);
	if (got != NULL)
		assert_int_equal(got->code, rc);
	if (v != NULL)
		*v = got;
	else
		ek_verdict_release(got);
	return rc;
}

static void expect_rule(const struct policy *p, const char *file, STACK_OF(X509) * chain,
			const char *rule)
{
	char want[96];
	err_t rc = check(p, file, chain, NULL);

	if (rc != ERR_EK_VIRTUAL_TPM)
		fail_msg("%s: %s (%s), expected ek_virtual_tpm", file, err_code_str(rc),
			 err_detail());
	snprintf(want, sizeof(want), "rule %s:", rule);
	if (strncmp(err_detail(), want, strlen(want)) != 0)
		fail_msg("%s: detail \"%s\", expected \"%s\"", file, err_detail(), want);
}

/* ---- the default policy on the real vectors ---- */

static void test_default_policy_values(void **state)
{
	struct policy *p = load_default();

	(void)state;
	assert_string_equal(policy_name(p), "default");
	assert_non_null(strstr(p->path, "default.json"));
	assert_true(p->allow_expired);
	assert_false(p->enrollment_required);
	assert_int_equal(p->ak_algorithms, POLICY_AK_RSA2048 | POLICY_AK_ECC_P256);
	assert_int_equal(p->pcr_selection.bank, TPM2_ALG_SHA256);
	assert_int_equal(p->pcr_selection.mask, 0xff);
	assert_true(p->event_log_required);
	assert_int_equal(p->token_ttl, 300);
	assert_int_equal(p->session_ttl, 60);
	assert_true(vtpm_rules_count(p->vtpm) >= 10);
	assert_true(ekcert_trust_anchor_count(p->ek_trust) > 20);
	policy_free(p);
}

static void test_every_hardware_vector_is_trusted(void **state)
{
	struct policy *p = load_default();
	glob_t g;

	(void)state;
	assert_int_equal(glob("ekcerts/hardware/*", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 6);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const struct ek_verdict *v = NULL;
		err_t rc = check(p, g.gl_pathv[i], NULL, &v);
		if (rc != ERR_OK)
			fail_msg("%s: %s: %s", g.gl_pathv[i], err_code_str(rc), err_detail());
		assert_true(v->chain_len >= 2);
		assert_true(v->tpm.manufacturer_ok);
		assert_non_null(v->tpm.vendor_name);
		assert_memory_equal(v->machine_id, "sha256:", 7);
		ek_verdict_release(v);
	}
	globfree(&g);
	policy_free(p);
}

/* Which rule each virtual vector trips first with the default policy. */
static const struct {
	const char *file;
	const char *rule;
} virtual_vectors[] = {
    {"ekcerts/virtual/gce_pca_tpm_ecc_enc_cert.pem", "gce-ek-ak-ca"},
    {"ekcerts/virtual/gce_pca_tpm_ecc_sign_cert.pem", "gce-ek-ak-ca"},
    {"ekcerts/virtual/gce_pca_tpm_rsa_enc_cert.pem", "gce-ek-ak-ca"},
    {"ekcerts/virtual/gce_pca_tpm_rsa_sign_cert.pem", "gce-ek-ak-ca"},
    {"ekcerts/virtual/gce_salrashid_akcert.pem", "gce-ek-ak-ca"},
    {"ekcerts/virtual/gce_uca_tpm_ecc_enc_cert.pem", "gce-cloud-host-ca"},
    {"ekcerts/virtual/gce_uca_tpm_ecc_sign_cert.pem", "gce-cloud-host-ca"},
    {"ekcerts/virtual/gce_uca_tpm_rsa_enc_cert.pem", "gce-cloud-host-ca"},
    {"ekcerts/virtual/gce_uca_tpm_rsa_sign_cert.pem", "gce-cloud-host-ca"},
    {"ekcerts/virtual/swtpm_fedora33_rsa2048_ek.der", "swtpm-localca"},
};

static void test_every_virtual_vector_is_refused(void **state)
{
	struct policy *p = load_default();
	glob_t g;

	(void)state;
	/* The table covers the whole directory. */
	assert_int_equal(glob("ekcerts/virtual/*", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, sizeof(virtual_vectors) / sizeof(virtual_vectors[0]));
	globfree(&g);
	for (size_t i = 0; i < sizeof(virtual_vectors) / sizeof(virtual_vectors[0]); i++)
		expect_rule(p, virtual_vectors[i].file, NULL, virtual_vectors[i].rule);
	policy_free(p);
}

static void test_virtual_refused_even_when_their_cas_are_anchors(void **state)
{
	/* Every Google and Alibaba vTPM CA made an anchor, and an
	 * intermediate too. */
	struct policy *p = variant("{\"trust_anchors\": [\"ekcerts/virtual-ca\"],"
				   " \"intermediates\": [\"ekcerts/virtual-ca\"]}");
	struct policy *no_rules = variant("{\"trust_anchors\": [\"ekcerts/virtual-ca\"],"
					  " \"intermediates\": [\"ekcerts/virtual-ca\"],"
					  " \"virtual_tpm\": []}");

	(void)state;
	for (size_t i = 0; i < sizeof(virtual_vectors) / sizeof(virtual_vectors[0]); i++)
		expect_rule(p, virtual_vectors[i].file, NULL, virtual_vectors[i].rule);
	/* Without the rules the same Google certificates are trusted: the
	 * refusal above is the rules', not a chain failure. */
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(check(no_rules, virtual_vectors[i].file, NULL, NULL), ERR_OK);
	policy_free(no_rules);
	policy_free(p);
}

static void test_shipped_store_has_no_virtual_ca(void **state)
{
	/* No rule may fire on a shipped CA (Pluton and Microsoft's hardware EK
	 * CAs in particular): that would refuse real machines. */
	struct policy *p = load_default();
	char pattern[PATH_MAX + 32];
	glob_t g;
	size_t checked = 0;

	(void)state;
	snprintf(pattern, sizeof(pattern), "%s/trust/*/*/*.pem", source_policy_dir);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		STACK_OF(X509) *certs = NULL;
		assert_int_equal(ekcert_load_certs(g.gl_pathv[i], &certs), ERR_OK);
		for (int k = 0; k < sk_X509_num(certs); k++, checked++) {
			if (vtpm_check_ca(p->vtpm, sk_X509_value(certs, k), "store") != ERR_OK)
				fail_msg("%s: %s", g.gl_pathv[i], err_detail());
		}
		sk_X509_pop_free(certs, X509_free);
	}
	assert_true(checked > 200);
	globfree(&g);
	policy_free(p);
}

/* A CA certificate with just this subject (and issuer), for names of
 * vTPM CAs no vector has a certificate of. */
static X509 *ca_named(const char *cn, const char *o)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)o, -1, -1, 0),
	    1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509_NAME_free(n);
	return x;
}

static void test_default_rules_name_each_cloud(void **state)
{
	static const struct {
		const char *cn, *o, *rule;
	} clouds[] = {
	    {"Global Virtual TPM CA - 03", "Microsoft Corporation", "microsoft-global-vtpm-ca"},
	    {"Azure Virtual TPM Root Certificate Authority 2023", "Microsoft Corporation",
	     "azure-vtpm-ca"},
	    {"Azure Cloud Virtual TPM CA - 11", "Microsoft Corporation", "azure-vtpm-ca"},
	    {"Hyper-V Virtual TPM CA", "Microsoft Corporation", "microsoft-virtual-tpm-ca"},
	    {"Aliyun TPM Root CA", "Aliyun", "alibaba-vtpm-ca"},
	    {"swtpm-localca-rootca", "swtpm", "swtpm-localca"},
	    /* Hardware TPM CAs of Microsoft and AMD's Pluton are not virtual. */
	    {"Microsoft Pluton Root CA 2021", "Microsoft Corporation", NULL},
	    {"Microsoft TPM Root Certificate Authority 2014", "Microsoft Corporation", NULL},
	};
	struct policy *p = load_default();
	STACK_OF(X509) *alibaba = NULL;
	char want[96];

	(void)state;
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++) {
		X509 *ca = ca_named(clouds[i].cn, clouds[i].o);
		err_t rc = vtpm_check_ca(p->vtpm, ca, "test");
		X509_free(ca);
		if (clouds[i].rule == NULL) {
			assert_int_equal(rc, ERR_OK);
			continue;
		}
		snprintf(want, sizeof(want), "rule %s:", clouds[i].rule);
		if (rc != ERR_EK_VIRTUAL_TPM || strncmp(err_detail(), want, strlen(want)) != 0)
			fail_msg("%s: %s \"%s\"", clouds[i].cn, err_code_str(rc), err_detail());
	}
	/* Alibaba's real EK CA certificate. */
	assert_int_equal(
	    ekcert_load_certs("ekcerts/virtual-ca/keylime_Alibaba_Cloud_vTPM_EK.pem", &alibaba),
	    ERR_OK);
	assert_int_equal(vtpm_check_ca(p->vtpm, sk_X509_value(alibaba, 0), "test"),
			 ERR_EK_VIRTUAL_TPM);
	assert_non_null(strstr(err_detail(), "rule alibaba-vtpm-ca:"));
	sk_X509_pop_free(alibaba, X509_free);
	policy_free(p);
}

/* ---- each rule kind and where it applies, on the synthetic PKI ---- */

#define SYNTHETIC_TRUST                                                                            \
	"\"trust_anchors\": [\"" SYN "root.pem\", \"" SYN "swtpm-root.pem\"],"                     \
	" \"intermediates\": [\"" SYN "int.pem\", \"" SYN "swtpm-localca.pem\"]"

static void test_swtpm_refused_by_issuer_manufacturer_and_model(void **state)
{
	struct policy *p = variant("{" SYNTHETIC_TRUST "}");

	(void)state;
	assert_int_equal(check(p, SYN "ek-rsa.pem", NULL, NULL), ERR_OK);
	/* A chain like swtpm_setup's, its CA an anchor here. */
	expect_rule(p, SYN "ek-swtpm.pem", NULL, "swtpm-localca");
	/* A trusted CA that issued swtpm's SAN values. */
	expect_rule(p, SYN "ek-swtpm-id.pem", NULL, "swtpm-manufacturer");
	expect_rule(p, SYN "ek-swtpm-model.pem", NULL, "swtpm-model");
	policy_free(p);
}

static void test_rules_run_before_the_chain(void **state)
{
	/* No anchors for the swtpm chain: still ek_virtual_tpm, never
	 * ek_chain_untrusted. */
	struct policy *p = variant("{\"trust_anchors\": [\"" SYN "root.pem\"]}");
	STACK_OF(X509) *chain = sent(SYN "int.pem", SYN "swtpm-localca.pem");

	(void)state;
	expect_rule(p, SYN "ek-swtpm.pem", NULL, "swtpm-localca");
	/* A vTPM CA among the certificates sent is refused too, even with a
	 * genuine EK certificate and before any chain is built. */
	expect_rule(p, SYN "ek-rsa.pem", chain, "swtpm-localca");
	assert_non_null(strstr(err_detail(), "ek_chain[1] subject"));
	sk_X509_pop_free(chain, X509_free);
	policy_free(p);
}

static void test_rule_on_a_ca_of_the_built_chain(void **state)
{
	/* A rule naming only the root: the EK's issuer does not match, the
	 * chain's CAs do. */
	struct policy *p =
	    variant("{" SYNTHETIC_TRUST ", \"virtual_tpm\": [{\"name\": \"lab-root\","
		    " \"ca\": {\"CN\": \"synthetic tpm root*\", \"O\": \"attestd*\"}}]}");

	(void)state;
	expect_rule(p, SYN "ek-rsa.pem", NULL, "lab-root");
	assert_non_null(strstr(err_detail(), "chain[1] issuer"));
	policy_free(p);
}

static void test_rule_patterns_fold_spaces_and_case(void **state)
{
	/* The intermediate calls itself "Synthetic EK  CA" (two spaces). */
	struct policy *p =
	    variant("{" SYNTHETIC_TRUST ", \"virtual_tpm\": [{\"name\": \"one-space\","
		    " \"ca\": {\"CN\": \"SYNTHETIC EK CA\"}}]}");

	(void)state;
	expect_rule(p, SYN "ek-ecc.pem", NULL, "one-space");
	assert_non_null(strstr(err_detail(), "EK issuer"));
	policy_free(p);
}

static void test_chain_sent_in_any_order(void **state)
{
	struct policy *p =
	    variant("{\"trust_anchors\": [\"" SYN "root.pem\"], \"virtual_tpm\": []}");
	STACK_OF(X509) *chain = sent(SYN "root.pem", SYN "int.pem");

	(void)state;
	assert_int_equal(check(p, SYN "ek-ecc.pem", chain, NULL), ERR_OK);
	sk_X509_pop_free(chain, X509_free);
	policy_free(p);
}

static void test_malformed_sent_certificate(void **state)
{
	struct policy *p = variant("{\"trust_anchors\": [\"" SYN "root.pem\"]}");
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	size_t len = 0;
	uint8_t *der = der_of(SYN "ek-ecc.pem", &len);
	struct ek_sent_chain bad = {1, {junk}, {sizeof(junk)}};
	const struct ek_verdict *v = NULL;

	(void)state;
	/* Not a certificate: a malformed body (400) naming the entry, before
	 * any verdict, and never cached as one. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ek_check(p, der, len, &bad, &v), ERR_BAD_REQUEST);
		assert_null(v);
		assert_string_equal(err_detail(), "ek_chain[0]: not an X.509 certificate");
	}
	free(der);
	policy_free(p);
}

static void test_verdict_cache(void **state)
{
	struct policy *p = variant("{\"trust_anchors\": [\"" SYN "root.pem\"]}");
	STACK_OF(X509) *chain = sent(SYN "int.pem", NULL);
	const struct ek_verdict *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	(void)state;
	assert_int_equal(check(p, SYN "ek-rsa.pem", NULL, &a), ERR_EK_CHAIN_UNTRUSTED);
	assert_int_equal(check(p, SYN "ek-rsa.pem", NULL, &b), ERR_EK_CHAIN_UNTRUSTED);
	assert_ptr_equal(a, b);			      /* the second answer came from the cache... */
	assert_string_equal(err_detail(), a->detail); /* ...with its detail */
	/* The intermediates sent are part of the key: the refusal without
	 * them does not shadow the verdict with them, nor the reverse. */
	assert_int_equal(check(p, SYN "ek-rsa.pem", chain, &c), ERR_OK);
	assert_ptr_not_equal(a, c);
	assert_int_equal(c->chain_len, 3);
	assert_int_equal(check(p, SYN "ek-rsa.pem", NULL, &d), ERR_EK_CHAIN_UNTRUSTED);
	assert_ptr_equal(a, d);
	ek_verdict_release(d);
	ek_verdict_release(c);
	ek_verdict_release(b);
	ek_verdict_release(a);
	sk_X509_pop_free(chain, X509_free);
	policy_free(p);
}

static void test_verdict_key_is_the_certificate_key(void **state)
{
	struct policy *p = variant("{" SYNTHETIC_TRUST "}");
	const struct ek_verdict *v = NULL;
	FILE *f = fopen(SYN "ek-ecc.key", "r");
	EVP_PKEY *tpm_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	fclose(f);
	assert_non_null(tpm_key);
	assert_int_equal(check(p, SYN "ek-ecc.pem", NULL, &v), ERR_OK);
	assert_int_equal(ekcert_key_equal(v->key, tpm_key), ERR_OK);
	assert_int_equal(ekcert_key_equal(v->key, other), ERR_EK_KEY_MISMATCH);
	EVP_PKEY_free(other);
	EVP_PKEY_free(tpm_key);
	ek_verdict_release(v);
	policy_free(p);
}

static void test_invalid_certificate(void **state)
{
	struct policy *p = load_default();
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	const struct ek_verdict *v = NULL;

	(void)state;
	assert_int_equal(ek_check(p, junk, sizeof(junk), NULL, &v), ERR_EK_CERT_INVALID);
	assert_null(v);
	policy_free(p);
}

static void test_expiry_and_revocation_options(void **state)
{
	struct policy *allow = variant("{" SYNTHETIC_TRUST "}");
	struct policy *deny = variant("{" SYNTHETIC_TRUST ", \"allow_expired\": false}");
	struct policy *crl = variant("{" SYNTHETIC_TRUST ", \"crls\": [\"" SYN "int.crl\"]}");

	(void)state;
	assert_int_equal(check(allow, SYN "ek-expired.pem", NULL, NULL), ERR_OK);
	assert_int_equal(check(deny, SYN "ek-expired.pem", NULL, NULL), ERR_EK_CHAIN_UNTRUSTED);
	assert_int_equal(check(allow, SYN "ek-revoked.pem", NULL, NULL), ERR_OK);
	assert_int_equal(check(crl, SYN "ek-revoked.pem", NULL, NULL), ERR_EK_REVOKED);
	assert_int_equal(check(crl, SYN "ek-rsa.pem", NULL, NULL), ERR_OK);
	policy_free(crl);
	policy_free(deny);
	policy_free(allow);
}

/* attestd checks challenges on many threads against one policy and one
 * cache: every thread must get the verdict its certificate deserves. */
struct race {
	const struct policy *policy;
	uint8_t **der;
	const size_t *len;
	int seed;
	int wrong;
};

static const char *const race_files[] = {
    "ekcerts/hardware/ifx_slb9670_rsa2048_ek.der",
    "ekcerts/hardware/ntc_eccp256_ek_rootca2111_nonder_issuer.der",
    "ekcerts/hardware/stm_st33htph_rsa2048_ek_ffpadded.der",
    "ekcerts/virtual/swtpm_fedora33_rsa2048_ek.der",
    "ekcerts/virtual/gce_uca_tpm_rsa_enc_cert.pem",
};
#define RACE_FILES   5
#define RACE_TRUSTED 3 /* the first three are hardware */

/* No cmocka asserts here: they are not thread-safe; errors are counted. */
static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 300; i++) {
		int f = (i + r->seed) % RACE_FILES;
		const struct ek_verdict *v = NULL;
		err_t rc = ek_check(r->policy, r->der[f], r->len[f], NULL, &v);
		if (rc != (f < RACE_TRUSTED ? ERR_OK : ERR_EK_VIRTUAL_TPM) || v == NULL ||
		    v->code != rc)
			r->wrong++;
		ek_verdict_release(v);
	}
	return NULL;
}

static void test_threads_share_one_policy_and_cache(void **state)
{
	struct policy *p = load_default();
	uint8_t *der[RACE_FILES];
	size_t len[RACE_FILES];
	pthread_t t[4];
	struct race r[4];

	(void)state;
	for (int f = 0; f < RACE_FILES; f++)
		der[f] = der_of(race_files[f], &len[f]);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){.policy = p, .der = der, .len = len, .seed = i};
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].wrong, 0);
	}
	for (int f = 0; f < RACE_FILES; f++)
		free(der[f]);
	policy_free(p);
}

/* ---- the loader's refusals ---- */

#define MINIMAL_EK "\"ek\": {\"trust_anchors\": [\"" SYN "root.pem\"]}"

static void test_minimal_policy_and_defaults(void **state)
{
	struct policy *p = NULL;
	const char *json = "{\"name\": \"lab\", " MINIMAL_EK "}";

	(void)state;
	assert_int_equal(policy_load_json(json, strlen(json), data_dir, &p), ERR_OK);
	assert_int_equal(p->token_ttl, POLICY_TOKEN_TTL_DEFAULT);
	assert_int_equal(p->session_ttl, POLICY_SESSION_TTL_DEFAULT);
	assert_true(p->event_log_required);
	assert_int_equal(vtpm_rules_count(p->vtpm), 0);
	assert_int_equal(p->pcr_selection.mask, 0xff);
	policy_free(p);
}

static void test_loader_refusals(void **state)
{
	static const struct {
		const char *json;
		const char *detail; /* a part of the detail that names the problem */
	} cases[] = {
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"tokne_ttl\": 5}", "tokne_ttl"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"" SYN
	     "root.pem\"], \"allow_expird\": true}}",
	     "ek.allow_expird"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"name\": \"y\"}", "duplicate"},
	    {"{" MINIMAL_EK "}", "name"},
	    {"{\"name\": \"\", " MINIMAL_EK "}", "name"},
	    {"{\"name\": \"x\"}", "ek"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": []}}", "trust_anchors"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"ekcerts/none\"]}}",
	     "trust_anchors[0]"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"" SYN "ek-rsa.pem\"]}}", "not a CA"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": [7]}}", "trust_anchors[0]"},
	    {"{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"" SYN
	     "root.pem\"], \"crls\": [\"" SYN "root.pem\"]}}",
	     "crls[0]"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"token_ttl\": 0}", "token_ttl"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"session_ttl\": 3601}", "session_ttl"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"token_ttl\": \"300\"}", "token_ttl"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"ak_algorithms\": [\"rsa1024\"]}",
	     "ak_algorithms[0]"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"ak_algorithms\": [\"rsa2048\", \"rsa2048\"]}",
	     "twice"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"ak_algorithms\": []}", "ak_algorithms"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"pcr_selection\": \"sha256:0,24\"}",
	     "pcr_selection"},
	    {"{\"name\": \"x\", " MINIMAL_EK ", \"enrollment_required\": \"yes\"}",
	     "enrollment_required"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_t rc = load_text(cases[i].json);
		if (rc != ERR_BAD_REQUEST || strstr(err_detail(), cases[i].detail) == NULL)
			fail_msg("case %zu: %s \"%s\", expected bad_request naming %s", i,
				 err_code_str(rc), err_detail(), cases[i].detail);
	}
}

static void test_rule_refusals(void **state)
{
	static const struct {
		const char *rule;
		const char *detail;
	} cases[] = {
	    {"{\"name\": \"a\", \"ca\": {\"CNN\": \"x\"}}", "ca.CNN"},
	    {"{\"name\": \"a\", \"ca\": {\"CN\": \"\"}}", "ca.CN"},
	    {"{\"name\": \"a\", \"ca\": {}}", "at least one"},
	    {"{\"name\": \"a\", \"tpm\": {\"manufacturer\": \"id:1014\"}}", "tpm.manufacturer"},
	    {"{\"name\": \"a\", \"tpm\": {\"manufacturer\": \"IBM\"}}", "tpm.manufacturer"},
	    {"{\"name\": \"a\", \"tpm\": {\"modle\": \"swtpm\"}}", "tpm.modle"},
	    {"{\"name\": \"a\", \"ca\": {\"CN\": \"x\"}, \"tpm\": {\"model\": \"x\"}}",
	     "exactly one"},
	    {"{\"name\": \"a\"}", "exactly one"},
	    {"{\"ca\": {\"CN\": \"x\"}}", "name"},
	    {"{\"name\": \"a b\", \"ca\": {\"CN\": \"x\"}}", "name"},
	    {"{\"name\": \"a\", \"ca\": {\"CN\": \"x\"}, \"severity\": 1}", "severity"},
	    {"\"swtpm\"", "object"},
	};
	char json[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_t rc;
		snprintf(json, sizeof(json),
			 "{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"" SYN
			 "root.pem\"], \"virtual_tpm\": [{\"name\": \"ok\", \"ca\": {\"O\": "
			 "\"v\"}}, %s]}}",
			 cases[i].rule);
		rc = load_text(json);
		if (rc != ERR_BAD_REQUEST || strstr(err_detail(), cases[i].detail) == NULL ||
		    strstr(err_detail(), "virtual_tpm[1]") == NULL)
			fail_msg("case %zu: %s \"%s\", expected bad_request naming %s", i,
				 err_code_str(rc), err_detail(), cases[i].detail);
	}
	/* Two rules with one name would make details ambiguous. */
	snprintf(json, sizeof(json),
		 "{\"name\": \"x\", \"ek\": {\"trust_anchors\": [\"" SYN
		 "root.pem\"], \"virtual_tpm\": [{\"name\": \"a\", \"ca\": {\"O\": \"v\"}},"
		 " {\"name\": \"a\", \"tpm\": {\"model\": \"v\"}}]}}");
	assert_int_equal(load_text(json), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "duplicate"));
}

static void test_relative_paths_resolve_against_the_policy_file(void **state)
{
	char *dir = unit_tmpdir();
	char path[PATH_MAX], cmd[PATH_MAX * 3];
	static const char json[] =
	    "{\"name\": \"rel\", \"ek\": {\"trust_anchors\": [\"anchors\"]}}";
	struct policy *p = NULL;

	(void)state;
	snprintf(cmd, sizeof(cmd), "mkdir '%s/anchors' && cp " SYN "root.pem '%s/anchors/'", dir,
		 dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	assert_int_equal(fileio_write_atomic(path, json, strlen(json), 0644), ERR_OK);
	assert_int_equal(policy_load_file(path, &p), ERR_OK);
	assert_int_equal(ekcert_trust_anchor_count(p->ek_trust), 1);
	policy_free(p);
	/* The same text elsewhere does not find "anchors". */
	assert_int_equal(load_text(json), ERR_BAD_REQUEST);
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_int_equal(policy_load_file(path, &p), ERR_NOT_FOUND);
	assert_null(p);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_policy_values),
	    cmocka_unit_test(test_every_hardware_vector_is_trusted),
	    cmocka_unit_test(test_every_virtual_vector_is_refused),
	    cmocka_unit_test(test_virtual_refused_even_when_their_cas_are_anchors),
	    cmocka_unit_test(test_shipped_store_has_no_virtual_ca),
	    cmocka_unit_test(test_default_rules_name_each_cloud),
	    cmocka_unit_test(test_swtpm_refused_by_issuer_manufacturer_and_model),
	    cmocka_unit_test(test_rules_run_before_the_chain),
	    cmocka_unit_test(test_rule_on_a_ca_of_the_built_chain),
	    cmocka_unit_test(test_rule_patterns_fold_spaces_and_case),
	    cmocka_unit_test(test_chain_sent_in_any_order),
	    cmocka_unit_test(test_malformed_sent_certificate),
	    cmocka_unit_test(test_verdict_cache),
	    cmocka_unit_test(test_verdict_key_is_the_certificate_key),
	    cmocka_unit_test(test_invalid_certificate),
	    cmocka_unit_test(test_expiry_and_revocation_options),
	    cmocka_unit_test(test_threads_share_one_policy_and_cache),
	    cmocka_unit_test(test_minimal_policy_and_defaults),
	    cmocka_unit_test(test_loader_refusals),
	    cmocka_unit_test(test_rule_refusals),
	    cmocka_unit_test(test_relative_paths_resolve_against_the_policy_file),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
