/* attestctl: the operator and auditor command line. Dispatches to one
 * subcommand per area; each prints its own --help. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

static const struct ctl_command ctl_commands[] = {
	{"eventlog", "show or replay a TCG event log", ctl_eventlog_run},
	{NULL, NULL, NULL},
};

static void ctl_usage(FILE *out)
{
	fprintf(out, "usage: attestctl COMMAND [ARGS...]\n"
		     "       attestctl COMMAND --help\n\ncommands:\n");
	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
	log_init("attestctl");
	if (argc < 2) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++) {
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "attestctl: unknown command '%s'\n", argv[1]);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}
