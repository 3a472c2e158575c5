/* Rendering of history rows and machines. */
#include "record_json.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"

void rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

bool parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *end;
	char *num_end;
	long long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &num_end, 10);
	if (*num_end == '\0' && errno == 0 && isdigit((unsigned char)s[0])) {
		*out = v;
		return true;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static json_t *time_or_null(int64_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	rfc3339(t, buf);
	return json_string(buf);
}

static json_t *hex_string(const uint8_t *p, size_t n)
{
	char buf[2 * STORE_HASH_LEN + 1];

	hex_encode(p, n, buf);
	return json_string(buf);
}

json_t *record_to_json(const struct attestation_record *r)
{
	json_t *host = r->host[0] != '\0' ? json_loads(r->host, 0, NULL) : NULL;

	return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:I, s:I,"
			 " s:o, s:s?, s:o, s:o}",
			 "id", (json_int_t)r->id, "time", time_or_null(r->time), "phase", r->phase,
			 "machine_id", r->machine_id, "ek_issuer", r->ek_issuer, "ek_manufacturer",
			 r->ek_manufacturer, "outcome", store_outcome_str(r->admitted), "error",
			 r->error[0] != '\0' ? r->error : NULL, "detail",
			 r->detail[0] != '\0' ? r->detail : NULL, "policy", r->policy, "pcr_digest",
			 r->pcr_digest[0] != '\0' ? r->pcr_digest : NULL, "reset_count",
			 (json_int_t)r->reset_count, "restart_count", (json_int_t)r->restart_count,
			 "host", host != NULL ? host : json_null(), "token_jti",
			 r->token_jti[0] != '\0' ? r->token_jti : NULL, "prev_hash",
			 hex_string(r->prev_hash, STORE_HASH_LEN), "hash",
			 hex_string(r->hash, STORE_HASH_LEN));
}

json_t *machine_to_json(const struct machine *m)
{
	return json_pack("{s:s, s:b, s:o, s:b, s:o, s:s, s:s, s:s, s:o, s:o, s:s?}", "machine_id",
			 m->id, "enrolled", m->enrolled, "enrolled_at",
			 time_or_null(m->enrolled_at), "revoked", m->revoked_at != 0, "revoked_at",
			 time_or_null(m->revoked_at), "note", m->note, "ek_issuer", m->ek_issuer,
			 "ek_manufacturer", m->ek_manufacturer, "first_seen",
			 time_or_null(m->first_seen), "last_seen", time_or_null(m->last_seen),
			 "last_outcome", m->last_outcome[0] != '\0' ? m->last_outcome : NULL);
}

/* RFC 4180 quoting; a cell that a spreadsheet would run as a formula gets
 * a leading apostrophe (host metadata comes from clients). */
void record_csv_cell(FILE *f, const char *s, bool last)
{
	fputc('"', f);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
		fputc('\'', f);
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '"')
			fputc('"', f);
		fputc(*c, f);
	}
	fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

void record_csv_header(FILE *f)
{
	fputs("id,time,phase,machine_id,ek_issuer,ek_manufacturer,outcome,error,detail,policy,"
	      "pcr_digest,reset_count,restart_count,host,token_jti,hash\r\n",
	      f);
}

void record_to_csv(FILE *f, const struct attestation_record *r)
{
	char t[32], hash[2 * STORE_HASH_LEN + 1];

	rfc3339(r->time, t);
	hex_encode(r->hash, STORE_HASH_LEN, hash);
	fprintf(f, "%lld,", (long long)r->id);
	record_csv_cell(f, t, false);
	record_csv_cell(f, r->phase, false);
	record_csv_cell(f, r->machine_id, false);
	record_csv_cell(f, r->ek_issuer, false);
	record_csv_cell(f, r->ek_manufacturer, false);
	record_csv_cell(f, store_outcome_str(r->admitted), false);
	record_csv_cell(f, r->error, false);
	record_csv_cell(f, r->detail, false);
	record_csv_cell(f, r->policy, false);
	record_csv_cell(f, r->pcr_digest, false);
	fprintf(f, "%lld,%lld,", (long long)r->reset_count, (long long)r->restart_count);
	record_csv_cell(f, r->host, false);
	record_csv_cell(f, r->token_jti, false);
	record_csv_cell(f, hash, true);
}
