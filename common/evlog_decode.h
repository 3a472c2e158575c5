/* Decoders for the event data policy looks at (TCG PC Client PFP section
 * 10.4 and UEFI structures), each bounded by the event's data size, and a
 * one-line text description of any event for operators. Views point into
 * the event data; nothing is copied. */
#ifndef ATTEST_EVLOG_DECODE_H
#define ATTEST_EVLOG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "evlog.h"

/* UEFI_VARIABLE_DATA: EV_EFI_VARIABLE_DRIVER_CONFIG, _BOOT, _BOOT2, _AUTHORITY. */
struct efi_variable {
	const uint8_t *guid; /* 16 bytes, EFI_GUID byte order */
	const uint8_t *name; /* UTF-16LE, name_units code units */
	size_t name_units;
	const uint8_t *data;
	size_t data_len;
};
bool evlog_decode_variable(const struct evlog_event *ev, struct efi_variable *out) WARN_UNUSED;
/* True when the variable is vendor `guid`'s variable named `ascii_name`. */
bool efi_variable_is(const struct efi_variable *v, const uint8_t guid[static 16],
		     const char *ascii_name);

/* UEFI_IMAGE_LOAD_EVENT: EV_EFI_BOOT_SERVICES_APPLICATION/_DRIVER,
 * EV_EFI_RUNTIME_SERVICES_DRIVER. */
struct efi_image_load {
	uint64_t address, length, link_address;
	const uint8_t *devpath;
	size_t devpath_len;
};
bool evlog_decode_image_load(const struct evlog_event *ev, struct efi_image_load *out) WARN_UNUSED;

/* UEFI_PLATFORM_FIRMWARE_BLOB (EV_EFI_PLATFORM_FIRMWARE_BLOB, and
 * EV_POST_CODE when it holds one) and _BLOB2 (with a description). */
struct efi_blob {
	const uint8_t *desc; /* ASCII, desc_len bytes; NULL for the first form */
	size_t desc_len;
	uint64_t base, length;
};
bool evlog_decode_blob(const struct evlog_event *ev, struct efi_blob *out) WARN_UNUSED;

/* UEFI_HANDOFF_TABLE_POINTERS(2): EV_EFI_HANDOFF_TABLES(2). */
struct efi_handoff {
	const uint8_t *desc; /* ASCII; NULL for the first form */
	size_t desc_len;
	uint64_t count;
	const uint8_t *tables; /* count entries of GUID(16) + pointer(8) */
};
#define EFI_HANDOFF_ENTRY_SIZE 24
bool evlog_decode_handoff(const struct evlog_event *ev, struct efi_handoff *out) WARN_UNUSED;

/* TCG_PCClientTaggedEvent: EV_EVENT_TAG. */
struct evlog_tagged {
	uint32_t id;
	const uint8_t *data;
	size_t len;
};
bool evlog_decode_tagged(const struct evlog_event *ev, struct evlog_tagged *out) WARN_UNUSED;

/* EFI_LOAD_OPTION, the data of a Boot#### variable. */
struct efi_load_option {
	uint32_t attributes;
	const uint8_t *desc; /* UTF-16LE without its NUL */
	size_t desc_units;
	const uint8_t *devpath;
	size_t devpath_len;
	const uint8_t *optional;
	size_t optional_len;
};
bool efi_decode_load_option(const uint8_t *p, size_t len, struct efi_load_option *out) WARN_UNUSED;

/* Whether event data is UTF-16LE text (even size, every other byte zero for
 * the ASCII range, as firmware writes version strings and systemd-boot
 * command lines) rather than ASCII. */
bool evlog_data_is_utf16(const uint8_t *p, size_t len);

/* "EV_EFI_ACTION"; "EV_UNKNOWN" for types without a name. */
const char *evlog_type_name(uint32_t type);

/* One line describing the event's data for `attestctl eventlog show`:
 * strings, variable names and values, device paths, blob ranges. Always
 * NUL-terminated, cut with "..." at cap. */
void evlog_describe(const struct evlog_event *ev, char *out, size_t cap);

/* Well-known vendor GUIDs (UEFI 2.10 sections 3.3 and 32.4.1). */
extern const uint8_t efi_global_variable_guid[16];
extern const uint8_t efi_image_security_database_guid[16];

#endif
