/* attestctl subcommands: each area of the operator CLI lives in its own
 * ctl_<area>.c and is listed once in attestctl.c's table. */
#ifndef ATTEST_CTL_H
#define ATTEST_CTL_H

/* Exit statuses every subcommand uses: 0 success (or "trusted"/"ok"
 * verdict), 1 a negative verdict or a failure of the operation, 2 bad usage. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,
	CTL_EXIT_USAGE = 2,
};

/* argv[0] is the subcommand's own name ("eventlog"); getopt may be used. */
typedef int (*ctl_run_fn)(int argc, char **argv);

struct ctl_command {
	const char *name;
	const char *summary; /* one line for `attestctl --help` */
	ctl_run_fn run;
};

struct evlog;

/* attestctl eventlog (ctl_eventlog.c) and attestctl policy (ctl_policy.c). */
int ctl_eventlog_run(int argc, char **argv);
int ctl_policy_run(int argc, char **argv);
/* Reads and parses an event log file (securityfs files too); prints the
 * error and returns CTL_EXIT_FAIL, or CTL_EXIT_OK with *out to evlog_free. */
int ctl_eventlog_load(const char *path, struct evlog **out);

#include "err.h"

struct config;
struct store;

/* attestctl -c FILE (ctl_common.c): the daemon's configuration, to find its
 * store and state directory; NULL after printing why it failed. */
void ctl_set_config_path(const char *path);
const struct config *ctl_config(void);
/* Opens the configured store, or prints why not and returns CTL_EXIT_FAIL. */
int ctl_open_store(struct store **out);
/* Prints "attestctl: CODE: detail" and returns CTL_EXIT_FAIL. */
int ctl_fail(err_t e);

int ctl_machines_run(int argc, char **argv); /* ctl_machines.c */
int ctl_keys_run(int argc, char **argv);     /* ctl_keys.c */
int ctl_apikeys_run(int argc, char **argv);  /* ctl_keys.c */
int ctl_audit_run(int argc, char **argv);    /* ctl_audit.c */
int ctl_history_run(int argc, char **argv);  /* ctl_audit.c */
int ctl_report_run(int argc, char **argv);   /* ctl_report.c */
int ctl_ek_run(int argc, char **argv);       /* ctl_ek.c */
int ctl_db_run(int argc, char **argv);       /* ctl_db.c */

#endif
