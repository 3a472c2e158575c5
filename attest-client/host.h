/* What the client says about the machine besides the TPM's evidence: host
 * metadata (the verifier records it and never trusts it) and the firmware
 * event log (which the verifier replays against the quoted PCRs). */
#ifndef ATTEST_CLIENT_HOST_H
#define ATTEST_CLIENT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* DESIGN.md: `host` is at most 4 KiB of JSON. */
#define HOST_MAX_JSON 4096

/* SMBIOS strings are at most 255 bytes (SMBIOS 3.x, §6.1.3). */
#define HOST_DMI_VALUE_MAX 255

#define HOST_DMI_DIR "/sys/class/dmi/id"

/* The verifier takes bodies of up to 4 MiB by default and base64 grows data
 * by 4/3: a larger log could never be accepted. Real logs are 10-100 KiB. */
#define HOST_EVENT_LOG_MAX ((size_t)3 * 1024 * 1024)

/* {"hostname": ..., "dmi": {"sys_vendor": ..., ...}} from the world-readable
 * DMI files in dmi_dir (serial numbers and UUIDs are left out: root-only,
 * personal, and the EK identifies the machine anyway). Values are cut to
 * printable ASCII; absent or empty files are left out, and so is any field
 * that would take the JSON past HOST_MAX_JSON. NULL only when out of memory. */
json_t *host_metadata(const char *hostname, const char *dmi_dir);

/* Reads the binary event log at path (securityfs reports size 0, so it is
 * read to its end). *present is false when path does not exist; refuses a
 * log larger than HOST_EVENT_LOG_MAX. *out is malloc'd. */
err_t host_read_event_log(const char *path, uint8_t **out, size_t *len, bool *present) WARN_UNUSED;

#endif
