/* The software TPM twin of tests/bench (soft_tpm.h) is only worth its
 * benchmark figures if the verifier takes it for a physical TPM: its EK
 * certificate passes the shipped default policy (the test PKI added as a
 * manufacturer), its activation recovers exactly what MakeCredential
 * protected and nothing else, and its quote and event log pass the quote
 * checks and the boot policy (Secure Boot on, nothing virtual). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "eval.h"
#include "evlog.h"
#include "policy.h"
#include "soft_tpm.h"
#include "tpm_crypto.h"
#include "tpm_wire.h"

static char pki_dir[4096];

/* The test manufacturer PKI the integration tests share (make-test-pki
 * keeps an existing one). */
static int make_pki(void **state)
{
	const char *src = getenv("ATTEST_SOURCE_ROOT"), *build = getenv("ATTEST_BUILD_ROOT");
	char cmd[8400];

	(void)state;
	if (src == NULL || build == NULL) {
		fprintf(stderr,
			"ATTEST_SOURCE_ROOT and ATTEST_BUILD_ROOT must be set (meson test)\n");
		return -1;
	}
	snprintf(pki_dir, sizeof(pki_dir), "%s/test-pki", build);
	snprintf(cmd, sizeof(cmd), "'%s/scripts/make-test-pki' '%s' >/dev/null", src, pki_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* policy/default.json with the test PKI as one more manufacturer, as
 * tests/integration/attestd_lib.sh at_policy writes it. */
static struct policy *default_policy_with_test_pki(void)
{
	char path[4400], base[4200], *text;
	json_t *p, *ek;
	struct policy *policy = NULL;

	snprintf(base, sizeof(base), "%s/policy", getenv("ATTEST_SOURCE_ROOT"));
	snprintf(path, sizeof(path), "%s/default.json", base);
	p = json_load_file(path, 0, NULL);
	assert_non_null(p);
	ek = json_object_get(p, "ek");
	snprintf(path, sizeof(path), "%s/roots", pki_dir);
	assert_int_equal(
	    json_array_append_new(json_object_get(ek, "trust_anchors"), json_string(path)), 0);
	snprintf(path, sizeof(path), "%s/intermediates", pki_dir);
	assert_int_equal(
	    json_array_append_new(json_object_get(ek, "intermediates"), json_string(path)), 0);
	text = json_dumps(p, 0);
	assert_non_null(text);
	assert_int_equal(policy_load_json(text, strlen(text), base, &policy), ERR_OK);
	free(text);
	json_decref(p);
	return policy;
}

struct machine {
	struct soft_tpm *tpm;
	struct policy *policy;
	TPMT_PUBLIC ek_pub, ak_pub;
	struct challenge_verdict verdict;
};

/* What attestd's challenge does with the soft TPM's evidence. */
static void challenge(struct machine *m, enum soft_ek_type type)
{
	const uint8_t *cert, *der;
	size_t cert_len, len;

	memset(m, 0, sizeof(*m));
	m->tpm = soft_tpm_new(type, pki_dir);
	m->policy = default_policy_with_test_pki();
	der = soft_tpm_ek_pub(m->tpm, &len);
	assert_int_equal(tpm_wire_public(der, len, "ek_pub", &m->ek_pub), ERR_OK);
	der = soft_tpm_ak_pub(m->tpm, &len);
	assert_int_equal(tpm_wire_public(der, len, "ak_pub", &m->ak_pub), ERR_OK);
	/* The intermediate as a client sends it: its DER bytes. */
	der = soft_tpm_ek_chain(m->tpm, &len);
	struct ek_sent_chain sent = {1, {der}, {len}};
	cert = soft_tpm_ek_cert(m->tpm, &cert_len);
	struct challenge_evidence e = {cert, cert_len, &sent, &m->ek_pub, &m->ak_pub};
	assert_int_equal(eval_challenge(m->policy, &e, &m->verdict), ERR_OK);
}

static void machine_free(struct machine *m)
{
	eval_challenge_release(&m->verdict);
	policy_free(m->policy);
	soft_tpm_free(m->tpm);
}

static void accepted_as_physical(enum soft_ek_type type)
{
	struct machine m;

	challenge(&m, type);
	assert_string_equal(m.verdict.ek_manufacturer, SOFT_TPM_MANUFACTURER);
	assert_int_equal(strncmp(m.verdict.machine_id, "sha256:", 7), 0);
	machine_free(&m);
}

static void test_rsa_ek_passes_the_challenge_checks(void **state)
{
	(void)state;
	accepted_as_physical(SOFT_EK_RSA);
}

static void test_ecc_ek_passes_the_challenge_checks(void **state)
{
	(void)state;
	accepted_as_physical(SOFT_EK_ECC);
}

static void activation(enum soft_ek_type type)
{
	static const uint8_t secret[32] = {0x5e, 0xc2, 0xe7, 1, 2, 3};
	struct tpm_credential cred;
	struct machine m;
	TPM2B_NAME other = {0};
	uint8_t out[64];
	size_t out_len = 0;

	challenge(&m, type);
	assert_int_equal(
	    tpm_make_credential(&m.verdict.ek, &m.verdict.ak_name, secret, sizeof(secret), &cred),
	    ERR_OK);
	assert_true(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len,
				      cred.encrypted_secret, cred.encrypted_secret_len, out,
				      &out_len));
	assert_int_equal(out_len, sizeof(secret));
	assert_memory_equal(out, secret, sizeof(secret));

	/* Made for another AK: the TPM's HMAC check refuses it. */
	other = m.verdict.ak_name;
	other.name[other.size - 1] ^= 1;
	assert_int_equal(tpm_make_credential(&m.verdict.ek, &other, secret, sizeof(secret), &cred),
			 ERR_OK);
	assert_false(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len,
				       cred.encrypted_secret, cred.encrypted_secret_len, out,
				       &out_len));

	/* Tampered, truncated or padded blobs open nothing. */
	assert_int_equal(
	    tpm_make_credential(&m.verdict.ek, &m.verdict.ak_name, secret, sizeof(secret), &cred),
	    ERR_OK);
	cred.id_object[cred.id_object_len - 1] ^= 0x80;
	assert_false(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len,
				       cred.encrypted_secret, cred.encrypted_secret_len, out,
				       &out_len));
	cred.id_object[cred.id_object_len - 1] ^= 0x80;
	assert_false(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len - 1,
				       cred.encrypted_secret, cred.encrypted_secret_len, out,
				       &out_len));
	assert_false(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len,
				       cred.encrypted_secret, cred.encrypted_secret_len - 1, out,
				       &out_len));
	assert_false(soft_tpm_activate(m.tpm, cred.id_object, cred.id_object_len,
				       cred.encrypted_secret, 2, out, &out_len));
	machine_free(&m);
}

static void test_rsa_activation_opens_only_its_own_credential(void **state)
{
	(void)state;
	activation(SOFT_EK_RSA);
}

static void test_ecc_activation_opens_only_its_own_credential(void **state)
{
	(void)state;
	activation(SOFT_EK_ECC);
}

/* What attestd's quote call does: quote checks, replay, boot policy. */
static void test_quote_and_boot_pass_the_default_policy(void **state)
{
	uint8_t nonce[32] = {0x4e, 0x0c, 0xe0}, attest[SOFT_TPM_ATTEST_MAX];
	uint8_t sig[SOFT_TPM_SIGNATURE_MAX];
	size_t attest_len, sig_len, log_len;
	const uint8_t *log;
	struct pcr_values pcrs = {.bank_count = 1};
	struct pcr_bank *bank = &pcrs.banks[0];
	struct quote_verdict v, second;
	struct machine m;

	(void)state;
	challenge(&m, SOFT_EK_RSA);
	assert_int_equal(m.policy->pcr_selection.mask, SOFT_TPM_PCR_MASK);
	*bank = (struct pcr_bank){
	    .alg = TPM2_ALG_SHA256, .digest_len = 32, .present = SOFT_TPM_PCR_MASK};
	for (unsigned i = 0; i < 8; i++)
		memcpy(bank->value[i], soft_tpm_pcr_sha256(m.tpm, i), 32);
	log = soft_tpm_event_log(m.tpm, &log_len);
	/* NOTES-performance.md prices a 30 KB log. */
	assert_in_range(log_len, 25 * 1024, 40 * 1024);
	soft_tpm_quote(m.tpm, nonce, SOFT_TPM_PCR_MASK, attest, &attest_len, sig, &sig_len);
	struct quote_evidence e = {
	    attest, attest_len, sig,	sig_len, &m.ak_pub, nonce, &m.policy->pcr_selection,
	    &pcrs,  log,	log_len};
	assert_int_equal(eval_quote(m.policy, &e, &v), ERR_OK);

	/* A TPM's clock runs on between two quotes. */
	soft_tpm_quote(m.tpm, nonce, SOFT_TPM_PCR_MASK, attest, &attest_len, sig, &sig_len);
	assert_int_equal(eval_quote(m.policy, &e, &second), ERR_OK);
	assert_true(second.facts.clock > v.facts.clock);

	/* The quote names its signer: qualifiedSigner is the AK's name. */
	TPMS_ATTEST parsed;
	assert_int_equal(tpm_wire_attest(attest, attest_len, "quote", &parsed), ERR_OK);
	assert_int_equal(parsed.qualifiedSigner.size, m.verdict.ak_name.size);
	assert_memory_equal(parsed.qualifiedSigner.name, m.verdict.ak_name.name,
			    m.verdict.ak_name.size);

	/* Another nonce than the quoted one is refused: the quote is bound. */
	nonce[0] ^= 1;
	assert_int_equal(eval_quote(m.policy, &e, &v), ERR_NONCE_MISMATCH);
	machine_free(&m);
}

/* The PCRs the twin reports are those the verifier's replay computes. */
static void test_log_replays_to_the_reported_pcrs(void **state)
{
	struct soft_tpm *t = soft_tpm_new(SOFT_EK_ECC, pki_dir);
	struct evlog_pcrs replayed;
	struct evlog *log = NULL;
	const uint8_t *bytes;
	size_t len;

	(void)state;
	bytes = soft_tpm_event_log(t, &len);
	assert_int_equal(evlog_parse(bytes, len, &log), ERR_OK);
	assert_int_equal(evlog_format(log), EVLOG_FORMAT_CRYPTO_AGILE);
	assert_int_equal(evlog_replay(log, &replayed), ERR_OK);
	for (unsigned i = 0; i < EVLOG_PCR_COUNT; i++)
		assert_memory_equal(replayed.value[EVLOG_BANK_SHA256][i], soft_tpm_pcr_sha256(t, i),
				    32);
	assert_true(replayed.exit_boot_services_logged);
	evlog_free(log);
	soft_tpm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsa_ek_passes_the_challenge_checks),
	    cmocka_unit_test(test_ecc_ek_passes_the_challenge_checks),
	    cmocka_unit_test(test_rsa_activation_opens_only_its_own_credential),
	    cmocka_unit_test(test_ecc_activation_opens_only_its_own_credential),
	    cmocka_unit_test(test_quote_and_boot_pass_the_default_policy),
	    cmocka_unit_test(test_log_replays_to_the_reported_pcrs),
	};

	return cmocka_run_group_tests(tests, make_pki, NULL);
}
