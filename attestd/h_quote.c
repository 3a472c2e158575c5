/* POST /v1/attest/quote: opens the sealed session, checks the activated
 * secret, the quote, the event log and the boot policy, then enrollment,
 * records the decision durably and only then answers with a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64.h"
#include "decision.h"
#include "eval.h"
#include "evlog.h"
#include "json_util.h"
#include "policy.h"
#include "record_json.h"
#include "tpm_wire.h"

/* A TPMS_ATTEST quote with 24 PCRs and a SHA-512 digest is < 256 bytes;
 * a TPMT_SIGNATURE with an RSA-4096 signature is ~520 bytes. */
#define QUOTE_MAX_ATTEST    1024
#define QUOTE_MAX_SIGNATURE 1024

static const struct json_field quote_fields[] = {
    {"session", JSON_STRING, true}, {"secret", JSON_STRING, true},
    {"quote", JSON_STRING, true},   {"signature", JSON_STRING, true},
    {"pcrs", JSON_OBJECT, true},    {"event_log", JSON_STRING, false},
};

struct quote_request {
	json_t *body;
	struct session session;
	TPMT_PUBLIC ak;
	struct pcr_selection requested;
	uint8_t *secret, *quote, *signature, *event_log;
	size_t secret_len, quote_len, signature_len, event_log_len;
	struct pcr_values pcrs;
};

static void request_free(struct quote_request *r)
{
	json_decref(r->body);
	if (r->secret != NULL)
		OPENSSL_clear_free(r->secret, r->secret_len);
	free(r->quote);
	free(r->signature);
	free(r->event_log);
	session_wipe(&r->session);
}

static err_t parse_body(struct http_request *req, struct quote_request *r)
{
	size_t len;
	const uint8_t *body = http_body(req, &len);

	TRY(json_parse_object(body, len, &r->body));
	return json_check_fields(r->body, quote_fields,
				 sizeof(quote_fields) / sizeof(quote_fields[0]));
}

static err_t open_session(struct app *app, struct quote_request *r)
{
	const json_t *s = json_object_get(r->body, "session");
	bool used = false;

	TRY(session_open(&app->session_key, json_string_value(s), json_string_length(s), time(NULL),
			 &r->session));
	TRY(app->store->ops->session_used(app->store, r->session.id, &used));
	if (used)
		return err_fail(ERR_SESSION_REPLAYED, "session was already used");
	return ERR_OK;
}

/* The rest of the body shape, checked once the session is consumed. */
static err_t decode_evidence(struct quote_request *r)
{
	TRY(json_get_b64(r->body, "secret", SESSION_SECRET_LEN * 2, &r->secret, &r->secret_len));
	if (r->secret_len != SESSION_SECRET_LEN ||
	    CRYPTO_memcmp(r->secret, r->session.secret, SESSION_SECRET_LEN) != 0)
		return err_fail(ERR_CREDENTIAL_MISMATCH,
				"secret is not the one the credential protected");
	TRY(json_get_b64(r->body, "quote", QUOTE_MAX_ATTEST, &r->quote, &r->quote_len));
	TRY(json_get_b64(r->body, "signature", QUOTE_MAX_SIGNATURE, &r->signature,
			 &r->signature_len));
	TRY(pcr_values_from_json(json_object_get(r->body, "pcrs"), &r->pcrs));
	if (json_object_get(r->body, "event_log") != NULL)
		TRY(json_get_b64(r->body, "event_log", EVLOG_MAX_SIZE, &r->event_log,
				 &r->event_log_len));
	/* The session's own fields were sealed by us: a failure here is ours. */
	if (tpm_wire_public(r->session.ak_pub, r->session.ak_pub_len, "session ak_pub", &r->ak) !=
		ERR_OK ||
	    pcr_selection_parse(r->session.pcr_selection, &r->requested) != ERR_OK)
		return err_fail(ERR_INTERNAL, "sealed session does not decode");
	return ERR_OK;
}

static err_t make_token(struct app *app, const struct attestation_record *rec, char **token,
			int64_t *expires_at)
{
	int64_t now = rec->time, ttl = (int64_t)app->policy->token_ttl;
	json_t *facts;
	err_t rc;

	facts = json_pack("{s:{s:s, s:s, s:s, s:I, s:I}}", "att", "policy", rec->policy,
			  "tpm_manufacturer", rec->ek_manufacturer, "pcr_digest", rec->pcr_digest,
			  "reset_count", (json_int_t)rec->reset_count, "restart_count",
			  (json_int_t)rec->restart_count);
	if (facts == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	struct token_issue req = {app->cfg.token_issuer,
				  app->cfg.token_audience,
				  rec->machine_id,
				  rec->token_jti,
				  now,
				  ttl,
				  facts};
	rc = token_issue(app->tokens, &req, token);
	json_decref(facts);
	*expires_at = now + ttl;
	return rc;
}

/* A token id must be unique: without randomness there is no token. */
static err_t new_jti(char out[64])
{
	uint8_t raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return err_fail(ERR_INTERNAL, "no randomness for a token id");
	hex_encode(raw, sizeof(raw), out);
	return ERR_OK;
}

static void admit(struct app *app, struct attestation_record *rec, const struct quote_request *r,
		  struct http_response *resp)
{
	char *token = NULL, expires[32];
	int64_t expires_at = 0;
	err_t rc;

	rc = new_jti(rec->token_jti);
	if (rc == ERR_OK)
		rc = make_token(app, rec, &token, &expires_at);
	if (rc != ERR_OK) {
		http_reply_error(resp, rc);
		return;
	}
	/* Durable first: a token never leaves without its row. */
	rc = decision_commit(app, rec, r->session.id, r->session.expires_at, ERR_OK);
	if (rc != ERR_OK) {
		http_reply_error(resp, rc);
		free(token);
		return;
	}
	metrics_token_issued(&app->metrics);
	rfc3339(expires_at, expires);
	http_reply_json(resp, 200,
			json_pack("{s:s, s:s, s:s, s:I}", "token", token, "expires_at", expires,
				  "machine_id", rec->machine_id, "attestation_id",
				  (json_int_t)rec->id));
	free(token);
}

void h_quote(struct app *app, struct http_request *req, const char *arg, struct http_response *resp)
{
	struct quote_request *r = calloc(1, sizeof(*r));
	struct attestation_record *rec = malloc(sizeof(*rec));
	struct quote_verdict v;
	uint64_t start = metrics_now_us();
	const uint8_t *sid = NULL;
	err_t rc;

	(void)arg;
	memset(&v, 0, sizeof(v));
	if (r == NULL || rec == NULL) {
		http_reply_error(resp, err_fail(ERR_INTERNAL, "out of memory"));
		goto out;
	}
	decision_begin(app, rec, "quote");
	rc = parse_body(req, r);
	if (rc == ERR_OK)
		rc = open_session(app, r);
	if (rc == ERR_OK || rc == ERR_SESSION_REPLAYED || rc == ERR_SESSION_EXPIRED) {
		/* The session is authentic: record whose it was. From here (when
		 * ERR_OK) it is consumed, whatever the answer. */
		snprintf(rec->machine_id, sizeof(rec->machine_id), "%s", r->session.machine_id);
		snprintf(rec->ek_issuer, sizeof(rec->ek_issuer), "%s", r->session.ek_issuer);
		snprintf(rec->ek_manufacturer, sizeof(rec->ek_manufacturer), "%s",
			 r->session.ek_manufacturer);
		snprintf(rec->host, sizeof(rec->host), "%s", r->session.host);
		sid = rc == ERR_OK ? r->session.id : NULL;
	}
	if (rc == ERR_OK)
		rc = decode_evidence(r);
	if (rc == ERR_OK) {
		struct quote_evidence e = {r->quote,	     r->quote_len, r->signature,
					   r->signature_len, &r->ak,	   r->session.nonce,
					   &r->requested,    &r->pcrs,	   r->event_log,
					   r->event_log_len};

		rc = eval_quote(app->policy, &e, &v);
		if (v.facts.pcr_digest_len > 0) {
			snprintf(rec->pcr_digest, sizeof(rec->pcr_digest), "%s", v.pcr_digest_hex);
			rec->reset_count = v.facts.reset_count;
			rec->restart_count = v.facts.restart_count;
		}
	}
	if (rc == ERR_OK)
		rc = decision_check_machine(app, rec->machine_id);
	if (rc == ERR_OK)
		admit(app, rec, r, resp);
	else if (rc == ERR_UNAVAILABLE || rc == ERR_INTERNAL)
		http_reply_error(resp, rc); /* nothing was decided */
	else
		decision_refuse(app, rec, sid, r->session.expires_at, rc, resp);
	metrics_latency(&app->metrics, METRICS_QUOTE, metrics_now_us() - start);
out:
	if (r != NULL)
		request_free(r);
	free(r);
	free(rec);
}
