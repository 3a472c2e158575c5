/* Logging. One fprintf per message so lines from different threads do not
 * interleave (stdio locks the stream for each call). */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int log_threshold = LOG_LVL_INFO;
static _Atomic bool log_to_journal;
static const char *log_program = "attest";

static const struct {
	const char *name;
	enum log_level level;
} log_level_names[] = {
    {"error", LOG_LVL_ERROR},
    {"warn", LOG_LVL_WARN},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
};

void log_set_level(enum log_level level)
{
	log_threshold = (int)level;
}

enum log_level log_get_level(void)
{
	return (enum log_level)log_threshold;
}

bool log_level_from_str(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (name != NULL && strcmp(name, log_level_names[i].name) == 0) {
			*out = log_level_names[i].level;
			return true;
		}
	}
	return false;
}

void log_init(const char *program)
{
	if (program != NULL)
		log_program = program;
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

static const char *log_level_name(enum log_level level)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (log_level_names[i].level == level)
			return log_level_names[i].name;
	}
	return "log";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if ((int)level > log_threshold)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message must stay one line: a newline from outside data would let it
	 * forge a second log entry. */
	for (char *c = msg; *c != '\0'; c++) {
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	}

	if (log_to_journal) {
		fprintf(stderr, "<%d>%s\n", (int)level, msg);
		return;
	}

	char stamp[32] = "";
	struct timespec now;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL)
		(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s[%s] %s\n", stamp, log_program, log_level_name(level), msg);
}
