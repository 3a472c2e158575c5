/* Boot policy: rules on what a firmware event log shows (Secure Boot state,
 * Secure Boot keys, boot components, PCR values) and the detection of
 * virtual platforms, loaded from the "boot" member of the policy JSON. */
#ifndef ATTEST_BOOT_H
#define ATTEST_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "evlog.h"
#include "evlog_json.h"

/* The Secure Boot variables whose measurements policy can pin. */
enum boot_var { BOOT_VAR_PK, BOOT_VAR_KEK, BOOT_VAR_DB, BOOT_VAR_DBX, BOOT_VAR_COUNT };

/* Virtual-platform indicators. Each is a named rule an operator can switch
 * off for a lab ("virtual_platform": {"NAME": false}); policy/boot_virtual.c
 * documents what each looks at. X(enum, name). */
#define BOOT_VIRTUAL_RULES(X)                                                                      \
	X(BOOT_VR_FIRMWARE_VERSION, "firmware_version")                                            \
	X(BOOT_VR_EMPTY_FIRMWARE_VERSION, "empty_firmware_version")                                \
	X(BOOT_VR_NO_CRTM, "no_crtm")                                                              \
	X(BOOT_VR_FIRMWARE_STRINGS, "firmware_strings")                                            \
	X(BOOT_VR_BOOT_OPTION, "boot_option")                                                      \
	X(BOOT_VR_DEVICE_PATH, "device_path")                                                      \
	X(BOOT_VR_OVMF_FIRMWARE_VOLUME, "ovmf_firmware_volume")

#define BOOT_VR_ENUM_ENTRY(id, name) id,
enum boot_virtual_rule { BOOT_VIRTUAL_RULES(BOOT_VR_ENUM_ENTRY) BOOT_VR_COUNT };
#undef BOOT_VR_ENUM_ENTRY

/* A set of digests of one size (the policy bank's, or SHA-256 for
 * certificate fingerprints). `present` false means "no constraint". */
struct boot_digest_set {
	bool present;
	size_t count;
	uint8_t (*digests)[EVLOG_MAX_DIGEST];
};

/* Treat the members as read-only outside policy/boot*.c: build one with
 * boot_policy_load, release it with boot_policy_free. */
struct boot_policy {
	enum evlog_bank bank;	    /* bank for variable and component digests */
	bool require_secure_boot;   /* SecureBoot variable measured as 1 */
	bool allow_missing_ebs;	    /* see EVLOG_CHECK_ALLOW_MISSING_EBS */
	uint32_t virtual_rules_off; /* bit (1u << enum boot_virtual_rule) */
	struct boot_digest_set variables[BOOT_VAR_COUNT];    /* digests of the variable data */
	struct boot_digest_set certificates[BOOT_VAR_COUNT]; /* SHA-256 of each allowed X.509 */
	struct boot_digest_set components;		     /* boot applications, kernel, initrd */
	struct evlog_pcr_values pcrs[EVLOG_BANK_COUNT];	     /* required replayed values */
};

/* Loads the "boot" member of a policy. Every member is optional; absent
 * ones put no constraint, except that Secure Boot is required and every
 * virtual-platform rule is on unless the policy says otherwise. Unknown
 * members, bad hex, wrong digest sizes: ERR_BAD_REQUEST naming the member
 * (a policy typo must not silently weaken a rule). On failure *out holds
 * nothing to free. */
err_t boot_policy_load(const json_t *obj, struct boot_policy *out) WARN_UNUSED;
void boot_policy_free(struct boot_policy *p);

/* Flags for evlog_check_pcrs that this policy asks for. */
unsigned boot_policy_check_flags(const struct boot_policy *p);

/* Judges a parsed and already replay-checked log: ERR_VIRTUAL_PLATFORM
 * (detail: "rule NAME: evidence") when a virtual-platform rule fires,
 * ERR_POLICY_VIOLATION (detail names the rule) when a boot rule fails,
 * ERR_OK otherwise. Virtual-platform rules run first. */
err_t boot_policy_eval(const struct boot_policy *p, const struct evlog *log,
		       const struct evlog_pcrs *replayed) WARN_UNUSED;

/* Builds a policy document that accepts exactly this machine's boot:
 * {"pcr_selection": "BANK:0,...", "boot": {...}} with the Secure Boot
 * state, the PK/KEK/db/dbx digests, every boot component's digest and the
 * replayed values of PCRs 0-7 (and 8, 9, 14 when they have events) in
 * `bank`; the selection names exactly those PCRs, so the quote covers every
 * fact the boot member relies on. ERR_EVENTLOG_INVALID if the log lacks
 * the bank. */
err_t boot_policy_capture(const struct evlog *log, const struct evlog_pcrs *replayed,
			  enum evlog_bank bank, json_t **out) WARN_UNUSED;

#endif
