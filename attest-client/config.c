/* The client's settings model and its file parser. Unknown keys are refused
 * so a typo cannot leave a default silently in force. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err_context.h"

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
	size_t n = strlen(value);

	if (n >= CLIENT_CONFIG_MAX_VALUE)
		return err_fail(ERR_BAD_REQUEST, "%s: longer than %d bytes", key,
				CLIENT_CONFIG_MAX_VALUE - 1);
	memcpy(dst, value, n + 1);
	return ERR_OK;
}

static err_t set_flag(bool *dst, const char *key, const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
		*dst = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
		*dst = false;
	else
		return err_fail(ERR_BAD_REQUEST, "%s: expected true or false, got '%s'", key,
				value);
	return ERR_OK;
}

/* A decimal (or 0x-prefixed hex, for TPM handles) number in min..max. */
static err_t set_number(unsigned long *dst, const char *key, const char *value, unsigned long min,
			unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!isdigit((unsigned char)value[0]))
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number, got '%s'", key, value);
	v = strtoul(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number in %lu..%lu, got '%s'", key,
				min, max, value);
	*dst = v;
	return ERR_OK;
}

static err_t set_unsigned(unsigned *dst, const char *key, const char *value, unsigned max)
{
	unsigned long v;

	TRY(set_number(&v, key, value, 0, max));
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
	unsigned long handle;

	if (strcmp(key, "url") == 0)
		return set_text(c->url, key, value);
	if (strcmp(key, "ca_bundle") == 0)
		return set_text(c->ca_bundle, key, value);
	if (strcmp(key, "insecure_http") == 0)
		return set_flag(&c->insecure_http, key, value);
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
		TRY(set_number(&handle, key, value, PERSISTENT_FIRST, PERSISTENT_LAST));
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
	if (strcmp(key, "log_level") == 0) {
		if (!log_level_from_str(value, &c->log_level))
			return err_fail(ERR_BAD_REQUEST,
					"log_level: expected error, warn, info or debug, got '%s'",
					value);
		return ERR_OK;
	}
	return err_fail(ERR_BAD_REQUEST, "unknown option '%s'", key);
}

static char *strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

err_t client_config_load(const char *path, struct client_config *c)
{
	/* A value, its key, " = " and the newline fit; longer lines are refused. */
	char line[CLIENT_CONFIG_MAX_VALUE + 128];
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
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_fail(ERR_BAD_REQUEST, "%s:%u: line too long", path, lineno);
			goto out;
		}
		key = strip(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			rc = err_fail(ERR_BAD_REQUEST, "%s:%u: expected 'key = value'", path,
				      lineno);
			goto out;
		}
		*eq = '\0';
		rc = client_config_set(c, strip(key), strip(eq + 1));
		if (rc != ERR_OK) {
			snprintf(where, sizeof(where), "%s:%u", path, lineno);
			rc = err_context(rc, where);
			goto out;
		}
	}
	if (ferror(f))
		rc = err_fail(ERR_BAD_REQUEST, "%s: read error", path);
out:
	fclose(f);
	return rc;
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
