/* attest-client's protocol bodies: the requests carry tpm2-tools' exact
 * bytes and nothing else, and every malformed answer of a verifier (or of
 * something pretending to be one) is refused naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_mu.h>

#include "b64.h"
#include "evidence.h"
#include "pcrs.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

/* ------------------------------------------------------------ helpers */

static TPM2B_PUBLIC public_file(const char *path)
{
	size_t len, off = 0;
	uint8_t *bytes = soft_read_file(path, &len);
	TPM2B_PUBLIC pub = {0}; /* tss2-mu refuses to fill a TPM2B_PUBLIC with a size set */

	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes, len, &off, &pub), TSS2_RC_SUCCESS);
	assert_int_equal(off, len);
	free(bytes);
	return pub;
}

/* The base64 string member `name` of obj equals the file's bytes. */
static void assert_b64_is_file(const json_t *obj, const char *name, const char *path)
{
	size_t flen, dlen;
	uint8_t *want = soft_read_file(path, &flen), *got = NULL;
	const char *text = json_string_value(json_object_get(obj, name));

	assert_non_null(text);
	assert_true(b64_decode(text, strlen(text), flen + 1, &got, &dlen));
	assert_int_equal(dlen, flen);
	assert_memory_equal(got, want, flen);
	free(got);
	free(want);
}

static struct ek_certs certs_of(const char *leaf, const char *chain)
{
	struct ek_certs c;

	ek_certs_init(&c);
	assert_int_equal(ek_certs_add_file(&c, leaf, true), ERR_OK);
	if (chain != NULL)
		assert_int_equal(ek_certs_add_file(&c, chain, false), ERR_OK);
	return c;
}

/* ----------------------------------------------------------- requests */

static void test_challenge_request_is_tpm2_tools_bytes(void **state)
{
	struct ek_certs certs =
	    certs_of("ekcerts/hardware/ifx_slb9670_rsa2048_ek.der", "ekcerts/synthetic/int.pem");
	TPM2B_PUBLIC ek = public_file("tpm/ek_rsa2048.pub"), ak = public_file("tpm/ak_ecc.pub");
	json_t *host = json_pack("{s:s}", "hostname", "rack4-node17"), *body = NULL;
	struct evidence_identity id = {&certs, &ek, &ak, host};
	TPMT_PUBLIC parsed;
	uint8_t *der = NULL;
	size_t der_len;
	const char *chain0;

	(void)state;
	assert_int_equal(evidence_challenge_request(&id, &body), ERR_OK);
	assert_int_equal(json_object_size(body), 5);
	assert_b64_is_file(body, "ek_cert", "ekcerts/hardware/ifx_slb9670_rsa2048_ek.der");
	/* tpm2_createek -u / tpm2_createak -u wrote these files: same bytes. */
	assert_b64_is_file(body, "ek_pub", "tpm/ek_rsa2048.pub");
	assert_b64_is_file(body, "ak_pub", "tpm/ak_ecc.pub");
	assert_int_equal(json_array_size(json_object_get(body, "ek_chain")), 1);
	chain0 = json_string_value(json_array_get(json_object_get(body, "ek_chain"), 0));
	assert_true(b64_decode(chain0, strlen(chain0), 4096, &der, &der_len));
	assert_int_equal(der_len, certs.chain[0].len);
	assert_memory_equal(der, certs.chain[0].der, der_len);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(body, "host"), "hostname")),
	    "rack4-node17");
	/* And the verifier's own reader takes the AK. */
	free(der);
	assert_true(b64_decode(json_string_value(json_object_get(body, "ak_pub")),
			       strlen(json_string_value(json_object_get(body, "ak_pub"))), 4096,
			       &der, &der_len));
	assert_int_equal(tpm_wire_public(der, der_len, "ak_pub", &parsed), ERR_OK);
	assert_int_equal(tpm_ak_check(&parsed, NULL), ERR_OK);
	free(der);
	json_decref(body);
	json_decref(host);
	ek_certs_free(&certs);
}

static void test_challenge_request_leaves_out_what_is_absent(void **state)
{
	struct ek_certs certs = certs_of("ekcerts/hardware/stm_st33htph_eccp256_ek.der", NULL);
	TPM2B_PUBLIC ek = public_file("tpm/ek_ecc_p256.pub"), ak = public_file("tpm/ak_rsa.pub");
	struct evidence_identity id = {&certs, &ek, &ak, NULL};
	json_t *body = NULL;

	(void)state;
	assert_int_equal(evidence_challenge_request(&id, &body), ERR_OK);
	assert_int_equal(json_object_size(body), 3);
	assert_null(json_object_get(body, "ek_chain"));
	assert_null(json_object_get(body, "host"));
	json_decref(body);
	ek_certs_free(&certs);
}

static struct pcr_bank bank_with(uint32_t mask)
{
	struct pcr_bank b;

	memset(&b, 0, sizeof(b));
	b.alg = TPM2_ALG_SHA256;
	b.digest_len = 32;
	b.present = mask;
	for (unsigned i = 0; i < PCR_COUNT; i++)
		memset(b.value[i], 0xa0 + (int)i, 32);
	return b;
}

static void test_pcrs_hold_exactly_the_selected_values(void **state)
{
	struct pcr_bank bank = bank_with(1u << 0 | 1u << 7 | 1u << 23);
	struct pcr_values back;
	const struct pcr_bank *got;
	json_t *pcrs = NULL, *sha256;

	(void)state;
	assert_int_equal(evidence_pcrs(&bank, &pcrs), ERR_OK);
	sha256 = json_object_get(pcrs, "sha256");
	assert_int_equal(json_object_size(pcrs), 1);
	assert_int_equal(json_object_size(sha256), 3);
	assert_string_equal(json_string_value(json_object_get(sha256, "7")),
			    "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7");
	/* The verifier's reader gives back the same values. */
	assert_int_equal(pcr_values_from_json(pcrs, &back), ERR_OK);
	got = pcr_values_bank(&back, TPM2_ALG_SHA256);
	assert_non_null(got);
	assert_int_equal(got->present, bank.present);
	assert_memory_equal(got->value[23], bank.value[23], 32);
	json_decref(pcrs);
}

static void test_quote_request_is_tpm2_quote_bytes(void **state)
{
	size_t alen, slen, off = 0;
	uint8_t *attest_bytes = soft_read_file("tpm/quote_ecc.attest", &alen);
	uint8_t *sig_bytes = soft_read_file("tpm/quote_ecc.sig", &slen);
	static const uint8_t log[] = {1, 2, 3, 4, 5};
	TPM2B_ATTEST attest = {.size = (uint16_t)alen};
	TPMT_SIGNATURE sig;
	TPM2B_DIGEST secret = {.size = 32};
	struct pcr_bank bank = bank_with(0xff);
	struct evidence_quote q = {"sealed-session", &secret, &attest, &sig, &bank, log,
				   sizeof(log)};
	json_t *body = NULL;

	(void)state;
	memcpy(attest.attestationData, attest_bytes, alen);
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig_bytes, slen, &off, &sig),
			 TSS2_RC_SUCCESS);
	memset(secret.buffer, 0x5a, 32);
	assert_int_equal(evidence_quote_request(&q, &body), ERR_OK);
	assert_int_equal(json_object_size(body), 6);
	assert_string_equal(json_string_value(json_object_get(body, "session")), "sealed-session");
	assert_b64_is_file(body, "quote", "tpm/quote_ecc.attest");
	assert_b64_is_file(body, "signature", "tpm/quote_ecc.sig");
	assert_string_equal(json_string_value(json_object_get(body, "secret")),
			    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=");
	assert_string_equal(json_string_value(json_object_get(body, "event_log")), "AQIDBAU=");
	assert_int_equal(json_object_size(json_object_get(json_object_get(body, "pcrs"), "sha256")),
			 8);
	json_decref(body);

	/* No event log on this machine: the field is left out, not empty. */
	q.event_log = NULL;
	assert_int_equal(evidence_quote_request(&q, &body), ERR_OK);
	assert_null(json_object_get(body, "event_log"));
	json_decref(body);
	free(attest_bytes);
	free(sig_bytes);
}

/* ------------------------------------------------------------ answers */

static char *b64_of(const void *p, size_t n)
{
	char *s = b64_encode(p, n);

	assert_non_null(s);
	return s;
}

/* A challenge answer as attestd writes it. */
static json_t *good_challenge(void)
{
	TPM2B_ID_OBJECT blob = {.size = 68};
	TPM2B_ENCRYPTED_SECRET secret = {.size = 256};
	uint8_t buf[sizeof(TPM2B_ENCRYPTED_SECRET)], nonce[32];
	size_t off = 0;
	char *b, *s, *n;
	json_t *j;

	memset(blob.credential, 0x11, blob.size);
	memset(secret.secret, 0x22, secret.size);
	memset(nonce, 0x33, sizeof(nonce));
	assert_int_equal(Tss2_MU_TPM2B_ID_OBJECT_Marshal(&blob, buf, sizeof(buf), &off),
			 TSS2_RC_SUCCESS);
	b = b64_of(buf, off);
	off = 0;
	assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&secret, buf, sizeof(buf), &off),
			 TSS2_RC_SUCCESS);
	s = b64_of(buf, off);
	n = b64_of(nonce, sizeof(nonce));
	j = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "credential_blob", b, "encrypted_secret", s,
		      "nonce", n, "pcr_selection", "sha256:0,1,2,3,4,5,6,7", "expires_in", 60,
		      "session", "c2VhbGVk.c2Vzc2lvbg");
	assert_non_null(j);
	free(b);
	free(s);
	free(n);
	return j;
}

static err_t parse_challenge_json(const json_t *j, struct challenge *ch)
{
	char *text = json_dumps(j, JSON_COMPACT);
	err_t rc;

	assert_non_null(text);
	err_clear();
	rc = evidence_parse_challenge((const uint8_t *)text, strlen(text), ch);
	free(text);
	return rc;
}

static void test_challenge_answer_is_read(void **state)
{
	json_t *j = good_challenge();
	struct challenge ch;

	(void)state;
	/* A newer verifier may add fields; they are ignored. */
	json_object_set_new(j, "hint", json_string("ignored"));
	assert_int_equal(parse_challenge_json(j, &ch), ERR_OK);
	assert_int_equal(ch.credential_blob.size, 68);
	assert_int_equal(ch.credential_blob.credential[67], 0x11);
	assert_int_equal(ch.encrypted_secret.size, 256);
	assert_int_equal(ch.nonce[31], 0x33);
	assert_int_equal(ch.selection.bank, TPM2_ALG_SHA256);
	assert_int_equal(ch.selection.mask, 0xff);
	assert_int_equal(ch.expires_in, 60);
	assert_string_equal(ch.session, "c2VhbGVk.c2Vzc2lvbg");
	evidence_challenge_free(&ch);
	json_decref(j);
}

/* Each broken challenge answer is refused and the detail names the field. */
static void refuse_challenge(const char *field, json_t *value)
{
	json_t *j = good_challenge();
	struct challenge ch;

	if (value == NULL)
		json_object_del(j, field);
	else
		json_object_set_new(j, field, value);
	assert_int_equal(parse_challenge_json(j, &ch), ERR_BAD_REQUEST);
	if (strstr(err_detail(), field) == NULL)
		fail_msg("detail '%s' does not name %s", err_detail(), field);
	assert_null(ch.session);
	json_decref(j);
}

static void test_malformed_challenge_answers_are_refused(void **state)
{
	static const uint8_t short_nonce[31] = {0};
	/* a TPM2B_ID_OBJECT whose size says 8 but carries 9 bytes */
	static const uint8_t trailing[] = {0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	char *s;

	(void)state;
	refuse_challenge("credential_blob", NULL);
	refuse_challenge("credential_blob", json_integer(5));
	s = b64_of(trailing, sizeof(trailing));
	refuse_challenge("credential_blob", json_string(s));
	free(s);
	refuse_challenge("encrypted_secret", json_string("AAA")); /* not padded base64 */
	s = b64_of(short_nonce, sizeof(short_nonce));
	refuse_challenge("nonce", json_string(s));
	free(s);
	refuse_challenge("pcr_selection", json_string("sha256:0,24"));
	refuse_challenge("pcr_selection", json_string("md5:0"));
	refuse_challenge("expires_in", json_integer(-1));
	refuse_challenge("expires_in", json_string("60"));
	refuse_challenge("session", json_string(""));
	refuse_challenge("session", NULL);
}

static void test_challenge_answer_must_be_one_json_object(void **state)
{
	static const char *const bodies[] = {
	    "", "[]", "null", "{\"nonce\": \"a\", \"nonce\": \"b\"}", "{", "<html>busy</html>",
	};
	struct challenge ch;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		assert_int_equal(
		    evidence_parse_challenge((const uint8_t *)bodies[i], strlen(bodies[i]), &ch),
		    ERR_BAD_REQUEST);
}

static err_t parse_admission_text(const char *text, struct admission *adm)
{
	return evidence_parse_admission((const uint8_t *)text, strlen(text), adm);
}

static void test_admission_is_read(void **state)
{
	struct admission *adm = malloc(sizeof(*adm));

	(void)state;
	assert_int_equal(parse_admission_text("{\"token\": \"aGVhZA.Y2xhaW1z.c2ln\", "
					      "\"expires_at\": \"2026-11-22T10:00:00Z\", "
					      "\"machine_id\": \"sha256:00ff\", "
					      "\"attestation_id\": 42}",
					      adm),
			 ERR_OK);
	assert_string_equal(adm->token, "aGVhZA.Y2xhaW1z.c2ln");
	assert_string_equal(adm->expires_at, "2026-11-22T10:00:00Z");
	assert_string_equal(adm->machine_id, "sha256:00ff");
	assert_string_equal(adm->attestation_id, "42");
	assert_int_equal(parse_admission_text("{\"token\": \"a.b.c\", \"expires_at\": \"x\", "
					      "\"machine_id\": \"m\", \"attestation_id\": \"a-1\"}",
					      adm),
			 ERR_OK);
	assert_string_equal(adm->attestation_id, "a-1");
	free(adm);
}

/* The token goes into a file that scripts put into HTTP headers: only a
 * compact JWS shape is written, never a header-splitting newline. */
static void test_tokens_that_are_not_a_jws_are_refused(void **state)
{
	static const char *const tokens[] = {
	    "a.b",     "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b.c\\r\\nX-Evil: 1",
	    "a.b.c d", "a+b.c.d", "",
	};
	struct admission *adm = malloc(sizeof(*adm));
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"token\": \"%s\", \"expires_at\": \"x\", \"machine_id\": \"m\", "
			 "\"attestation_id\": 1}",
			 tokens[i]);
		assert_int_equal(parse_admission_text(text, adm), ERR_BAD_REQUEST);
		assert_string_equal(adm->token, "");
	}
	assert_int_equal(parse_admission_text("{\"token\": \"a.b.c\", \"expires_at\": \"x\", "
					      "\"attestation_id\": 1}",
					      adm),
			 ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "machine_id"));
	assert_int_equal(
	    parse_admission_text("{\"token\": \"a.b.c\", \"expires_at\": \"x\\u001b[2J\", "
				 "\"machine_id\": \"m\", \"attestation_id\": 1}",
				 adm),
	    ERR_BAD_REQUEST);
	free(adm);
}

static void test_refusals_are_read_and_made_printable(void **state)
{
	static const char body[] = "{\"error\": \"ek_virtual_tpm\", \"detail\": \"issuer "
				   "CN=swtpm-localca\\u001b[31m\\n\"}";
	struct refusal r;
	char huge[2 * ERR_DETAIL_MAX + 64];

	(void)state;
	evidence_parse_refusal((const uint8_t *)body, strlen(body), 403, &r);
	assert_string_equal(r.code, "ek_virtual_tpm");
	assert_string_equal(r.detail, "issuer CN=swtpm-localca?[31m?");
	evidence_parse_refusal((const uint8_t *)"<html>Bad Gateway</html>", 24, 502, &r);
	assert_string_equal(r.code, "http_502");
	assert_string_equal(r.detail, "");
	snprintf(huge, sizeof(huge), "{\"error\": \"internal\", \"detail\": \"%0*d\"}",
		 2 * ERR_DETAIL_MAX, 0);
	evidence_parse_refusal((const uint8_t *)huge, strlen(huge), 500, &r);
	assert_string_equal(r.code, "internal");
	assert_int_equal(strlen(r.detail), ERR_DETAIL_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_request_is_tpm2_tools_bytes),
	    cmocka_unit_test(test_challenge_request_leaves_out_what_is_absent),
	    cmocka_unit_test(test_pcrs_hold_exactly_the_selected_values),
	    cmocka_unit_test(test_quote_request_is_tpm2_quote_bytes),
	    cmocka_unit_test(test_challenge_answer_is_read),
	    cmocka_unit_test(test_malformed_challenge_answers_are_refused),
	    cmocka_unit_test(test_challenge_answer_must_be_one_json_object),
	    cmocka_unit_test(test_admission_is_read),
	    cmocka_unit_test(test_tokens_that_are_not_a_jws_are_refused),
	    cmocka_unit_test(test_refusals_are_read_and_made_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
