/* Monthly audit report: gather from the store (aggregated by the
 * database), then render. Everything a client reported is escaped for the
 * output format: host metadata is attacker-controlled text. */
#include "report.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_int.h"

bool report_format_from_str(const char *s, enum report_format *out)
{
	if (strcmp(s, "md") == 0 || strcmp(s, "markdown") == 0)
		*out = REPORT_MARKDOWN;
	else if (strcmp(s, "html") == 0)
		*out = REPORT_HTML;
	else if (strcmp(s, "csv") == 0)
		*out = REPORT_CSV;
	else
		return false;
	return true;
}

err_t report_month_range(const char *month, int64_t *since, int64_t *until)
{
	struct tm tm = {0};

	if (month == NULL || strlen(month) != 7 || month[4] != '-' ||
	    !isdigit((unsigned char)month[0]) || !isdigit((unsigned char)month[5]) ||
	    sscanf(month, "%4d-%2d", &tm.tm_year, &tm.tm_mon) != 2 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_year < 1970)
		return err_fail(ERR_BAD_REQUEST, "month: expected YYYY-MM, got '%s'",
				month != NULL ? month : "");
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday = 1;
	*since = (int64_t)timegm(&tm);
	tm.tm_mon += 1; /* timegm normalizes month 12 into January of next year */
	*until = (int64_t)timegm(&tm);
	return ERR_OK;
}

/* Grows an array by doubling; false when out of memory. */
static bool grow(void **p, size_t *cap, size_t n, size_t elem)
{
	size_t c = *cap != 0 ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return true;
	q = realloc(*p, c * elem);
	if (q == NULL)
		return false;
	*p = q;
	*cap = c;
	return true;
}

static bool add_count(const struct attestation_count *c, void *ctx)
{
	struct report *r = ctx;
	struct machine_summary *m;

	r->total += c->count;
	if (c->admitted) {
		r->admitted += c->count;
	} else {
		size_t i;

		r->refused += c->count;
		for (i = 0; i < r->nreasons && strcmp(r->reasons[i].code, c->error) != 0; i++)
			;
		if (i == r->nreasons && r->nreasons < ERR_COUNT)
			snprintf(r->reasons[r->nreasons++].code, sizeof(r->reasons[0].code), "%s",
				 c->error);
		if (i < r->nreasons)
			r->reasons[i].count += c->count;
	}
	/* Rows come ordered by machine: a new machine starts a new summary. */
	if (r->nmachines == 0 || strcmp(r->machines[r->nmachines - 1].id, c->machine_id) != 0) {
		if (!grow((void **)&r->machines, &r->cap_machines, r->nmachines, sizeof(*m)))
			return false;
		m = &r->machines[r->nmachines++];
		memset(m, 0, sizeof(*m));
		snprintf(m->id, sizeof(m->id), "%s", c->machine_id);
	}
	m = &r->machines[r->nmachines - 1];
	*(c->admitted ? &m->admitted : &m->refused) += c->count;
	if (c->last_time >= m->last_time) {
		m->last_time = c->last_time;
		m->last_admitted = c->admitted;
	}
	return true;
}

static bool add_vm_attempt(const struct attestation_record *rec, void *ctx)
{
	struct report *r = ctx;

	r->vm_total++;
	if (r->nvm < REPORT_MAX_VM_ATTEMPTS)
		r->vm[r->nvm++] = *rec;
	return true;
}

static bool add_machine_event(const struct machine *m, void *ctx)
{
	struct report *r = ctx;
	bool is_new = (m->first_seen >= r->since && m->first_seen < r->until) ||
		      (m->enrolled_at >= r->since && m->enrolled_at < r->until);
	bool revoked = m->revoked_at >= r->since && m->revoked_at < r->until;

	if (is_new) {
		if (!grow((void **)&r->new_machines, &r->cap_new, r->nnew, sizeof(*m)))
			return false;
		r->new_machines[r->nnew++] = *m;
	}
	if (revoked) {
		if (!grow((void **)&r->revoked_machines, &r->cap_revoked, r->nrevoked, sizeof(*m)))
			return false;
		r->revoked_machines[r->nrevoked++] = *m;
	}
	return true;
}

static err_t gather(struct store *st, struct report *r)
{
	static const char *const vm_codes[] = {"ek_virtual_tpm", "virtual_platform"};

	TRY(st->ops->attestation_counts(st, r->since, r->until, add_count, r));
	r->vm = calloc(REPORT_MAX_VM_ATTEMPTS, sizeof(*r->vm));
	if (r->vm == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < 2; i++) {
		struct attestation_filter f = {.outcome = 0,
					       .error = vm_codes[i],
					       .since = r->since,
					       .until = r->until,
					       .limit = (size_t)INT64_MAX};

		TRY(st->ops->attestations_query(st, &f, add_vm_attempt, r));
	}
	TRY(st->ops->machines_list(st, NULL, (size_t)INT64_MAX, add_machine_event, r));
	return st->ops->audit_verify(st, &r->audit);
}

static void report_free(struct report *r)
{
	free(r->machines);
	free(r->vm);
	free(r->new_machines);
	free(r->revoked_machines);
}

err_t report_write(struct store *st, const char *month, enum report_format fmt, FILE *out)
{
	struct report r;
	err_t rc;

	memset(&r, 0, sizeof(r));
	TRY(report_month_range(month, &r.since, &r.until));
	snprintf(r.month, sizeof(r.month), "%s", month);
	rc = gather(st, &r);
	if (rc == ERR_OK)
		report_render(&r, fmt, out);
	report_free(&r);
	return rc;
}
