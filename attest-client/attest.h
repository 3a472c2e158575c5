/* One attestation, from the TPM to an admission token: gathers the
 * evidence, runs the two calls of DESIGN.md against the verifier with
 * bounded retries, and writes the token. Owns the exit codes. */
#ifndef ATTEST_CLIENT_ATTEST_H
#define ATTEST_CLIENT_ATTEST_H

#include <stdbool.h>

#include "config.h"

/* What a script can act on; documented in --help. */
enum attest_exit {
	ATTEST_EXIT_ADMITTED = 0,    /* token written (and printed on request) */
	ATTEST_EXIT_REFUSED = 1,     /* the verifier said no: CODE: detail on stderr */
	ATTEST_EXIT_USAGE = 2,	     /* bad command line, configuration or local file */
	ATTEST_EXIT_UNREACHABLE = 3, /* no answer after the retries, or a server error */
	ATTEST_EXIT_TPM = 4,	     /* the TPM failed or holds no usable EK */
};

/* The PCRs --dry-run shows: the default policy's selection (the server
 * names the real one in its challenge). */
#define ATTEST_DRY_RUN_SELECTION "sha256:0,1,2,3,4,5,6,7"

struct attest_options {
	bool dry_run;	  /* print the evidence as JSON on stdout; send nothing */
	bool print_token; /* print the token on stdout */
};

enum attest_exit attest_run(const struct client_config *cfg, const struct attest_options *opt);

/* A signal handler (SIGTERM, SIGINT): ends the retries at the next pause,
 * so the TPM objects are still flushed (swtpm and /dev/tpm0 have no
 * resource manager to do it for a killed client). */
void attest_stop(int sig);

#endif
