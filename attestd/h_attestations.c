/* GET /v1/attestations (filters, cursor pagination, JSON or CSV) and
 * GET /v1/attestations/{id}: the auditors' view of the history. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "record_json.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000 /* rows per response, bounding memory and time */

static bool parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return false;
	*out = v;
	return true;
}

static err_t read_filter(struct http_request *req, struct attestation_filter *f)
{
	const char *outcome = http_query(req, "outcome");
	const char *v;
	int64_t n;

	memset(f, 0, sizeof(*f));
	f->machine_id = http_query(req, "machine");
	f->error = http_query(req, "error");
	f->outcome = -1;
	f->limit = PAGE_DEFAULT;
	if (outcome != NULL) {
		if (strcmp(outcome, "admitted") == 0)
			f->outcome = 1;
		else if (strcmp(outcome, "refused") == 0)
			f->outcome = 0;
		else
			return err_fail(ERR_BAD_REQUEST, "outcome: admitted or refused");
	}
	if ((v = http_query(req, "since")) != NULL && !parse_time(v, &f->since))
		return err_fail(ERR_BAD_REQUEST, "since: RFC 3339 UTC time or Unix seconds");
	if ((v = http_query(req, "until")) != NULL && !parse_time(v, &f->until))
		return err_fail(ERR_BAD_REQUEST, "until: RFC 3339 UTC time or Unix seconds");
	if ((v = http_query(req, "cursor")) != NULL && !parse_id(v, &f->after_id))
		return err_fail(ERR_BAD_REQUEST, "cursor: the next_cursor of a previous page");
	if ((v = http_query(req, "limit")) != NULL) {
		if (!parse_id(v, &n) || n < 1 || n > PAGE_MAX)
			return err_fail(ERR_BAD_REQUEST, "limit: 1..%d", PAGE_MAX);
		f->limit = (size_t)n;
	}
	return ERR_OK;
}

struct page {
	json_t *rows;
	FILE *csv;
	int64_t last_id;
	size_t count;
};

static bool add_row(const struct attestation_record *r, void *ctx)
{
	struct page *p = ctx;

	if (p->csv != NULL)
		record_to_csv(p->csv, r);
	else
		json_array_append_new(p->rows, record_to_json(r));
	p->last_id = r->id;
	p->count++;
	return true;
}

static bool wants_csv(struct http_request *req)
{
	const char *accept = http_header(req, "Accept");

	return accept != NULL && strstr(accept, "text/csv") != NULL;
}

void h_attestations_list(struct app *app, struct http_request *req, const char *arg,
			 struct http_response *resp)
{
	struct attestation_filter f;
	struct page p = {0};
	char *csv_buf = NULL;
	size_t csv_len = 0;
	err_t rc;

	(void)arg;
	rc = read_filter(req, &f);
	if (rc != ERR_OK) {
		http_reply_error(resp, rc);
		return;
	}
	if (wants_csv(req)) {
		p.csv = open_memstream(&csv_buf, &csv_len);
		if (p.csv == NULL) {
			http_reply_error(resp, err_fail(ERR_INTERNAL, "out of memory"));
			return;
		}
		record_csv_header(p.csv);
	} else {
		p.rows = json_array();
	}
	rc = app->store->ops->attestations_query(app->store, &f, add_row, &p);
	if (p.csv != NULL && fclose(p.csv) != 0 && rc == ERR_OK)
		rc = err_fail(ERR_INTERNAL, "out of memory");
	if (rc != ERR_OK) {
		free(csv_buf);
		json_decref(p.rows);
		http_reply_error(resp, rc);
		return;
	}
	/* A full page may have more behind it; the cursor continues after it. */
	char cursor[24] = "";
	if (p.count == f.limit)
		snprintf(cursor, sizeof(cursor), "%lld", (long long)p.last_id);
	if (p.csv != NULL) {
		http_reply_text(resp, 200, "text/csv; charset=utf-8", csv_buf, csv_len);
		if (cursor[0] != '\0')
			http_add_header(resp, "X-Next-Cursor", cursor);
		return;
	}
	http_reply_json(resp, 200,
			json_pack("{s:o, s:s?}", "attestations", p.rows, "next_cursor",
				  cursor[0] != '\0' ? cursor : NULL));
}

void h_attestation_get(struct app *app, struct http_request *req, const char *arg,
		       struct http_response *resp)
{
	struct attestation_record *r = malloc(sizeof(*r));
	int64_t id;
	err_t rc;

	(void)req;
	if (r == NULL) {
		http_reply_error(resp, err_fail(ERR_INTERNAL, "out of memory"));
		return;
	}
	if (!parse_id(arg, &id))
		rc = err_fail(ERR_NOT_FOUND, "no attestation %s", arg);
	else
		rc = app->store->ops->attestation_get(app->store, id, r);
	if (rc == ERR_OK)
		http_reply_json(resp, 200, record_to_json(r));
	else
		http_reply_error(resp, rc);
	free(r);
}
