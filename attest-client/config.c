/* The client's settings model and its file parser. Unknown keys are refused
 * so a typo cannot leave a default silently in force. */
#include "config.h"

#include "conffile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void client_config_defaults(struct client_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->tcti, sizeof(c->tcti), "%s", CLIENT_DEFAULT_TCTI);
	snprintf(c->token_file, sizeof(c->token_file), "%s", CLIENT_DEFAULT_TOKEN_FILE);
	snprintf(c->event_log, sizeof(c->event_log), "%s", CLIENT_DEFAULT_EVENT_LOG);
	c->ek_alg = CLIENT_ALG_AUTO;
	c->ak_alg = CLIENT_ALG_ECC; /* fast on every TPM, small quotes */
	c->retries = 5;
	c->retry_delay_ms = 1000;
	c->retry_max_delay_ms = 30000;
	c->timeout_s = 30;
	c->log_level = LOG_LVL_INFO;
}

static err_t set_text(char *dst, const char *key, const char *value)
{
	return conffile_string(key, value, dst, CLIENT_CONFIG_MAX_VALUE);
}

static err_t set_unsigned(unsigned *dst, const char *key, const char *value, unsigned max)
{
	unsigned long long v;

	TRY(conffile_number(key, value, 0, max, &v));
	*dst = (unsigned)v;
	return ERR_OK;
}

static err_t set_alg(enum client_key_alg *dst, const char *key, const char *value, bool auto_ok)
{
	if (strcmp(value, "rsa") == 0)
		*dst = CLIENT_ALG_RSA;
	else if (strcmp(value, "ecc") == 0)
		*dst = CLIENT_ALG_ECC;
	else if (auto_ok && strcmp(value, "auto") == 0)
		*dst = CLIENT_ALG_AUTO;
	else
		return err_fail(ERR_BAD_REQUEST, "%s: expected %srsa or ecc, got '%s'", key,
				auto_ok ? "auto, " : "", value);
	return ERR_OK;
}

/* TPM2_HR_PERSISTENT: 0x81000000..0x81ffffff (TPM 2.0 Part 2, Table 28). */
#define PERSISTENT_FIRST 0x81000000ul
#define PERSISTENT_LAST	 0x81fffffful

err_t client_config_set(struct client_config *c, const char *key, const char *value)
{
	unsigned long long handle;

	if (strcmp(key, "url") == 0)
		return set_text(c->url, key, value);
	if (strcmp(key, "ca_bundle") == 0)
		return set_text(c->ca_bundle, key, value);
	if (strcmp(key, "insecure_http") == 0)
		return conffile_bool(key, value, &c->insecure_http);
	if (strcmp(key, "tcti") == 0)
		return set_text(c->tcti, key, value);
	if (strcmp(key, "token_file") == 0)
		return set_text(c->token_file, key, value);
	if (strcmp(key, "event_log") == 0)
		return set_text(c->event_log, key, value);
	if (strcmp(key, "ek_alg") == 0)
		return set_alg(&c->ek_alg, key, value, true);
	if (strcmp(key, "ek_cert") == 0)
		return set_text(c->ek_cert, key, value);
	if (strcmp(key, "ek_chain") == 0)
		return set_text(c->ek_chain, key, value);
	if (strcmp(key, "ak_alg") == 0)
		return set_alg(&c->ak_alg, key, value, false);
	if (strcmp(key, "ak_handle") == 0) {
		TRY(conffile_number(key, value, PERSISTENT_FIRST, PERSISTENT_LAST, &handle));
		c->ak_handle = (uint32_t)handle;
		return ERR_OK;
	}
	if (strcmp(key, "ak_context") == 0)
		return set_text(c->ak_context, key, value);
	if (strcmp(key, "retries") == 0)
		return set_unsigned(&c->retries, key, value, CLIENT_MAX_RETRIES);
	if (strcmp(key, "retry_delay") == 0)
		return set_unsigned(&c->retry_delay_ms, key, value, CLIENT_MAX_DELAY_MS);
	if (strcmp(key, "retry_max_delay") == 0)
		return set_unsigned(&c->retry_max_delay_ms, key, value, CLIENT_MAX_DELAY_MS);
	if (strcmp(key, "timeout") == 0) {
		TRY(set_unsigned(&c->timeout_s, key, value, CLIENT_MAX_TIMEOUT_S));
		if (c->timeout_s == 0)
			return err_fail(ERR_BAD_REQUEST, "timeout: must be at least 1 second");
		return ERR_OK;
	}
	if (strcmp(key, "log_level") == 0)
		return conffile_log_level(key, value, &c->log_level);
	return err_fail(ERR_BAD_REQUEST, "unknown option '%s'", key);
}

static err_t client_config_set_cb(void *ctx, const char *key, const char *value)
{
	return client_config_set(ctx, key, value);
}

err_t client_config_load(const char *path, struct client_config *c)
{
	return conffile_load(path, client_config_set_cb, c);
}

err_t client_config_check(const struct client_config *c, bool need_url)
{
	if (need_url && c->url[0] == '\0')
		return err_fail(ERR_BAD_REQUEST, "no verifier URL (--url or 'url =' in the "
						 "configuration file)");
	if (c->ak_handle != 0 && c->ak_context[0] != '\0')
		return err_fail(ERR_BAD_REQUEST, "ak_handle and ak_context both name an AK; "
						 "give one");
	if (c->retry_max_delay_ms < c->retry_delay_ms)
		return err_fail(ERR_BAD_REQUEST, "retry_max_delay is shorter than retry_delay");
	return ERR_OK;
}

const char *client_key_alg_name(enum client_key_alg alg)
{
	switch (alg) {
	case CLIENT_ALG_RSA:
		return "rsa";
	case CLIENT_ALG_ECC:
		return "ecc";
	case CLIENT_ALG_AUTO:
		break;
	}
	return "auto";
}
