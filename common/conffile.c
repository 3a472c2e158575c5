/* Configuration file reader. */
#include "conffile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

err_t conffile_load(const char *path, conffile_set_fn set, void *ctx)
{
	char line[CONFFILE_MAX_LINE + 2];
	char where[ERR_DETAIL_MAX];
	unsigned lineno = 0;
	err_t rc = ERR_OK;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return err_fail(errno == ENOENT ? ERR_NOT_FOUND : ERR_BAD_REQUEST, "%s: %s", path,
				strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *eq;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_fail(ERR_BAD_REQUEST, "%s: line too long (over %d bytes)", where,
				      CONFFILE_MAX_LINE);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			rc = err_fail(ERR_BAD_REQUEST, "%s: expected 'key = value'", where);
			goto out;
		}
		*eq = '\0';
		rc = err_context(set(ctx, trim(key), trim(eq + 1)), where);
		if (rc != ERR_OK)
			goto out;
	}
	if (ferror(f))
		rc = err_fail(ERR_BAD_REQUEST, "%s: read error", path);
out:
	fclose(f);
	return rc;
}

err_t conffile_bool(const char *key, const char *value, bool *out)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
		*out = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
		*out = false;
	else
		return err_fail(ERR_BAD_REQUEST, "%s: expected true or false, got '%s'", key,
				value);
	return ERR_OK;
}

err_t conffile_number(const char *key, const char *value, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	bool hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
	const char *digits = hex ? value + 2 : value;
	char *end;
	unsigned long long v;

	if (!(hex ? isxdigit((unsigned char)digits[0]) : isdigit((unsigned char)digits[0])))
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number, got '%s'", key, value);
	errno = 0;
	v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number in %llu..%llu, got '%s'",
				key, min, max, value);
	*out = v;
	return ERR_OK;
}

err_t conffile_string(const char *key, const char *value, char *dst, size_t cap)
{
	size_t n = strlen(value);

	if (n >= cap)
		return err_fail(ERR_BAD_REQUEST, "%s: longer than %zu bytes", key, cap - 1);
	memcpy(dst, value, n + 1);
	return ERR_OK;
}

err_t conffile_log_level(const char *key, const char *value, enum log_level *out)
{
	if (!log_level_from_str(value, out))
		return err_fail(ERR_BAD_REQUEST,
				"%s: expected error, warn, info or debug, got '%s'", key, value);
	return ERR_OK;
}
