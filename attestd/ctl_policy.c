/* attestctl policy capture: writes the boot policy of a known-good machine
 * from its event log, so an operator pins what was measured rather than
 * typing digests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "boot.h"
#include "boot_virtual.h"
#include "ctl.h"
#include "evlog.h"
#include "evlog_json.h"
#include "fileio.h"

/* A PCR values file is a few KiB; refuse anything absurd. */
#define CTL_PCRS_FILE_MAX (64 * 1024)

static void policy_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: attestctl policy capture LOG [--pcrs PCRS_JSON] [--bank BANK]\n"
	    "                                    [--allow-virtual] [-o FILE]\n\n"
	    "Writes {\"pcr_selection\": ..., \"boot\": {...}} accepting exactly the boot that\n"
	    "LOG (a binary TCG event log of a known-good machine) records: Secure Boot\n"
	    "state, PK/KEK/db/dbx digests, boot component digests, PCR values.\n"
	    "  --pcrs FILE       the machine's PCRs ({\"banks\": {...}} or {\"sha256\": {...}},\n"
	    "                    as tpm2_pcrread values); the log must replay to them\n"
	    "  --bank BANK       sha1, sha256 (default), sha384 or sha512\n"
	    "  --allow-virtual   capture a virtual machine (lab use): switch off the\n"
	    "                    virtual_platform rules that fire on this log\n"
	    "  -o FILE           write there (atomically) instead of to stdout\n");
}

/* The log must reproduce the machine's own PCR values before anything is
 * pinned from it; a log that does not is not that machine's boot. */
static int check_pcrs_file(const char *path, struct evlog_pcrs *replayed)
{
	struct evlog_pcr_values values[EVLOG_BANK_COUNT];
	uint8_t *text = NULL;
	size_t len;
	json_t *doc, *banks;
	err_t rc;

	rc = fileio_read(path, CTL_PCRS_FILE_MAX, &text, &len);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s\n", err_detail());
		return CTL_EXIT_FAIL;
	}
	doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	banks = json_object_get(doc, "banks") != NULL ? json_object_get(doc, "banks") : doc;
	rc = doc == NULL ? err_fail(ERR_BAD_REQUEST, "not JSON")
			 : evlog_pcr_values_from_json(banks, values);
	if (rc == ERR_OK)
		rc = evlog_check_pcr_values(replayed, values, 0);
	json_decref(doc);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", path, err_code_str(rc), err_detail());
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* Lab VMs: write the rules that fire as switched off, and say so. */
static int apply_virtual(const struct evlog *log, bool allow_virtual, json_t *doc)
{
	uint32_t fired = boot_virtual_fired(log);
	json_t *rules;

	if (fired == 0)
		return CTL_EXIT_OK;
	if (!allow_virtual) {
		err_t rc = boot_virtual_check(log, 0);

		fprintf(stderr,
			"attestctl: refusing to capture: %s: %s\n(--allow-virtual captures a lab "
			"VM anyway)\n",
			err_code_str(rc), err_detail());
		return CTL_EXIT_FAIL;
	}
	rules = json_object();
	for (unsigned r = 0; rules != NULL && r < BOOT_VR_COUNT; r++) {
		if (fired & (1u << r)) {
			fprintf(stderr,
				"attestctl: warning: switching off virtual_platform rule %s\n",
				boot_virtual_rule_name((enum boot_virtual_rule)r));
			json_object_set_new(
			    rules, boot_virtual_rule_name((enum boot_virtual_rule)r), json_false());
		}
	}
	if (rules == NULL ||
	    json_object_set_new(json_object_get(doc, "boot"), "virtual_platform", rules) != 0)
		return CTL_EXIT_FAIL;
	return CTL_EXIT_OK;
}

static int write_doc(const json_t *doc, const char *out_path)
{
	char *text = json_dumps(doc, JSON_INDENT(2));
	int status = CTL_EXIT_OK;

	if (text == NULL)
		return CTL_EXIT_FAIL;
	if (out_path == NULL) {
		printf("%s\n", text);
	} else {
		size_t len = strlen(text);

		text[len] = '\n'; /* replaces the NUL; written with its length */
		if (fileio_write_atomic(out_path, text, len + 1, 0644) != ERR_OK) {
			fprintf(stderr, "attestctl: %s\n", err_detail());
			status = CTL_EXIT_FAIL;
		}
	}
	free(text);
	return status;
}

struct capture_opts {
	const char *log_path, *pcrs_path, *out_path;
	enum evlog_bank bank;
	bool allow_virtual;
};

static int capture(const struct capture_opts *o)
{
	struct evlog *log = NULL;
	struct evlog_pcrs *replayed = calloc(1, sizeof(*replayed));
	json_t *doc = NULL;
	int status = ctl_eventlog_load(o->log_path, &log);
	err_t rc;

	if (status != CTL_EXIT_OK || replayed == NULL)
		goto out;
	status = CTL_EXIT_FAIL;
	rc = evlog_replay(log, replayed);
	if (rc == ERR_OK)
		rc = boot_policy_capture(log, replayed, o->bank, &doc);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", o->log_path, err_code_str(rc),
			err_detail());
		goto out;
	}
	if (o->pcrs_path == NULL)
		fprintf(stderr, "attestctl: warning: no --pcrs given; the values are the log's "
				"own replay, not checked against the machine's TPM\n");
	else if (check_pcrs_file(o->pcrs_path, replayed) != CTL_EXIT_OK)
		goto out;
	if (apply_virtual(log, o->allow_virtual, doc) != CTL_EXIT_OK)
		goto out;
	status = write_doc(doc, o->out_path);
out:
	json_decref(doc);
	free(replayed);
	evlog_free(log);
	return status == CTL_EXIT_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_policy_run(int argc, char **argv)
{
	static const struct option options[] = {
	    {"pcrs", required_argument, NULL, 'p'},    {"bank", required_argument, NULL, 'b'},
	    {"allow-virtual", no_argument, NULL, 'V'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	struct capture_opts o = {.bank = EVLOG_BANK_SHA256};
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "capture") != 0) {
		policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "p:b:Vo:h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.pcrs_path = optarg;
			break;
		case 'b':
			if (!evlog_bank_from_name(optarg, &o.bank)) {
				fprintf(stderr, "attestctl: unknown bank '%s'\n", optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'V':
			o.allow_virtual = true;
			break;
		case 'o':
			o.out_path = optarg;
			break;
		case 'h':
			policy_usage(stdout);
			return CTL_EXIT_OK;
		default:
			policy_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc - 1) {
		policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	o.log_path = argv[1 + optind];
	return capture(&o);
}
