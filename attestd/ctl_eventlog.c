/* attestctl eventlog: show a TCG event log's events, or the PCR values it
 * replays to, for operators checking a machine by hand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "ctl.h"
#include "fileio.h"
#include "evlog.h"
#include "evlog_decode.h"
#include "evlog_json.h"

/* Room for one event's description on a terminal line or two. */
#define CTL_EVENT_TEXT_MAX 512

static void eventlog_usage(FILE *out)
{
	fprintf(out,
		"usage: attestctl eventlog show FILE [--digests]\n"
		"       attestctl eventlog replay FILE [--json]\n\n"
		"FILE is a binary TCG PC Client event log, e.g.\n"
		"/sys/kernel/security/tpm0/binary_bios_measurements.\n"
		"  show     one line per event: index, PCR, type, decoded data\n"
		"           --digests  also print each event's digests\n"
		"  replay   the PCR values the log replays to, per bank, for PCRs with events\n"
		"           --json     all 24 PCRs, as {\"banks\": {\"sha256\": {\"0\": \"hex\", "
		"...}}}\n");
}

int ctl_eventlog_load(const char *path, struct evlog **out)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	err_t rc;

	*out = NULL;
	/* One byte over the parser's cap still reaches it, so it names the cap. */
	rc = fileio_read(path, EVLOG_MAX_SIZE + 1, &bytes, &len);
	if (rc == ERR_OK)
		rc = evlog_parse(bytes, len, out);
	free(bytes);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", path, err_code_str(rc), err_detail());
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static void print_header(const char *path, const struct evlog *log)
{
	printf("# %s: %s, %zu events, banks", path,
	       evlog_format(log) == EVLOG_FORMAT_CRYPTO_AGILE ? "crypto-agile" : "legacy SHA1",
	       evlog_event_count(log));
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (evlog_banks(log) & (1u << b))
			printf(" %s", evlog_bank_name((enum evlog_bank)b));
	}
	printf(", StartupLocality %u\n", evlog_startup_locality(log));
}

static void print_event(size_t i, const struct evlog_event *ev, bool digests)
{
	char text[CTL_EVENT_TEXT_MAX];

	evlog_describe(ev, text, sizeof(text));
	if (ev->pcr == EVLOG_PCR_NONE)
		printf("%4zu  PCR  -  %-34s %s\n", i, evlog_type_name(ev->type), text);
	else
		printf("%4zu  PCR %2u  %-34s %s\n", i, ev->pcr, evlog_type_name(ev->type), text);
	for (unsigned b = 0; digests && b < EVLOG_BANK_COUNT; b++) {
		char hex[2 * EVLOG_MAX_DIGEST + 1];

		if (ev->digest[b] == NULL)
			continue;
		hex_encode(ev->digest[b], evlog_bank_size((enum evlog_bank)b), hex);
		printf("            %-7s %s\n", evlog_bank_name((enum evlog_bank)b), hex);
	}
}

static int print_replay(const struct evlog_pcrs *pcrs, uint32_t mask, bool as_json)
{
	json_t *banks, *doc;
	char *text;

	if (!as_json) {
		for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
			size_t n = evlog_bank_size((enum evlog_bank)b);

			if (!(pcrs->banks & (1u << b)))
				continue;
			printf("%s:\n", evlog_bank_name((enum evlog_bank)b));
			for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
				char hex[2 * EVLOG_MAX_DIGEST + 1];

				if (!(mask & (1u << pcr)))
					continue;
				hex_encode(pcrs->value[b][pcr], n, hex);
				printf("  %2u: %s\n", pcr, hex);
			}
		}
		return CTL_EXIT_OK;
	}
	banks = evlog_pcrs_to_json(pcrs, mask);
	doc = banks != NULL ? json_pack("{s:o}", "banks", banks) : NULL;
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (text == NULL) {
		fprintf(stderr, "attestctl: out of memory\n");
		return CTL_EXIT_FAIL;
	}
	printf("%s\n", text);
	free(text);
	return CTL_EXIT_OK;
}

static int eventlog_replay(const char *path, bool as_json)
{
	struct evlog *log;
	struct evlog_pcrs *pcrs = malloc(sizeof(*pcrs));
	int status = ctl_eventlog_load(path, &log);
	err_t rc;

	if (status != CTL_EXIT_OK || pcrs == NULL) {
		free(pcrs);
		evlog_free(log);
		return CTL_EXIT_FAIL;
	}
	rc = evlog_replay(log, pcrs);
	if (rc != ERR_OK) {
		fprintf(stderr, "attestctl: %s: %s: %s\n", path, err_code_str(rc), err_detail());
		status = CTL_EXIT_FAIL;
	} else {
		/* JSON: every PCR, as a TPM would read them, for comparison with
		 * tpm2_pcrread; text: the PCRs with events, for reading. */
		uint32_t mask = 0;

		for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++)
			mask |= pcrs->extended[b];
		status = print_replay(pcrs, as_json ? (1u << EVLOG_PCR_COUNT) - 1 : mask, as_json);
	}
	free(pcrs);
	evlog_free(log);
	return status;
}

static int eventlog_show(const char *path, bool digests)
{
	struct evlog *log;
	int status = ctl_eventlog_load(path, &log);

	if (status != CTL_EXIT_OK)
		return status;
	print_header(path, log);
	for (size_t i = 0; i < evlog_event_count(log); i++)
		print_event(i, evlog_event_at(log, i), digests);
	evlog_free(log);
	return CTL_EXIT_OK;
}

int ctl_eventlog_run(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"digests", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool as_json = false, digests = false;
	const char *action;
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		eventlog_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	action = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "jdh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'd':
			digests = true;
			break;
		case 'h':
			eventlog_usage(stdout);
			return CTL_EXIT_OK;
		default:
			eventlog_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc - 1) {
		eventlog_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(action, "show") == 0 && !as_json)
		return eventlog_show(argv[1 + optind], digests);
	if (strcmp(action, "replay") == 0 && !digests)
		return eventlog_replay(argv[1 + optind], as_json);
	eventlog_usage(stderr);
	return CTL_EXIT_USAGE;
}
