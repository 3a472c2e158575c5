/* GET /v1/machines, GET /v1/machines/{id}, POST /v1/machines (enroll),
 * PATCH /v1/machines/{id} (revoke or reinstate). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "json_util.h"
#include "record_json.h"

#define MACHINES_PAGE_DEFAULT 100
#define MACHINES_PAGE_MAX     1000

struct machine_page {
	json_t *rows;
	size_t count;
	char last[80];
};

static bool add_machine(const struct machine *m, void *ctx)
{
	struct machine_page *p = ctx;

	json_array_append_new(p->rows, machine_to_json(m));
	snprintf(p->last, sizeof(p->last), "%s", m->id);
	p->count++;
	return true;
}

void h_machines_list(struct app *app, struct http_request *req, const char *arg,
		     struct http_response *resp)
{
	const char *cursor = http_query(req, "cursor");
	const char *limit_s = http_query(req, "limit");
	struct machine_page p = {json_array(), 0, ""};
	size_t limit = MACHINES_PAGE_DEFAULT;
	err_t rc;

	(void)arg;
	if (limit_s != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(limit_s, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > MACHINES_PAGE_MAX) {
			json_decref(p.rows);
			http_reply_error(
			    resp, err_fail(ERR_BAD_REQUEST, "limit: 1..%d", MACHINES_PAGE_MAX));
			return;
		}
		limit = (size_t)v;
	}
	rc = app->store->ops->machines_list(app->store, cursor, limit, add_machine, &p);
	if (rc != ERR_OK) {
		json_decref(p.rows);
		http_reply_error(resp, rc);
		return;
	}
	http_reply_json(resp, 200,
			json_pack("{s:o, s:s?}", "machines", p.rows, "next_cursor",
				  p.count == limit ? p.last : NULL));
}

void h_machine_get(struct app *app, struct http_request *req, const char *arg,
		   struct http_response *resp)
{
	struct machine m;
	err_t rc;

	(void)req;
	rc = app->store->ops->machine_get(app->store, arg, &m);
	if (rc != ERR_OK) {
		http_reply_error(resp, rc);
		return;
	}
	http_reply_json(resp, 200, machine_to_json(&m));
}

static err_t parse_body(struct http_request *req, const struct json_field *fields, size_t n,
			json_t **out)
{
	size_t len;
	const uint8_t *body = http_body(req, &len);

	TRY(json_parse_object(body, len, out));
	err_t rc = json_check_fields(*out, fields, n);
	if (rc != ERR_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static void reply_machine(struct app *app, const char *id, unsigned status,
			  struct http_response *resp)
{
	struct machine m;
	err_t rc = app->store->ops->machine_get(app->store, id, &m);

	if (rc != ERR_OK)
		http_reply_error(resp, rc);
	else
		http_reply_json(resp, status, machine_to_json(&m));
}

void h_machine_enroll(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp)
{
	static const struct json_field fields[] = {{"machine_id", JSON_STRING, true},
						   {"note", JSON_STRING, false}};
	json_t *body = NULL;
	const char *id, *note;
	err_t rc;

	(void)arg;
	rc = parse_body(req, fields, 2, &body);
	if (rc == ERR_OK) {
		id = json_string_value(json_object_get(body, "machine_id"));
		note = json_string_value(json_object_get(body, "note"));
		if (!store_machine_id_valid(id))
			rc = err_fail(ERR_BAD_REQUEST, "machine_id: sha256: and 64 hex digits");
		else if (note != NULL && strlen(note) > 200)
			rc = err_fail(ERR_BAD_REQUEST, "note: at most 200 bytes");
		else
			rc = app->store->ops->machine_enroll(app->store, id, note ? note : "",
							     time(NULL));
	}
	if (rc != ERR_OK)
		http_reply_error(resp, rc);
	else
		reply_machine(app, id, 201, resp);
	json_decref(body);
}

void h_machine_update(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp)
{
	static const struct json_field fields[] = {{"revoked", JSON_TRUE, true},
						   {"reason", JSON_STRING, false}};
	json_t *body = NULL;
	const char *reason;
	err_t rc;

	rc = parse_body(req, fields, 2, &body);
	if (rc == ERR_OK) {
		reason = json_string_value(json_object_get(body, "reason"));
		if (reason != NULL && strlen(reason) > 200)
			rc = err_fail(ERR_BAD_REQUEST, "reason: at most 200 bytes");
		else
			rc = app->store->ops->machine_set_revoked(
			    app->store, arg,
			    json_is_true(json_object_get(body, "revoked")) ? time(NULL) : 0,
			    reason != NULL ? reason : "");
	}
	if (rc != ERR_OK)
		http_reply_error(resp, rc);
	else
		reply_machine(app, arg, 200, resp);
	json_decref(body);
}
