/* History rows and machines as JSON and CSV, and RFC 3339 times: the one
 * rendering shared by the auditor API and attestctl. */
#ifndef ATTEST_RECORD_JSON_H
#define ATTEST_RECORD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

/* "2026-11-22T10:00:00Z" */
void rfc3339(int64_t t, char out[32]);

/* Accepts RFC 3339 UTC ("2026-11-22T10:00:00Z") or Unix seconds. */
bool parse_time(const char *s, int64_t *out);

json_t *record_to_json(const struct attestation_record *r);
json_t *machine_to_json(const struct machine *m);

/* One RFC 4180 cell and its separator (',' or, when last, CRLF). */
void record_csv_cell(FILE *f, const char *s, bool last);

void record_csv_header(FILE *f);
void record_to_csv(FILE *f, const struct attestation_record *r);

#endif
