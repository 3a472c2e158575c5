/* Error codes, their HTTP statuses and the per-thread failure detail. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
	const char *code;
	unsigned status;
};

#define ERR_TABLE_ENTRY(name, code, status) [name] = {code, status},
static const struct err_entry err_entries[ERR_COUNT] = {ERR_TABLE(ERR_TABLE_ENTRY)};
#undef ERR_TABLE_ENTRY

static _Thread_local char err_detail_buf[ERR_DETAIL_MAX];

static bool err_valid(err_t e)
{
	return (unsigned)e < ERR_COUNT;
}

const char *err_code_str(err_t e)
{
	return err_valid(e) ? err_entries[e].code : err_entries[ERR_INTERNAL].code;
}

unsigned err_http_status(err_t e)
{
	return err_valid(e) ? err_entries[e].status : 500;
}

bool err_from_str(const char *code, err_t *out)
{
	if (code == NULL)
		return false;
	for (unsigned i = 0; i < ERR_COUNT; i++) {
		if (strcmp(code, err_entries[i].code) == 0) {
			*out = (err_t)i;
			return true;
		}
	}
	return false;
}

err_t err_fail(err_t e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* vsnprintf always terminates and cuts at the buffer size. */
	(void)vsnprintf(err_detail_buf, sizeof(err_detail_buf), fmt, ap);
	va_end(ap);
	return e;
}

err_t err_context(err_t e, const char *context)
{
	char detail[ERR_DETAIL_MAX];

	if (e == ERR_OK)
		return e;
	snprintf(detail, sizeof(detail), "%s", err_detail_buf);
	return err_fail(e, "%s: %s", context, detail);
}

const char *err_detail(void)
{
	return err_detail_buf;
}

void err_clear(void)
{
	err_detail_buf[0] = '\0';
}
