/* TCG PC Client firmware event log: bounded parser for both the legacy SHA1
 * format and the crypto-agile format, replay into per-bank PCR values, and
 * the comparison of the replay with quoted PCRs. */
#ifndef ATTEST_EVLOG_H
#define ATTEST_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest log accepted. A firmware log lives in a region the firmware sizes
 * in its ACPI TPM2/TCPA table (LAML, 64 KiB-1 MiB in practice); Windows logs
 * with many boot drivers stay under 1 MiB. 4 MiB leaves headroom and equals
 * the HTTP body cap, so a log that came over the wire always fits. */
#define EVLOG_MAX_SIZE ((size_t)4 * 1024 * 1024)

/* Largest event data. The biggest measured objects are Secure Boot variables
 * (the 2024 UEFI dbx is ~25 KiB, db with several certificates ~10 KiB);
 * 256 KiB is ten times that and still bounds a hostile length field. */
#define EVLOG_MAX_EVENT_SIZE ((size_t)256 * 1024)

/* Most events accepted. Real firmware logs hold 20-200 events, Windows logs
 * a few thousand; 16384 bounds the event table to ~1.5 MiB. */
#define EVLOG_MAX_EVENTS 16384

/* Most algorithms a Spec ID event may declare: TPM 2.0 defines fewer than
 * 16 hash algorithms, so more is malformed. */
#define EVLOG_MAX_ALGORITHMS 16

/* PCRs of a PC Client TPM. */
#define EVLOG_PCR_COUNT 24

/* Largest digest of a bank we replay (SHA-512). */
#define EVLOG_MAX_DIGEST 64

/* PCR index Windows uses for events it logs but never extends. */
#define EVLOG_PCR_NONE UINT32_C(0xFFFFFFFF)

/* The banks we replay. Other algorithms in a crypto-agile log are skipped by
 * the sizes the Spec ID event declares for them. */
enum evlog_bank {
	EVLOG_BANK_SHA1,
	EVLOG_BANK_SHA256,
	EVLOG_BANK_SHA384,
	EVLOG_BANK_SHA512,
	EVLOG_BANK_COUNT
};

enum evlog_format {
	EVLOG_FORMAT_LEGACY_SHA1,  /* TCG_PCClientPCREvent only */
	EVLOG_FORMAT_CRYPTO_AGILE, /* Spec ID Event03, then TCG_PCR_EVENT2 */
};

/* Event types (TCG PC Client Platform Firmware Profile, section 10.4.1). */
#define EV_PREBOOT_CERT			 0x00000000u
#define EV_POST_CODE			 0x00000001u
#define EV_NO_ACTION			 0x00000003u
#define EV_SEPARATOR			 0x00000004u
#define EV_ACTION			 0x00000005u
#define EV_EVENT_TAG			 0x00000006u
#define EV_S_CRTM_CONTENTS		 0x00000007u
#define EV_S_CRTM_VERSION		 0x00000008u
#define EV_CPU_MICROCODE		 0x00000009u
#define EV_PLATFORM_CONFIG_FLAGS	 0x0000000Au
#define EV_TABLE_OF_DEVICES		 0x0000000Bu
#define EV_COMPACT_HASH			 0x0000000Cu
#define EV_IPL				 0x0000000Du
#define EV_IPL_PARTITION_DATA		 0x0000000Eu
#define EV_NONHOST_CODE			 0x0000000Fu
#define EV_NONHOST_CONFIG		 0x00000010u
#define EV_NONHOST_INFO			 0x00000011u
#define EV_OMIT_BOOT_DEVICE_EVENTS	 0x00000012u
#define EV_EFI_EVENT_BASE		 0x80000000u
#define EV_EFI_VARIABLE_DRIVER_CONFIG	 0x80000001u
#define EV_EFI_VARIABLE_BOOT		 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER	 0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER	 0x80000005u
#define EV_EFI_GPT_EVENT		 0x80000006u
#define EV_EFI_ACTION			 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB	 0x80000008u
#define EV_EFI_HANDOFF_TABLES		 0x80000009u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2	 0x8000000Au
#define EV_EFI_HANDOFF_TABLES2		 0x8000000Bu
#define EV_EFI_VARIABLE_BOOT2		 0x8000000Cu
#define EV_EFI_GPT_EVENT2		 0x8000000Du
#define EV_EFI_HCRTM_EVENT		 0x80000010u
#define EV_EFI_VARIABLE_AUTHORITY	 0x800000E0u
#define EV_EFI_SPDM_FIRMWARE_BLOB	 0x800000E1u
#define EV_EFI_SPDM_FIRMWARE_CONFIG	 0x800000E2u

/* One event. Pointers are views into the parsed log's own copy of the bytes
 * and live as long as the struct evlog. */
struct evlog_event {
	size_t offset; /* byte offset of the event in the log */
	uint32_t pcr;  /* 0..23, or EVLOG_PCR_NONE */
	uint32_t type;
	/* NULL for a bank this event did not extend (the log lacks the bank,
	 * or the event carries digests for only some banks). */
	const uint8_t *digest[EVLOG_BANK_COUNT];
	const uint8_t *data;
	size_t data_len;
};

struct evlog;

/* Parses log[0..len) into an owning model (the bytes are copied). Malformed
 * input: ERR_EVENTLOG_INVALID with a detail naming the event index and byte
 * offset. *out is NULL on failure. */
err_t evlog_parse(const uint8_t *log, size_t len, struct evlog **out) WARN_UNUSED;
void evlog_free(struct evlog *log);

enum evlog_format evlog_format(const struct evlog *log);
/* Bit (1u << enum evlog_bank) for each bank the log declares (legacy: SHA1). */
uint32_t evlog_banks(const struct evlog *log);
size_t evlog_event_count(const struct evlog *log);
/* NULL when i >= evlog_event_count(). */
const struct evlog_event *evlog_event_at(const struct evlog *log, size_t i);
/* The StartupLocality the log declares (0 when it declares none). */
uint8_t evlog_startup_locality(const struct evlog *log);

/* Bank names and sizes: "sha1", "sha256", "sha384", "sha512". */
const char *evlog_bank_name(enum evlog_bank bank);
size_t evlog_bank_size(enum evlog_bank bank);
uint16_t evlog_bank_alg(enum evlog_bank bank); /* TPM2_ALG_ID */
bool evlog_bank_from_alg(uint16_t alg, enum evlog_bank *out) WARN_UNUSED;
bool evlog_bank_from_name(const char *name, enum evlog_bank *out) WARN_UNUSED;

/* Replayed PCR values. value[b][i] holds evlog_bank_size(b) bytes for every
 * bank in `banks`. */
struct evlog_pcrs {
	uint32_t banks;			     /* bit (1u << enum evlog_bank) */
	uint32_t extended[EVLOG_BANK_COUNT]; /* bit i: PCR i has at least one event */
	/* The log holds PCR 5's ExitBootServices EV_EFI_ACTION events. */
	bool exit_boot_services_logged;
	/* Bit i: evlog_check_pcrs confirmed PCR i of this bank against a quote.
	 * Policy trusts the events of confirmed PCRs only. */
	uint32_t verified[EVLOG_BANK_COUNT];
	uint8_t value[EVLOG_BANK_COUNT][EVLOG_PCR_COUNT][EVLOG_MAX_DIGEST];
};

/* Replays every event into every bank the log carries: PCR 0 starts at the
 * StartupLocality value, PCRs 17-22 at all ones, the others at zero;
 * EV_NO_ACTION and PCR-index-0xFFFFFFFF events are not extended. */
err_t evlog_replay(const struct evlog *log, struct evlog_pcrs *out) WARN_UNUSED;

/* The same for only the banks in `banks` (bit 1u << enum evlog_bank) that
 * the log carries: a verifier needs only the quoted bank, and each bank
 * costs one hash per event. out->banks says which were replayed. */
err_t evlog_replay_banks(const struct evlog *log, uint32_t banks,
			 struct evlog_pcrs *out) WARN_UNUSED;

/* Flags for evlog_check_pcrs. */
enum evlog_check_flags {
	/* Some firmware measures the two ExitBootServices EV_EFI_ACTION events
	 * into PCR 5 but does not log them (go-attestation PR #153). With this
	 * flag, a PCR 5 mismatch is forgiven when the log lacks those events
	 * and appending them reproduces the quoted value. Off unless the boot
	 * policy's allow_missing_exit_boot_services rule says otherwise. */
	EVLOG_CHECK_ALLOW_MISSING_EBS = 1u << 0,
};

/* Compares the replay with quoted values: `values` holds the digests of the
 * PCRs set in pcr_mask (bit i = PCR i), in ascending PCR order, each of the
 * bank's size, concatenated (values_len must match). `bank_alg` is the
 * quoted bank's TPM2_ALG_ID. ERR_EVENTLOG_INVALID when the log lacks that
 * bank; ERR_EVENTLOG_REPLAY_MISMATCH naming the bank and the first PCR that
 * differs; ERR_BAD_REQUEST for a selection beyond PCR 23 or a wrong
 * values_len. On success the PCRs are added to replayed->verified[bank]. */
err_t evlog_check_pcrs(struct evlog_pcrs *replayed, uint16_t bank_alg, uint32_t pcr_mask,
		       const uint8_t *values, size_t values_len, unsigned flags) WARN_UNUSED;

#endif
