/* Boot policy: the cloud and qemu logs are refused as virtual_platform and
 * the physical Lenovo, HP, Dell, Supermicro and Intel logs are not; each
 * virtual-platform rule fires on its own and can be switched off; each boot
 * rule refuses what it should, including a log that lies about its data;
 * a captured policy accepts exactly the machine it came from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "b64.h"
#include "boot.h"
#include "boot_virtual.h"
#include "evlog.h"
#include "test_evlog_util.h"

static const char *const virtual_logs[] = {
    "ga_coreos_36_shielded_vm_no_secure_boot_eventlog.bin",
    "ga_sb_cert_eventlog.bin",
    "ga_windows_gcp_shielded_vm_eventlog.bin",
    "gtt_confidential-gke-debug-251000_eventlog.bin",
    "gtt_cos-101-amd-sev.bin",
    "gtt_cos-85-amd-sev.bin",
    "gtt_cos-93-amd-sev.bin",
    "gtt_debian-10.bin",
    "gtt_rhel8-uefi.bin",
    "gtt_ubuntu-1804-amd-sev.bin",
    "gtt_ubuntu-2104-no-dbx.bin",
    "gtt_ubuntu-2104-no-secure-boot.bin",
    "tt_event-bootorder.bin",
    "qemu_ovmf_q35.bin",
    "qemu_seabios_pc.bin",
};

static const char *const physical_logs[] = {
    "gtt_glinux-alex.bin",			     /* Lenovo laptop */
    "keylime_binary_bios_measurements.bin",	     /* Lenovo ThinkPad */
    "guard_tpm2_windows_lenovo_yogax1v2.bin",	     /* Lenovo X1 Yoga */
    "guard_ludmilla_ntc_eventlog.bin",		     /* Lenovo, AMD */
    "ga_option_rom_eventlog.bin",		     /* HP */
    "ga_ebs_event_missing_eventlog.bin",	     /* HP */
    "guard_hp_elitebook830g6_ifx_eventlog.bin",	     /* HP EliteBook */
    "canonical_tcglog_binary_bios_measurements.bin", /* Dell */
    "gtt_gdc-host.bin",				     /* Dell PowerEdge */
    "guard_windows_event_log.bin",		     /* Dell */
    "tt_event-postcode.bin",			     /* Supermicro */
    "ga_crypto_agile_eventlog.bin",		     /* Intel desktop board */
    "gtt_arch-linux-workstation.bin",		     /* desktop */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void load_policy(const char *json_text, struct boot_policy *p)
{
	json_error_t jerr;
	json_t *obj = json_loads(json_text, 0, &jerr);

	if (obj == NULL)
		fail_msg("bad test JSON: %s", jerr.text);
	if (boot_policy_load(obj, p) != ERR_OK)
		fail_msg("policy refused: %s", err_detail());
	json_decref(obj);
}

static err_t load_policy_rc(const char *json_text)
{
	struct boot_policy p;
	json_t *obj = json_loads(json_text, 0, NULL);
	err_t rc;

	assert_non_null(obj);
	rc = boot_policy_load(obj, &p);
	if (rc == ERR_OK)
		boot_policy_free(&p);
	json_decref(obj);
	return rc;
}

/* As a quote covering `mask` of `bank` would: the replay is confirmed. */
static void confirm(struct evlog_pcrs *r, enum evlog_bank bank, uint32_t mask)
{
	uint8_t values[EVLOG_PCR_COUNT * EVLOG_MAX_DIGEST];
	size_t n = evlog_bank_size(bank), len = 0;

	for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
		if (mask & (1u << pcr)) {
			memcpy(values + len, r->value[bank][pcr], n);
			len += n;
		}
	}
	assert_int_equal(evlog_check_pcrs(r, evlog_bank_alg(bank), mask, values, len, 0), ERR_OK);
}

/* Parses, replays and checks against the vector's TPM-read PCRs. */
static struct evlog *replayed_vector(const char *name, struct evlog_pcrs *r)
{
	struct evlog_pcr_values expected[EVLOG_BANK_COUNT];
	struct evlog *log = vector_log(name);

	assert_int_equal(evlog_replay(log, r), ERR_OK);
	if (vector_sidecar(name, expected)) {
		sidecar_drop_pcr(expected, 10);
		assert_int_equal(evlog_check_pcr_values(r, expected, EVLOG_CHECK_ALLOW_MISSING_EBS),
				 ERR_OK);
	}
	return log;
}

static void test_virtual_platforms_are_refused(void **state)
{
	struct boot_policy p;

	(void)state;
	load_policy("{}", &p);
	for (size_t i = 0; i < COUNT(virtual_logs); i++) {
		struct evlog_pcrs r;
		struct evlog *log = replayed_vector(virtual_logs[i], &r);

		if (boot_policy_eval(&p, log, &r) != ERR_VIRTUAL_PLATFORM)
			fail_msg("%s not refused as virtual: %s", virtual_logs[i], err_detail());
		assert_memory_equal(err_detail(), "rule ", 5);
		evlog_free(log);
	}
	boot_policy_free(&p);
}

static void test_physical_machines_are_not_virtual(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(physical_logs); i++) {
		struct evlog *log = vector_log(physical_logs[i]);

		if (boot_virtual_check(log, 0) != ERR_OK)
			fail_msg("%s called virtual: %s", physical_logs[i], err_detail());
		assert_int_equal(boot_virtual_fired(log), 0);
		evlog_free(log);
	}
}

/* Each rule, alone, fires on a log that shows its indicator. */
static void test_each_virtual_rule_fires_alone(void **state)
{
	static const struct {
		enum boot_virtual_rule rule;
		const char *file;
		const char *evidence;
	} cases[] = {
	    {BOOT_VR_FIRMWARE_VERSION, "gtt_cos-85-amd-sev.bin",
	     "rule firmware_version: S-CRTM version names 'GCE Virtual Firmware'"},
	    {BOOT_VR_EMPTY_FIRMWARE_VERSION, "ga_windows_gcp_shielded_vm_eventlog.bin",
	     "rule empty_firmware_version: S-CRTM version is an empty string"},
	    {BOOT_VR_NO_CRTM, "qemu_seabios_pc.bin", "rule no_crtm: PCR 0 holds no firmware"},
	    {BOOT_VR_FIRMWARE_STRINGS, "gtt_confidential-gke-debug-251000_eventlog.bin",
	     "rule firmware_strings: EV_NO_ACTION in PCR 0 names 'Google Compute Engine'"},
	    {BOOT_VR_BOOT_OPTION, "gtt_rhel8-uefi.bin",
	     "rule boot_option: boot option 'UEFI Google PersistentDisk ' names"},
	    {BOOT_VR_DEVICE_PATH, "qemu_ovmf_q35.bin",
	     "rule device_path: QEMU fw_cfg kernel loader in device path of "
	     "EV_EFI_BOOT_SERVICES_APPLICATION"},
	    {BOOT_VR_OVMF_FIRMWARE_VOLUME, "tt_event-bootorder.bin",
	     "rule ovmf_firmware_volume: OVMF DXE firmware volume"},
	};

	(void)state;
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct evlog *log = vector_log(cases[i].file);
		uint32_t only = ~(1u << cases[i].rule);

		assert_int_equal(boot_virtual_check(log, only), ERR_VIRTUAL_PLATFORM);
		if (strstr(err_detail(), cases[i].evidence) != err_detail())
			fail_msg("'%s' is not '%s...'", err_detail(), cases[i].evidence);
		assert_true(boot_virtual_fired(log) & (1u << cases[i].rule));
		evlog_free(log);
	}
}

/* A lab switches off exactly the rules its VM trips, by name. */
static void test_virtual_rules_can_be_switched_off(void **state)
{
	struct boot_policy p;
	struct evlog_pcrs r;
	struct evlog *log = replayed_vector("qemu_ovmf_q35.bin", &r);

	(void)state;
	load_policy("{\"secure_boot\": false, \"virtual_platform\": {\"empty_firmware_version\": "
		    "false, \"device_path\": false}}",
		    &p);
	assert_int_equal(boot_policy_eval(&p, log, &r), ERR_VIRTUAL_PLATFORM);
	assert_non_null(strstr(err_detail(), "rule ovmf_firmware_volume"));
	boot_policy_free(&p);
	load_policy("{\"secure_boot\": false, \"virtual_platform\": {\"empty_firmware_version\": "
		    "false, \"device_path\": false, \"ovmf_firmware_volume\": false}}",
		    &p);
	assert_int_equal(boot_policy_eval(&p, log, &r), ERR_OK);
	boot_policy_free(&p);
	evlog_free(log);
}

static void test_secure_boot_rule(void **state)
{
	struct boot_policy p;
	struct evlog_pcrs r;
	struct evlog *on = replayed_vector("tt_event-postcode.bin", &r);
	struct evlog_pcrs r_off;
	struct evlog *off = replayed_vector("gtt_glinux-alex.bin", &r_off);
	struct evlog_pcrs unchecked;

	(void)state;
	load_policy("{}", &p);
	assert_true(p.require_secure_boot);
	assert_int_equal(boot_policy_eval(&p, on, &r), ERR_OK);
	assert_int_equal(boot_policy_eval(&p, off, &r_off), ERR_POLICY_VIOLATION);
	assert_non_null(
	    strstr(err_detail(), "rule secure_boot: Secure Boot is off (SecureBoot =00"));
	/* Facts from PCRs the quote did not cover are not believed. */
	assert_int_equal(evlog_replay(on, &unchecked), ERR_OK);
	assert_int_equal(boot_policy_eval(&p, on, &unchecked), ERR_POLICY_VIOLATION);
	assert_non_null(strstr(err_detail(), "PCR 7 was not checked against the quote"));
	/* No SecureBoot measurement at all (a BIOS boot). */
	boot_policy_free(&p);
	load_policy("{\"virtual_platform\": {\"no_crtm\": false}}", &p);
	evlog_free(off);
	off = replayed_vector("qemu_seabios_pc.bin", &r_off);
	assert_int_equal(boot_policy_eval(&p, off, &r_off), ERR_POLICY_VIOLATION);
	assert_non_null(strstr(err_detail(), "no SecureBoot measurement in PCR 7"));
	boot_policy_free(&p);
	evlog_free(on);
	evlog_free(off);
}

/* The attack: keep the digests (so the log still replays to the TPM's
 * PCRs) but rewrite the SecureBoot value in the event data from 0 to 1. */
static void test_log_that_lies_about_secure_boot(void **state)
{
	static const char name[] = "gtt_glinux-alex.bin";
	struct evlog_pcr_values expected[EVLOG_BANK_COUNT];
	struct evlog_pcrs r;
	struct boot_policy p;
	struct evlog *log;
	size_t len, sb_off = 0;
	uint8_t *bytes = vector_bytes(name, &len);
	static const uint8_t sb_name[] = {'S', 0,   'e', 0,   'c', 0,	'u', 0,	  'r', 0, 'e',
					  0,   'B', 0,	 'o', 0,   'o', 0,   't', 0,   0};

	(void)state;
	for (size_t i = 0; i + sizeof(sb_name) <= len && sb_off == 0; i++) {
		if (memcmp(bytes + i, sb_name, sizeof(sb_name) - 1) == 0)
			sb_off = i + sizeof(sb_name) - 1; /* the value byte follows the name */
	}
	assert_true(sb_off > 0);
	assert_int_equal(bytes[sb_off], 0);
	bytes[sb_off] = 1;
	assert_int_equal(evlog_parse(bytes, len, &log), ERR_OK);
	assert_int_equal(evlog_replay(log, &r), ERR_OK);
	assert_true(vector_sidecar(name, expected));
	assert_int_equal(evlog_check_pcr_values(&r, expected, 0), ERR_OK); /* still replays */
	load_policy("{}", &p);
	assert_int_equal(boot_policy_eval(&p, log, &r), ERR_POLICY_VIOLATION);
	if (strstr(err_detail(), "rule secure_boot: event ") == NULL ||
	    strstr(err_detail(), "'s data is not what its digest measured") == NULL)
		fail_msg("%s", err_detail());
	boot_policy_free(&p);
	evlog_free(log);
	free(bytes);
}

static char *captured_boot_member(const struct evlog *log, const struct evlog_pcrs *r)
{
	json_t *doc = NULL;
	char *text;

	assert_int_equal(boot_policy_capture(log, r, EVLOG_BANK_SHA256, &doc), ERR_OK);
	text = json_dumps(json_object_get(doc, "boot"), 0);
	json_decref(doc);
	assert_non_null(text);
	return text;
}

/* A captured policy accepts its own machine, with PCRs 0-7 (and 8, 9)
 * confirmed as a quote of the captured selection would. */
static void test_capture_accepts_its_machine(void **state)
{
	static const char *const machines[] = {
	    "tt_event-postcode.bin",
	    "gtt_glinux-alex.bin",
	    "guard_hp_elitebook830g6_ifx_eventlog.bin",
	    "gtt_gdc-host.bin",
	};

	(void)state;
	for (size_t i = 0; i < COUNT(machines); i++) {
		struct evlog_pcrs r;
		struct evlog *log = replayed_vector(machines[i], &r);
		struct boot_policy p;
		json_t *doc = NULL;
		char *boot;

		assert_int_equal(boot_policy_capture(log, &r, EVLOG_BANK_SHA256, &doc), ERR_OK);
		confirm(&r, EVLOG_BANK_SHA256, 0xFF | (r.extended[EVLOG_BANK_SHA256] & 0x4300));
		boot = captured_boot_member(log, &r);
		load_policy(boot, &p);
		if (boot_policy_eval(&p, log, &r) != ERR_OK)
			fail_msg("%s: %s", machines[i], err_detail());
		boot_policy_free(&p);
		free(boot);
		json_decref(doc);
		evlog_free(log);
	}
}

/* The captured selection covers PCR 9 when the log has events there. */
static void test_capture_selection(void **state)
{
	struct evlog_pcrs r;
	struct evlog *log = replayed_vector("qemu_ovmf_q35.bin", &r);
	json_t *doc = NULL;

	(void)state;
	assert_int_equal(boot_policy_capture(log, &r, EVLOG_BANK_SHA256, &doc), ERR_OK);
	assert_string_equal(json_string_value(json_object_get(doc, "pcr_selection")),
			    "sha256:0,1,2,3,4,5,6,7,9");
	json_decref(doc);
	assert_int_equal(boot_policy_capture(log, &r, EVLOG_BANK_SHA384, &doc), ERR_OK);
	json_decref(doc);
	evlog_free(log);
	log = replayed_vector("gtt_glinux-alex.bin", &r);
	assert_int_equal(boot_policy_capture(log, &r, EVLOG_BANK_SHA384, &doc),
			 ERR_EVENTLOG_INVALID);
	assert_null(doc);
	evlog_free(log);
}

/* Replaces the first occurrence of `from` in the policy text by `to`. */
static char *edited(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	assert_non_null(at);
	assert_non_null(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), to);
	strcat(out, at + strlen(from));
	return out;
}

static void expect_violation(const char *policy, const struct evlog *log,
			     const struct evlog_pcrs *r, const char *detail)
{
	struct boot_policy p;

	load_policy(policy, &p);
	assert_int_equal(boot_policy_eval(&p, log, r), ERR_POLICY_VIOLATION);
	if (strstr(err_detail(), detail) == NULL)
		fail_msg("'%s' lacks '%s'", err_detail(), detail);
	boot_policy_free(&p);
}

static void test_each_boot_rule_refuses(void **state)
{
	struct evlog_pcrs r;
	struct evlog *log = replayed_vector("tt_event-postcode.bin", &r);
	char *boot, *bad;
	char db_digest[65], first_component[65], pcr4[65];
	json_t *doc;

	(void)state;
	confirm(&r, EVLOG_BANK_SHA256, 0xFF);
	boot = captured_boot_member(log, &r);
	doc = json_loads(boot, 0, NULL);
	strcpy(db_digest, json_string_value(json_array_get(
			      json_object_get(json_object_get(doc, "variables"), "db"), 0)));
	strcpy(first_component,
	       json_string_value(json_object_get(
		   json_array_get(json_object_get(doc, "components"), 0), "digest")));
	strcpy(pcr4, json_string_value(json_object_get(
			 json_object_get(json_object_get(doc, "pcrs"), "sha256"), "4")));
	json_decref(doc);

	bad = edited(boot, db_digest,
		     "00000000000000000000000000000000000000000000000000000000000000aa");
	expect_violation(bad, log, &r, "rule variables.db: db digest ");
	free(bad);
	bad = edited(boot, first_component,
		     "00000000000000000000000000000000000000000000000000000000000000aa");
	expect_violation(bad, log, &r, "rule components: ");
	free(bad);
	bad =
	    edited(boot, pcr4, "00000000000000000000000000000000000000000000000000000000000000aa");
	expect_violation(bad, log, &r, "rule pcrs: sha256 PCR 4 is ");
	free(bad);
	/* A PCR the quote did not cover cannot satisfy a required value. */
	expect_violation("{\"pcrs\": {\"sha256\": {\"23\": "
			 "\"0000000000000000000000000000000000000000000000000000000000000000\"}}}",
			 log, &r, "rule pcrs: sha256 PCR 23 was not checked against the quote");
	expect_violation("{\"pcrs\": {\"sha384\": {\"0\": \""
			 "0000000000000000000000000000000000000000000000000000000000000000000000000"
			 "00000000000000000000000\"}}}",
			 log, &r, "rule pcrs: the event log has no sha384 bank");
	free(boot);
	evlog_free(log);
}

/* SHA-256 of the Supermicro PK certificate ("SUPERMICRO PK CA 2018"). */
static void test_certificate_allow_list(void **state)
{
	struct evlog_pcrs r;
	struct evlog *log = replayed_vector("tt_event-postcode.bin", &r);
	struct boot_policy p;
	FILE *f;
	char fp[65] = {0}, policy[256];

	(void)state;
	confirm(&r, EVLOG_BANK_SHA256, 0xFF);
	f = fopen("eventlogs/tt_event-postcode.pk.sha256", "r");
	assert_non_null(f);
	assert_int_equal(fread(fp, 1, 64, f), 64);
	fclose(f);
	snprintf(policy, sizeof(policy), "{\"certificates\": {\"PK\": [\"%s\"]}}", fp);
	load_policy(policy, &p);
	assert_int_equal(boot_policy_eval(&p, log, &r), ERR_OK);
	boot_policy_free(&p);
	/* KEK holds Supermicro's and Microsoft's certificates: not allowed. */
	snprintf(policy, sizeof(policy), "{\"certificates\": {\"KEK\": [\"%s\"]}}", fp);
	expect_violation(policy, log, &r, "rule certificates.KEK: certificate ");
	evlog_free(log);
}

static void test_policy_load(void **state)
{
	struct boot_policy p;

	(void)state;
	load_policy("{}", &p);
	assert_int_equal(p.bank, EVLOG_BANK_SHA256);
	assert_true(p.require_secure_boot);
	assert_false(p.allow_missing_ebs);
	assert_int_equal(p.virtual_rules_off, 0);
	assert_int_equal(boot_policy_check_flags(&p), 0);
	boot_policy_free(&p);
	load_policy("{\"bank\": \"sha1\", \"allow_missing_exit_boot_services\": true, "
		    "\"variables\": {\"dbx\": [\"00112233445566778899aabbccddeeff00112233\"]}, "
		    "\"components\": [{\"name\": \"shim\", \"digest\": "
		    "\"00112233445566778899AABBCCDDEEFF00112233\"}, "
		    "\"ffffffffffffffffffffffffffffffffffffffff\"]}",
		    &p);
	assert_int_equal(boot_policy_check_flags(&p), EVLOG_CHECK_ALLOW_MISSING_EBS);
	assert_true(p.variables[BOOT_VAR_DBX].present);
	assert_false(p.variables[BOOT_VAR_DB].present);
	assert_int_equal(p.components.count, 2);
	assert_int_equal(p.components.digests[0][10], 0xaa);
	boot_policy_free(&p);
	boot_policy_free(&p); /* safe twice: freed state is zeroed */

	assert_int_equal(load_policy_rc("[]"), ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"secure_bot\": true}"), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "secure_bot: unknown member"));
	assert_int_equal(load_policy_rc("{\"secure_boot\": 1}"), ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"bank\": \"md5\"}"), ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"virtual_platform\": {\"smbios\": false}}"),
			 ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "virtual_platform.smbios: no such rule"));
	assert_int_equal(load_policy_rc("{\"virtual_platform\": {\"no_crtm\": \"off\"}}"),
			 ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"variables\": {\"MOK\": []}}"), ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"variables\": {\"db\": [\"0011\"]}}"), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "variables.db[0]: not 32 bytes of hex"));
	assert_int_equal(load_policy_rc("{\"components\": [{\"digest\": \"00\", \"x\": 1}]}"),
			 ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"certificates\": {\"PK\": \"ab\"}}"), ERR_BAD_REQUEST);
	assert_int_equal(load_policy_rc("{\"pcrs\": {\"sha256\": {\"24\": \"00\"}}}"),
			 ERR_BAD_REQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_virtual_platforms_are_refused),
	    cmocka_unit_test(test_physical_machines_are_not_virtual),
	    cmocka_unit_test(test_each_virtual_rule_fires_alone),
	    cmocka_unit_test(test_virtual_rules_can_be_switched_off),
	    cmocka_unit_test(test_secure_boot_rule),
	    cmocka_unit_test(test_log_that_lies_about_secure_boot),
	    cmocka_unit_test(test_capture_accepts_its_machine),
	    cmocka_unit_test(test_capture_selection),
	    cmocka_unit_test(test_each_boot_rule_refuses),
	    cmocka_unit_test(test_certificate_allow_list),
	    cmocka_unit_test(test_policy_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
