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
#include "json_util.h"

/* A PCR values file is a few KiB; refuse anything absurd. */
#define CTL_PCRS_FILE_MAX (64 * 1024)
/* Evidence JSON: the event log in base64 (4/3 of its cap) and a little more. */
#define CTL_EVIDENCE_FILE_MAX (EVLOG_MAX_SIZE / 3 * 4 + 1024 * 1024)

static void policy_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: attestctl policy capture EVIDENCE_OR_LOG [--pcrs PCRS_JSON] [--bank BANK]\n"
	    "                                    [--allow-virtual] [-o FILE]\n\n"
	    "Writes {\"pcr_selection\": ..., \"boot\": {...}} accepting exactly the boot that\n"
	    "a known-good machine's event log records: Secure Boot state, PK/KEK/db/dbx\n"
	    "digests, boot component digests, PCR values. The input is the binary TCG\n"
	    "log, or evidence JSON with \"event_log\" (base64) and \"pcrs\" at the top or\n"
	    "under \"quote\" (what `attest-client --dry-run` prints on that machine); the\n"
	    "log must then replay to the evidence's PCRs.\n"
	    "  --pcrs FILE       the machine's PCRs ({\"banks\": {...}} or {\"sha256\": {...}},\n"
	    "                    as tpm2_pcrread values); the log must replay to them\n"
	    "  --bank BANK       sha1, sha256 (default), sha384 or sha512\n"
	    "  --allow-virtual   capture a virtual machine (lab use): switch off the\n"
	    "                    virtual_platform rules that fire on this log\n"
	    "  -o FILE           write there (atomically) instead of to stdout\n");
}

/* The log must reproduce the machine's own PCR values before anything is
 * pinned from it; a log that does not is not that machine's boot. pcrs is
 * {"banks": {...}} or the banks object itself. */
static err_t check_pcrs_json(const json_t *pcrs, struct evlog_pcrs *replayed)
{
	struct evlog_pcr_values values[EVLOG_BANK_COUNT];
	const json_t *banks =
	    json_object_get(pcrs, "banks") != NULL ? json_object_get(pcrs, "banks") : pcrs;

	TRY(evlog_pcr_values_from_json(banks, values));
	return evlog_check_pcr_values(replayed, values, 0);
}

static int check_pcrs_file(const char *path, struct evlog_pcrs *replayed)
{
	uint8_t *text = NULL;
	size_t len;
	json_t *doc = NULL;
	err_t rc;

	rc = fileio_read(path, CTL_PCRS_FILE_MAX, &text, &len);
	if (rc == ERR_OK) {
		doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
		rc = doc == NULL ? err_fail(ERR_BAD_REQUEST, "not JSON")
				 : check_pcrs_json(doc, replayed);
	}
	free(text);
	json_decref(doc);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", path, err_code_str(rc), err_detail());
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* Evidence JSON: its event log, and its PCRs (*pcrs, borrowed from *doc)
 * for the replay check. */
static err_t evidence_load(const char *path, json_t **doc, const json_t **pcrs, struct evlog **log)
{
	uint8_t *text = NULL, *raw = NULL;
	size_t len, raw_len = 0;
	const json_t *q;
	err_t rc;

	TRY(fileio_read(path, CTL_EVIDENCE_FILE_MAX, &text, &len));
	*doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	if (*doc == NULL)
		return err_fail(ERR_BAD_REQUEST, "not JSON evidence");
	q = json_object_get(*doc, "quote") != NULL ? json_object_get(*doc, "quote") : *doc;
	*pcrs = json_object_get(q, "pcrs");
	if (*pcrs == NULL)
		return err_fail(ERR_BAD_REQUEST, "pcrs: missing");
	TRY(json_get_b64(q, "event_log", EVLOG_MAX_SIZE, &raw, &raw_len));
	rc = evlog_parse(raw, raw_len, log);
	free(raw);
	return rc;
}

/* A JSON document starts with '{'; a TCG log never does (its first field is
 * the PCR index 0 of the Spec ID or first event, little-endian). */
static bool is_json_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	int c = EOF;

	if (f == NULL)
		return false;
	while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\t' || c == '\r')
		;
	fclose(f);
	return c == '{';
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
	json_t *doc = NULL, *evidence = NULL;
	const json_t *evidence_pcrs = NULL;
	int status = CTL_EXIT_FAIL;
	err_t rc;

	if (replayed == NULL)
		goto out;
	if (is_json_file(o->log_path)) {
		rc = evidence_load(o->log_path, &evidence, &evidence_pcrs, &log);
		if (rc != ERR_OK) {
			fprintf(stderr, "attestctl: %s: %s: %s\n", o->log_path, err_code_str(rc),
				err_detail());
			goto out;
		}
	} else if (ctl_eventlog_load(o->log_path, &log) != CTL_EXIT_OK) {
		goto out;
	}
	rc = evlog_replay(log, replayed);
	if (rc == ERR_OK && evidence_pcrs != NULL)
		rc = check_pcrs_json(evidence_pcrs, replayed);
	if (rc == ERR_OK)
		rc = boot_policy_capture(log, replayed, o->bank, &doc);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", o->log_path, err_code_str(rc),
			err_detail());
		goto out;
	}
	if (o->pcrs_path == NULL && evidence_pcrs == NULL)
		fprintf(stderr, "attestctl: warning: no --pcrs given; the values are the log's "
				"own replay, not checked against the machine's TPM\n");
	else if (o->pcrs_path != NULL && check_pcrs_file(o->pcrs_path, replayed) != CTL_EXIT_OK)
		goto out;
	if (apply_virtual(log, o->allow_virtual, doc) != CTL_EXIT_OK)
		goto out;
	status = write_doc(doc, o->out_path);
out:
	json_decref(doc);
	json_decref(evidence);
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
