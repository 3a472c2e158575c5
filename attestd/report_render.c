/* Rendering of the monthly report as Markdown, HTML and CSV. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "record_json.h"
#include "report_int.h"

/* A short, one-line summary of client-reported host metadata. */
void report_host_summary(const char *host_json, char *out, size_t cap)
{
	json_t *h = json_loads(host_json, 0, NULL);
	json_t *dmi = json_object_get(h, "dmi");
	const char *hostname = json_string_value(json_object_get(h, "hostname"));
	const char *vendor = json_string_value(json_object_get(dmi, "sys_vendor"));
	const char *product = json_string_value(json_object_get(dmi, "product_name"));

	snprintf(out, cap, "%s%s%s%s%s", hostname ? hostname : "(no hostname)", vendor ? ", " : "",
		 vendor ? vendor : "", product ? " " : "", product ? product : "");
	json_decref(h);
}

/* Every section is a table of text cells; one writer per format, so a
 * section is written once for all three. */
struct table {
	const char *section; /* CSV's first column */
	const char *title;
	size_t ncols;
	const char *const *headers;
};

static void escape_markdown(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_')
			fputc('\\', f);
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void escape_html(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void table_begin(FILE *f, enum report_format fmt, const struct table *t)
{
	switch (fmt) {
	case REPORT_MARKDOWN:
		fprintf(f, "\n## %s\n\n|", t->title);
		for (size_t i = 0; i < t->ncols; i++)
			fprintf(f, " %s |", t->headers[i]);
		fputs("\n|", f);
		for (size_t i = 0; i < t->ncols; i++)
			fputs(" --- |", f);
		fputc('\n', f);
		break;
	case REPORT_HTML:
		fprintf(f, "<h2>%s</h2>\n<table>\n<tr>", t->title);
		for (size_t i = 0; i < t->ncols; i++)
			fprintf(f, "<th>%s</th>", t->headers[i]);
		fputs("</tr>\n", f);
		break;
	case REPORT_CSV:
		/* Several tables in one CSV: each starts with its own header
		 * row, whose first cell is "section". */
		record_csv_cell(f, "section", false);
		for (size_t i = 0; i < t->ncols; i++)
			record_csv_cell(f, t->headers[i], i + 1 == t->ncols);
		break;
	}
}

static void table_row(FILE *f, enum report_format fmt, const struct table *t,
		      const char *const *cells)
{
	switch (fmt) {
	case REPORT_MARKDOWN:
		fputc('|', f);
		for (size_t i = 0; i < t->ncols; i++) {
			fputc(' ', f);
			escape_markdown(f, cells[i]);
			fputs(" |", f);
		}
		fputc('\n', f);
		break;
	case REPORT_HTML:
		fputs("<tr>", f);
		for (size_t i = 0; i < t->ncols; i++) {
			fputs("<td>", f);
			escape_html(f, cells[i]);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
		break;
	case REPORT_CSV:
		record_csv_cell(f, t->section, false);
		for (size_t i = 0; i < t->ncols; i++)
			record_csv_cell(f, cells[i], i + 1 == t->ncols);
		break;
	}
}

static void table_end(FILE *f, enum report_format fmt, size_t rows)
{
	if (fmt == REPORT_MARKDOWN && rows == 0)
		fputs("| (none) |\n", f);
	if (fmt == REPORT_HTML)
		fputs(rows == 0 ? "<tr><td>(none)</td></tr>\n</table>\n" : "</table>\n", f);
}

static void render_summary(FILE *f, enum report_format fmt, const struct report *r)
{
	static const char *const headers[] = {"item", "value"};
	const struct table t = {"summary", "Summary", 2, headers};
	char total[24], admitted[24], refused[24], machines[24], vm[24], audit[160];

	snprintf(total, sizeof(total), "%lld", (long long)r->total);
	snprintf(admitted, sizeof(admitted), "%lld", (long long)r->admitted);
	snprintf(refused, sizeof(refused), "%lld", (long long)r->refused);
	snprintf(machines, sizeof(machines), "%zu", r->nmachines);
	snprintf(vm, sizeof(vm), "%lld", (long long)r->vm_total);
	if (r->audit.first_bad_id == 0)
		snprintf(audit, sizeof(audit), "OK (%lld rows verified)", (long long)r->audit.rows);
	else
		snprintf(audit, sizeof(audit), "BROKEN at row %lld: %s",
			 (long long)r->audit.first_bad_id, r->audit.reason);
	const char *const rows[][2] = {
	    {"attestations", total},	 {"admitted", admitted},	   {"refused", refused},
	    {"machines seen", machines}, {"virtual-machine attempts", vm}, {"audit chain", audit},
	};
	table_begin(f, fmt, &t);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		table_row(f, fmt, &t, rows[i]);
	table_end(f, fmt, 1);
}

static void render_machines(FILE *f, enum report_format fmt, const struct report *r)
{
	static const char *const headers[] = {"machine", "admitted", "refused", "last outcome",
					      "last attestation"};
	const struct table t = {"machine", "Machines", 5, headers};

	table_begin(f, fmt, &t);
	for (size_t i = 0; i < r->nmachines; i++) {
		const struct machine_summary *m = &r->machines[i];
		char a[24], ref[24], when[32];

		snprintf(a, sizeof(a), "%lld", (long long)m->admitted);
		snprintf(ref, sizeof(ref), "%lld", (long long)m->refused);
		rfc3339(m->last_time, when);
		const char *const cells[] = {m->id[0] != '\0' ? m->id : "(unidentified)", a, ref,
					     store_outcome_str(m->last_admitted), when};
		table_row(f, fmt, &t, cells);
	}
	table_end(f, fmt, r->nmachines);
}

static void render_reasons(FILE *f, enum report_format fmt, const struct report *r)
{
	static const char *const headers[] = {"reason", "refusals"};
	const struct table t = {"refusal_reason", "Refusals by reason", 2, headers};

	table_begin(f, fmt, &t);
	for (size_t i = 0; i < r->nreasons; i++) {
		char n[24];

		snprintf(n, sizeof(n), "%lld", (long long)r->reasons[i].count);
		const char *const cells[] = {r->reasons[i].code, n};
		table_row(f, fmt, &t, cells);
	}
	table_end(f, fmt, r->nreasons);
}

static void render_vm_attempts(FILE *f, enum report_format fmt, const struct report *r)
{
	static const char *const headers[] = {
	    "time", "machine", "reason", "TPM manufacturer", "reported host", "detail"};
	const struct table t = {"virtual_machine_attempt", "Virtual machines that tried to enter",
				6, headers};

	table_begin(f, fmt, &t);
	for (size_t i = 0; i < r->nvm; i++) {
		const struct attestation_record *v = &r->vm[i];
		char when[32], host[256];

		rfc3339(v->time, when);
		report_host_summary(v->host, host, sizeof(host));
		const char *const cells[] = {when, v->machine_id, v->error, v->ek_manufacturer,
					     host, v->detail};
		table_row(f, fmt, &t, cells);
	}
	table_end(f, fmt, r->nvm);
	if (r->vm_total > (int64_t)r->nvm && fmt != REPORT_CSV)
		fprintf(f, "\n(%lld more not listed)\n",
			(long long)(r->vm_total - (int64_t)r->nvm));
}

static void render_machine_list(FILE *f, enum report_format fmt, const struct machine *list,
				size_t n, bool revoked)
{
	static const char *const new_headers[] = {"machine", "first seen", "enrolled", "note"};
	static const char *const rev_headers[] = {"machine", "revoked at", "enrolled", "note"};
	const struct table t = {revoked ? "revoked_machine" : "new_machine",
				revoked ? "Revoked machines" : "New machines", 4,
				revoked ? rev_headers : new_headers};

	table_begin(f, fmt, &t);
	for (size_t i = 0; i < n; i++) {
		char when[32];

		rfc3339(revoked
			    ? list[i].revoked_at
			    : (list[i].first_seen != 0 ? list[i].first_seen : list[i].enrolled_at),
			when);
		const char *const cells[] = {list[i].id, when, list[i].enrolled ? "yes" : "no",
					     list[i].note};
		table_row(f, fmt, &t, cells);
	}
	table_end(f, fmt, n);
}

void report_render(const struct report *r, enum report_format fmt, FILE *out)
{
	switch (fmt) {
	case REPORT_MARKDOWN:
		fprintf(out, "# attestd audit report %s\n", r->month);
		break;
	case REPORT_HTML:
		fprintf(out,
			"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			"<title>attestd audit report %s</title></head><body>\n"
			"<h1>attestd audit report %s</h1>\n",
			r->month, r->month);
		break;
	case REPORT_CSV:
		break;
	}
	render_summary(out, fmt, r);
	render_machines(out, fmt, r);
	render_reasons(out, fmt, r);
	render_vm_attempts(out, fmt, r);
	render_machine_list(out, fmt, r->new_machines, r->nnew, false);
	render_machine_list(out, fmt, r->revoked_machines, r->nrevoked, true);
	if (fmt == REPORT_HTML)
		fputs("</body></html>\n", out);
}
