/* The service endpoints: GET /healthz, GET /metrics and
 * GET /.well-known/jwks.json. */
#include <string.h>

#include "app.h"

void h_healthz(struct app *app, struct http_request *req, const char *arg,
	       struct http_response *resp)
{
	struct machine m;
	err_t rc;

	(void)req;
	(void)arg;
	/* A read through the store proves the database answers. */
	rc = app->store->ops->machine_get(app->store, "healthz", &m);
	if (rc != ERR_OK && rc != ERR_NOT_FOUND) {
		http_reply_error(resp, rc);
		return;
	}
	http_reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void h_metrics(struct app *app, struct http_request *req, const char *arg,
	       struct http_response *resp)
{
	size_t len = 0;
	char *text = metrics_render(&app->metrics, &len);

	(void)req;
	(void)arg;
	if (text == NULL) {
		http_reply_error(resp, err_fail(ERR_INTERNAL, "rendering metrics failed"));
		return;
	}
	http_reply_text(resp, 200, "text/plain; version=0.0.4", text, len);
}

void h_jwks(struct app *app, struct http_request *req, const char *arg, struct http_response *resp)
{
	(void)req;
	(void)arg;
	http_reply_json(resp, 200, token_jwks(app->tokens));
}
