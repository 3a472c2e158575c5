/* attestd's configuration: one `key = value` file, every option with a safe
 * default (see attestd.conf.example for the documented list). */
#ifndef ATTEST_CONFIG_H
#define ATTEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "log.h"

/* Longest line and value the parser takes: paths and URLs, not documents. */
#define CONFIG_MAX_LINE 4096

struct config {
	char listen_addr[64]; /* numeric IPv4/IPv6 address */
	uint16_t listen_port;
	char tls_cert[CONFIG_MAX_LINE];
	char tls_key[CONFIG_MAX_LINE];
	bool allow_plain_http;		 /* plain HTTP away from loopback needs this */
	char state_dir[CONFIG_MAX_LINE]; /* session key, token signing keys */
	char store[CONFIG_MAX_LINE];	 /* "sqlite:PATH" */
	char policy[CONFIG_MAX_LINE];	 /* policy JSON file */
	size_t max_body;
	unsigned threads;
	enum log_level log_level;
	char token_issuer[256];
	char token_audience[256];
	bool admission_requires_key;
};

/* Fills defaults; the daemon then overrides them from the file. */
void config_defaults(struct config *c);

/* Reads FILE over the defaults. On a bad file, returns ERR_BAD_REQUEST with
 * a detail naming the file, line and key. */
err_t config_load(const char *path, struct config *c) WARN_UNUSED;

/* Sets one option from its textual form (the file's and tests' shared path). */
err_t config_set(struct config *c, const char *key, const char *value) WARN_UNUSED;

/* True when addr is a loopback address (127.0.0.0/8 or ::1). */
bool config_is_loopback(const char *addr);

#endif
