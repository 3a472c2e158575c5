/* attest-client's settings: one model filled from defaults, the environment,
 * a `key = value` file and the command line, in that order, each overriding
 * the one before; every key of the file is also a --long-option. */
#ifndef ATTEST_CLIENT_CONFIG_H
#define ATTEST_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "log.h"

/* Paths and URLs, not documents: longer values are refused. */
#define CLIENT_CONFIG_MAX_VALUE 4096

/* Where the settings come from when --config is not given; a missing
 * default file is fine, a missing --config file is an error. */
#define CLIENT_CONFIG_DEFAULT_PATH "/etc/attest-client/attest-client.conf"

/* The kernel's resource manager: it flushes what a crashed client leaves. */
#define CLIENT_DEFAULT_TCTI	  "device:/dev/tpmrm0"
#define CLIENT_DEFAULT_TOKEN_FILE "/run/attest/token"
#define CLIENT_DEFAULT_EVENT_LOG  "/sys/kernel/security/tpm0/binary_bios_measurements"

/* Retries after a network failure are bounded so a boot never hangs: the
 * defaults give up after about a minute (1+2+4+8+16+30 s). */
#define CLIENT_MAX_RETRIES   100
#define CLIENT_MAX_DELAY_MS  (10u * 60 * 1000)
#define CLIENT_MAX_TIMEOUT_S 3600

enum client_key_alg {
	CLIENT_ALG_AUTO, /* EK only: ECC P-256 if certified, else RSA-2048 */
	CLIENT_ALG_RSA,	 /* RSA-2048 */
	CLIENT_ALG_ECC,	 /* NIST P-256 */
};

struct client_config {
	char url[CLIENT_CONFIG_MAX_VALUE];	 /* verifier base URL */
	char ca_bundle[CLIENT_CONFIG_MAX_VALUE]; /* "" = the system's CA store */
	bool insecure_http;			 /* plain http:// to a non-loopback host */
	char tcti[CLIENT_CONFIG_MAX_VALUE];
	char token_file[CLIENT_CONFIG_MAX_VALUE];
	char event_log[CLIENT_CONFIG_MAX_VALUE];
	enum client_key_alg ek_alg;
	char ek_cert[CLIENT_CONFIG_MAX_VALUE];	/* "" = read from NV */
	char ek_chain[CLIENT_CONFIG_MAX_VALUE]; /* intermediates (PEM or DER), added to NV's */
	enum client_key_alg ak_alg;
	uint32_t ak_handle;			  /* 0 = none: create a fresh AK */
	char ak_context[CLIENT_CONFIG_MAX_VALUE]; /* tpm2-tools context file */
	unsigned retries;
	unsigned retry_delay_ms; /* first pause; doubles up to retry_max_delay_ms */
	unsigned retry_max_delay_ms;
	unsigned timeout_s; /* per HTTP request */
	enum log_level log_level;
};

void client_config_defaults(struct client_config *c);

/* Sets one option from its text ("ak_alg", "rsa"); ERR_BAD_REQUEST naming
 * the key for an unknown key or a bad value. */
err_t client_config_set(struct client_config *c, const char *key, const char *value) WARN_UNUSED;

/* Reads a file of `key = value` lines ('#' comments, blank lines) over c.
 * ERR_NOT_FOUND when it does not exist; other failures name file and line. */
err_t client_config_load(const char *path, struct client_config *c) WARN_UNUSED;

/* The settings that only make sense together: a URL the client may use
 * (https, or http when insecure_http is set or the host is loopback), at
 * most one AK source. Not needed for --dry-run, which sends nothing. */
err_t client_config_check(const struct client_config *c, bool need_url) WARN_UNUSED;

/* "auto", "rsa", "ecc" */
const char *client_key_alg_name(enum client_key_alg alg);

#endif
