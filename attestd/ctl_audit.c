/* attestctl audit verify (the hash chain) and attestctl history (queries
 * of the attestation history, as text, JSON or CSV). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "record_json.h"
#include "store.h"

int ctl_audit_run(int argc, char **argv)
{
	struct audit_result res;
	struct store *st = NULL;
	int status;
	err_t rc;

	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		bool help = argc == 2 && strcmp(argv[1], "--help") == 0;

		fprintf(
		    help ? stdout : stderr,
		    "usage: attestctl [-c CONFIG] audit verify\n"
		    "\nRecomputes the hash chain of the attestation history and reports the\n"
		    "first row that was edited, removed or inserted. Exit 0 only when intact.\n");
		return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	status = ctl_open_store(&st);
	if (status != CTL_EXIT_OK)
		return status;
	rc = st->ops->audit_verify(st, &res);
	store_close(st);
	if (rc != ERR_OK)
		return ctl_fail(rc);
	if (res.first_bad_id != 0) {
		printf("audit chain BROKEN at row %lld: %s (%lld rows read)\n",
		       (long long)res.first_bad_id, res.reason, (long long)res.rows);
		return CTL_EXIT_FAIL;
	}
	printf("audit chain OK: %lld rows\n", (long long)res.rows);
	return CTL_EXIT_OK;
}

enum history_format { HISTORY_TEXT, HISTORY_JSON, HISTORY_CSV };

static bool print_row(const struct attestation_record *r, void *ctx)
{
	const enum history_format *fmt = ctx;
	char t[32];
	json_t *j;

	switch (*fmt) {
	case HISTORY_CSV:
		record_to_csv(stdout, r);
		break;
	case HISTORY_JSON:
		j = record_to_json(r);
		json_dumpf(j, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(j);
		break;
	case HISTORY_TEXT:
		rfc3339(r->time, t);
		printf("%6lld %s %-9s %-8s %s %s%s%s\n", (long long)r->id, t, r->phase,
		       store_outcome_str(r->admitted), r->machine_id, r->error,
		       r->detail[0] != '\0' ? ": " : "", r->detail);
		break;
	}
	return true;
}

static void history_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: attestctl [-c CONFIG] history [--machine ID] [--outcome admitted|refused]\n"
	    "           [--error CODE] [--since TIME] [--until TIME] [--limit N] [--json|--csv]\n"
	    "\nTIME is RFC 3339 UTC (2026-11-22T10:00:00Z) or Unix seconds. JSON is one\n"
	    "object per line.\n");
}

int ctl_history_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"machine", required_argument, NULL, 'm'}, {"outcome", required_argument, NULL, 'o'},
	    {"error", required_argument, NULL, 'e'},   {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},   {"limit", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},	       {"csv", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	struct attestation_filter f = {.outcome = -1, .limit = (size_t)INT64_MAX};
	enum history_format fmt = HISTORY_TEXT;
	struct store *st = NULL;
	int opt, status;
	err_t rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'm':
			f.machine_id = optarg;
			break;
		case 'o':
			ok = strcmp(optarg, "admitted") == 0 || strcmp(optarg, "refused") == 0;
			f.outcome = strcmp(optarg, "admitted") == 0;
			break;
		case 'e':
			f.error = optarg;
			break;
		case 's':
			ok = parse_time(optarg, &f.since);
			break;
		case 'u':
			ok = parse_time(optarg, &f.until);
			break;
		case 'l':
			f.limit = (size_t)strtoull(optarg, NULL, 10);
			ok = f.limit > 0;
			break;
		case 'j':
			fmt = HISTORY_JSON;
			break;
		case 'C':
			fmt = HISTORY_CSV;
			break;
		case 'h':
			history_usage(stdout);
			return CTL_EXIT_OK;
		default:
			ok = false;
		}
		if (!ok) {
			history_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		history_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	status = ctl_open_store(&st);
	if (status != CTL_EXIT_OK)
		return status;
	if (fmt == HISTORY_CSV)
		record_csv_header(stdout);
	rc = st->ops->attestations_query(st, &f, print_row, &fmt);
	store_close(st);
	return rc == ERR_OK ? CTL_EXIT_OK : ctl_fail(rc);
}
