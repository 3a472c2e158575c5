/* Whole-file reads with a size cap, and atomic, durable writes (temp file,
 * fsync, rename, fsync of the directory), so a crash never leaves half a
 * key or token behind. */
#ifndef ATTEST_FILEIO_H
#define ATTEST_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Reads all of path into a malloc'd buffer (NUL-terminated one past len, so
 * text can be used as a string). Refuses files larger than max. */
err_t fileio_read(const char *path, size_t max, uint8_t **out, size_t *len) WARN_UNUSED;

/* Replaces path atomically with data, created with mode (e.g. 0600). */
err_t fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode) WARN_UNUSED;

/* Creates path with data only if it does not exist yet (O_EXCL), durably;
 * returns ERR_OK also when it already existed (*created tells which), so two
 * processes racing to create a key both end up using the same one. */
err_t fileio_create_once(const char *path, const void *data, size_t len, mode_t mode,
			 int *created) WARN_UNUSED;

#endif
