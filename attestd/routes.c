/* The route table and the one place where callers are authenticated. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app.h"
#include "decision.h"
#include "log.h"

struct route {
	const char *method;
	const char *path; /* exact, or a prefix ending in '/' when has_arg */
	bool has_arg;	  /* one more path segment: the {id} */
	enum app_role role;
	app_handler_fn handler;
	const char *phase; /* attestation endpoints: every refusal is recorded */
};

static const struct route routes[] = {
    {"POST", "/v1/attest/challenge", false, ROLE_ANYONE, h_challenge, "challenge"},
    {"POST", "/v1/attest/quote", false, ROLE_ANYONE, h_quote, "quote"},
    {"GET", "/v1/admission", false, ROLE_GATEWAY, h_admission, NULL},
    {"POST", "/v1/tokens/introspect", false, ROLE_GATEWAY, h_introspect, NULL},
    {"GET", "/.well-known/jwks.json", false, ROLE_ANYONE, h_jwks, NULL},
    {"GET", "/v1/attestations", false, ROLE_AUDITOR, h_attestations_list, NULL},
    {"GET", "/v1/attestations/", true, ROLE_AUDITOR, h_attestation_get, NULL},
    {"GET", "/v1/machines", false, ROLE_AUDITOR, h_machines_list, NULL},
    {"GET", "/v1/reports/monthly", false, ROLE_AUDITOR, h_report_monthly, NULL},
    {"POST", "/v1/machines", false, ROLE_ADMIN, h_machine_enroll, NULL},
    {"GET", "/v1/machines/", true, ROLE_AUDITOR, h_machine_get, NULL},
    {"PATCH", "/v1/machines/", true, ROLE_ADMIN, h_machine_update, NULL},
    {"GET", "/healthz", false, ROLE_ANYONE, h_healthz, NULL},
    {"GET", "/metrics", false, ROLE_ANYONE, h_metrics, NULL},
};

/* Longest {id} segment: machine ids are 71 characters. */
#define ROUTE_MAX_ARG 128

static bool path_matches(const struct route *r, const char *path, const char **arg)
{
	size_t n = strlen(r->path);

	if (!r->has_arg)
		return strcmp(path, r->path) == 0;
	if (strncmp(path, r->path, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL ||
	    strlen(path + n) > ROUTE_MAX_ARG)
		return false;
	*arg = path + n;
	return true;
}

static bool role_allows(enum app_role needed, const char *have)
{
	if (strcmp(have, "admin") == 0)
		return true;
	switch (needed) {
	case ROLE_ANYONE:
		return true;
	case ROLE_GATEWAY:
		return strcmp(have, "gateway") == 0;
	case ROLE_AUDITOR:
		return strcmp(have, "auditor") == 0;
	case ROLE_ADMIN:
		return false;
	}
	return false;
}

/* API keys are 256-bit random strings, so one SHA-256 is a sufficient
 * stored hash (no password stretching needed). */
static err_t authorize(struct app *app, struct http_request *req, enum app_role needed)
{
	const char *key = http_header(req, "X-API-Key");
	uint8_t hash[STORE_HASH_LEN];
	char role[16];

	if (needed == ROLE_ANYONE || (needed == ROLE_GATEWAY && !app->cfg.admission_requires_key &&
				      strcmp(http_path(req), "/v1/admission") == 0))
		return ERR_OK;
	if (key == NULL)
		return err_fail(ERR_UNAUTHORIZED, "X-API-Key header required");
	if (EVP_Digest(key, strlen(key), hash, NULL, EVP_sha256(), NULL) != 1)
		return err_fail(ERR_INTERNAL, "hashing the API key failed");
	TRY(app->store->ops->apikey_role(app->store, hash, role));
	if (!role_allows(needed, role))
		return err_fail(ERR_UNAUTHORIZED, "API key role '%s' may not call this endpoint",
				role);
	return ERR_OK;
}

static void refuse_oversized(struct app *app, const struct route *r, struct http_response *resp)
{
	struct attestation_record *rec;
	err_t e = err_fail(ERR_BODY_TOO_LARGE, "body larger than %zu bytes", app->cfg.max_body);

	if (r->phase == NULL || (rec = malloc(sizeof(*rec))) == NULL) {
		http_reply_error(resp, e);
		return;
	}
	decision_begin(app, rec, r->phase);
	decision_refuse(app, rec, NULL, 0, e, resp);
	free(rec);
}

void app_dispatch(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct app *app = ctx;
	const char *path = http_path(req);
	bool path_known = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		const char *arg = NULL;
		err_t rc;

		if (!path_matches(r, path, &arg))
			continue;
		path_known = true;
		if (strcmp(http_method(req), r->method) != 0)
			continue;
		rc = authorize(app, req, r->role);
		if (rc != ERR_OK) {
			http_reply_error(resp, rc);
			return;
		}
		if (http_body_too_large(req)) {
			refuse_oversized(app, r, resp);
			return;
		}
		r->handler(app, req, arg, resp);
		return;
	}
	if (path_known) {
		http_reply_error(resp, err_fail(ERR_METHOD_NOT_ALLOWED, "%s not allowed on %s",
						http_method(req), path));
		return;
	}
	http_reply_error(resp, err_fail(ERR_NOT_FOUND, "no such endpoint"));
}
