/* `key = value` configuration files ('#' comments, blank lines) and the
 * typed value readers both programs' settings use. Unknown keys are the
 * caller's to refuse, so a typo never leaves a default silently in force. */
#ifndef ATTEST_CONFFILE_H
#define ATTEST_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "log.h"

/* Longest line read: a key and a value of up to PATH_MAX (4096) bytes
 * fit; configuration files hold paths and URLs, not documents. */
#define CONFFILE_MAX_LINE 8192

/* Sets one option; returns an error whose detail names the key. */
typedef err_t (*conffile_set_fn)(void *ctx, const char *key, const char *value);

/* Calls set for every `key = value` line of path (both trimmed). A failure
 * comes back with "PATH:LINE: " in front of its detail; a missing file is
 * ERR_NOT_FOUND, anything else wrong ERR_BAD_REQUEST. */
err_t conffile_load(const char *path, conffile_set_fn set, void *ctx) WARN_UNUSED;

/* "true"/"yes" or "false"/"no". */
err_t conffile_bool(const char *key, const char *value, bool *out) WARN_UNUSED;

/* Decimal, or hexadecimal with 0x (TPM handles); never octal. */
err_t conffile_number(const char *key, const char *value, unsigned long long min,
		      unsigned long long max, unsigned long long *out) WARN_UNUSED;

/* "error", "warn", "info" or "debug". */
err_t conffile_log_level(const char *key, const char *value, enum log_level *out) WARN_UNUSED;

/* Copies value to dst[cap], refusing one that does not fit. */
err_t conffile_string(const char *key, const char *value, char *dst, size_t cap) WARN_UNUSED;

#endif
