/* TCG event-log parser and replay: every real vector parses and replays to
 * the PCRs its source read from the TPM; every malformation is refused with
 * eventlog_invalid and where it is; the replay rules (StartupLocality,
 * EV_NO_ACTION, PCR 17-22, Windows' PCR -1) each have a case. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "evlog.h"
#include "evlog_json.h"
#include "test_evlog_util.h"

/* Sidecar values the firmware log cannot reproduce, each for a documented
 * reason (PROVENANCE.md section C). Every one must really mismatch, so the
 * list cannot hide a regression. */
static const struct {
	const char *file;
	const char *bank;
	unsigned pcr;
	const char *why;
} known_mismatches[] = {
    {"ga_sb_cert_eventlog.bin", "sha1", 10, "IMA"},
    {"ga_sb_cert_eventlog.bin", "sha256", 10, "IMA"},
    {"guard_hp_elitebook830g6_ifx_eventlog.bin", "sha256", 10, "IMA"},
    {"guard_ludmilla_ntc_eventlog.bin", "sha1", 10, "IMA"},
    {"guard_ludmilla_ntc_eventlog.bin", "sha256", 10, "IMA"},
    {"ga_ebs_event_missing_eventlog.bin", "sha1", 5, "ExitBootServices not logged"},
};

static bool is_known_mismatch(const char *file, enum evlog_bank bank, unsigned pcr)
{
	for (size_t i = 0; i < sizeof(known_mismatches) / sizeof(known_mismatches[0]); i++) {
		if (strcmp(known_mismatches[i].file, file) == 0 &&
		    strcmp(known_mismatches[i].bank, evlog_bank_name(bank)) == 0 &&
		    known_mismatches[i].pcr == pcr)
			return true;
	}
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Calls fn for every eventlogs/NAME.bin and returns how many there were. */
static size_t for_each_vector(void (*fn)(const char *name, void *ctx), void *ctx)
{
	DIR *d = opendir("eventlogs");
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (!ends_with(e->d_name, ".bin"))
			continue;
		fn(e->d_name, ctx);
		n++;
	}
	closedir(d);
	return n;
}

static void parse_and_replay(const char *name, void *ctx)
{
	struct evlog *log = vector_log(name);
	struct evlog_pcrs pcrs;

	(void)ctx;
	assert_true(evlog_event_count(log) > 0);
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	assert_int_equal(pcrs.banks, evlog_banks(log));
	evlog_free(log);
}

static void test_every_vector_parses_and_replays(void **state)
{
	(void)state;
	/* 30 vectors from ../shared plus the two qemu boots made here. */
	assert_true(for_each_vector(parse_and_replay, NULL) >= 32);
}

struct sidecar_tally {
	size_t matched;
	size_t known_mismatched;
};

/* One PCR at a time, so each sidecar value is checked on its own. */
static void replay_matches_sidecar(const char *name, void *ctx)
{
	struct sidecar_tally *tally = ctx;
	struct evlog_pcr_values expected[EVLOG_BANK_COUNT];
	struct evlog_pcrs pcrs;
	struct evlog *log;

	if (!vector_sidecar(name, expected))
		return;
	log = vector_log(name);
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		size_t n = evlog_bank_size((enum evlog_bank)b), k = 0;

		if (!(pcrs.banks & (1u << b)))
			continue; /* e.g. a SHA1-format log and SHA-256 values */
		for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
			err_t rc;

			if (!(expected[b].mask & (1u << pcr)))
				continue;
			rc = evlog_check_pcrs(&pcrs, evlog_bank_alg((enum evlog_bank)b), 1u << pcr,
					      expected[b].values + n * k++, n, 0);
			if (is_known_mismatch(name, (enum evlog_bank)b, pcr)) {
				assert_int_equal(rc, ERR_EVENTLOG_REPLAY_MISMATCH);
				tally->known_mismatched++;
			} else {
				if (rc != ERR_OK)
					fail_msg("%s: %s", name, err_detail());
				tally->matched++;
			}
		}
	}
	evlog_free(log);
}

static void test_vectors_replay_to_their_tpm_values(void **state)
{
	struct sidecar_tally tally = {0};

	(void)state;
	for_each_vector(replay_matches_sidecar, &tally);
	assert_int_equal(tally.known_mismatched,
			 sizeof(known_mismatches) / sizeof(known_mismatches[0]));
	assert_true(tally.matched >= 450);
}

static void test_format_details(void **state)
{
	static const struct {
		const char *file;
		enum evlog_format format;
		size_t events;
		uint32_t banks;
		uint8_t locality;
	} cases[] = {
	    {"gtt_glinux-alex.bin", EVLOG_FORMAT_CRYPTO_AGILE, 29, 0x3, 3},
	    {"gtt_gdc-host.bin", EVLOG_FORMAT_CRYPTO_AGILE, 159, 0x2, 3},
	    {"ga_sb_cert_eventlog.bin", EVLOG_FORMAT_CRYPTO_AGILE, 15, 0x7, 0},
	    {"ga_option_rom_eventlog.bin", EVLOG_FORMAT_LEGACY_SHA1, 61, 0x1, 0},
	    {"guard_binary_bios_measurements_27.bin", EVLOG_FORMAT_LEGACY_SHA1, 178, 0x1, 0},
	    {"guard_tpm2_windows_lenovo_yogax1v2.bin", EVLOG_FORMAT_CRYPTO_AGILE, 54, 0x3, 0},
	    {"qemu_ovmf_q35.bin", EVLOG_FORMAT_CRYPTO_AGILE, 26, 0xf, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evlog *log = vector_log(cases[i].file);

		assert_int_equal(evlog_format(log), cases[i].format);
		assert_int_equal(evlog_event_count(log), cases[i].events);
		assert_int_equal(evlog_banks(log), cases[i].banks);
		assert_int_equal(evlog_startup_locality(log), cases[i].locality);
		assert_null(evlog_event_at(log, cases[i].events));
		evlog_free(log);
	}
}

/* The Lenovo Windows log has events with PCR index -1 and events that
 * extended only the SHA-256 bank (EV_COMPACT_HASH into PCR 11). */
static void test_windows_log_quirks(void **state)
{
	struct evlog *log = vector_log("guard_tpm2_windows_lenovo_yogax1v2.bin");
	size_t unextended = 0, sha256_only = 0;

	(void)state;
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		unextended += ev->pcr == EVLOG_PCR_NONE;
		sha256_only +=
		    ev->digest[EVLOG_BANK_SHA256] != NULL && ev->digest[EVLOG_BANK_SHA1] == NULL;
	}
	assert_true(unextended > 0);
	assert_true(sha256_only > 0);
	evlog_free(log);
}

/* go-attestation's workaround, as a named opt-in: PCR 5 of this HP log only
 * matches once the two unlogged ExitBootServices actions are appended. */
static void test_missing_exit_boot_services_rule(void **state)
{
	struct evlog *log = vector_log("ga_ebs_event_missing_eventlog.bin");
	struct evlog_pcr_values expected[EVLOG_BANK_COUNT];
	struct evlog_pcrs pcrs;

	(void)state;
	assert_true(vector_sidecar("ga_ebs_event_missing_eventlog.bin", expected));
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	assert_false(pcrs.exit_boot_services_logged);
	assert_int_equal(evlog_check_pcr_values(&pcrs, expected, 0), ERR_EVENTLOG_REPLAY_MISMATCH);
	assert_non_null(strstr(err_detail(), "sha1 PCR 5"));
	assert_int_equal(evlog_check_pcr_values(&pcrs, expected, EVLOG_CHECK_ALLOW_MISSING_EBS),
			 ERR_OK);
	assert_int_equal(pcrs.verified[EVLOG_BANK_SHA1], 1u << 5);
	evlog_free(log);
}

/* A log that did log ExitBootServices gets no second helping: the rule
 * cannot turn a wrong PCR 5 into a match there. */
static void test_ebs_rule_needs_missing_events(void **state)
{
	struct evlog *log = vector_log("qemu_ovmf_q35.bin");
	struct evlog_pcrs pcrs;
	uint8_t pcr5[32];
	uint8_t d1[32], d2[32];
	unsigned int n;

	(void)state;
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	assert_true(pcrs.exit_boot_services_logged);
	memcpy(pcr5, pcrs.value[EVLOG_BANK_SHA256][5], 32);
	assert_int_equal(
	    EVP_Digest("Exit Boot Services Invocation", 29, d1, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(
	    EVP_Digest("Exit Boot Services Returned with Success", 40, d2, &n, EVP_sha256(), NULL),
	    1);
	expect_extend("SHA256", pcr5, d1, 32);
	expect_extend("SHA256", pcr5, d2, 32);
	assert_int_equal(
	    evlog_check_pcrs(&pcrs, 0x000B, 1u << 5, pcr5, 32, EVLOG_CHECK_ALLOW_MISSING_EBS),
	    ERR_EVENTLOG_REPLAY_MISMATCH);
	evlog_free(log);
}

static void test_check_pcrs_refusals(void **state)
{
	struct evlog *log = vector_log("gtt_glinux-alex.bin");
	struct evlog_pcrs pcrs;
	uint8_t values[3 * 32];

	(void)state;
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	for (unsigned i = 0; i < 3; i++)
		memcpy(values + 32 * i, pcrs.value[EVLOG_BANK_SHA256][i == 2 ? 7 : i], 32);
	/* PCRs 0, 1, 7 in ascending order match and become verified. */
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x000B, 0x83, values, sizeof(values), 0), ERR_OK);
	assert_int_equal(pcrs.verified[EVLOG_BANK_SHA256], 0x83u);
	/* One flipped bit in PCR 7: the detail names bank and PCR. */
	values[2 * 32 + 31] ^= 1;
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x000B, 0x83, values, sizeof(values), 0),
			 ERR_EVENTLOG_REPLAY_MISMATCH);
	assert_non_null(strstr(err_detail(), "sha256 PCR 7"));
	/* A bank the log lacks, a bank we do not know, a wrong length, a PCR
	 * beyond 23. */
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x000C, 1, values, 48, 0), ERR_EVENTLOG_INVALID);
	assert_non_null(strstr(err_detail(), "sha384"));
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x0012, 1, values, 32, 0), ERR_EVENTLOG_INVALID);
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x000B, 0x83, values, 64, 0), ERR_BAD_REQUEST);
	assert_int_equal(evlog_check_pcrs(&pcrs, 0x000B, 1u << 24, values, 32, 0), ERR_BAD_REQUEST);
	evlog_free(log);
}

static struct evlog *parse_ok(const struct logbuf *b)
{
	struct evlog *log = NULL;

	if (evlog_parse(b->bytes, b->len, &log) != ERR_OK)
		fail_msg("synthetic log refused: %s", err_detail());
	return log;
}

/* Reset values and extension rules, computed independently here. */
static void test_replay_rules(void **state)
{
	static const uint8_t locality[17] = "StartupLocality\0\3";
	struct logbuf b = {.len = 0};
	struct evlog_pcrs pcrs;
	struct evlog *log;
	uint8_t pcr0[32] = {0}, pcr17[32], pcr23[32] = {0}, digest[32];

	(void)state;
	lb_spec_id(&b, lb_sha1_sha256, 2);
	lb_event2(&b, 0, EV_NO_ACTION, lb_sha1_sha256, 2, 0, locality, sizeof(locality));
	lb_event2(&b, 0, EV_S_CRTM_VERSION, lb_sha1_sha256, 2, 0xA1, "v1", 2);
	lb_event2(&b, 0, EV_NO_ACTION, lb_sha1_sha256, 2, 0xEE, "SP800-155 Event3", 16);
	lb_event2(&b, EVLOG_PCR_NONE, EV_EVENT_TAG, lb_sha1_sha256, 2, 0xEE, "win", 3);
	lb_event2(&b, 17, EV_EVENT_TAG, lb_sha1_sha256, 2, 0xB2, "drtm", 4);
	lb_event2(&b, 23, EV_EVENT_TAG, lb_sha1_sha256, 2, 0xC3, "app", 3);
	log = parse_ok(&b);
	assert_int_equal(evlog_startup_locality(log), 3);
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);

	pcr0[31] = 3; /* locality 3 in the last byte */
	memset(digest, 0xA1, 32);
	expect_extend("SHA256", pcr0, digest, 32);
	assert_memory_equal(pcrs.value[EVLOG_BANK_SHA256][0], pcr0, 32);
	memset(pcr17, 0xFF, 32); /* DRTM PCRs reset to ones */
	memset(digest, 0xB2, 32);
	expect_extend("SHA256", pcr17, digest, 32);
	assert_memory_equal(pcrs.value[EVLOG_BANK_SHA256][17], pcr17, 32);
	memset(digest, 0xC3, 32);
	expect_extend("SHA256", pcr23, digest, 32);
	assert_memory_equal(pcrs.value[EVLOG_BANK_SHA256][23], pcr23, 32);
	assert_int_equal(pcrs.extended[EVLOG_BANK_SHA256], (1u << 0) | (1u << 17) | (1u << 23));
	memset(pcr17, 0xFF, 32);
	assert_memory_equal(pcrs.value[EVLOG_BANK_SHA1][18], pcr17, 20); /* untouched, all ones */
	evlog_free(log);
}

/* An algorithm we do not replay (SM3_256) is skipped by its declared size. */
static void test_unknown_algorithm_is_skipped(void **state)
{
	static const struct lb_alg sm3_sha256[] = {{0x0012, 32}, {0x000B, 32}};
	struct logbuf b = {.len = 0};
	struct evlog_pcrs pcrs;
	struct evlog *log;
	uint8_t pcr4[32] = {0}, digest[32];

	(void)state;
	lb_spec_id(&b, sm3_sha256, 2);
	lb_event2(&b, 4, EV_EFI_ACTION, sm3_sha256, 2, 0x44, "x", 1);
	log = parse_ok(&b);
	assert_int_equal(evlog_banks(log), 1u << EVLOG_BANK_SHA256);
	assert_int_equal(evlog_replay(log, &pcrs), ERR_OK);
	memset(digest, 0x44, 32);
	expect_extend("SHA256", pcr4, digest, 32);
	assert_memory_equal(pcrs.value[EVLOG_BANK_SHA256][4], pcr4, 32);
	evlog_free(log);
}

static void expect_invalid(const struct logbuf *b, const char *needle)
{
	struct evlog *log = (struct evlog *)&log; /* must come back NULL */

	assert_int_equal(evlog_parse(b->bytes, b->len, &log), ERR_EVENTLOG_INVALID);
	assert_null(log);
	if (strstr(err_detail(), needle) == NULL)
		fail_msg("detail '%s' lacks '%s'", err_detail(), needle);
}

static void test_malformed_logs_are_refused(void **state)
{
	static const struct lb_alg sha256_only[] = {{0x000B, 32}};
	static const struct lb_alg bad_size[] = {{0x000B, 20}};
	static const struct lb_alg twice[] = {{0x000B, 32}, {0x000B, 32}};
	static const uint8_t locality[17] = "StartupLocality\0\3";
	struct logbuf b;

	(void)state;
	/* Event 1 (after the 32-byte header and 33-byte Spec ID data): its data
	 * size beyond the cap. */
	b.len = 0;
	lb_spec_id(&b, sha256_only, 1);
	lb_u32(&b, 0);
	lb_u32(&b, EV_EFI_ACTION);
	lb_u32(&b, 1);
	lb_u16(&b, 0x000B);
	lb_fill(&b, 0, 32);
	lb_u32(&b, (uint32_t)EVLOG_MAX_EVENT_SIZE + 1);
	expect_invalid(&b, "event 1 at offset 65: event data of 262145 bytes exceeds the cap");

	b.len = 0; /* PCR 24 */
	lb_spec_id(&b, sha256_only, 1);
	lb_event2(&b, 24, EV_EFI_ACTION, sha256_only, 1, 0, "x", 1);
	expect_invalid(&b, "PCR index 24 out of range");

	b.len = 0; /* more digests than algorithms */
	lb_spec_id(&b, sha256_only, 1);
	lb_event2(&b, 0, EV_EFI_ACTION, twice, 2, 0, "x", 1);
	expect_invalid(&b, "event has 2 digests");

	b.len = 0; /* the same algorithm twice in an event */
	lb_spec_id(&b, lb_sha1_sha256, 2);
	lb_event2(&b, 0, EV_EFI_ACTION, twice, 2, 0, "x", 1);
	expect_invalid(&b, "two digests of algorithm 0x000b");

	b.len = 0; /* a digest of an undeclared algorithm */
	lb_spec_id(&b, sha256_only, 1);
	lb_event2(&b, 0, EV_EFI_ACTION, (const struct lb_alg[]){{0x000C, 48}}, 1, 0, "x", 1);
	expect_invalid(&b, "0x000c not declared");

	b.len = 0; /* SHA-256 declared with 20 bytes */
	lb_spec_id(&b, bad_size, 1);
	expect_invalid(&b, "gives sha256 a size of 20");

	b.len = 0; /* the same algorithm declared twice */
	lb_spec_id(&b, twice, 2);
	expect_invalid(&b, "declares algorithm 0x000b twice");

	b.len = 0; /* no algorithms */
	lb_spec_id(&b, sha256_only, 0);
	expect_invalid(&b, "declares 0 algorithms");

	b.len = 0; /* StartupLocality after PCR 0 was extended */
	lb_spec_id(&b, sha256_only, 1);
	lb_event2(&b, 0, EV_S_CRTM_VERSION, sha256_only, 1, 0, "v", 1);
	lb_event2(&b, 0, EV_NO_ACTION, sha256_only, 1, 0, locality, sizeof(locality));
	expect_invalid(&b, "event 2 at offset");

	b.len = 0; /* a StartupLocality event of the wrong size */
	lb_spec_id(&b, sha256_only, 1);
	lb_event2(&b, 0, EV_NO_ACTION, sha256_only, 1, 0, locality, 16);
	expect_invalid(&b, "malformed StartupLocality");

	b.len = 0; /* legacy header cut short */
	lb_legacy_event(&b, 0, EV_S_CRTM_VERSION, 0, "v", 1);
	lb_put(&b, "\0\0\0", 3);
	expect_invalid(&b, "event 1 at offset 33: truncated event header");
}

static void test_size_caps(void **state)
{
	static const uint8_t one = 0;
	struct evlog *log = NULL;
	struct logbuf *b = calloc(1, sizeof(*b));
	uint8_t *big;

	(void)state;
	assert_int_equal(evlog_parse(&one, 0, &log), ERR_EVENTLOG_INVALID);
	assert_int_equal(evlog_parse(NULL, 10, &log), ERR_EVENTLOG_INVALID);
	big = calloc(1, EVLOG_MAX_SIZE + 1);
	assert_int_equal(evlog_parse(big, EVLOG_MAX_SIZE + 1, &log), ERR_EVENTLOG_INVALID);
	assert_non_null(strstr(err_detail(), "exceeds the cap"));
	/* EVLOG_MAX_EVENTS + 1 minimal legacy events (32 bytes each, zero
	 * data) are refused; exactly the cap is fine. */
	memset(big, 0, (size_t)(EVLOG_MAX_EVENTS + 1) * 32);
	for (size_t i = 0; i <= EVLOG_MAX_EVENTS; i++)
		big[i * 32 + 4] = EV_POST_CODE;
	assert_int_equal(evlog_parse(big, (size_t)EVLOG_MAX_EVENTS * 32, &log), ERR_OK);
	assert_int_equal(evlog_event_count(log), EVLOG_MAX_EVENTS);
	evlog_free(log);
	assert_int_equal(evlog_parse(big, (size_t)(EVLOG_MAX_EVENTS + 1) * 32, &log),
			 ERR_EVENTLOG_INVALID);
	assert_non_null(strstr(err_detail(), "more than 16384 events"));
	free(big);
	free(b);
	evlog_free(NULL); /* NULL-safe */
}

/* Every prefix of a real log either ends on an event boundary (a shorter
 * valid log) or is refused naming the event that was cut. */
static void test_every_truncation_is_handled(void **state)
{
	size_t len;
	uint8_t *bytes = vector_bytes("gtt_glinux-alex.bin", &len);
	struct evlog *full = vector_log("gtt_glinux-alex.bin");
	size_t next_event = 1;

	(void)state;
	for (size_t cut = 1; cut < len; cut++) {
		struct evlog *log = NULL;
		err_t rc = evlog_parse(bytes, cut, &log);
		const struct evlog_event *ev = evlog_event_at(full, next_event);

		if (ev != NULL && cut == ev->offset) {
			assert_int_equal(rc, ERR_OK);
			assert_int_equal(evlog_event_count(log), next_event);
			next_event++;
		} else {
			char want[64];

			assert_int_equal(rc, ERR_EVENTLOG_INVALID);
			snprintf(want, sizeof(want), "event %zu at offset %zu:", next_event - 1,
				 evlog_event_at(full, next_event - 1)->offset);
			if (next_event > 1 && strstr(err_detail(), want) == NULL)
				fail_msg("cut %zu: '%s' lacks '%s'", cut, err_detail(), want);
		}
		evlog_free(log);
	}
	evlog_free(full);
	free(bytes);
}

static void test_bank_names(void **state)
{
	enum evlog_bank bank;

	(void)state;
	assert_true(evlog_bank_from_name("sha384", &bank));
	assert_int_equal(bank, EVLOG_BANK_SHA384);
	assert_int_equal(evlog_bank_alg(bank), 0x000C);
	assert_int_equal(evlog_bank_size(bank), 48);
	assert_false(evlog_bank_from_name("SHA256", &bank));
	assert_false(evlog_bank_from_name("sm3_256", &bank));
	assert_true(evlog_bank_from_alg(0x0004, &bank));
	assert_string_equal(evlog_bank_name(bank), "sha1");
	assert_false(evlog_bank_from_alg(0x0012, &bank));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_vector_parses_and_replays),
	    cmocka_unit_test(test_vectors_replay_to_their_tpm_values),
	    cmocka_unit_test(test_format_details),
	    cmocka_unit_test(test_windows_log_quirks),
	    cmocka_unit_test(test_missing_exit_boot_services_rule),
	    cmocka_unit_test(test_ebs_rule_needs_missing_events),
	    cmocka_unit_test(test_check_pcrs_refusals),
	    cmocka_unit_test(test_replay_rules),
	    cmocka_unit_test(test_unknown_algorithm_is_skipped),
	    cmocka_unit_test(test_malformed_logs_are_refused),
	    cmocka_unit_test(test_size_caps),
	    cmocka_unit_test(test_every_truncation_is_handled),
	    cmocka_unit_test(test_bank_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
