/* attest-client: the command line. One table names every option, drives
 * getopt_long and writes --help; each setting option is also a key of the
 * configuration file (--ek-cert is ek_cert). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "config.h"
#include "log.h"

enum cli_kind {
	CLI_SETTING, /* a configuration key: the file's, overridden here */
	CLI_CONFIG_FILE,
	CLI_DRY_RUN,
	CLI_PRINT_TOKEN,
	CLI_VERBOSE,
	CLI_HELP,
	CLI_VERSION,
};

struct cli_option {
	const char *name;
	char short_name; /* 0: long form only */
	const char *arg; /* NULL: a flag */
	enum cli_kind kind;
	const char *help;
};

static const struct cli_option cli_options[] = {
    {"url", 'u', "URL", CLI_SETTING, "the verifier, https://HOST[:PORT][/PREFIX]"},
    {"ca-bundle", 0, "FILE", CLI_SETTING,
     "CA certificates (PEM) that vouch for the verifier (default: the system's)"},
    {"insecure-http", 0, NULL, CLI_SETTING,
     "allow http:// to a host that is not loopback (loopback needs no flag)"},
    {"tcti", 'T', "TCTI", CLI_SETTING,
     "the TPM: device:/dev/tpmrm0 (default), swtpm:host=H,port=P, tabrmd, ..."},
    {"token-file", 'o', "FILE", CLI_SETTING,
     "where the token is written, mode 0600 (default " CLIENT_DEFAULT_TOKEN_FILE
     "; \"\" for nowhere)"},
    {"print-token", 'p', NULL, CLI_PRINT_TOKEN, "also print the token on stdout"},
    {"event-log", 0, "FILE", CLI_SETTING,
     "binary TCG event log (default " CLIENT_DEFAULT_EVENT_LOG "; sent when present)"},
    {"ek-alg", 0, "auto|rsa|ecc", CLI_SETTING,
     "which certified EK (default auto: ECC P-256 if certified, else RSA-2048)"},
    {"ek-cert", 0, "FILE", CLI_SETTING,
     "EK certificate (DER or PEM) for TPMs whose certificates are served online"},
    {"ek-chain", 0, "FILE", CLI_SETTING,
     "intermediate certificates (DER or PEM), sent with those in NV"},
    {"ak-alg", 0, "ecc|rsa", CLI_SETTING, "algorithm of a new AK (default ecc: P-256)"},
    {"ak-handle", 0, "HANDLE", CLI_SETTING, "use the persistent AK at HANDLE (0x81......)"},
    {"ak-context", 0, "FILE", CLI_SETTING, "use the AK saved by tpm2_createak -c FILE"},
    {"retries", 0, "N", CLI_SETTING, "tries after a network failure (default 5)"},
    {"retry-delay", 0, "MS", CLI_SETTING,
     "first pause before a retry; doubles each time (default 1000)"},
    {"retry-max-delay", 0, "MS", CLI_SETTING, "longest pause (default 30000)"},
    {"timeout", 0, "SECONDS", CLI_SETTING, "time allowed for one HTTP request (default 30)"},
    {"config", 'c', "FILE", CLI_CONFIG_FILE,
     "configuration file (default " CLIENT_CONFIG_DEFAULT_PATH ", if it exists)"},
    {"dry-run", 'n', NULL, CLI_DRY_RUN, "print the evidence as JSON on stdout and send nothing"},
    {"verbose", 'v', NULL, CLI_VERBOSE, "log every step, its timing and the TSS's errors"},
    {"help", 'h', NULL, CLI_HELP, "this text"},
    {"version", 'V', NULL, CLI_VERSION, "the version"},
};

#define CLI_COUNT (sizeof(cli_options) / sizeof(cli_options[0]))

/* getopt_long's value for the i-th option: past every character. */
#define CLI_VAL(i) (256 + (int)(i))

static void usage(FILE *out)
{
	fprintf(out, "usage: attest-client [OPTIONS]\n\n"
		     "Proves to an attestd verifier, with this machine's TPM, that it is the\n"
		     "physical machine its EK certificate names and that it booted as policy\n"
		     "requires, and stores the admission token the verifier answers.\n\n"
		     "options:\n");
	for (size_t i = 0; i < CLI_COUNT; i++) {
		const struct cli_option *o = &cli_options[i];
		char left[64];

		snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-32s %s\n", left, o->help);
	}
	fprintf(
	    out,
	    "\nexit status:\n"
	    "  %d  admitted: the token was written (and printed with --print-token)\n"
	    "  %d  refused by the verifier; \"refused by the verifier: CODE: detail\" on stderr\n"
	    "  %d  usage or configuration error (options, files, token file)\n"
	    "  %d  verifier unreachable after the retries, or a server error (5xx)\n"
	    "  %d  TPM error (no TPM, a failed command, no usable EK certificate)\n"
	    "\nOnly network failures, 503 and 429 are retried, with a doubling pause.\n"
	    "Every setting option is also a `key = value` line of the configuration\n"
	    "file, with '_' for '-' (ek_cert = /etc/attest/ek.pem). Precedence:\n"
	    "options, then ATTEST_TCTI for the TPM, then the file, then defaults.\n",
	    ATTEST_EXIT_ADMITTED, ATTEST_EXIT_REFUSED, ATTEST_EXIT_USAGE, ATTEST_EXIT_UNREACHABLE,
	    ATTEST_EXIT_TPM);
}

/* A setting from the command line, applied after the file. */
struct cli_setting {
	const struct cli_option *opt;
	const char *value;
};

struct cli {
	const char *config_path;
	bool dry_run, print_token, verbose;
	struct cli_setting *settings;
	size_t setting_count;
};

/* Reads argv into cli. Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct cli *cli)
{
	struct option longopts[CLI_COUNT + 1];
	char shortopts[2 * CLI_COUNT + 2] = ":";
	size_t s = 1;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < CLI_COUNT; i++) {
		longopts[i].name = cli_options[i].name;
		longopts[i].has_arg = cli_options[i].arg ? required_argument : no_argument;
		longopts[i].val = CLI_VAL(i);
		if (cli_options[i].short_name) {
			shortopts[s++] = cli_options[i].short_name;
			if (cli_options[i].arg)
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct cli_option *o = NULL;

		for (size_t i = 0; i < CLI_COUNT && o == NULL; i++) {
			if (c == CLI_VAL(i) || (c < 256 && c == cli_options[i].short_name))
				o = &cli_options[i];
		}
		if (o == NULL) {
			fprintf(stderr, "attest-client: %s '%s'\n",
				c == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			usage(stderr);
			return ATTEST_EXIT_USAGE;
		}
		switch (o->kind) {
		case CLI_SETTING:
			cli->settings[cli->setting_count++] =
			    (struct cli_setting){o, o->arg ? optarg : "true"};
			break;
		case CLI_CONFIG_FILE:
			cli->config_path = optarg;
			break;
		case CLI_DRY_RUN:
			cli->dry_run = true;
			break;
		case CLI_PRINT_TOKEN:
			cli->print_token = true;
			break;
		case CLI_VERBOSE:
			cli->verbose = true;
			break;
		case CLI_HELP:
			usage(stdout);
			return ATTEST_EXIT_ADMITTED;
		case CLI_VERSION:
			printf("attest-client %s\n", ATTEST_VERSION);
			return ATTEST_EXIT_ADMITTED;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "attest-client: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return ATTEST_EXIT_USAGE;
	}
	return -1;
}

/* defaults < file < ATTEST_TCTI < command line */
static bool load_settings(const struct cli *cli, struct client_config *cfg)
{
	const char *path = cli->config_path ? cli->config_path : CLIENT_CONFIG_DEFAULT_PATH;
	const char *tcti = getenv("ATTEST_TCTI");
	err_t rc;

	client_config_defaults(cfg);
	rc = client_config_load(path, cfg);
	/* Only the default file may be missing: a named one is meant. */
	if (rc != ERR_OK && !(rc == ERR_NOT_FOUND && cli->config_path == NULL)) {
		log_error("configuration: %s", err_detail());
		return false;
	}
	if (tcti != NULL && tcti[0] != '\0' && client_config_set(cfg, "tcti", tcti) != ERR_OK) {
		log_error("ATTEST_TCTI: %s", err_detail());
		return false;
	}
	for (size_t i = 0; i < cli->setting_count; i++) {
		char key[64];

		snprintf(key, sizeof(key), "%s", cli->settings[i].opt->name);
		for (char *k = key; *k != '\0'; k++)
			*k = *k == '-' ? '_' : *k;
		if (client_config_set(cfg, key, cli->settings[i].value) != ERR_OK) {
			log_error("--%s: %s", cli->settings[i].opt->name, err_detail());
			return false;
		}
	}
	if (client_config_check(cfg, !cli->dry_run) != ERR_OK) {
		log_error("configuration: %s", err_detail());
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	struct client_config *cfg = NULL;
	struct sigaction stop = {.sa_handler = attest_stop};
	int status;

	log_init("attest-client");
	cli.settings = calloc((size_t)argc + 1, sizeof(*cli.settings));
	cfg = malloc(sizeof(*cfg));
	if (cli.settings == NULL || cfg == NULL) {
		fprintf(stderr, "attest-client: out of memory\n");
		status = ATTEST_EXIT_USAGE;
		goto out;
	}
	status = parse_args(argc, argv, &cli);
	if (status >= 0)
		goto out;
	if (!load_settings(&cli, cfg)) {
		status = ATTEST_EXIT_USAGE;
		goto out;
	}
	log_set_level(cli.verbose ? LOG_LVL_DEBUG : cfg->log_level);
	/* The TSS logs its own view of every failure; ours names the step and
	 * the TPM's answer, so the TSS speaks only with --verbose. */
	if (!cli.verbose)
		setenv("TSS2_LOG", "all+none", 0);
	/* No SA_RESTART: a pause between retries ends at once. */
	sigemptyset(&stop.sa_mask);
	(void)sigaction(SIGTERM, &stop, NULL);
	(void)sigaction(SIGINT, &stop, NULL);
	status = attest_run(cfg, &(struct attest_options){cli.dry_run, cli.print_token});
out:
	free(cfg);
	free(cli.settings);
	return status;
}
