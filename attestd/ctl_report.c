/* attestctl report --month YYYY-MM: the monthly audit report. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "report.h"
#include "store.h"

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: attestctl [-c CONFIG] report --month YYYY-MM [--format md|html|csv]\n"
		"           [-o FILE]\n"
		"\nThe monthly audit report: machines admitted and refused, refusals by reason,\n"
		"virtual machines that tried to enter, new and revoked machines, and the state\n"
		"of the audit chain. Markdown by default; written to stdout unless -o.\n");
}

int ctl_report_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"month", required_argument, NULL, 'm'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *month = NULL, *output = NULL;
	enum report_format fmt = REPORT_MARKDOWN;
	struct store *st = NULL;
	FILE *out = stdout;
	int opt, status;
	err_t rc;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			month = optarg;
			break;
		case 'f':
			if (!report_format_from_str(optarg, &fmt)) {
				report_usage(stderr);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return CTL_EXIT_OK;
		default:
			report_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	int64_t since, until;
	if (optind != argc || report_month_range(month, &since, &until) != ERR_OK) {
		report_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	status = ctl_open_store(&st);
	if (status != CTL_EXIT_OK)
		return status;
	if (output != NULL && (out = fopen(output, "w")) == NULL) {
		perror(output);
		store_close(st);
		return CTL_EXIT_FAIL;
	}
	rc = report_write(st, month, fmt, out);
	if (out != stdout && fclose(out) != 0 && rc == ERR_OK)
		rc = err_fail(ERR_INTERNAL, "%s: write failed", output);
	store_close(st);
	return rc == ERR_OK ? CTL_EXIT_OK : ctl_fail(rc);
}
