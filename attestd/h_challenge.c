/* POST /v1/attest/challenge: checks the EK certificate, the EK and the AK,
 * and answers a credential only that TPM can activate, a nonce, and the
 * sealed session that carries the server's state to the quote call. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "b64.h"
#include "decision.h"
#include "eval.h"
#include "json_util.h"
#include "policy.h"
#include "tpm_wire.h"

/* A TPM2B_PUBLIC is at most ~620 bytes (RSA-4096 with a policy digest). */
#define CHALLENGE_MAX_PUBLIC 1024
/* DESIGN.md: host metadata is at most 4 KiB, recorded, never trusted. */
#define CHALLENGE_MAX_HOST 4096

static const struct json_field challenge_fields[] = {
    {"ek_cert", JSON_STRING, true}, {"ek_chain", JSON_ARRAY, false}, {"ek_pub", JSON_STRING, true},
    {"ak_pub", JSON_STRING, true},  {"host", JSON_OBJECT, false},
};

struct challenge_request {
	json_t *body;
	uint8_t *ek_cert;
	size_t ek_cert_len;
	struct ek_sent_chain ek_chain; /* its der[] are malloc'd, freed with the request */
	TPMT_PUBLIC ek_pub;
	TPMT_PUBLIC ak_pub;
	uint8_t *ak_pub_raw;
	size_t ak_pub_raw_len;
	char *host; /* compact JSON or NULL */
};

static void request_free(struct challenge_request *r)
{
	json_decref(r->body);
	free(r->ek_cert);
	for (size_t i = 0; i < r->ek_chain.count; i++)
		free((void *)r->ek_chain.der[i]);
	free(r->ak_pub_raw);
	free(r->host);
}

static err_t decode_public(const json_t *body, const char *field, TPMT_PUBLIC *out, uint8_t **raw,
			   size_t *raw_len)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	err_t rc;

	TRY(json_get_b64(body, field, CHALLENGE_MAX_PUBLIC, &buf, &len));
	rc = tpm_wire_public(buf, len, field, out);
	if (rc == ERR_OK && raw != NULL) {
		*raw = buf;
		*raw_len = len;
		return ERR_OK;
	}
	free(buf);
	return rc;
}

/* The intermediates as sent; ek_check parses them only when no cached
 * verdict already answers for these exact bytes. */
static err_t decode_chain(const json_t *arr, struct ek_sent_chain *out)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) > EKCERT_MAX_SENT_CHAIN)
		return err_fail(ERR_BAD_REQUEST, "ek_chain: more than %d certificates",
				EKCERT_MAX_SENT_CHAIN);
	json_array_foreach(arr, i, v)
	{
		uint8_t *der = NULL;
		size_t len = 0;

		if (!json_is_string(v) || !b64_decode(json_string_value(v), json_string_length(v),
						      EKCERT_MAX_INPUT, &der, &len))
			return err_fail(ERR_BAD_REQUEST, "ek_chain[%zu]: not canonical base64", i);
		out->der[out->count] = der;
		out->len[out->count] = len;
		out->count++;
	}
	return ERR_OK;
}

/* Body shape: everything that is a 400 comes before any verdict. */
static err_t decode_request(struct http_request *req, struct challenge_request *r)
{
	size_t len;
	const uint8_t *body = http_body(req, &len);
	const json_t *host, *chain;

	TRY(json_parse_object(body, len, &r->body));
	TRY(json_check_fields(r->body, challenge_fields,
			      sizeof(challenge_fields) / sizeof(challenge_fields[0])));
	TRY(json_get_b64(r->body, "ek_cert", EKCERT_MAX_INPUT, &r->ek_cert, &r->ek_cert_len));
	chain = json_object_get(r->body, "ek_chain");
	if (chain != NULL)
		TRY(decode_chain(chain, &r->ek_chain));
	TRY(decode_public(r->body, "ek_pub", &r->ek_pub, NULL, NULL));
	TRY(decode_public(r->body, "ak_pub", &r->ak_pub, &r->ak_pub_raw, &r->ak_pub_raw_len));
	host = json_object_get(r->body, "host");
	if (host != NULL) {
		r->host = json_dumps(host, JSON_COMPACT | JSON_SORT_KEYS);
		if (r->host == NULL || strlen(r->host) > CHALLENGE_MAX_HOST)
			return err_fail(ERR_BAD_REQUEST, "host: more than %d bytes",
					CHALLENGE_MAX_HOST);
	}
	return ERR_OK;
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
	char *s = b64_encode(p, n);
	json_t *j = s != NULL ? json_string(s) : NULL;

	free(s);
	return j;
}

/* Makes the credential and the sealed session, and answers them. */
static err_t issue_challenge(struct app *app, const struct challenge_request *req,
			     const struct challenge_verdict *v, struct http_response *resp)
{
	struct session s;
	struct tpm_credential cred;
	char *sealed = NULL;
	int64_t ttl = (int64_t)app->policy->session_ttl;
	err_t rc;

	memset(&s, 0, sizeof(s));
	TRY_OUT(rc, session_randomize(&s));
	s.expires_at = (int64_t)time(NULL) + ttl;
	if (!pcr_selection_format(&app->policy->pcr_selection, s.pcr_selection,
				  sizeof(s.pcr_selection))) {
		rc = err_fail(ERR_INTERNAL, "policy PCR selection does not format");
		goto out;
	}
	snprintf(s.machine_id, sizeof(s.machine_id), "%s", v->machine_id);
	snprintf(s.ek_manufacturer, sizeof(s.ek_manufacturer), "%s", v->ek_manufacturer);
	snprintf(s.ek_issuer, sizeof(s.ek_issuer), "%s", v->ek_issuer);
	snprintf(s.host, sizeof(s.host), "%s", req->host != NULL ? req->host : "");
	memcpy(s.ak_pub, req->ak_pub_raw, req->ak_pub_raw_len);
	s.ak_pub_len = req->ak_pub_raw_len;
	TRY_OUT(rc, tpm_make_credential(&v->ek, &v->ak_name, s.secret, sizeof(s.secret), &cred));
	TRY_OUT(rc, session_seal(&app->session_key, &s, &sealed));
	http_reply_json(resp, 200,
			json_pack("{s:o, s:o, s:o, s:s, s:I, s:s}", "credential_blob",
				  b64_json(cred.id_object, cred.id_object_len), "encrypted_secret",
				  b64_json(cred.encrypted_secret, cred.encrypted_secret_len),
				  "nonce", b64_json(s.nonce, sizeof(s.nonce)), "pcr_selection",
				  s.pcr_selection, "expires_in", (json_int_t)ttl, "session",
				  sealed));
out:
	free(sealed);
	session_wipe(&s);
	return rc;
}

void h_challenge(struct app *app, struct http_request *req, const char *arg,
		 struct http_response *resp)
{
	struct challenge_request r = {0};
	struct challenge_verdict v;
	struct attestation_record *rec = malloc(sizeof(*rec));
	uint64_t start = metrics_now_us();
	err_t rc;

	(void)arg;
	memset(&v, 0, sizeof(v));
	if (rec == NULL) {
		http_reply_error(resp, err_fail(ERR_INTERNAL, "out of memory"));
		return;
	}
	decision_begin(app, rec, "challenge");
	rc = decode_request(req, &r);
	if (rc == ERR_OK) {
		struct challenge_evidence e = {r.ek_cert, r.ek_cert_len, &r.ek_chain, &r.ek_pub,
					       &r.ak_pub};

		rc = eval_challenge(app->policy, &e, &v);
	}
	snprintf(rec->machine_id, sizeof(rec->machine_id), "%s", v.machine_id);
	snprintf(rec->ek_issuer, sizeof(rec->ek_issuer), "%s", v.ek_issuer);
	snprintf(rec->ek_manufacturer, sizeof(rec->ek_manufacturer), "%s", v.ek_manufacturer);
	snprintf(rec->host, sizeof(rec->host), "%s", r.host != NULL ? r.host : "");
	if (rc == ERR_OK)
		rc = decision_check_machine(app, v.machine_id);
	if (rc == ERR_OK)
		rc = issue_challenge(app, &r, &v, resp);
	if (rc == ERR_UNAVAILABLE || rc == ERR_INTERNAL)
		http_reply_error(resp, rc); /* nothing was decided */
	else if (rc != ERR_OK)
		decision_refuse(app, rec, NULL, 0, rc, resp);
	else
		metrics_decision(&app->metrics, METRICS_CHALLENGE, ERR_OK);
	metrics_latency(&app->metrics, METRICS_CHALLENGE, metrics_now_us() - start);
	eval_challenge_release(&v);
	request_free(&r);
	free(rec);
}
