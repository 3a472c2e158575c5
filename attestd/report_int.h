/* Internals of the monthly report shared by gathering (report.c) and
 * rendering (report_render.c). */
#ifndef ATTEST_REPORT_INT_H
#define ATTEST_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "store.h"

struct machine_summary {
	char id[80];
	int64_t admitted;
	int64_t refused;
	int64_t last_time;
	bool last_admitted;
};

struct reason_count {
	char code[40];
	int64_t count;
};

struct report {
	char month[8];
	int64_t since, until;
	int64_t total, admitted, refused;
	struct machine_summary *machines;
	size_t nmachines, cap_machines;
	struct reason_count reasons[ERR_COUNT];
	size_t nreasons;
	struct attestation_record *vm; /* virtual-machine attempts */
	size_t nvm;
	int64_t vm_total;
	struct machine *new_machines, *revoked_machines;
	size_t nnew, nrevoked, cap_new, cap_revoked;
	struct audit_result audit;
};

/* A short, one-line summary of client-reported host metadata (JSON). */
void report_host_summary(const char *host_json, char *out, size_t cap);

void report_render(const struct report *r, enum report_format fmt, FILE *out);

#endif
