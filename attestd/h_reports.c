/* GET /v1/reports/monthly?month=YYYY-MM[&format=md|html|csv]: the monthly
 * audit report, as attestctl report writes it (auditors). */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "report.h"

void h_report_monthly(struct app *app, struct http_request *req, const char *arg,
		      struct http_response *resp)
{
	static const char *const content_types[] = {
	    [REPORT_MARKDOWN] = "text/markdown; charset=utf-8",
	    [REPORT_HTML] = "text/html; charset=utf-8",
	    [REPORT_CSV] = "text/csv; charset=utf-8",
	};
	const char *format = http_query(req, "format");
	enum report_format fmt = REPORT_MARKDOWN;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	err_t rc;

	(void)arg;
	if (format != NULL && !report_format_from_str(format, &fmt)) {
		http_reply_error(resp, err_fail(ERR_BAD_REQUEST, "format: md, html or csv"));
		return;
	}
	out = open_memstream(&buf, &len);
	if (out == NULL) {
		http_reply_error(resp, err_fail(ERR_INTERNAL, "out of memory"));
		return;
	}
	rc = report_write(app->store, http_query(req, "month"), fmt, out);
	if (fclose(out) != 0 && rc == ERR_OK)
		rc = err_fail(ERR_INTERNAL, "out of memory");
	if (rc != ERR_OK) {
		free(buf);
		http_reply_error(resp, rc);
		return;
	}
	http_reply_text(resp, 200, content_types[fmt], buf, len);
}
