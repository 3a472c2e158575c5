/* GET /v1/admission (nginx auth_request) and POST /v1/tokens/introspect
 * (RFC 7662): both ask whether a token is valid now and its machine not
 * revoked. */
#include <string.h>
#include <time.h>

#include "app.h"
#include "json_util.h"

/* Signature, expiry, then revocation: a revoked machine's tokens stop
 * working at once, not when they expire. */
static err_t check_token(struct app *app, const char *token, size_t len, struct token_claims *c)
{
	struct machine m;
	err_t rc;

	TRY(token_verify(app->tokens, token, len, app->cfg.token_issuer, app->cfg.token_audience,
			 time(NULL), c));
	rc = app->store->ops->machine_get(app->store, c->sub, &m);
	if (rc == ERR_NOT_FOUND)
		return ERR_OK; /* admitted without a machine row: cannot be revoked yet */
	if (rc != ERR_OK)
		return rc;
	if (m.revoked_at != 0)
		return err_fail(ERR_MACHINE_REVOKED, "machine %s was revoked", c->sub);
	return ERR_OK;
}

void h_admission(struct app *app, struct http_request *req, const char *arg,
		 struct http_response *resp)
{
	const char *auth = http_header(req, "Authorization");
	uint64_t start = metrics_now_us();
	struct token_claims c;
	err_t rc;

	(void)arg;
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		rc = err_fail(ERR_TOKEN_INVALID, "Authorization: Bearer token required");
	else
		rc = check_token(app, auth + 7, strlen(auth + 7), &c);
	if (rc == ERR_OK) {
		http_reply_empty(resp, 204);
		http_add_header(resp, "X-Attest-Machine", c.sub);
	} else {
		http_reply_error(resp, rc);
		if (rc == ERR_TOKEN_INVALID)
			http_add_header(resp, "WWW-Authenticate", "Bearer");
	}
	metrics_decision(&app->metrics, METRICS_ADMISSION, rc);
	metrics_latency(&app->metrics, METRICS_ADMISSION, metrics_now_us() - start);
}

/* The token from a JSON body {"token": ...} or a form body token=...
 * (RFC 7662 §2.1). JWT characters need no percent-decoding, so any '%' is
 * simply not a token of ours. */
static err_t introspect_token(struct http_request *req, char *buf, size_t cap)
{
	const char *type = http_header(req, "Content-Type");
	size_t len;
	const uint8_t *body = http_body(req, &len);

	if (type != NULL && strncmp(type, "application/json", 16) == 0) {
		static const struct json_field fields[] = {{"token", JSON_STRING, true},
							   {"token_type_hint", JSON_STRING, false}};
		json_t *j = NULL;
		err_t rc;

		TRY(json_parse_object(body, len, &j));
		rc = json_check_fields(j, fields, 2);
		if (rc == ERR_OK && json_string_length(json_object_get(j, "token")) >= cap)
			rc = err_fail(ERR_BAD_REQUEST, "token: too long");
		if (rc == ERR_OK)
			memcpy(buf, json_string_value(json_object_get(j, "token")),
			       json_string_length(json_object_get(j, "token")) + 1);
		json_decref(j);
		return rc;
	}
	for (size_t i = 0; i < len;) {
		const uint8_t *amp = memchr(body + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - body) : len;

		if (end - i > 6 && memcmp(body + i, "token=", 6) == 0) {
			if (end - i - 6 >= cap)
				return err_fail(ERR_BAD_REQUEST, "token: too long");
			memcpy(buf, body + i + 6, end - i - 6);
			buf[end - i - 6] = '\0';
			return ERR_OK;
		}
		i = end + 1;
	}
	return err_fail(ERR_BAD_REQUEST, "token: missing");
}

void h_introspect(struct app *app, struct http_request *req, const char *arg,
		  struct http_response *resp)
{
	char token[TOKEN_MAX_LEN + 1];
	struct token_claims c;
	err_t rc;

	(void)arg;
	rc = introspect_token(req, token, sizeof(token));
	if (rc != ERR_OK) {
		http_reply_error(resp, rc);
		return;
	}
	rc = check_token(app, token, strlen(token), &c);
	if (rc == ERR_UNAVAILABLE || rc == ERR_INTERNAL) {
		http_reply_error(resp, rc);
		return;
	}
	if (rc != ERR_OK) {
		/* RFC 7662 §2.2: an inactive token reveals nothing more. */
		http_reply_json(resp, 200, json_pack("{s:b}", "active", 0));
		return;
	}
	http_reply_json(resp, 200,
			json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "active", 1,
				  "sub", c.sub, "iss", app->cfg.token_issuer, "aud",
				  app->cfg.token_audience, "jti", c.jti, "iat", (json_int_t)c.iat,
				  "nbf", (json_int_t)c.nbf, "exp", (json_int_t)c.exp, "token_type",
				  "Bearer"));
}
