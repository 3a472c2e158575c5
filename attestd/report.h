/* The monthly audit report: machines admitted and refused, refusals by
 * reason, virtual machines that tried to enter (with the host metadata they
 * reported), new and revoked machines, and the state of the audit chain;
 * as Markdown, HTML or CSV. Built from the store, shared by attestctl and
 * the auditor API. */
#ifndef ATTEST_REPORT_H
#define ATTEST_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

enum report_format { REPORT_MARKDOWN, REPORT_HTML, REPORT_CSV };

/* Virtual-machine attempts listed one by one; beyond, only counted. */
#define REPORT_MAX_VM_ATTEMPTS 500

/* "md"/"markdown", "html", "csv". */
bool report_format_from_str(const char *s, enum report_format *out) WARN_UNUSED;

/* "YYYY-MM" to [since, until) in Unix seconds, UTC. */
err_t report_month_range(const char *month, int64_t *since, int64_t *until) WARN_UNUSED;

/* Writes the report for month ("YYYY-MM") to out. */
err_t report_write(struct store *st, const char *month, enum report_format fmt,
		   FILE *out) WARN_UNUSED;

#endif
