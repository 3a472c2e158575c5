/* File helpers; every failure names the path and the system error. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

err_t fileio_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t have = 0, cap;
	err_t rc = ERR_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_fail(errno == ENOENT ? ERR_NOT_FOUND : ERR_BAD_REQUEST, "%s: %s", path,
				strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_fail(ERR_BAD_REQUEST, "%s: not a regular file", path);
		goto out;
	}
	/* The size is a hint only: securityfs and procfs files (the firmware
	 * event log) say 0, and a file may change between fstat and read. Read
	 * to EOF into a growing buffer, one byte past max to detect excess. */
	cap = (uintmax_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if (cap < 4096)
		cap = max + 1 < 4096 ? max + 1 : 4096;
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (buf == NULL) {
			rc = err_fail(ERR_INTERNAL, "%s: out of memory", path);
			goto out;
		}
		if (have == cap) {
			uint8_t *grown;

			if (cap > max) {
				rc = err_fail(ERR_BAD_REQUEST, "%s: larger than %zu bytes", path,
					      max);
				goto out;
			}
			cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			grown = realloc(buf, cap);
			if (grown == NULL)
				free(buf);
			buf = grown;
			continue;
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_fail(ERR_INTERNAL, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	/* EOF with a full buffer: one more byte for the terminator. */
	if (have == cap) {
		uint8_t *grown = realloc(buf, have + 1);

		if (grown == NULL) {
			rc = err_fail(ERR_INTERNAL, "%s: out of memory", path);
			goto out;
		}
		buf = grown;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

static err_t write_all(int fd, const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_fail(ERR_INTERNAL, "%s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		return err_fail(ERR_INTERNAL, "%s: fsync: %s", path, strerror(errno));
	return ERR_OK;
}

static err_t fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd;
	err_t rc = ERR_OK;

	if (copy == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = err_fail(ERR_INTERNAL, "%s: fsync of directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* Writes data durably to a new temp file next to path (tmp receives its
 * name); the caller moves it into place or removes it. */
static err_t write_temp(const char *path, const void *data, size_t len, mode_t mode,
			char tmp[static 4096])
{
	int fd;
	err_t rc;

	if (snprintf(tmp, 4096, "%s.tmp.XXXXXX", path) >= 4096)
		return err_fail(ERR_BAD_REQUEST, "%s: path too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_fail(ERR_INTERNAL, "%s: %s", tmp, strerror(errno));
	rc = fchmod(fd, mode) == 0 ? write_all(fd, tmp, data, len)
				   : err_fail(ERR_INTERNAL, "%s: chmod: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == ERR_OK)
		rc = err_fail(ERR_INTERNAL, "%s: close: %s", tmp, strerror(errno));
	if (rc != ERR_OK)
		(void)unlink(tmp);
	return rc;
}

err_t fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];

	TRY(write_temp(path, data, len, mode, tmp));
	if (rename(tmp, path) != 0) {
		err_t rc = err_fail(ERR_INTERNAL, "%s: rename: %s", path, strerror(errno));

		(void)unlink(tmp);
		return rc;
	}
	return fsync_parent(path);
}

err_t fileio_create_once(const char *path, const void *data, size_t len, mode_t mode, int *created)
{
	char tmp[4096];
	err_t rc = ERR_OK;

	*created = 0;
	/* Write a complete temp file, then link() it into place: link fails with
	 * EEXIST if another process won the race, and no reader ever sees a
	 * partly written key. */
	TRY(write_temp(path, data, len, mode, tmp));
	if (link(tmp, path) == 0)
		*created = 1;
	else if (errno != EEXIST)
		rc = err_fail(ERR_INTERNAL, "%s: link: %s", path, strerror(errno));
	(void)unlink(tmp);
	if (rc == ERR_OK && *created)
		rc = fsync_parent(path);
	return rc;
}
