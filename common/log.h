/* Levelled logging to stderr: syslog-priority prefixes ("<3>") when stderr is
 * the journal (systemd sets JOURNAL_STREAM), time-stamped lines otherwise. */
#ifndef ATTEST_LOG_H
#define ATTEST_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 3, /* the syslog priorities, so the journal prefix is the value */
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Messages above this level are dropped; default LOG_LVL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "error", "warn", "info", "debug" */
bool log_level_from_str(const char *name, enum log_level *out) __attribute__((warn_unused_result));

/* Re-reads the environment to choose the journal or the plain format. */
void log_init(const char *program);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
