/* Everything a request handler may use: configuration, policy, store,
 * keys and metrics. One instance per daemon, read-only after start-up
 * except for the thread-safe members (store, token keys, metrics). */
#ifndef ATTEST_APP_H
#define ATTEST_APP_H

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "session.h"
#include "store.h"
#include "token.h"

struct policy;

struct app {
	struct config cfg;
	struct policy *policy;
	struct store *store;
	struct token_keys *tokens;
	struct session_key session_key;
	struct metrics metrics;
};

/* Who may call an endpoint. Admin keys may do everything. */
enum app_role {
	ROLE_ANYONE,
	ROLE_GATEWAY, /* admission checks, when configured to need a key; introspection */
	ROLE_AUDITOR, /* history and machines, read-only */
	ROLE_ADMIN,   /* enrollment and revocation */
};

/* A handler; arg is the {id} path segment of routes that have one. */
typedef void (*app_handler_fn)(struct app *app, struct http_request *req, const char *arg,
			       struct http_response *resp);

/* The one dispatch function given to the HTTP server (routes.c). */
void app_dispatch(void *app, struct http_request *req, struct http_response *resp);

/* Handlers, one file each (h_<name>.c). */
void h_challenge(struct app *app, struct http_request *req, const char *arg,
		 struct http_response *resp);
void h_quote(struct app *app, struct http_request *req, const char *arg,
	     struct http_response *resp);
void h_admission(struct app *app, struct http_request *req, const char *arg,
		 struct http_response *resp);
void h_introspect(struct app *app, struct http_request *req, const char *arg,
		  struct http_response *resp);
void h_jwks(struct app *app, struct http_request *req, const char *arg, struct http_response *resp);
void h_attestations_list(struct app *app, struct http_request *req, const char *arg,
			 struct http_response *resp);
void h_attestation_get(struct app *app, struct http_request *req, const char *arg,
		       struct http_response *resp);
void h_machines_list(struct app *app, struct http_request *req, const char *arg,
		     struct http_response *resp);
void h_machine_get(struct app *app, struct http_request *req, const char *arg,
		   struct http_response *resp);
void h_machine_enroll(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp);
void h_machine_update(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp);
void h_report_monthly(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp);
void h_healthz(struct app *app, struct http_request *req, const char *arg,
	       struct http_response *resp);
void h_metrics(struct app *app, struct http_request *req, const char *arg,
	       struct http_response *resp);

#endif
