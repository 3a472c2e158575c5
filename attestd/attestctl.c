/* attestctl: the operator and auditor command line. Dispatches to one
 * subcommand per area; each prints its own --help. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

static const struct ctl_command ctl_commands[] = {
	{"eventlog", "show or replay a TCG event log", ctl_eventlog_run},
	{"ek", "verify an EK certificate against a policy (trust store, vTPM rules)", ctl_ek_run},
	{"policy", "capture a boot policy from a known-good event log", ctl_policy_run},
	{"machines", "enroll, revoke, reinstate, list and show machines", ctl_machines_run},
	{"history", "query the attestation history", ctl_history_run},
	{"audit", "verify the hash chain of the history", ctl_audit_run},
	{"report", "the monthly audit report (Markdown, HTML or CSV)", ctl_report_run},
	{"keys", "rotate the token signing key", ctl_keys_run},
	{"apikeys", "create API keys for gateways, auditors and admins", ctl_apikeys_run},
	{"db", "migrate the store's schema; copy a sqlite history to PostgreSQL", ctl_db_run},
	{NULL, NULL, NULL},
};

static void ctl_usage(FILE *out)
{
	fprintf(out, "usage: attestctl [-c CONFIG] COMMAND [ARGS...]\n"
		     "       attestctl COMMAND --help\n\n"
		     "CONFIG is attestd's configuration file (default /etc/attestd/attestd.conf),\n"
		     "which names the store and state directory.\n\ncommands:\n");
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
	if (argc >= 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--config") == 0)) {
		ctl_set_config_path(argv[2]);
		argc -= 2;
		argv += 2;
	}
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
